"""Numeric baselines of explainer behaviour, in the manner of pytest-regressions.

A baseline is a small JSON file per case (``<explainer>-<model>.json``)
holding, per image, compact summaries of the explanation:

* ``target``: the explained class;
* ``map``: the attribution area-averaged to a ``grid x grid`` map;
* ``top``: indices of the top ``top_fraction`` grid cells, most relevant first;
* ``stats``: mean, std, mean |a|, min, max and sum of the full-resolution map.

Comparison uses tolerances stated per quantity (:class:`Tolerances`).  A
missing baseline is written and the case fails, so nothing is accepted
silently.  ``--harness-regen`` rewrites it and *fails* too (as
pytest-regressions' ``--force-regen``), so a regenerated baseline is never
accepted silently in CI; ``--harness-regen-accept`` rewrites it and passes.
What was obtained is kept beside it as ``<case>.obtained.json`` for diffing
whenever a check fails.

Baselines are keyed by image set (:func:`baseline_dir_for`): the built-in
sets (``builtin``, ``foolbox``, the zoo's ``shapes``) keep the flat layout
``<root>/<explainer>-<model>.json``; any other set (a user's folder) gets a
folder of its own, ``<root>/<image set>/<explainer>-<model>.json``, so a new
folder writes new baselines instead of failing as "baseline entry missing".

Tolerances and CPU/GPU: the defaults absorb float reordering between BLAS
builds and devices (relative changes of 1e-5..1e-3 seen in practice), but
catch any change of method, parameter, weights or preprocessing.  Stochastic
explainers (KernelSHAP) are seeded from the case id and reproduce exactly on
one machine; across devices their sampling runs in a different order, so
they get the looser :data:`STOCHASTIC_TOLERANCES`.

The noise floor: a baseline written or regenerated with a ``noise`` callable
(the suites pass :meth:`harness.checks.noise.NoiseFloor.baseline_record` of the
store-cached floor) records ``"noise": {"class", "spread", "measured"}``, the
pair's determinism class and spread as the drift command measures them.  The
comparison does not measure it again; a failure states the recorded class and
spread next to the largest grid-map move, so drift can be told from noise.
:func:`annotate_baseline` adds the field to an existing file and changes
nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import write_atomic
from ..explainers.resample import resample_map

GRID = 12


@dataclass(frozen=True)
class Tolerances:
    """Per-quantity tolerances.

    map_cosine: cosine similarity of each grid map to the baseline, at least.
    topk_overlap: |top cells now & top cells then| / |top cells|, at least.
    scalar_rtol: |new - old| <= scalar_rtol * max(|old|, mean |a| of the baseline map) per statistic.
    """

    map_cosine: float = 0.999
    topk_overlap: float = 0.8
    scalar_rtol: float = 0.01
    top_fraction: float = 0.1


DETERMINISTIC_TOLERANCES = Tolerances()
STOCHASTIC_TOLERANCES = Tolerances(map_cosine=0.98, topk_overlap=0.6, scalar_rtol=0.1)


class RegressionFailure(AssertionError):
    """Explanations drifted from their baseline, or the baseline was missing."""


def tolerances_for(explainer_cfg) -> Tolerances:
    return STOCHASTIC_TOLERANCES if explainer_cfg.stochastic else DETERMINISTIC_TOLERANCES


def summarize(result, *, grid: int = GRID, top_fraction: float = Tolerances.top_fraction) -> dict[str, Any]:
    """Compact, JSON-able summaries of a :class:`~harness.compute.runner.CaseResult`."""
    k = max(1, int(round(top_fraction * grid * grid)))
    images = {}
    for rec, attr, target in zip(result.records, result.attributions, result.targets):
        g = resample_map(attr, grid).astype(np.float64)
        a = attr.astype(np.float64)
        images[rec.id] = {
            "target": int(target),
            "map": [float(f"{v:.6g}") for v in g.ravel()],
            "top": [int(i) for i in np.argsort(-g.ravel(), kind="stable")[:k]],
            "stats": {
                "mean": float(a.mean()),
                "std": float(a.std()),
                "abs_mean": float(np.abs(a).mean()),
                "min": float(a.min()),
                "max": float(a.max()),
                "sum": float(a.sum()),
            },
        }
    return {
        "model": result.model,
        "explainer": result.explainer,
        "params": result.params,
        "grid": grid,
        "images": images,
    }


@dataclass(frozen=True)
class Drift:
    image: str
    quantity: str
    old: Any
    new: Any
    tolerance: str

    def message(self, case: str) -> str:
        return f"{case} {self.image}: {self.quantity} {_show(self.old)} -> {_show(self.new)} ({self.tolerance})"


def _show(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def compare_summaries(baseline: dict[str, Any], obtained: dict[str, Any], tol: Tolerances) -> list[Drift]:
    """Every quantity out of tolerance; an empty list means no drift."""
    drifts: list[Drift] = []
    if baseline.get("params") != obtained.get("params"):
        drifts.append(Drift("*", "params", baseline.get("params"), obtained.get("params"), "must be equal"))
    for image, new in obtained["images"].items():
        old = baseline["images"].get(image)
        if old is None:
            drifts.append(Drift(image, "baseline entry", "missing", "present", "every image needs a baseline"))
            continue
        if old["target"] != new["target"]:
            drifts.append(Drift(image, "target", old["target"], new["target"], "must be equal"))
        a, b = np.asarray(old["map"]), np.asarray(new["map"])
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        cos = float(a @ b / (na * nb)) if na > 0 and nb > 0 else float(na == nb)
        if not cos >= tol.map_cosine:
            drifts.append(Drift(image, "map cosine", 1.0, cos, f"needs >= {tol.map_cosine}"))
        overlap = len(set(old["top"]) & set(new["top"])) / max(1, len(old["top"]))
        if not overlap >= tol.topk_overlap:
            drifts.append(
                Drift(image, f"top-{len(old['top'])} cell overlap", 1.0, overlap, f"needs >= {tol.topk_overlap}")
            )
        scale = max(abs(old["stats"]["abs_mean"]), 1e-12)
        for name, was in old["stats"].items():
            now = new["stats"][name]
            allowed = tol.scalar_rtol * max(abs(was), scale)
            if not abs(now - was) <= allowed:
                drifts.append(
                    Drift(
                        image, name, was, now, f"|change| <= {allowed:.3g} = {tol.scalar_rtol} x max(|old|, mean |a|)"
                    )
                )
    return drifts


BUILTIN_SETS = ("builtin", "foolbox")


def baseline_dir_for(root: Path, image_set: str) -> Path:
    """Where the baselines of cases on ``image_set`` live under ``root`` (see the module docstring)."""
    if not image_set or image_set in BUILTIN_SETS or image_set.startswith(("shapes:", "shapes-spurious:")):
        return Path(root)
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in image_set).strip("._") or "images"
    return Path(root) / slug


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(payload, indent=1, sort_keys=True) + "\n", sync=False)


def grid_rel_l2(baseline: dict[str, Any], obtained: dict[str, Any]) -> float:
    """The largest ``||new - old|| / ||old||`` of a grid map over the images both summaries hold."""
    worst = 0.0
    for image, new in obtained["images"].items():
        old = baseline["images"].get(image)
        if old is None or len(old["map"]) != len(new["map"]):
            continue
        a, b = np.asarray(old["map"]), np.asarray(new["map"])
        na, nd = np.linalg.norm(a), np.linalg.norm(b - a)
        worst = max(worst, float(nd / na) if na > 0 else (0.0 if nd == 0 else float("inf")))
    return worst


def noise_line(baseline: dict[str, Any], obtained: dict[str, Any]) -> str:
    """The drift next to the baseline's recorded noise floor (or the remedy when it has none)."""
    moved = grid_rel_l2(baseline, obtained)
    noise = baseline.get("noise")
    if not noise:
        return (
            f"largest grid-map rel L2 {moved:.3g}; the baseline records no noise floor "
            "(python -m harness baselines annotate adds one)"
        )
    spread = float(noise["spread"])
    times = f"{moved / spread:.3g} x the spread" if spread > 0 else "the spread is 0"
    measured = noise.get("measured", {})
    return (
        f"largest grid-map rel L2 {moved:.3g} ({times}); recorded noise floor: {noise['class']}, "
        f"spread {spread:.2g} (full-resolution rel L2 over {measured.get('images', '?')} images, "
        f"varied: {', '.join(measured.get('axes', [])) or '?'})"
    )


