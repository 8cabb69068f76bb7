"""``python -m harness list models|explainers|images|metrics [--json]``."""

from __future__ import annotations

import argparse
import json
import sys

from ..cases.image_sets import image_set_from_spec
from ..explainers import get_explainer_cfg, list_explainers
from ..metrics import list_metrics
from ..metrics.registry import get_metric_cfg
from ..models import WeightsOptions, WeightsUnavailable, get_model_cfg, list_models, resolve_weights
from ..report.table import render_table


def _models(args) -> list[dict]:
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


def _metrics(args) -> list[dict]:
    rows = []
    for name in list_metrics(args.filter):
        cfg = get_metric_cfg(name)
        rows.append(
            {
                "name": name,
                "title": cfg.title,
                "category": cfg.category,
                "higher_is_better": cfg.higher_is_better,
                "gate": cfg.gate,
                "needs_masks": cfg.needs_masks,
                "defaults": dict(cfg.defaults),
                "control": cfg.control,
            }
        )
    return rows


_COLUMNS = {
    "models": ("name", "family", "source", "input_size", "weights_available", "weights"),
    "explainers": ("name", "group", "cost", "passes"),
    "images": ("id", "label", "licence"),
    "metrics": ("name", "category", "title", "higher_is_better", "gate"),
}


def cmd_list(args) -> int:
    rows = {"models": _models, "explainers": _explainers, "images": _images, "metrics": _metrics}[args.what](args)
    if args.json:
        json.dump(rows, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        cols = _COLUMNS[args.what]
        print(render_table(cols, [[r[c] for c in cols] for r in rows]))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    ls = sub.add_parser("list", help="list registered models, explainers, metrics or images")
    ls.add_argument("what", choices=("models", "explainers", "images", "metrics"))
    ls.add_argument("--filter", default="*", help="fnmatch pattern on names (models, explainers)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument(
        "--weights", action="append", default=[], metavar="LOC", help="extra weights location, as --harness-weights"
    )
    ls.add_argument("--set", default="builtin", help="image set spec for `list images`")
    ls.set_defaults(func=cmd_list)
