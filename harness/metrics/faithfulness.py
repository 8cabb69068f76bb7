"""Batched FaithfulnessCorrelation, PixelFlipping and MonotonicityCorrelation.

Each follows Quantus 0.6.0's ``evaluate_batch`` line by line (same feature
order, baseline values, random draws and similarity functions) but builds
every perturbed input first and scores them in large forward passes
(:class:`~harness.metrics.inputs.Batcher`), for several attribution sets at
once.  Quantus's own random draws come from the global NumPy generator;
here each set gets ``np.random.RandomState(seed)``, which draws the same
numbers as ``np.random.seed(seed)`` followed by Quantus's calls, so a test
can seed Quantus and compare (``tests/test_metrics_equality.py``).

* FaithfulnessCorrelation (Bhatt et al. 2020): per run, ``subset_size``
  random features of each sample are set to the sample's minimum
  ("black"); Pearson correlation over runs between the attribution sum of
  the subset and the drop of the target logit.  The subsets do not depend
  on the attributions, so **all sets share one set of forward passes**,
  and later calls for the same model, inputs and parameters (the model's
  other explainers) reuse them (:func:`_fc_passes`).
* PixelFlipping (Bach et al. 2015): features flipped to the minimum in
  order of decreasing attribution, ``features_in_step`` at a time; the
  score is the area under the target-logit curve (lower is better).
* MonotonicityCorrelation (Nguyen & Martinez 2020): features in order of
  increasing attribution, one segment at a time, replaced by a uniform
  random value ``nr_samples`` times; Spearman correlation between the
  segment's attribution and the variance of the logit change.

Quantus draws one ``uniform(size=batch)`` inside every baseline lookup,
whatever the baseline; the draw is repeated here to keep the streams aligned.
"""

from __future__ import annotations

import hashlib
import math
import weakref
from collections import OrderedDict

import numpy as np

from .forward import state_key
from .inputs import QUANTUS_BATCH, Batcher, MetricInputs, flat_features, quantus_prepare
from .registry import MetricCfg, register_metric


def _chunks(n: int) -> list[slice]:
    return [slice(i, min(i + QUANTUS_BATCH, n)) for i in range(0, n, QUANTUS_BATCH)]


def _steps_for(x_shape: tuple[int, ...], steps: int) -> int:
    """``features_in_step`` giving ``steps`` steps over C*H*W features; Quantus needs it to divide H*W."""
    c, hw = x_shape[1], x_shape[2] * x_shape[3]
    fis, rem = divmod(c * hw, steps)
    if rem or hw % fis:
        raise ValueError(
            f"{steps} steps do not split {c}x{hw} features into whole steps dividing {hw}; "
            f"use a multiple of {c} that divides {c}*H*W"
        )
    return fis


@register_metric(
    MetricCfg(
        name="faithfulness_correlation",
        title="quantus.FaithfulnessCorrelation",
        category="faithfulness",
        higher_is_better=True,
        gate=False,
        defaults=(
            ("nr_runs", 16),
            ("subset_fraction", 0.05),
            ("subset_size", None),
            ("seed", 0),
            ("abs", False),
            ("normalise", True),
            ("softmax", False),
        ),
    )
)
def faithfulness_correlation(
    inp: MetricInputs,
    sets: dict[str, np.ndarray],
    *,
    nr_runs: int,
    subset_fraction: float,
    seed: int,
    abs: bool,
    normalise: bool,
    softmax: bool,
    subset_size: int | None = None,
) -> dict[str, np.ndarray]:
    """``subset_size`` defaults to ``subset_fraction`` of C*H*W (Quantus's 224 suits 28x28 inputs)."""
    from quantus.functions.similarity_func import correlation_pearson  # lazy: quantus takes ~5 s to import

    x = inp.x
    n = len(x)
    nf = int(np.prod(x.shape[1:]))
    k = subset_size or max(1, int(round(subset_fraction * nf)))
    subsets, deltas = _fc_passes(inp, nr_runs=nr_runs, k=k, seed=seed, softmax=softmax)
    out = {}
    for name, a in sets.items():
        af = flat_features(quantus_prepare(a, normalise=normalise, abs=abs), x.shape)
        sums = np.take_along_axis(af, subsets.reshape(n, -1), axis=1).reshape(n, nr_runs, k).sum(-1)
        out[name] = np.asarray(correlation_pearson(a=sums, b=deltas, batched=True), dtype=float)
    return out


FC_CACHE_SIZE = 4  # per module: (subsets, deltas) of the last few input batches and parameter sets
_FC_PASSES: weakref.WeakKeyDictionary[object, OrderedDict[tuple, tuple[np.ndarray, np.ndarray]]] = (
    weakref.WeakKeyDictionary()
)


