"""``python -m harness report|leaderboard|compare``: reports from the store, computing nothing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..compute.store import Store
from ..core.provenance import new_run_id
from ..explainers import list_explainers
from ..models import list_models
from ..report.consensus import ConsensusOptions
from ..report.index import consensus_lines
from ..report.leaderboard import render_text, write_leaderboard
from ..report.metric_results import collect_metrics
from ..report.summary import build_report
from ..report.table import render_table
from ..zoo.shapes import LABEL_SPACE, shapes_images


def cmd_report(args) -> int:
    store_path = Path(args.store) if args.store else Store.default_root(Path.cwd())
    if not store_path.is_dir():
        print(f"no store at {store_path} (run the suites first, or pass --store)", file=sys.stderr)
        return 2
    opts = ConsensusOptions(
        same_prediction=args.same_prediction,
        linkage=args.linkage,
        resolution=args.resolution,
        seed=args.seed,
        resamples=args.resamples,
        bootstrap_seed=args.bootstrap_seed,
    )
    subsets = None
    if args.zoo_images:
        shapes = shapes_images("test", args.zoo_images, root=store_path.parent / "datasets")
        subsets = {LABEL_SPACE: tuple(r.id for r in shapes.records)}
    cases = None
    if args.models:
        models = {m for pat in args.models.split(",") for m in list_models(pat.strip())}
        if not models:
            print(f"no model matches {args.models} (see `python -m harness list models`)", file=sys.stderr)
            return 2
        cases = {(m, e) for m in models for e in list_explainers()}
    settings = {
        "store": str(store_path),
        "source": "python -m harness report",
        "zoo_images": args.zoo_images,
        "models": args.models,
    }
    notes: list[str] = []
    out, consensus = build_report(
        Path(args.out),
        new_run_id(),
        root=Path.cwd(),
        store=Store(store_path),
        settings=settings,
        consensus_options=opts,
        image_subsets=subsets,
        cases_filter=cases,
        notes=notes,
    )
    for line in consensus_lines(consensus) + notes:
        print(line)
    print(f"report: {out}/index.md")
    return 0


def cmd_leaderboard(args) -> int:
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


def add_parser(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser("report", help="rebuild the consensus report from the store, computing nothing")
    rp.add_argument("--store", default=None, help="store path (default: $XAI_HARNESS_STORE or .harness/store)")
    rp.add_argument("--out", default="reports", help="reports directory (default: reports)")
    rp.add_argument(
        "--same-prediction",
        action="store_true",
        help="compare each pair only on images where both models predict the same class",
    )
    rp.add_argument(
        "--linkage",
        default="average",
        choices=("average", "single", "complete", "weighted"),
        help="scipy linkage method (default: average)",
    )
    rp.add_argument("--resolution", type=float, default=1.0, help="Louvain resolution (default: 1.0)")
    rp.add_argument("--seed", type=int, default=0, help="Louvain seed (default: 0)")
    rp.add_argument(
        "--resamples", type=int, default=1000, help="bootstrap resamples over images, B (default: 1000; 0: none)"
    )
    rp.add_argument(
        "--zoo-images",
        type=int,
        default=None,
        metavar="N",
        help="compare the zoo models on the first N balanced shapes test images only (as --harness-zoo-images N), "
        "though the store holds more",
    )
    rp.add_argument("--models", default=None, help="only these models: fnmatch pattern(s), comma-separated")
    rp.add_argument("--bootstrap-seed", type=int, default=0, help="bootstrap seed (default: 0)")
    rp.set_defaults(func=cmd_report)
    lb = sub.add_parser("leaderboard", help="metric tables, aggregate rank and metric agreement from the store")
    lb.add_argument("--store", default=None, help="store path (default: $XAI_HARNESS_STORE or .harness/store)")
    lb.add_argument("--out", default=None, help="also write leaderboard.md/.csv/.json to this folder")
    lb.set_defaults(func=cmd_leaderboard)
    cp = sub.add_parser("compare", help="how the similarity matrices moved between two report runs")
    cp.add_argument("run_a")
    cp.add_argument("run_b")
    cp.set_defaults(func=cmd_compare)
