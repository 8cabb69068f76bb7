"""Metric registry with tags.

Each metric is a plain function ``fn(inputs, sets, **params) -> {set name:
per-image scores}`` registered with a :class:`MetricCfg`.  ``sets`` maps a
name (an explainer, or ``random`` for the control) to ``[N, H, W]``
attributions of the same images, so metrics whose perturbations do not
depend on the attributions (FaithfulnessCorrelation) share one set of
forward passes among all of them.

:func:`yield_metrics` picks the metrics that apply to a model x explainer
pair by tags, never by names: localisation needs an image set with
ground-truth masks, and MPRT has a default budget of sources and costs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..core.registry import Registry

CATEGORIES = ("faithfulness", "complexity", "randomisation", "localisation")
COSTS = ("cheap", "moderate", "expensive")  # ExplainerCfg.cost, in order


@dataclass(frozen=True)
class MetricCfg:
    """Tags and defaults of one metric (flat and frozen, as ExplainerCfg).

    Attributes
    ----------
    name, title:
        Registry name (``pixel_flipping``) and the Quantus class it follows.
    category:
        One of :data:`CATEGORIES`; it leads the suite's case id so that
        ``pytest suites/ -k faithfulness`` selects the whole category.
    higher_is_better:
        Direction of the score; the leaderboard and the random control use it.
    needs_masks:
        Needs ground-truth object masks (localisation).
    reexplain_targets:
        For a metric that needs explanations of other targets (RandomLogit),
        computed through the harness's own explainer and cached in the store:
        ``fn(y, num_classes, **params) -> classes`` it explains, so
        ``python -m harness run`` can compute those maps ahead.
    gate:
        The suite asserts that the explainer beats the random control; other
        metrics record and flag (see :mod:`harness.suite.metrics`).
    sources, max_cost:
        The default budget of a metric that re-explains on another model
        (MPRT): it runs only on models of these sources (``ModelCfg.source``)
        and with explainers of at most this ``ExplainerCfg.cost`` (``cheap``,
        ``moderate``, ``expensive``); ``None`` is no limit.  ``opt_in`` of
        :func:`yield_metrics` (``--harness-metric-optin mprt``) lifts both.
    control:
        What the random-attribution control means for this metric, where it
        is not simply "uniform random maps"; the leaderboard prints it.
    defaults:
        Small default parameters (CI budget) as ``(name, value)`` pairs;
        ``--harness-metric-param NAME.KEY=VALUE`` raises them.
    version:
        Bumped when the implementation's output changes (part of the store key).
    """

    name: str
    title: str
    category: str
    higher_is_better: bool
    needs_masks: bool = False
    gate: bool = False
    sources: tuple[str, ...] | None = None
    max_cost: str | None = None
    control: str = ""
    defaults: tuple[tuple[str, Any], ...] = ()
    version: str = "1"
    reexplain_targets: Callable[..., Any] | None = field(default=None, compare=False)

    @property
    def case_name(self) -> str:
        """``faithfulness_pixel_flipping``; a name that already starts with its category keeps it."""
        return self.name if self.name.startswith(self.category) else f"{self.category}_{self.name}"

    def within_budget(self, model_cfg, explainer_cfg) -> bool:
        """The pair fits the default budget (``sources``, ``max_cost``)."""
        if self.sources is not None and model_cfg.source not in self.sources:
            return False
        return self.max_cost is None or COSTS.index(explainer_cfg.cost) <= COSTS.index(self.max_cost)

    def params(self, **overrides: Any) -> dict[str, Any]:
        known = dict(self.defaults)
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise KeyError(f"{self.name}: unknown parameter(s) {unknown}; known: {sorted(known)}")
        return {**known, **overrides}


MetricFn = Callable[..., dict[str, Any]]
METRICS: Registry[tuple[MetricCfg, MetricFn]] = Registry("metric", hint="see `python -m harness list metrics`")


def register_metric(cfg: MetricCfg):
    if cfg.category not in CATEGORIES:
        raise ValueError(f"{cfg.name}: category must be one of {CATEGORIES}")

    def deco(fn: MetricFn) -> MetricFn:
        METRICS.add(cfg.name, (cfg, fn))
        return fn

    return deco


def list_metrics(filter: str = "*", *, category: str | None = None) -> list[str]:
    return METRICS.names(filter, where=lambda e: category is None or e[0].category == category)


def get_metric(name: str) -> tuple[MetricCfg, MetricFn]:
    return METRICS.get(name)


def get_metric_cfg(name: str) -> MetricCfg:
    return get_metric(name)[0]


def yield_metrics(model_cfg, explainer_cfg, *, has_masks: bool, opt_in: Collection[str] = ()) -> Iterator[MetricCfg]:
    """Metrics that apply to a model x explainer pair, judged by tags.

    Whether the explainer supports the model at all is the suite layer's
    ``supports()``, asked before this, as for every case generator.

    ``opt_in`` names metrics to run also outside their default budget
    (:meth:`MetricCfg.within_budget`); ``"*"`` opts all of them in.
    """
    for name in list_metrics():
        cfg = METRICS.get(name)[0]
        if cfg.needs_masks and not has_masks:
            continue
        if not (name in opt_in or "*" in opt_in or cfg.within_budget(model_cfg, explainer_cfg)):
            continue
        yield cfg
