"""Kept import path for :mod:`harness.compute.store` (``from harness.store import Store``)."""

from .compute.store import *  # noqa: F403
from .compute.store import Entry, Store, content_key, library_versions

__all__ = ["Entry", "Store", "content_key", "library_versions"]
