"""One way to write a file so that no reader ever sees half of it.

Every writer in the harness (store entries, baselines, reports, manifests,
weights) goes through :func:`write_atomic`: the bytes go to a temporary
file in the same directory, are flushed and synced, and the temporary file
is renamed over the target with ``os.replace``, which is atomic on POSIX and
Windows.  Concurrent writers of the same path (pytest-xdist workers, Ray
actors' driver) each write a complete file and the last rename wins.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()  # read once: os.umask can only be read by setting it


def write_atomic(path: str | Path, data: bytes | str | Callable[[Path], object], *, sync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    ``data`` is bytes, text (UTF-8), or a function that writes the
    temporary file at the path it is given (for writers that only take a
    file name, such as ``safetensors.torch.save_file``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name[:24]}-", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
            if sync:
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode() if isinstance(data, str) else data)
                fh.flush()
                if sync:
                    os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~UMASK)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, payload: Any, *, indent: int | None = 2, sort_keys: bool = True) -> Path:
    """``payload`` as JSON (``default=str`` for paths and the like), atomically, with a trailing newline."""
    text = json.dumps(payload, indent=indent, sort_keys=sort_keys, default=str) + "\n"
    return write_atomic(path, text, sync=False)
