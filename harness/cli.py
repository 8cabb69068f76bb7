"""Command line.

``python -m harness list models|explainers|images [--json]``
``python -m harness report [--store PATH] [--out DIR]``: rebuild a report from the store
``python -m harness leaderboard [--store PATH] [--out DIR]``: metric tables and agreement from the store
``python -m harness compare RUN_A RUN_B``: how the similarity matrices moved between runs
``python -m harness zoo data|train|evaluate``: the ground-truth zoo (see :mod:`harness.zoo`)
"""

from __future__ import annotations

import argparse
import json
import sys

from .report.table import render_table


def _models(args) -> list[dict]:
    from .models import WeightsOptions, WeightsUnavailable, get_model_cfg, list_models, resolve_weights

    opts = WeightsOptions.from_env(tuple(args.weights))
    rows = []
    for name in list_models(args.filter):
        cfg = get_model_cfg(name)
        try:
            src = resolve_weights(cfg, opts)
            available, where, why = not src.is_random, src.describe(), ""
        except WeightsUnavailable as exc:
            available, where, why = False, "", str(exc)
        rows.append(
            {
                "name": name,
                "arch": cfg.arch,
                "family": cfg.family,
                "source": cfg.source,
                "input_size": cfg.input_size,
                "weights_available": available,
                "weights": where,
                "target_layers": list(cfg.target_layers),
                "layout": cfg.layout,
                "num_prefix_tokens": cfg.num_prefix_tokens,
                "grid_size": cfg.grid_size,
                "reason": why,
            }
        )
    return rows


def _explainers(args) -> list[dict]:
    from .explainers import get_explainer_cfg, list_explainers

    rows = []
    for name in list_explainers(args.filter):
        cfg = get_explainer_cfg(name)
        rows.append(
            {
                "name": name,
                "title": cfg.title,
                "group": cfg.group,
                "cost": cfg.cost,
                "tags": cfg.tags,
                "passes": cfg.passes,
                "defaults": dict(cfg.defaults),
                "version": cfg.version,
            }
        )
    return rows


def _images(args) -> list[dict]:
    from .image_sets import image_set_from_spec

    return [
        {
            "id": r.id,
            "label": r.label,
            "also": list(r.also),
            "path": str(r.path),
            "source": r.source,
            "licence": r.licence,
            "mask": str(r.mask) if r.mask else None,
        }
        for r in image_set_from_spec(args.set)
    ]


_COLUMNS = {
    "models": ("name", "family", "source", "input_size", "weights_available", "weights"),
    "explainers": ("name", "group", "cost", "passes"),
    "images": ("id", "label", "licence"),
}


