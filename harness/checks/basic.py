"""Output-contract checks every explanation case must pass.

Plain ``check_*`` functions: each takes a
:class:`~harness.compute.runner.CaseResult` (and the runner where it needs more
work), raises :class:`CheckFailure` naming the case, the measured value and
the tolerance, and returns the measured value for the report.
"""

from __future__ import annotations

from typing import NoReturn

import numpy as np

from ..explainers import create_explainer, get_explainer_cfg
from ..models import get_model_cfg

# Tolerances, stated once.
CONSTANT_ATOL = 0.0  # a map is constant when max - min <= this
MAX_ZERO_SHARE = 0.5  # rectified explainers: at most this share of all-zero maps
TARGET_MIN_CHANGE = 1e-3  # relative L2 change required when the target changes
TARGET_PROBE_IMAGES = 2


class CheckFailure(AssertionError):
    """A property of an explanation case does not hold."""


def _case(result) -> str:
    return f"[{result.explainer} on {result.model_label}]"


def _fail(msg: str, result) -> NoReturn:
    __tracebackhide__ = True
    raise CheckFailure(f"{msg} {_case(result)}")


def check_shape(result, runner=None) -> tuple[int, ...]:
    """Attributions are ``[N, H, W]`` at the model's input resolution."""
    __tracebackhide__ = True

    side = get_model_cfg(result.model).input_size
    want = (len(result.records), side, side)
    got = tuple(result.attributions.shape)
    if got != want:
        _fail(f"shape: got {got}, expected {want}", result)
    h, w = result.native_resolution
    if not (0 < h <= side and 0 < w <= side):
        _fail(f"shape: native resolution {(h, w)} outside 1..{side}", result)
    return got


def check_finite(result, runner=None) -> int:
    """No NaN or infinite attribution anywhere; returns the count checked."""
    __tracebackhide__ = True
    bad = [r.id for r, m in zip(result.records, result.attributions) if not np.isfinite(m).all()]
    if bad:
        _fail(f"finite: {len(bad)} image(s) with NaN/inf attributions: {', '.join(bad[:5])}", result)
    return int(result.attributions.size)


def check_not_constant(result, runner=None) -> float:
    """Every map varies: ``max - min > CONSTANT_ATOL``; returns the smallest range.

    For ``rectified`` explainers (a ReLU on the map, the Grad-CAM family) an
    all-zero map is a legitimate answer, so up to ``MAX_ZERO_SHARE`` of the
    maps may be exactly zero; a constant non-zero map still fails.
    """
    __tracebackhide__ = True

    flat_maps = result.attributions.reshape(len(result.records), -1)
    ranges = np.ptp(flat_maps, axis=1)
    constant = ~(ranges > CONSTANT_ATOL)
    zero = constant & ~np.any(flat_maps, axis=1)
    if get_explainer_cfg(result.explainer).rectified and zero.sum() <= MAX_ZERO_SHARE * len(ranges):
        constant = constant & ~zero
    flat = [r.id for r, c in zip(result.records, constant) if c]
    if flat:
        _fail(
            f"not constant: {len(flat)} constant map(s) (range <= {CONSTANT_ATOL}; all-zero maps: "
            f"{int(zero.sum())}/{len(ranges)}): {', '.join(flat[:5])}",
            result,
        )
    varying = ranges[ranges > CONSTANT_ATOL]
    return float(varying.min()) if len(varying) else 0.0


def target_probe(attributions: np.ndarray, logits: np.ndarray) -> tuple[list[int], np.ndarray]:
    """``(probed images, second-ranked class of each image up to the last probed one)``.

    The probe takes the first ``TARGET_PROBE_IMAGES`` images whose top-1 map
    is not all zero (a rectified map of zeros cannot show a change); the
    second-class maps of images ``0 .. probe[-1]`` are what
    :func:`check_target_respected` computes (``python -m harness run``
    computes the same ones ahead).
    """
    nonzero = [i for i, m in enumerate(attributions) if np.any(m)]
    probe = nonzero[:TARGET_PROBE_IMAGES] or list(range(min(TARGET_PROBE_IMAGES, len(attributions))))
    limit = probe[-1] + 1 if probe else 0
    return probe, np.argsort(-logits[:limit], axis=1)[:, 1]


def check_target_respected(result, runner) -> float:
    """The map follows the requested class.

    The stored targets must be the requested ones, and explaining the
    second-ranked class instead of the first must change each probed map by
    a relative L2 distance above ``TARGET_MIN_CHANGE``.  Returns the
    smallest change seen.
    """
    __tracebackhide__ = True
    preds = runner.predictions(result.model)
    if not np.array_equal(result.targets, preds.top1[: len(result.records)]):  # cases may cover a prefix
        _fail("target: explanations were not computed for the predicted classes", result)
    probe, second = target_probe(result.attributions, preds.logits)
    limit = len(second)

    alt = runner.explain(result.model, create_explainer(result.explainer, **result.params), targets=second, limit=limit)
    changes: list[float] = []
    for i in probe:
        a, b = result.attributions[i], alt.attributions[i]
        changes.append(float(np.linalg.norm(a - b)) / max(float(np.linalg.norm(a)), 1e-12))
    worst = min(changes)
    if not worst > TARGET_MIN_CHANGE:
        _fail(
            f"target: map for class {second[probe[int(np.argmin(changes))]]} differs from the top-1 map "
            f"by {worst:.2e} (relative L2) <= {TARGET_MIN_CHANGE}",
            result,
        )
    return worst
