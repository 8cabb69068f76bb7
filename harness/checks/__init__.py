"""Property checks and the generator that picks them per case by tags.

``yield_checks(model_cfg, explainer_cfg)`` yields the ``check_*`` functions
that apply, judged by tags, never by names; whether the explainer supports
the model at all is asked first (the suite layer's ``supports()``, for every
generator).  Known failures are the suite layer's one table
(``harness.suite.known``).  The same generator runs without pytest
(``check_all``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .basic import CheckFailure, check_finite, check_not_constant, check_shape, check_target_respected
from .localisation import check_localisation

Check = Callable[..., object]

BASIC_CHECKS: tuple[Check, ...] = (check_shape, check_finite, check_not_constant, check_target_respected)

# Label spaces whose image sets carry ground-truth object masks.
MASKED_LABEL_SPACES = ("shapes",)


def yield_checks(model_cfg, explainer_cfg) -> Iterator[Check]:
    """Checks that apply to a model x explainer pair the explainer supports."""
    yield from BASIC_CHECKS
    if model_cfg.label_space in MASKED_LABEL_SPACES:
        yield check_localisation


def check_all(runner, model: str, explainer) -> dict[str, object]:
    """Run every applicable check outside pytest; returns name -> value or failure."""
    from ..models import get_model_cfg

    result = runner.explain(model, explainer)
    out: dict[str, object] = {}
    cfg = get_model_cfg(model)
    if not explainer.cfg.supports(cfg):
        raise ValueError(f"{explainer.name} does not support {model} (family {cfg.family}, layout {cfg.layout})")
    for check in yield_checks(cfg, explainer.cfg):
        try:
            out[check.__name__] = check(result, runner)
        except CheckFailure as exc:
            out[check.__name__] = exc
    return out


__all__ = [
    "BASIC_CHECKS",
    "MASKED_LABEL_SPACES",
    "CheckFailure",
    "check_all",
    "check_localisation",
    "yield_checks",
]
