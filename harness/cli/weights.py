"""``python -m harness weights fetch|where``: fill a Hugging Face cache for offline machines, and say where weights are.

On a machine with internet::
    python -m harness weights fetch --models study --cache-dir /shared/hf-hub

copies the weights (``model.safetensors`` and ``config.json``) of the study's
14 models plus ResNet34 and ViT-B/16 into a hub cache
(``models--timm--resnet50.a1_in1k/snapshots/<rev>/...``, ``refs/main``), as
``huggingface_hub.snapshot_download`` lays it out.  On the air-gapped machine,
``HF_HUB_CACHE=/shared/hf-hub`` or ``--harness-weights /shared/hf-hub`` uses
that copy; ``python -m harness weights where --models study`` shows what each
model resolves to.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from ..models import WeightsOptions, WeightsUnavailable, get_model_cfg, list_models, resolve_weights
from ..models.study import EXTRA_SPECS, STUDY_SPECS
from ..models.weights import hf_cache_dir
from ..report.table import render_table

ALLOW = ["model.safetensors", "config.json"]


def select_models(spec: str) -> list[str]:
    """``study`` (the 14 study models, ResNet34 and ViT-B/16), ``all`` (every model with a hub id) or patterns."""
    if spec == "study":
        return [*STUDY_SPECS, *EXTRA_SPECS]
    patterns = ["*"] if spec == "all" else [p.strip() for p in spec.split(",") if p.strip()]
    names = [n for n in list_models(patterns) if get_model_cfg(n).hf_hub_id]
    if not names:
        raise SystemExit(f"no registered model with a hub id matches {spec!r} (see `python -m harness list models`)")
    return names


def _cache_dir(args) -> str | None:
    return str(Path(args.cache_dir).expanduser()) if args.cache_dir else hf_cache_dir()


def fetch(names: list[str], cache_dir: str | None) -> list[dict[str, str]]:
    """Snapshot-download each model's weights into ``cache_dir``; one row per model (``ok`` or the error)."""
    from huggingface_hub import snapshot_download

    rows = []
    for name in names:
        cfg = get_model_cfg(name)
        try:
            folder = snapshot_download(cfg.hf_hub_id, cache_dir=cache_dir, allow_patterns=ALLOW)
            have = [f for f in ALLOW if (Path(folder) / f).is_file()]
            if "model.safetensors" not in have:
                raise FileNotFoundError(f"{cfg.hf_hub_id} has no model.safetensors")
            rows.append({"model": name, "repo": cfg.hf_hub_id, "status": "ok", "path": folder})
        except Exception as exc:  # offline, unknown repo, gated: said per model, the others go on
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            rows.append({"model": name, "repo": cfg.hf_hub_id, "status": "failed", "path": first[:300]})
    return rows


def where(names: list[str], cache_dir: str | None, locations: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """What each model's weights resolve to here (``kind`` and path, or the remedy)."""
    saved = os.environ.get("HF_HUB_CACHE")
    if cache_dir:
        os.environ["HF_HUB_CACHE"] = cache_dir
    try:
        rows = []
        for name in names:
            cfg = get_model_cfg(name)
            try:
                src = resolve_weights(cfg, WeightsOptions.from_env(locations, allow_download=False))
                rows.append({"model": name, "status": src.kind, "path": str(src.path or "")})
            except WeightsUnavailable as exc:
                rows.append({"model": name, "status": "missing", "path": str(exc)})
        return rows
    finally:
        if cache_dir:
            if saved is None:
                os.environ.pop("HF_HUB_CACHE", None)
            else:
                os.environ["HF_HUB_CACHE"] = saved


def _show(rows: list[dict[str, str]], as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    keys = list(rows[0]) if rows else ["model", "status", "path"]
    print(render_table(keys, [[r[k] for k in keys] for r in rows], title=title))


def cmd_fetch(args) -> int:
    cache = _cache_dir(args)
    rows = fetch(select_models(args.models), cache)
    _show(rows, args.json, f"weights fetched into {cache or 'the default Hugging Face cache'}")
    return 1 if any(r["status"] != "ok" for r in rows) else 0


def cmd_where(args) -> int:
    rows = where(select_models(args.models), _cache_dir(args), tuple(args.weights))
    _show(rows, args.json, "where each model's weights come from")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="fill a Hugging Face cache for offline use; show where weights come from")
    wsub = p.add_subparsers(dest="weights_command", required=True)
    for name, fn, doc in (
        ("fetch", cmd_fetch, "snapshot-download the models' weights into a hub cache (needs internet)"),
        ("where", cmd_where, "what each model's weights resolve to on this machine (offline)"),
    ):
        q = wsub.add_parser(name, help=doc)
        q.add_argument("--models", default="study", help="'study' (default), 'all', or name patterns, comma-separated")
        q.add_argument(
            "--cache-dir", default=None, help="hub cache directory (default: $HF_HUB_CACHE or the HF default)"
        )
        q.add_argument("--json", action="store_true", help="print JSON rows")
        if name == "where":
            q.add_argument("--weights", action="append", default=[], metavar="LOC", help="as --harness-weights")
        q.set_defaults(func=fn)
