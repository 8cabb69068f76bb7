"""``python -m harness run``: precompute a grid of explanations into the store (see :mod:`harness.suite.grid`).

    python -m harness run --models 'zoo_*' --explainers gradcam,ig --images builtin
    python -m harness run --preset thesis --random-weights-ok --engine ray [--address HOST:PORT]

A later ``pytest suites/`` with the same images, store and image options
finds every explanation of that selection in the store.  Killed and
restarted, the run skips what is stored and loses only the chunks in flight.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..cases.defaults import RUN_OPTIONS, add_options
from ..cases.image_sets import run_image_sets
from ..cases.project import ProjectConfigError, load_project
from ..compute.engines import LocalEngine, Worker
from ..compute.ray_engine import RayEngine
from ..compute.runner import Runner
from ..compute.store import Store
from ..explainers import list_explainers
from ..models import WeightsOptions, WeightsUnavailable, list_models
from ..models.study import STUDY_NAMES
from ..suite.grid import plan_grid, run_grid


@dataclass(frozen=True)
class Preset:
    """A named selection: ``models`` and ``explainers`` as fnmatch patterns."""

    models: tuple[str, ...]
    explainers: tuple[str, ...]
    about: str


def _thesis() -> Preset:
    return Preset(
        STUDY_NAMES,
        ("ig", "gradcam", "kernelshap"),
        "the CNN-vs-transformer study: its 14 models x IG, Grad-CAM and KernelSHAP",
    )


PRESETS = {"thesis": _thesis}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="precompute explanations and predictions into the store",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--models", default=None, help="fnmatch pattern(s), comma-separated (e.g. 'zoo_*,resnet18')")
    p.add_argument("--explainers", default=None, help="fnmatch pattern(s), comma-separated (e.g. 'gradcam*,ig')")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None, help="a named selection (thesis)")
    add_options(p.add_argument, "--", names=RUN_OPTIONS)  # as pytest's --harness-<name>
    p.add_argument(
        "--random-weights-ok",
        action="store_true",
        help="models without weights run on declared random ones, for cost only (labelled <model>_random)",
    )
    p.add_argument("--engine", choices=("local", "ray"), default="local")
    p.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray for the run)")
    p.add_argument("--workers", type=int, default=None, help="Ray actors (default: one per CPU, or per GPU)")
    p.add_argument("--gpus-per-worker", type=float, default=None, help="GPUs per Ray actor (default 1 where CUDA is)")
    p.add_argument("--threads", type=int, default=None, help="torch threads per worker (Ray default: 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)


def _select(args) -> tuple[list[str], list[str]]:
    try:  # [tool.xai-harness] and xai_harness.plugins: a project's own models and explainers
        load_project(Path.cwd())
    except ProjectConfigError as exc:
        raise SystemExit(f"harness run: {exc}") from exc
    preset = PRESETS[args.preset]() if args.preset else None
    model_pats = args.models.split(",") if args.models else list(preset.models if preset else ())
    expl_pats = args.explainers.split(",") if args.explainers else list(preset.explainers if preset else ())
    if not model_pats or not expl_pats:
        raise SystemExit("harness run: give --models and --explainers, or --preset (thesis)")
    models = [m for p in model_pats for m in list_models(p.strip())]
    explainers = [e for p in expl_pats for e in list_explainers(p.strip())]
    for what, pats, got in (("model", model_pats, models), ("explainer", expl_pats, explainers)):
        if not got:
            raise SystemExit(f"harness run: no {what} matches {','.join(pats)} (see `python -m harness list {what}s`)")
    return list(dict.fromkeys(models)), list(dict.fromkeys(explainers))


def _progress(disabled: bool):
    if disabled:
        return None, lambda: None

    bar = tqdm(total=0, unit="expl", dynamic_ncols=True, file=sys.stderr, mininterval=0.5, smoothing=0.1)

    def update(done: int, total: int, what: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(what, refresh=False)
        bar.refresh()

    return update, bar.close


def make_engine(args, weights):
    if args.engine == "local":
        return LocalEngine(Worker(weights, random_ok=args.random_weights_ok, device=args.device, threads=args.threads))

    return RayEngine(
        weights,
        random_ok=args.random_weights_ok,
        address=args.address,
        workers=args.workers,
        gpus_per_worker=args.gpus_per_worker,
        threads=args.threads or 1,
    )


def cmd_run(args) -> int:
    models, explainers = _select(args)
    store = Store(Path(args.store) if args.store else Store.default_root(Path.cwd()))
    weights = WeightsOptions.from_env(tuple(args.weights))
    images = run_image_sets(
        args.images,
        max_images=args.max_images,
        zoo_images=args.zoo_images,
        datasets=str(store.root.parent / "datasets"),
    )
    runner = Runner(store, images, weights=weights, device="cpu", random_ok=args.random_weights_ok)
    for msg in runner.bad_images.values():
        print(f"unreadable image left out: {msg}", file=sys.stderr)
    usable = []
    for m in models:
        try:
            runner.weights_for(m)
            usable.append(m)
        except WeightsUnavailable as exc:
            print(f"left out (no weights; --random-weights-ok runs it on random ones): {exc}", file=sys.stderr)
    if not usable:
        print("harness run: no selected model has weights here; --random-weights-ok for a cost run", file=sys.stderr)
        return 2
    tasks = plan_grid(usable, explainers, costly_images=args.costly_images or None)
    engine = make_engine(args, weights)
    print(
        f"harness run: {len(tasks)} tasks ({len(usable)} models x {len(explainers)} explainers, supported pairs), "
        f"engine {engine.describe()}, store {store.root}",
        file=sys.stderr,
    )
    update, close = _progress(args.no_progress)
    try:
        report = run_grid(runner, tasks, engine, progress=update, metric_images=args.metric_images)
    finally:
        close()
        engine.close()
    for line in report.lines():
        print(line)
    return 1 if report.failures else 0