def annotate_baseline(path: Path, noise: dict[str, Any]) -> bool:
    """Set the ``noise`` field of the baseline at ``path``, leaving every other field as it is; whether
    the file changed."""
    doc = json.loads(Path(path).read_text())
    if doc.get("noise") == noise:
        return False
    doc["noise"] = noise
    _write_json(Path(path), doc)
    return True


def check_regression(
    result,
    case_id: str,
    baseline_dir: Path,
    *,
    tol: Tolerances,
    regen: bool = False,
    accept: bool = False,
    versions: dict[str, str] | None = None,
    noise: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Compare ``result`` with its baseline, writing it when missing, ``regen`` or ``accept``.

    ``noise`` gives the baseline's ``noise`` field; it is called only when a
    baseline is written, never for a comparison.

    Raises :class:`RegressionFailure` on drift, a newly written baseline or
    a regenerated one (``regen``); ``accept`` regenerates and passes.
    Returns a small dict of what was compared otherwise.
    """
    regen = regen or accept
    __tracebackhide__ = True
    obtained = summarize(result, top_fraction=tol.top_fraction)
    obtained["tolerances"] = asdict(tol)
    obtained["versions"] = versions or {}
    path = Path(baseline_dir) / f"{case_id}.json"
    kept = path.with_name(f"{case_id}.obtained.json")
    if regen or not path.is_file():
        existed = path.is_file()
        if existed and regen:
            old = json.loads(path.read_text())
            old["images"].update(obtained["images"])  # regenerate these images, keep the others
            obtained = {**obtained, "images": old["images"]}
        if noise is not None:
            obtained["noise"] = noise()
        _write_json(path, obtained)
        kept.unlink(missing_ok=True)
        if not regen:
            raise RegressionFailure(
                f"{case_id}: no baseline existed; wrote {path} ({len(obtained['images'])} images). "
                "Check it in and run again; nothing is accepted silently."
            )
        if not accept:
            raise RegressionFailure(
                f"{case_id}: regenerated {path} ({len(obtained['images'])} images) under --harness-regen; "
                "review and commit it, then run again (--harness-regen-accept rewrites and passes)"
            )
        return {"regenerated": str(path)}
    baseline = json.loads(path.read_text())
    drifts = compare_summaries(baseline, obtained, tol)
    if drifts:
        _write_json(kept, obtained)
        shown = "\n  ".join(d.message(case_id) for d in drifts[:12])
        more = f"\n  ... and {len(drifts) - 12} more" if len(drifts) > 12 else ""
        raise RegressionFailure(
            f"{case_id}: explanations drifted from {path} in {len(drifts)} quantities:\n  {shown}{more}\n"
            f"{noise_line(baseline, obtained)}\n"
            f"obtained values kept in {kept}; if the change is intended, rerun with --harness-regen"
        )
    kept.unlink(missing_ok=True)
    return {"images": len(obtained["images"]), "baseline": str(path)}
