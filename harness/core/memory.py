"""The process's resident memory, read without disturbing it.

* :func:`rss_bytes`: resident set now (``VmRSS``);
* :func:`peak_rss_bytes`: the process's high-water mark since it started (``VmHWM``, or
  ``getrusage``'s ``ru_maxrss`` where ``/proc`` is missing);
* :class:`PeakSampler`: the highest resident set seen within a window, sampled by a
  background thread.

Nothing here resets the kernel's high-water mark (``/proc/self/clear_refs``): a reset
would make ``/usr/bin/time -v`` and ``ru_maxrss`` report only the peak since the last
reset, not the run's.  (An earlier version reset it before every chunk; the main job's
published peaks were then too low.)
"""

from __future__ import annotations

import sys
import threading

_STATUS = "/proc/self/status"


def _status_kib(field: str) -> int | None:
    try:
        with open(_STATUS) as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _ru_maxrss_bytes() -> int:
    import resource

    value = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return value if sys.platform == "darwin" else value * 1024  # bytes on macOS, KiB on Linux


def rss_bytes() -> int:
    """Resident set size of this process now (bytes); the peak so far where ``/proc`` is missing."""
    kib = _status_kib("VmRSS:")
    return kib * 1024 if kib is not None else _ru_maxrss_bytes()


def peak_rss_bytes() -> int:
    """The process's resident high-water mark since it started (bytes)."""
    kib = _status_kib("VmHWM:")
    return kib * 1024 if kib is not None else _ru_maxrss_bytes()


class PeakSampler:
    """Highest resident set within a ``with`` block, sampled every ``every`` seconds.

    Short spikes between two samples can be missed, so the value is a lower bound of the
    window's peak; :attr:`kind` says how it was measured (``rss_peak_sampled``, or
    ``rss_peak_since_start`` where ``/proc`` is missing and only the process's peak exists).
    """

    def __init__(self, every: float = 0.01) -> None:
        self.every = every
        self.peak = 0
        self.kind = "rss_peak_sampled" if _status_kib("VmRSS:") is not None else "rss_peak_since_start"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        self.peak = max(self.peak, rss_bytes())

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> PeakSampler:
        self._sample()
        if self.kind == "rss_peak_sampled":
            self._thread = threading.Thread(target=self._loop, name="xai-harness-rss", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        if self.kind != "rss_peak_sampled":
            self.peak = max(self.peak, peak_rss_bytes())
