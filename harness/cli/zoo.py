"""``python -m harness zoo data|train|evaluate``: the ground-truth zoo (see :mod:`harness.zoo`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..models import list_models
from ..report.table import render_table
from ..zoo.evaluate import confusion_table, evaluate_zoo, plot_confusions
from ..zoo.shapes import write_split
from ..zoo.train import ZOO_DIR, train_zoo


def cmd_zoo_data(args) -> int:
    for split in args.split or ["test"]:
        folder = write_split(args.out, args.seed, split, args.n, spurious=args.spurious, cue_p=args.cue_p)
        print(f"{split}: {args.n} images with masks in {folder}")
    return 0


def cmd_zoo_train(args) -> int:
    models = list_models(source="zoo") if args.models == ["all"] else args.models
    manifest = train_zoo(
        models,
        out=Path(args.out) if args.out else ZOO_DIR,
        seed=args.seed,
        data_seed=args.data_seed,
        epochs=args.epochs,
        budget_min=args.budget_min,
        stop_at=args.stop_at,
        n_train=args.n_train,
        n_val=args.n_val,
        n_test=args.n_test,
        batch=args.batch,
        lr=args.lr,
        device=args.device,
        threads=args.threads,
    )
    rows = [
        [n, m["family"], m["training"]["epochs_run"], m["training"]["stopped_by"], m["test"]["top1"]]
        for n, m in sorted(manifest["models"].items())
        if n in models
    ]
    print(render_table(("model", "family", "epochs", "stopped by", "test top-1"), rows))
    return 0


def cmd_zoo_evaluate(args) -> int:
    result = evaluate_zoo(
        args.models or None,
        n=args.n,
        controls=not args.no_controls,
        device=args.device,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.plots:
        result["plots"] = [str(p) for p in plot_confusions(result, args.plots)]
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    rows = []
    for name, r in result["models"].items():
        if "error" in r:
            rows.append([name, r["family"], None, None, None, None, r["error"]])
            continue
        rows.append(
            [
                name,
                r["family"],
                r["top1"],
                r["macro_auc"],
                r.get("recorded_top1"),
                r.get("random_control", {}).get("top1"),
                min(r["per_class"].values()),
            ]
        )
    print(
        render_table(
            ("model", "family", "top-1", "macro AUC", "recorded", "random ctrl", "worst class"),
            rows,
            title=f"shapes test split: {result['n']} images, seed {result['data_seed']}, chance {result['chance']:.3f}",
        )
    )
    if args.confusion:
        for name, r in result["models"].items():
            if "confusion" in r:
                print(f"\n{name}\n{confusion_table(r)}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    zoo = sub.add_parser("zoo", help="the ground-truth zoo: shapes dataset, training, evaluation")
    zsub = zoo.add_subparsers(dest="zoo_command", required=True)
    zd = zsub.add_parser("data", help="write shapes images and masks to a folder")
    zd.add_argument("--out", default=".harness/datasets", help="parent folder (default: .harness/datasets)")
    zd.add_argument("--split", action="append", choices=("train", "val", "test"), default=None)
    zd.add_argument("--n", type=int, default=100, help="images per split (default: 100)")
    zd.add_argument("--seed", type=int, default=0, help="data seed (default: 0)")
    zd.add_argument("--spurious", action="store_true", help="the spurious-cue variant (class-tinted backgrounds)")
    zd.add_argument("--cue-p", type=float, default=0.9, help="train/val cue-class agreement (default: 0.9)")
    zd.set_defaults(func=cmd_zoo_data)
    zt = zsub.add_parser("train", help="train zoo models and record them in the manifest")
    zt.add_argument("models", nargs="+", help="zoo model names, or `all`")
    zt.add_argument("--out", default=None, help="weights folder (default: fixtures/zoo)")
    zt.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    zt.add_argument("--data-seed", type=int, default=0, help="shapes data seed (default: 0)")
    zt.add_argument("--epochs", type=int, default=None, help="epochs (default: per-model plan)")
    zt.add_argument("--lr", type=float, default=None, help="learning rate (default: per-model plan)")
    zt.add_argument("--budget-min", type=float, default=10.0, help="safety stop per model, minutes (default: 10)")
    zt.add_argument("--stop-at", type=float, default=0.99, help="stop once val accuracy reaches this")
    zt.add_argument("--n-train", type=int, default=6000)
    zt.add_argument("--n-val", type=int, default=500)
    zt.add_argument("--n-test", type=int, default=1000)
    zt.add_argument("--batch", type=int, default=64)
    zt.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    zt.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    zt.set_defaults(func=cmd_zoo_train)
    ze = zsub.add_parser("evaluate", help="test metrics of the committed zoo, with random-weight controls")
    ze.add_argument("models", nargs="*", help="zoo model names (default: all)")
    ze.add_argument("--json", action="store_true", help="machine-readable output")
    ze.add_argument("--n", type=int, default=None, help="test images (default: the manifest's test size)")
    ze.add_argument("--plots", default=None, metavar="DIR", help="write confusion-matrix PNGs to DIR")
    ze.add_argument("--confusion", action="store_true", help="print confusion-matrix tables")
    ze.add_argument("--no-controls", action="store_true", help="skip the random-weight controls")
    ze.add_argument("--device", default="auto")
    ze.set_defaults(func=cmd_zoo_evaluate)
