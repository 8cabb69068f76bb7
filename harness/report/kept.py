"""Rendered report files kept in the store, keyed by what they were drawn from: drawn once, copied on a rerun.

The consensus sections (CSVs, heatmaps, dendrograms) and the gallery's overlay layers use it.  An
entry holds each file's bytes and their names relative to the folder they were written to; its key
(the caller's ``fields``) holds digests of the inputs, the options and the harness's code.  Entries
are written without a flush to disk: a lost one is only drawn again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..compute.store import Entry, Store
from ..core.atomic import write_atomic


def keep_files(
    store: Store, kind: str, fields: dict[str, Any], folder: Path, names: list[str], **extra: np.ndarray
) -> None:
    """Keep the files ``folder / name`` (and any ``extra`` arrays) as one ``kind`` entry."""
    arrays = {f"f{i}": np.frombuffer((folder / n).read_bytes(), np.uint8) for i, n in enumerate(names)}
    store.put(kind, fields, {**arrays, **extra}, {"files": names}, sync=False)


def restore_files(store: Store, kind: str, fields: dict[str, Any], folder: Path) -> Entry | None:
    """Write a kept entry's files back under ``folder`` and return the entry; None when there is none."""
    stored = store.get(kind, fields)
    names = stored.meta.get("files") if stored is not None else None
    if stored is None or not names or any(f"f{i}" not in stored.arrays for i in range(len(names))):
        return None
    for i, name in enumerate(names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, stored.arrays[f"f{i}"].tobytes(), sync=False)
    return stored
