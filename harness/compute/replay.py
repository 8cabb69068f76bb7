"""Check outcomes in the store, replayed on a warm rerun instead of recomputed.

A check whose inputs are all content-addressed (the store keys of the
explanations it reads, a model's weights hash, image digests) and whose
code has not changed gives the same answer on a rerun.  A ``check`` store
entry keeps that answer: whether it passed, what it recorded for the report,
and, when it failed, the exception's type and message.  The key holds

* ``case``: the test (module, function and parameter id) and ``check`` name;
* ``inputs``: what the caller says the check reads (store keys, weights
  hashes, image digests) and its parameters (images, steps, seeds, ...);
* ``code``: a digest of every ``harness/`` source file and of the test's own
  module, so any edit to the library or the suite recomputes;
* ``versions``: the library versions of the explanation store plus the
  harness, Python, Hypothesis, zennit, Quantus and SciPy versions, and the
  device type.

A failure is never replayed as a pass: the entry stores the outcome, and a
replay raises the stored exception type (:class:`AssertionError` or a harness
subclass of it: ``CheckFailure``, ``RegressionFailure``) with the stored message.  A check that does not
apply to its inputs raises :class:`NotApplicable` (or a harness subclass), decided from those inputs alone,
so it is stored and raised again the same way; the suite turns it into a skip.  Only those deterministic
outcomes are stored; any other exception (an error, out of memory, a skip for a missing weight file or
browser) is not stored, so the next run computes again.  ``XAI_HARNESS_REPLAY=0``
turns replay off (every check computes; entries are still written).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .store import Store, library_versions

KIND = "check"
ENV_REPLAY = "XAI_HARNESS_REPLAY"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # harness/: every source file is in the code digest
_EXTRA_DISTS = ("hypothesis", "zennit", "quantus", "scipy")


class NotApplicable(Exception):
    """The check does not apply to its inputs (no evaluated image has the region a score needs, say): decided
    from the inputs alone, so stored and replayed like a failure; the suite reports it as a skip."""


_REPLAYABLE = (AssertionError, NotApplicable)


def error_name(exc: BaseException) -> str | None:
    """``module:qualname`` of an outcome that can be stored and replayed, else None.

    Replayable: :class:`AssertionError` itself and its subclasses defined in the harness
    (``CheckFailure``, ``RegressionFailure``), and :class:`NotApplicable` and its harness subclasses,
    which are raised with one message argument."""
    cls = type(exc)
    if cls is AssertionError or (issubclass(cls, _REPLAYABLE) and cls.__module__.startswith("harness.")):
        return f"{cls.__module__}:{cls.__qualname__}"
    return None


def error_type(name: str) -> type[Exception] | None:
    """The failure type :func:`error_name` named, or None when it no longer exists."""

    module, _, qualname = name.partition(":")
    if not (module == "builtins" or module.startswith("harness.")):
        return None
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj if isinstance(obj, type) and issubclass(obj, _REPLAYABLE) else None


@dataclass(frozen=True)
class Outcome:
    """What a check did: ``passed``, the JSON ``payload`` it recorded, and a failure's ``error`` and ``message``."""

    passed: bool
    payload: Any
    error: str = ""
    message: str = ""

    def replay(self) -> Any:
        """Return the payload of a pass; raise the stored failure again."""
        __tracebackhide__ = True
        if self.passed:
            return self.payload
        cls = error_type(self.error)
        if cls is None:  # lookup() never returns such an outcome
            raise RuntimeError(f"stored check failure of unknown type {self.error!r}: {self.message}")
        raise cls(self.message)


@functools.lru_cache(maxsize=1)
def _harness_digest() -> str:
    root = PACKAGE_ROOT
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (memoised per path, size and modification time: a rewritten file is read again)."""
    st = os.stat(path)
    return _file_digest(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8192)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def code_digest(*files: str | Path) -> str:
    """Digest of the harness package's sources and of ``files`` (the suite module that defines the check)."""
    parts = [_harness_digest()] + [file_digest(Path(f).resolve()) for f in files]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    out = {**library_versions(), "harness": __version__, "python": platform.python_version()}
    for dist in _EXTRA_DISTS:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "absent"
    return out


def enabled() -> bool:
    return os.environ.get(ENV_REPLAY, "1") not in ("0", "false", "no", "off")


class CheckCache:
    """Stored check outcomes: :meth:`run` replays a stored one or computes and stores it.

    ``computed`` and ``replayed`` count this session's checks; the store's
    ``check`` counters say the same in hits, misses and writes.
    """

    def __init__(self, store: Store, *, device: str = "cpu") -> None:
        self.store = store
        self.device = device
        self.computed = 0
        self.replayed = 0

    def fields(self, case: str, check: str, inputs: dict[str, Any], code: str) -> dict[str, Any]:
        return {
            "case": case,
            "check": check,
            "inputs": inputs,
            "code": code,
            "versions": _versions(),
            "device": self.device,
        }

    def lookup(self, fields: dict[str, Any]) -> Outcome | None:
        if not enabled():
            return None
        entry = self.store.get(KIND, fields)
        if entry is None:
            return None
        try:
            doc = json.loads(entry.arrays["outcome"].tobytes().decode())
            outcome = Outcome(bool(doc["passed"]), doc.get("payload"), doc.get("error", ""), doc.get("message", ""))
        except (KeyError, ValueError, TypeError):
            return None
        if not outcome.passed and error_type(outcome.error) is None:
            return None
        return outcome

    def save(self, fields: dict[str, Any], outcome: Outcome, meta: dict[str, Any] | None = None) -> None:
        doc = {"passed": outcome.passed, "payload": outcome.payload, "error": outcome.error, "message": outcome.message}
        try:
            raw = json.dumps(doc, sort_keys=True)
        except (TypeError, ValueError):  # a payload that is not JSON: not stored, computed again next time
            return
        self.store.put(KIND, fields, {"outcome": np.frombuffer(raw.encode(), dtype=np.uint8)}, meta or {})

    def run(
        self,
        fields: dict[str, Any],
        body: Callable[[], Any],
        payload: Callable[[], Any],
        restore: Callable[[Any], None],
    ) -> bool:
        """Replay the stored outcome (``restore(payload)``, then a stored failure raises again) and return
        True; or run ``body()``, store its outcome with ``payload()`` (called once ``body`` has returned or
        failed: what the report needs of it) and return False.  Exceptions other than the replayable
        types (assertion failures, :class:`NotApplicable`) propagate unstored."""
        __tracebackhide__ = True
        stored = self.lookup(fields)
        if stored is not None:
            self.replayed += 1
            restore(stored.payload)
            stored.replay()
            return True
        self.computed += 1
        try:
            body()
        except _REPLAYABLE as exc:
            name = error_name(exc)
            if name is not None:
                self.save(fields, Outcome(False, payload(), name, str(exc)))
            raise
        self.save(fields, Outcome(True, payload()))
        return False
