"""``python -m harness explore``: the live app (see :mod:`harness.app`).

    python -m harness explore                                   # every model with real weights
    python -m harness explore --models 'zoo_*' --explainers 'gradcam*,rollout,saliency' --port 7860

Models whose real or trained weights resolve are offered (the zoo and the
EfficientNet-Lites offline, plus the project's ``[tool.xai-harness]`` models
and those its plugins register); a model on random weights never is.
Needs the ``app`` extra: ``pip install xai-harness[app]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..app import ExploreSession, available_models
from ..app.ui import build_app
from ..app.uploads import MAX_BYTES
from ..cases.project import ProjectConfigError, load_project
from ..compute.store import Store
from ..explainers import list_explainers
from ..models import WeightsOptions

INSTALL_HINT = "the app needs Gradio: pip install 'xai-harness[app]'"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "explore",
        help="a local web app: explain an uploaded image on several models, side by side",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--models", default=None, help="fnmatch pattern(s), comma-separated (default: all with weights)")
    p.add_argument("--explainers", default="*", help="fnmatch pattern(s), comma-separated (default: all)")
    p.add_argument("--store", default=None, metavar="PATH", help="the store (default: .harness/store here)")
    p.add_argument("--port", type=int, default=7860, help="local port (default 7860; 0: the first free one from 7860)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--project", default=".", metavar="DIR", help="load [tool.xai-harness] models from DIR")
    p.add_argument("--weights", action="append", default=[], metavar="LOC", help="as --harness-weights")
    p.add_argument("--device", default="auto", help="torch device (default: cuda if present)")
    p.set_defaults(func=cmd_explore)


def select(args) -> tuple[list[str], list[str]]:
    """``(models, explainers)`` the app offers, or SystemExit naming what matched nothing."""
    weights = WeightsOptions.from_env(tuple(args.weights))
    if args.models:
        models = available_models(args.models.split(","), weights)
    else:
        models = available_models(["*"], weights, exclude_source=("toy",))
    explainers = list(dict.fromkeys(e for p in args.explainers.split(",") for e in list_explainers(p.strip())))
    if not models:
        raise SystemExit(
            f"harness explore: no model with real weights matches {args.models or '*'} "
            "(see `python -m harness list models`)"
        )
    if not explainers:
        raise SystemExit(
            f"harness explore: no explainer matches {args.explainers} (`python -m harness list explainers`)"
        )
    return models, explainers


def cmd_explore(args) -> int:
    try:
        import gradio  # noqa: F401
    except ImportError:
        print(f"harness explore: {INSTALL_HINT}", file=sys.stderr)
        return 2

    try:
        load_project(Path(args.project))
    except ProjectConfigError as exc:
        raise SystemExit(f"harness explore: {exc}") from exc
    models, explainers = select(args)
    store = Store(args.store or Store.default_root(Path.cwd()))
    session = ExploreSession(
        store, models, explainers, weights=WeightsOptions.from_env(tuple(args.weights)), device=args.device
    )
    demo = build_app(session)
    demo.queue()
    demo.launch(
        server_name=args.host,
        server_port=args.port or None,
        prevent_thread_lock=True,
        max_file_size=MAX_BYTES,
        quiet=True,
    )
    print(f"xai-harness explore: {demo.local_url}", flush=True)
    print(f"  {len(models)} models, {len(explainers)} explainers, store {store.root}; Ctrl-C stops", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        demo.close()
    return 0