def _fc_passes(inp: MetricInputs, *, nr_runs: int, k: int, seed: int, softmax: bool) -> tuple[np.ndarray, np.ndarray]:
    """FaithfulnessCorrelation's map-independent part: subsets and logit drops, ``[N, runs, k]``, ``[N, runs]``.

    Cached per module, inputs, targets and parameters (and whether the
    forward passes ran frozen), so every explainer of a model after the first
    costs no forward passes; the cache follows in-place weight changes.
    """

    x, y = inp.x, inp.y
    module = inp.forward_module()
    key = (
        state_key(inp.module, x.shape[1:]),
        inp.forward_how,
        hashlib.sha1(x.tobytes()).hexdigest(),
        y.tobytes(),
        nr_runs,
        k,
        seed,
        softmax,
        QUANTUS_BATCH,
    )
    memo = _FC_PASSES.setdefault(inp.module, OrderedDict())
    if key in memo:
        memo.move_to_end(key)
        return memo[key]
    n = len(x)
    nf = int(np.prod(x.shape[1:]))
    flat = x.reshape(n, -1)
    rs = np.random.RandomState(seed)
    batcher = Batcher(module, inp.batch_size, softmax=softmax)
    batcher.add(x, y)
    subsets = np.empty((n, nr_runs, k), np.int64)
    for sl in _chunks(n):
        b = sl.stop - sl.start
        black = flat[sl].min(axis=1)
        for r in range(nr_runs):
            ix = np.stack([rs.choice(nf, k, replace=False) for _ in range(b)])
            rs.uniform(0.0, 1.0, size=b)  # Quantus's baseline lookup draws it
            xp = flat[sl].copy()
            xp[np.arange(b)[:, None], ix] = black[:, None]
            subsets[sl, r] = ix
            batcher.add(xp.reshape((b,) + x.shape[1:]), y[sl])
    logits = batcher.result()
    y_pred, pert = logits[:n], logits[n:]
    deltas = np.empty((n, nr_runs))
    pos = 0
    for sl in _chunks(n):  # forward order: chunk, run, sample
        b = sl.stop - sl.start
        for r in range(nr_runs):
            deltas[sl, r] = y_pred[sl] - pert[pos : pos + b]
            pos += b
    memo[key] = (subsets, deltas)
    while len(memo) > FC_CACHE_SIZE:
        memo.popitem(last=False)
    return subsets, deltas


@register_metric(
    MetricCfg(
        name="pixel_flipping",
        title="quantus.PixelFlipping (AUC per sample)",
        category="faithfulness",
        higher_is_better=False,
        gate=True,
        defaults=(("steps", 12), ("abs", False), ("normalise", True), ("softmax", True)),
    )
)
def pixel_flipping(
    inp: MetricInputs, sets: dict[str, np.ndarray], *, steps: int, abs: bool, normalise: bool, softmax: bool
) -> dict[str, np.ndarray]:
    from quantus.helpers.utils import calculate_auc  # lazy: quantus takes ~5 s to import

    x, y = inp.x, inp.y
    n = len(x)
    fis = _steps_for(x.shape, steps)
    flat = x.reshape(n, -1)
    black = flat.min(axis=1)
    batcher = Batcher(inp.forward_module(), inp.batch_size, softmax=softmax)
    for a in sets.values():
        order = np.argsort(-flat_features(quantus_prepare(a, normalise=normalise, abs=abs), x.shape), axis=1)
        xp = flat.copy()
        for s in range(math.ceil(flat.shape[1] / fis)):
            ix = order[:, s * fis : (s + 1) * fis]
            xp[np.arange(n)[:, None], ix] = black[:, None]
            batcher.add(xp.reshape(x.shape).copy(), y)
    curves = batcher.result().reshape(len(sets), -1, n)  # set, step, sample
    return {name: np.asarray(calculate_auc(curves[i].T, batched=True), dtype=float) for i, name in enumerate(sets)}


@register_metric(
    MetricCfg(
        name="monotonicity_correlation",
        title="quantus.MonotonicityCorrelation",
        category="faithfulness",
        higher_is_better=True,
        gate=False,
        defaults=(
            ("steps", 6),
            ("nr_samples", 3),
            ("seed", 0),
            ("eps", 1e-5),
            ("abs", True),
            ("normalise", True),
            ("softmax", True),
        ),
    )
)
def monotonicity_correlation(
    inp: MetricInputs,
    sets: dict[str, np.ndarray],
    *,
    steps: int,
    nr_samples: int,
    seed: int,
    eps: float,
    abs: bool,
    normalise: bool,
    softmax: bool,
) -> dict[str, np.ndarray]:
    from quantus.functions.similarity_func import correlation_spearman  # lazy: quantus takes ~5 s to import

    x, y = inp.x, inp.y
    n = len(x)
    fis = _steps_for(x.shape, steps)
    flat = x.reshape(n, -1)
    n_steps = math.ceil(flat.shape[1] / fis)
    batcher = Batcher(inp.forward_module(), inp.batch_size, softmax=softmax)
    batcher.add(x, y)
    atts: dict[str, np.ndarray] = {}
    for name, a in sets.items():
        af = flat_features(quantus_prepare(a, normalise=normalise, abs=abs), x.shape)
        order = np.argsort(af, axis=1)
        rs = np.random.RandomState(seed)
        atts[name] = np.empty((n, n_steps))
        for sl in _chunks(n):
            b = sl.stop - sl.start
            for s in range(n_steps):
                ix = order[sl, s * fis : (s + 1) * fis]
                for _ in range(nr_samples):
                    fill = rs.uniform(0.0, 1.0, size=b)
                    xp = flat[sl].copy()
                    xp[np.arange(b)[:, None], ix] = fill[:, None]
                    batcher.add(xp.reshape((b,) + x.shape[1:]), y[sl])
                atts[name][sl, s] = af[sl][np.arange(b)[:, None], ix].sum(axis=1)
    logits = batcher.result()
    y_pred, pert = logits[:n], logits[n:]
    inv = np.ones(n)
    big = np.abs(y_pred) >= eps
    inv[big] = 1.0 / np.abs(y_pred[big])
    inv = inv**2
    out, pos = {}, 0
    for name in sets:
        var = np.empty((n, n_steps))
        for sl in _chunks(n):
            b = sl.stop - sl.start
            for s in range(n_steps):
                p = pert[pos : pos + b * nr_samples].reshape(nr_samples, b).T
                pos += b * nr_samples
                var[sl, s] = np.mean((p - y_pred[sl, None]) ** 2, axis=1) * inv[sl]
        out[name] = np.asarray(correlation_spearman(a=atts[name], b=var, batched=True), dtype=float)
    return out