def cmd_list(args) -> int:
    rows = {"models": _models, "explainers": _explainers, "images": _images}[args.what](args)
    if args.json:
        json.dump(rows, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        cols = _COLUMNS[args.what]
        print(render_table(cols, [[r[c] for c in cols] for r in rows]))
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    from .provenance import new_run_id
    from .report.consensus import ConsensusOptions
    from .report.index import consensus_lines
    from .report.summary import build_report
    from .store import Store

    store_path = Path(args.store) if args.store else Store.default_root(Path.cwd())
    if not store_path.is_dir():
        print(f"no store at {store_path} (run the suites first, or pass --store)", file=sys.stderr)
        return 2
    opts = ConsensusOptions(
        same_prediction=args.same_prediction, linkage=args.linkage, resolution=args.resolution, seed=args.seed
    )
    out, consensus = build_report(
        Path(args.out),
        new_run_id(),
        root=Path.cwd(),
        store=Store(store_path),
        settings={"store": str(store_path), "source": "python -m harness report"},
        consensus_options=opts,
    )
    for line in consensus_lines(consensus):
        print(line)
    print(f"report: {out}/index.md")
    return 0


def cmd_leaderboard(args) -> int:
    from pathlib import Path

    from .report.leaderboard import collect_metrics, render_text, write_leaderboard
    from .store import Store

    store_path = Path(args.store) if args.store else Store.default_root(Path.cwd())
    if not store_path.is_dir():
        print(f"no store at {store_path} (run the suites first, or pass --store)", file=sys.stderr)
        return 2
    store = Store(store_path)
    print(render_text(collect_metrics(store)))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        write_leaderboard(Path(args.out), store)
        print(f"leaderboard: {args.out}/leaderboard.md")
    return 0


def _load_consensus(run: str) -> dict:
    from pathlib import Path

    path = Path(run)
    path = path / "consensus.json" if path.is_dir() else path
    if not path.is_file():
        raise SystemExit(f"no consensus.json at {path}")
    return json.loads(path.read_text())


def cmd_compare(args) -> int:
    a, b = _load_consensus(args.run_a), _load_consensus(args.run_b)
    index_b = {(ex["slug"], m["metric"]): m for ex in b["explainers"] for m in ex["metrics"]}
    for ex in a["explainers"]:
        for m in ex["metrics"]:
            other = index_b.get((ex["slug"], m["metric"]))
            if other is None:
                print(f"{ex['slug']} [{m['metric']}]: only in {args.run_a}")
                continue
            sims_b = {(p["a"], p["b"]): p["similarity"] for p in other["most_similar"] + other["least_similar"]}
            pairs_a = {(p["a"], p["b"]): p["similarity"] for p in m["most_similar"] + m["least_similar"]}
            rows = [
                [a_, b_, old, sims_b.get((a_, b_)), None if sims_b.get((a_, b_)) is None else sims_b[(a_, b_)] - old]
                for (a_, b_), old in pairs_a.items()
            ]
            rows.sort(key=lambda r: -abs(r[4] or 0))
            print(
                render_table(
                    ("model A", "model B", "A", "B", "B - A"),
                    rows,
                    title=f"{ex['slug']} [{m['metric']}]: {m['verdict']}  ->  {other['verdict']}",
                )
            )
            print()
    return 0


def cmd_zoo_data(args) -> int:
    from .zoo.shapes import write_split

    for split in args.split or ["test"]:
        folder = write_split(args.out, args.seed, split, args.n, spurious=args.spurious, cue_p=args.cue_p)
        print(f"{split}: {args.n} images with masks in {folder}")
    return 0


def cmd_zoo_train(args) -> int:
    from pathlib import Path

    from .models import list_models
    from .zoo.train import ZOO_DIR, train_zoo

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
    from .zoo.evaluate import confusion_table, evaluate_zoo, plot_confusions

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list registered models, explainers or images")
    ls.add_argument("what", choices=("models", "explainers", "images"))
    ls.add_argument("--filter", default="*", help="fnmatch pattern on names (models, explainers)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument(
        "--weights", action="append", default=[], metavar="LOC", help="extra weights location, as --harness-weights"
    )
    ls.add_argument("--set", default="builtin", help="image set spec for `list images`")
    ls.set_defaults(func=cmd_list)
    rp = sub.add_parser("report", help="rebuild the consensus report from the store, computing nothing")
    rp.add_argument("--store", default=None, help="store path (default: $XAI_HARNESS_STORE or .harness/store)")
    rp.add_argument("--out", default="reports", help="reports directory (default: reports)")
    rp.add_argument(
        "--same-prediction",
        action="store_true",
        help="compare each pair only on images where both models predict the same class",
    )
    rp.add_argument("--linkage", default="average", help="scipy linkage method (default: average)")
    rp.add_argument("--resolution", type=float, default=1.0, help="Louvain resolution (default: 1.0)")
    rp.add_argument("--seed", type=int, default=0, help="Louvain seed (default: 0)")
    rp.set_defaults(func=cmd_report)
    lb = sub.add_parser("leaderboard", help="metric tables, aggregate rank and metric agreement from the store")
    lb.add_argument("--store", default=None, help="store path (default: $XAI_HARNESS_STORE or .harness/store)")
    lb.add_argument("--out", default=None, help="also write leaderboard.md/.csv/.json to this folder")
    lb.set_defaults(func=cmd_leaderboard)
    cp = sub.add_parser("compare", help="how the similarity matrices moved between two report runs")
    cp.add_argument("run_a")
    cp.add_argument("run_b")
    cp.set_defaults(func=cmd_compare)

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
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
