"""One generic registry, in the manner of ``timm/models/_registry.py``.

Models, explainers, metrics and image sources each keep one
:class:`Registry`: a module-level mapping filled by a decorator or
:meth:`Registry.add`, listed with ``fnmatch`` patterns, looked up with a
hint of close matches when a name is unknown.  Registering a name twice
warns and keeps the newest entry, as timm does.

>>> colours = Registry("colour", hint="see `python -m harness list colours`")
>>> colours.add("red", (255, 0, 0))
(255, 0, 0)
>>> colours.names("r*")
['red']
"""

from __future__ import annotations

import difflib
import fnmatch
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name that is not registered; the message names close matches."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0])


class Registry(Generic[T]):
    """Name -> entry, with listing by pattern and a clear error for unknown names.

    ``kind`` names what is registered (``model``, ``explainer``); ``hint``
    is appended to the unknown-name error (where to see the list);
    ``error`` is the exception class raised for unknown names.
    """

    def __init__(self, kind: str, *, hint: str = "", error: type[KeyError] = UnknownNameError) -> None:
        self.kind = kind
        self.hint = hint
        self.error = error
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name`` (a second registration warns and wins)."""
        if name in self._entries:
            warnings.warn(f"{self.kind} {name!r} registered twice; keeping the newest", stacklevel=3)
        self._entries[name] = entry
        return entry

    def remove(self, name: str) -> T:
        """Unregister ``name`` (for tests and for users replacing an entry on purpose)."""
        return self._entries.pop(name)

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._entries), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            where = f" ({self.hint})" if self.hint else ""
            raise self.error(f"unknown {self.kind} {name!r}{hint}{where}") from None

    def names(self, filter: str | Iterable[str] = "*", *, where: Callable[[T], bool] | None = None) -> list[str]:
        """Sorted names matching any ``fnmatch`` pattern in ``filter`` (and the ``where`` predicate)."""
        patterns = [filter] if isinstance(filter, str) else list(filter)
        return sorted(
            n
            for n, e in self._entries.items()
            if any(fnmatch.fnmatch(n, p) for p in patterns) and (where is None or where(e))
        )

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)
