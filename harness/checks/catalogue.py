"""Every check as a declaration: its id, the tags it needs, what it reads and how it runs.

A :class:`CheckSpec` says, without running anything:

* ``name``: the last part of the case id (``check_shape``, ``check_completeness``,
  ``faithfulness_pixel_flipping``), and the key of the known-failure table;
* ``reads``: what the check reads, which decides how a case runs it:

  - ``explanations``: the case's stored maps, ``run(result, runner)``
    (the basic checks, localisation);
  - ``model``: the model itself, with the explainer of the case re-run under the
    check's own parameters, ``run(runner, model, explainer, seed=...) -> value``
    (completeness, conservation, randomisation sanity, the grid score);
  - ``metric``: a registered metric, scored on the case's maps next to the
    random-attribution control (``metric`` names it);

* ``inputs(runner, model)``: what besides the maps decides an ``explanations`` check's verdict, added to its
  stored-outcome replay key (localisation: the model's intervention usage, :mod:`harness.checks.mask_scope`);
* ``applies(model_cfg, explainer_cfg)``: judged by tags and traits, never by names;
* ``needs_masks``: runs only where the model's image set carries object masks.

:func:`yield_checks` walks the catalogue in registration order: the basic checks,
localisation, the property checks (:mod:`harness.checks.properties`), then whatever
further sources registered (:func:`add_check_source`: the metrics register theirs when
:mod:`harness.metrics` is imported, as any plugin registers its entries).  The suites,
``check_all`` and ``parametrize_with_checks`` all draw from it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..cases.image_sets import masked_label_spaces
from ..core.registry import Registry
from .basic import check_finite, check_not_constant, check_shape, check_target_respected
from .localisation import check_localisation
from .mask_scope import scope_inputs

READS = ("explanations", "model", "metric")

# Label spaces whose built-in image sets carry ground-truth object masks (a project's
# ImageFolder with masks adds its own: harness.cases.image_sets.bind_label_space).
MASKED_LABEL_SPACES = ("shapes",)


def _always(model_cfg: Any, explainer_cfg: Any) -> bool:
    return True


@dataclass(frozen=True)
class CheckSpec:
    """One check, declared: its id, what it reads, the tags it needs and its run function."""

    name: str
    reads: str
    run: Callable[..., Any]
    applies: Callable[[Any, Any], bool] = _always
    needs_masks: bool = False
    n_images: int | None = None  # reads == "model": the first N images of the model's set it reads
    metric: str = ""  # reads == "metric": the registered metric's name
    doc: str = ""
    # reads == "explanations": what else decides the verdict, for the replay key: inputs(runner, model)
    inputs: Callable[[Any, str], Any] | None = None

    def __post_init__(self) -> None:
        if self.reads not in READS:
            raise ValueError(f"check {self.name}: reads must be one of {READS}, got {self.reads!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(*args, **kwargs)


CHECKS: Registry[CheckSpec] = Registry("check", hint="see harness.checks.catalogue")
CheckSource = Callable[..., Iterable[CheckSpec]]
_SOURCES: list[CheckSource] = []
_ORDER: list[str] = []  # registration order: the order of a case's checks (and of the suites' ids)


def register_check(spec: CheckSpec) -> CheckSpec:
    CHECKS.add(spec.name, spec)
    if spec.name not in _ORDER:
        _ORDER.append(spec.name)
    return spec


def add_check_source(source: CheckSource) -> CheckSource:
    """Register ``source(model_cfg, explainer_cfg, *, has_masks, opt_in)``, yielding specs of its own."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def has_masks(model_cfg: Any) -> bool:
    """Whether the model's image set carries object masks (built-in ``shapes``, or a project's masked folder)."""
    return model_cfg.label_space in MASKED_LABEL_SPACES or model_cfg.label_space in masked_label_spaces()


def yield_checks(
    model_cfg: Any,
    explainer_cfg: Any,
    *,
    reads: Collection[str] = READS,
    masks: bool | None = None,
    opt_in: Collection[str] = (),
) -> Iterator[CheckSpec]:
    """Checks that apply to a model x explainer pair the explainer supports, judged by tags.

    ``reads`` keeps some kinds only (``("explanations",)``: the explanation suite's);
    ``masks`` overrides :func:`has_masks`; ``opt_in`` lifts the metrics' default budgets.
    """
    masked = has_masks(model_cfg) if masks is None else masks
    for name in [n for n in _ORDER if n in CHECKS]:
        spec = CHECKS.get(name)
        if spec.reads in reads and (masked or not spec.needs_masks) and spec.applies(model_cfg, explainer_cfg):
            yield spec
    for source in _SOURCES:
        for spec in source(model_cfg, explainer_cfg, has_masks=masked, opt_in=opt_in):
            if spec.reads in reads:
                yield spec


# The explanation checks, in the id order the explanation suite has always had.
BASIC = tuple(
    register_check(CheckSpec(fn.__name__, "explanations", fn, doc=(fn.__doc__ or "").split("\n")[0]))
    for fn in (check_shape, check_finite, check_not_constant, check_target_respected)
)
LOCALISATION = register_check(
    CheckSpec(
        "check_localisation",
        "explanations",
        check_localisation,
        needs_masks=True,
        doc="relevance on the object",
        inputs=scope_inputs,  # the model's intervention usage decides the judgement (harness.checks.mask_scope)
    )
)
