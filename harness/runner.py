"""Kept import path for :mod:`harness.compute.runner` (``from harness.runner import Runner``)."""

from .compute.runner import *  # noqa: F403
from .compute.runner import CaseResult, Predictions, Runner

__all__ = ["CaseResult", "Predictions", "Runner"]
