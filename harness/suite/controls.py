"""Does each faithfulness metric tell real explainers from random attributions?  A measured table.

``python -m harness.suite.controls`` scores explainers (default Grad-CAM
and IG) and the random-attribution control on models with real weights
(default: the three EfficientNet-Lites and five trained zoo models) with
the faithfulness metrics, at the suite's defaults or with more images and
steps, and prints one markdown row per model x explainer x metric.  It goes
through the same code as ``suites/test_metrics.py`` (:func:`score_case`,
the same store), so its rows are what the suite would see, and
the known-failure table (:mod:`harness.suite.known`) should list exactly the
gated pairs that come out "no" here at the defaults::

    python -m harness.suite.controls --images 4
    python -m harness.suite.controls --images 8 --param pixel_flipping.steps=24 \\
        --param faithfulness_correlation.nr_runs=32

``--softmax-off`` adds PixelFlipping on logits (``softmax=False``), to see
whether a saturated softmax is what hides a method's ordering.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..compute.store import Store
from ..models import WeightsUnavailable
from .metrics import score_case
from .session import Case, HarnessOptions, HarnessSession, parse_metric_params

MODELS = (
    "efficientnet_lite0",
    "efficientnet_lite1",
    "efficientnet_lite2",
    "zoo_resnet",
    "zoo_vit_p16",
    "zoo_swin",
    "zoo_convnext",
    "zoo_efficientnet_lite0",
)
EXPLAINERS = ("gradcam", "ig")
METRICS = ("pixel_flipping", "faithfulness_correlation", "monotonicity_correlation", "road")


def control_rows(
    session: HarnessSession,
    models,
    explainers,
    metrics,
    *,
    n_images: int,
    overrides: dict[str, dict[str, object]],
    softmax_off: bool = False,
    log=None,
):
    """Yield one dict per model x explainer x metric (variant), with score, control and verdict."""
    variants = [(m, overrides.get(m, {})) for m in metrics]
    if softmax_off and "pixel_flipping" in metrics:
        variants.append(("pixel_flipping", {**overrides.get("pixel_flipping", {}), "softmax": False}))
    for model in models:
        try:
            session.require_weights(model)
        except WeightsUnavailable as exc:
            if log:
                log(f"skip {model}: {exc}")
            continue
        for explainer in explainers:
            for metric, ov in variants:
                res = score_case(session, Case(model, explainer), metric, n_images=n_images, overrides=ov)
                ours, ctrl = res.scores, res.control
                # share of images where the explainer beats the control, in the metric's direction
                per_image = np.mean(ours > ctrl) if res.higher_is_better else np.mean(ours < ctrl)
                row = {
                    "model": model,
                    "explainer": explainer,
                    "metric": metric + ("" if ov.get("softmax") is not False else " (logits)"),
                    "images": len(ours),
                    "score": res.score,
                    "random": res.control_score,
                    "better": "higher" if res.higher_is_better else "lower",
                    "separates": res.separates,
                    "images_won": float(per_image),
                    "seconds": res.seconds,
                }
                if log:
                    log(_line(row))
                yield row


def _line(r: dict) -> str:
    return (
        f"| {r['model']} | {r['explainer']} | {r['metric']} | {r['images']} | {r['score']:.4g} | "
        f"{r['random']:.4g} | {r['better']} | {'yes' if r['separates'] else '**no**'} | "
        f"{r['images_won']:.2f} |"
    )


HEADER = (
    "| model | explainer | metric | images | score | random | better | beats random | "
    "share of images won |\n|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.suite.controls", description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--explainers", default=",".join(EXPLAINERS))
    ap.add_argument("--metrics", default=",".join(METRICS))
    ap.add_argument("--images", type=int, default=4, help="images per case (default 4, the suite's)")
    ap.add_argument("--param", action="append", default=[], metavar="METRIC.KEY=VALUE")
    ap.add_argument("--softmax-off", action="store_true", help="also PixelFlipping on logits")
    ap.add_argument("--store", default=None, help="store root (default: the suite's)")
    ap.add_argument(
        "--zoo-images",
        type=int,
        default=8,
        help="zoo test images each case explains (default 8, the suite's); the shapes set's first "
        "images do not depend on it, so --zoo-images 4 with --images 4 scores the same "
        "images and explains half as many",
    )
    ap.add_argument("--device", default="auto")
    args = ap.parse_args(argv)
    root = Path.cwd()
    store = Path(args.store) if args.store else Store.default_root(root)
    session = HarnessSession(
        HarnessOptions(
            store=store, reports=root / "reports", device=args.device, zoo_images=args.zoo_images, write_report=False
        ),
        root,
    )
    print(HEADER, flush=True)
    rows = list(
        control_rows(
            session,
            args.models.split(","),
            args.explainers.split(","),
            args.metrics.split(","),
            n_images=args.images,
            overrides={m: dict(p) for m, p in parse_metric_params(args.param)},
            softmax_off=args.softmax_off,
            log=lambda s: print(s, flush=True),
        )
    )
    bad = [r for r in rows if not r["separates"]]
    print(f"\n{len(rows) - len(bad)}/{len(rows)} rows beat the random control", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
