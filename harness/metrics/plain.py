"""Metrics that call Quantus 0.6.0 as is: complexity, localisation, RandomLogit.

These make no model calls (Sparseness, Complexity, PointingGame,
RelevanceMassAccuracy) or only one extra explanation per image
(RandomLogit), so there is nothing to batch: the harness feeds them its
stored maps.  :func:`quantus_scores` also runs the *plain Quantus*
counterparts of the batched metrics, for the equality tests and the
benchmark.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .faithfulness import _steps_for
from .inputs import MetricInputs
from .registry import MetricCfg, register_metric
from .road import road_reference


def _quiet_call(metric, **kw) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(metric(**kw), dtype=float)


def _maps_only(cls, inp: MetricInputs, sets: dict[str, np.ndarray], **params) -> dict[str, np.ndarray]:
    x = np.zeros((len(inp.x),) + inp.x.shape[1:], np.float32)  # shape only: these metrics read the maps
    return {
        name: _quiet_call(
            cls(disable_warnings=True, **params),
            model=None,
            x_batch=x,
            y_batch=inp.y,
            a_batch=a[:, None].astype(np.float32),
        )
        for name, a in sets.items()
    }


@register_metric(
    MetricCfg(
        name="sparseness",
        title="quantus.Sparseness (Gini index)",
        category="complexity",
        higher_is_better=True,
        defaults=(("abs", True), ("normalise", True)),
    )
)
def sparseness(inp: MetricInputs, sets: dict[str, np.ndarray], **params) -> dict[str, np.ndarray]:
    import quantus  # lazy: quantus takes ~5 s to import

    return _maps_only(quantus.Sparseness, inp, sets, **params)


@register_metric(
    MetricCfg(
        name="complexity",
        title="quantus.Complexity (entropy)",
        category="complexity",
        higher_is_better=False,
        defaults=(("abs", True), ("normalise", True)),
    )
)
def complexity(inp: MetricInputs, sets: dict[str, np.ndarray], **params) -> dict[str, np.ndarray]:
    import quantus  # lazy: quantus takes ~5 s to import

    return _maps_only(quantus.Complexity, inp, sets, **params)


def _masked(cls, inp: MetricInputs, sets: dict[str, np.ndarray], **params) -> dict[str, np.ndarray]:
    if inp.masks is None:
        raise ValueError("localisation metrics need ground-truth masks")
    x = np.zeros((len(inp.x), 3) + inp.x.shape[2:], np.float32)
    s = inp.masks[:, None].astype(np.float32)
    out = {}
    for name, a in sets.items():
        scores = _quiet_call(
            cls(disable_warnings=True, **params),
            model=None,
            x_batch=x,
            y_batch=inp.y,
            a_batch=np.nan_to_num(a)[:, None].astype(np.float32),
            s_batch=s,
        )
        out[name] = np.nan_to_num(scores, nan=0.0)  # an all-zero map puts nothing on the object (0/0)
    return out


@register_metric(
    MetricCfg(
        name="pointing_game",
        title="quantus.PointingGame",
        category="localisation",
        higher_is_better=True,
        needs_masks=True,
        defaults=(("abs", True), ("normalise", True)),
    )
)
def pointing_game(inp: MetricInputs, sets: dict[str, np.ndarray], **params) -> dict[str, np.ndarray]:
    import quantus  # lazy: quantus takes ~5 s to import

    return _masked(quantus.PointingGame, inp, sets, **params)


@register_metric(
    MetricCfg(
        name="relevance_mass",
        title="quantus.RelevanceMassAccuracy",
        category="localisation",
        higher_is_better=True,
        needs_masks=True,
        gate=True,
        defaults=(("abs", True), ("normalise", True)),
    )
)
def relevance_mass(inp: MetricInputs, sets: dict[str, np.ndarray], **params) -> dict[str, np.ndarray]:
    import quantus  # lazy: quantus takes ~5 s to import

    return _masked(quantus.RelevanceMassAccuracy, inp, sets, **params)


def random_logit_targets(y: np.ndarray, num_classes: int, seed: int) -> np.ndarray:
    """The off-classes quantus.RandomLogit draws (its own code, so the harness can explain them first)."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        b = len(y)
        classes = np.stack([np.arange(num_classes) for _ in range(b)])
        mask = np.ones_like(classes)
        mask[np.arange(b)[None, :], y] = 0
        off = np.random.randint(0, num_classes - 1, b)
        return classes[mask.astype(bool)].reshape(b, -1)[np.arange(b)[None, :], off].flatten()
    finally:
        np.random.set_state(state)


