"""Content-addressed store for explanations, predictions and check results.

An entry's key is the SHA-256 of its identifying fields as canonical JSON
(model, weights hash, explainer and parameters, image digest, library
versions, ...).  Each entry is one ``.npz`` file holding its arrays plus its
fields and metadata as JSON, so a write is a single atomic ``os.replace`` of
a temporary file in the same directory.  Several pytest-xdist workers may
write the same key at once: both write identical content and the last
rename wins; a reader never sees a half-written file.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import write_atomic

ENV_STORE = "XAI_HARNESS_STORE"
_META = "__meta__"
_FIELDS = "__fields__"
# what a truncated or corrupt .npz raises on read
_READ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    return value


def canonical_json(fields: dict[str, Any]) -> str:
    return json.dumps(_jsonable(fields), sort_keys=True, separators=(",", ":"))


def content_key(kind: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(f"{kind}\n{canonical_json(fields)}".encode()).hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose upgrade can change an explanation (a fresh copy)."""
    return dict(_library_versions())


@functools.lru_cache(maxsize=1)
def _library_versions() -> dict[str, str]:
    out = {}
    for dist in ("torch", "timm", "captum", "numpy", "scikit-image"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "absent"
    return out


@dataclass(frozen=True)
class Entry:
    kind: str
    key: str
    fields: dict[str, Any]
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


class Store:
    """A directory of content-addressed entries: ``root/<kind>/<k[:2]>/<k>.npz``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.by_kind: dict[str, dict[str, int]] = {}  # kind -> {"hits", "misses", "writes"}

    def _count(self, kind: str, what: str) -> None:
        setattr(self, what, getattr(self, what) + 1)
        counts = self.by_kind.setdefault(kind, {"hits": 0, "misses": 0, "writes": 0})
        counts[what] += 1

    def has(self, kind: str, fields: dict[str, Any]) -> bool:
        """Whether an entry for ``fields`` exists (not counted; the file is not read)."""
        return self.path_for(kind, content_key(kind, fields)).is_file()

    @classmethod
    def default_root(cls, rootdir: Path) -> Path:
        return Path(os.environ.get(ENV_STORE, rootdir / ".harness" / "store"))

    def path_for(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.npz"

    def get(self, kind: str, fields: dict[str, Any]) -> Entry | None:
        """The entry for ``fields``, or None (counted as a miss)."""
        key = content_key(kind, fields)
        path = self.path_for(kind, key)
        if not path.is_file():
            self._count(kind, "misses")
            return None
        try:
            entry = self._read(kind, key, path)
        except _READ_ERRORS as exc:  # truncated by a crash, or corrupt
            warnings.warn(f"store entry {path} is unreadable ({exc}); recomputing it", stacklevel=2)
            self._count(kind, "misses")
            return None
        self._count(kind, "hits")
        return entry

    def put(
        self,
        kind: str,
        fields: dict[str, Any],
        arrays: dict[str, np.ndarray],
        meta: dict[str, Any] | None = None,
        *,
        sync: bool = True,
    ) -> Entry:
        """Write an entry atomically and return it (``sync=False``: not flushed to disk first, for entries that
        are cheap to make again, such as rendered figures)."""
        key = content_key(kind, fields)
        path = self.path_for(kind, key)
        payload = {name: np.asarray(a) for name, a in arrays.items()}
        payload[_FIELDS] = np.frombuffer(canonical_json(fields).encode(), dtype=np.uint8)
        payload[_META] = np.frombuffer(canonical_json(meta or {}).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, allow_pickle=False, **payload)
        write_atomic(path, buf.getvalue(), sync=sync)
        self._count(kind, "writes")
        return Entry(kind, key, json.loads(canonical_json(fields)), meta or {}, arrays)

    def _read(self, kind: str, key: str, path: Path) -> Entry:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k not in (_META, _FIELDS)}
            fields = json.loads(data[_FIELDS].tobytes().decode())
            meta = json.loads(data[_META].tobytes().decode())
        return Entry(kind, key, fields, meta, arrays)

    def entries(self, kind: str) -> Iterator[Entry]:
        """Every readable entry of ``kind`` (for reports), in path order."""
        folder = self.root / kind
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*/*.npz")):
            try:
                yield self._read(kind, path.stem, path)
            except _READ_ERRORS:
                continue

    def scan(self, kind: str) -> Iterator[tuple[Path, dict[str, Any], dict[str, Any]]]:
        """``(path, fields, meta)`` of every readable entry of ``kind``, arrays left unread (report indexes)."""
        folder = self.root / kind
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*/*.npz")):
            try:
                with np.load(path, allow_pickle=False) as data:
                    fields = json.loads(data[_FIELDS].tobytes().decode())
                    meta = json.loads(data[_META].tobytes().decode())
            except _READ_ERRORS:
                continue
            yield path, fields, meta

    def arrays_at(self, path: Path) -> dict[str, np.ndarray]:
        """The arrays of the entry at ``path`` (from :meth:`scan`); raises on a corrupt file."""
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files if k not in (_META, _FIELDS)}
