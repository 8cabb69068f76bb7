"""The zoo's ``manifest.json``: how each committed model was trained and what it scored.

Shared by training (which writes one entry per model as soon as it is
saved) and evaluation (which compares the committed weights with it), so
neither imports the other.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.atomic import write_atomic
from .shapes import CLASS_NAMES


def read_manifest(out: Path) -> dict:
    path = out / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {"dataset": "shapes", "models": {}}


def write_manifest(out: Path, manifest: dict) -> None:
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def update_manifest(out: Path, name: str, entry: dict) -> None:
    """Record one model, under a file lock (several training processes may share ``out``)."""
    import fcntl  # lazy: POSIX only

    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = read_manifest(out)
        manifest.update(dataset="shapes", classes=list(CLASS_NAMES))
        manifest["models"][name] = entry
        write_manifest(out, manifest)