@register_metric(
    MetricCfg(
        name="random_logit",
        title="quantus.RandomLogit (SSIM to an off-class map)",
        category="randomisation",
        # re-explains every image for an off-class target: within the default budget only for cheap and
        # moderate explainers (IG and KernelSHAP: --harness-metric-optin random_logit)
        higher_is_better=False,
        reexplain_targets=lambda y, num_classes, *, seed, **_: random_logit_targets(y, num_classes, seed),
        max_cost="moderate",
        defaults=(("seed", 42), ("abs", False), ("normalise", True)),
    )
)
def random_logit(
    inp: MetricInputs, sets: dict[str, np.ndarray], *, seed: int, abs: bool, normalise: bool
) -> dict[str, np.ndarray]:
    """Quantus's RandomLogit, its ``explain_func`` answering with maps the harness computed (and stored)."""
    import quantus  # lazy: quantus takes ~5 s to import

    if not inp.explain:
        raise ValueError("random_logit needs MetricInputs.explain")
    off = random_logit_targets(inp.y, inp.num_classes, seed)
    out = {}
    for name, a in sets.items():
        off_maps = inp.explain[name](off)

        def explain_func(model, inputs, targets, _maps=off_maps, **kw):
            assert np.array_equal(np.asarray(targets), off), "RandomLogit drew other classes than expected"
            return _maps[:, None].astype(np.float32)

        metric = quantus.RandomLogit(
            num_classes=inp.num_classes, seed=seed, abs=abs, normalise=normalise, disable_warnings=True
        )
        out[name] = _quiet_call(
            metric,
            model=inp.module,
            x_batch=inp.x,
            y_batch=inp.y,
            a_batch=a[:, None].astype(np.float32),
            explain_func=explain_func,
            device="cpu",
        )
    return out


# Parameters (over each metric's defaults) that the equality tests and the benchmark share.
REFERENCE_OVERRIDES: dict[str, dict[str, object]] = {"road": {"percentages": (10, 50, 90)}}


def quantus_scores(
    metric: str, module, x: np.ndarray, y: np.ndarray, a: np.ndarray, *, seed: int = 0, **params
) -> np.ndarray:
    """Per-image scores of plain Quantus for one attribution set (global RNG seeded with ``seed``)."""
    import quantus  # lazy: quantus takes ~5 s to import

    a4 = a[:, None].astype(np.float32)
    common: dict[str, Any] = dict(disable_warnings=True, return_aggregate=False)
    m: Any
    if metric == "faithfulness_correlation":
        k = params.get("subset_size") or max(1, int(round(params["subset_fraction"] * np.prod(x.shape[1:]))))
        m = quantus.FaithfulnessCorrelation(
            nr_runs=params["nr_runs"], subset_size=k, abs=params["abs"], normalise=params["normalise"], **common
        )
        softmax = params["softmax"]
    elif metric == "pixel_flipping":
        m = quantus.PixelFlipping(
            features_in_step=_steps_for(x.shape, params["steps"]),
            abs=params["abs"],
            normalise=params["normalise"],
            return_auc_per_sample=True,
            **common,
        )
        softmax = params["softmax"]
    elif metric == "monotonicity_correlation":
        m = quantus.MonotonicityCorrelation(
            features_in_step=_steps_for(x.shape, params["steps"]),
            nr_samples=params["nr_samples"],
            eps=params["eps"],
            abs=params["abs"],
            normalise=params["normalise"],
            **common,
        )
        softmax = params["softmax"]
    elif metric == "road":
        return road_reference(
            module,
            x,
            y,
            a,
            percentages=params["percentages"],
            noise=params["noise"],
            seed=seed,
            abs=params["abs"],
            normalise=params["normalise"],
        )
    else:
        raise KeyError(f"no plain-Quantus reference for {metric!r}")
    np.random.seed(seed)
    return _quiet_call(
        m, model=module, x_batch=x, y_batch=y, a_batch=a4, device="cpu", channel_first=True, softmax=softmax
    )
