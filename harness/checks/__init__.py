"""Property checks and the generator that picks them per case by tags.

``yield_checks(model_cfg, explainer_cfg)`` yields the ``check_*`` functions
that apply, judged by tags, never by names.  Known failures live in one
table, :data:`KNOWN_FAILURES`, and become ``xfail`` in the suites.  The same
generator runs without pytest (``check_all``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .basic import CheckFailure, check_finite, check_not_constant, check_shape, check_target_respected
from .localisation import check_localisation

Check = Callable[..., object]

BASIC_CHECKS: tuple[Check, ...] = (check_shape, check_finite, check_not_constant, check_target_respected)

# Label spaces whose image sets carry ground-truth object masks.
MASKED_LABEL_SPACES = ("shapes",)

# (explainer, model, check name) -> reason.  Use "*" as a wildcard.
KNOWN_FAILURES: dict[tuple[str, str, str], str] = {}


def yield_checks(model_cfg, explainer_cfg) -> Iterator[Check]:
    """Checks that apply to a model x explainer pair."""
    if not explainer_cfg.supports(model_cfg.family):
        return
    yield from BASIC_CHECKS
    if model_cfg.label_space in MASKED_LABEL_SPACES:
        yield check_localisation


def known_failure(explainer: str, model: str, check: str) -> str | None:
    for (e, m, c), reason in KNOWN_FAILURES.items():
        if e in (explainer, "*") and m in (model, "*") and c in (check, "*"):
            return reason
    return None


def check_all(runner, model: str, explainer) -> dict[str, object]:
    """Run every applicable check outside pytest; returns name -> value or failure."""
    from ..models import get_model_cfg

    result = runner.explain(model, explainer)
    out: dict[str, object] = {}
    for check in yield_checks(get_model_cfg(model), explainer.cfg):
        try:
            out[check.__name__] = check(result, runner)
        except CheckFailure as exc:
            out[check.__name__] = exc
    return out


__all__ = ["BASIC_CHECKS", "KNOWN_FAILURES", "MASKED_LABEL_SPACES", "CheckFailure", "check_all", "check_localisation", "known_failure", "yield_checks"]
