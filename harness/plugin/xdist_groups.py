"""pytest-xdist scheduling by model: every case of one model runs on one worker, which loads it once.

xdist's own ``--dist loadgroup`` groups by the ``xdist_group`` mark through
a suffix on the node id, which pytest-xdist 3.8 writes to ``item._nodeid``;
pytest 9 keeps node ids elsewhere, so the suffix never appears and the
cases of a model are spread over the workers (each computes and loads it
again).  :class:`ModelScheduling` groups instead by the model in the case
id (``<explainer>-<model>-<check>`` or ``<model>-<check>``, the ids harness cases carry);
node ids without a registered model stay units of their own.  The plugin
returns it for ``--dist loadgroup``, which it makes the default under ``-n``.
"""

from __future__ import annotations

import functools
import re

from xdist.scheduler import LoadScopeScheduling

from ..models import list_models

_PARAM_ID = re.compile(r"\[([^\[\]]*)\](?:@[^\]]*)?$")


@functools.lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    return frozenset(list_models())


def model_of(nodeid: str) -> str | None:
    """The first registered model among the dash-separated fields of the node's parameter id, else None."""
    m = _PARAM_ID.search(nodeid)
    if not m:
        return None
    return next((part for part in m.group(1).split("-") if part in _names()), None)


class ModelScheduling(LoadScopeScheduling):
    """xdist's load-scope scheduling with one scope per model (largest first)."""

    def _split_scope(self, nodeid: str) -> str:
        model = model_of(nodeid)
        return f"model:{model}" if model else nodeid
