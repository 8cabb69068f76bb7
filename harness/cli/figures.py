"""``python -m harness figure thesis-grid|cam-vs-rollout|cam-family``: the seed works' figures, by name.

    python -m harness figure thesis-grid                 # every model with weights here
    python -m harness figure cam-vs-rollout --models 'zoo_*' --shown 4
    python -m harness figure cam-family --models zoo_resnet,efficientnet_lite0

Explanations come through the runner with the suites' parameters and seeds,
so after ``pytest suites/`` (or ``python -m harness run``) on the same store
and images every map is a store hit and nothing is computed; on a cold store
the missing maps are computed and stored.  Models without weights are left
out in one line.  Figures go to ``--out`` (default ``reports/figures/<name>/``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..cases import case_params
from ..cases.defaults import ZOO_IMAGES
from ..cases.image_sets import run_image_sets
from ..compute.runner import Runner
from ..compute.store import Store
from ..explainers import create_explainer, get_explainer_cfg
from ..images import read_image
from ..images.preprocess import resize_crop
from ..models import WeightsOptions, WeightsUnavailable, get_model_cfg, list_models
from ..report import figure_sets, overlays
from ..report import figure_sets as fs
from ..report.figure_sets import SPECS, Panel
from ..report.gallery import class_name

if TYPE_CHECKING:
    from ..compute.runner import CaseResult, Runner
    from ..models import ModelCfg
    from ..report.figure_sets import FigureSpec, Panel


@dataclass
class FigureRun:
    """What one ``figure`` command wrote and what the store did."""

    files: list[Path] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)  # model -> why (no weights)
    failures: list[str] = field(default_factory=list)
    store: dict[str, int] = field(default_factory=dict)
    computed: int = 0

    def lines(self) -> list[str]:
        out = [f"wrote {p}" for p in self.files]
        if self.left_out:
            out.append(f"left out for want of weights ({len(self.left_out)}): {', '.join(sorted(self.left_out))}")
        out += [f"failed: {f}" for f in self.failures]
        s = self.store
        out.append(
            f"store: {s.get('hits', 0)} hits, {s.get('misses', 0)} misses, {s.get('writes', 0)} writes; "
            f"{self.computed} explanations computed"
        )
        return out


def _candidates(patterns: str | None, spaces: set[str]) -> list[str]:
    pats = [p.strip() for p in (patterns or "*").split(",") if p.strip()]
    names = list(dict.fromkeys(m for p in pats for m in list_models(p)))
    return [m for m in names if get_model_cfg(m).label_space in spaces]


def make_figure(
    name: str,
    *,
    store: Any,
    out: Path,
    images: str = "builtin",
    zoo_images: int = ZOO_IMAGES,
    max_images: int | None = None,
    shown: int = 4,
    models: str | None = None,
    weights: tuple[str, ...] = (),
    device: str = "auto",
) -> FigureRun:
    """Draw figure ``name`` (a key of :data:`harness.report.figure_sets.SPECS`) into ``out``."""
    spec = figure_sets.SPECS[name]
    sets = run_image_sets(
        images, max_images=max_images, zoo_images=zoo_images, datasets=str(Path(store.root).parent / "datasets")
    )
    runner = Runner(store, sets, weights=WeightsOptions.from_env(weights), device=device)
    run = FigureRun()
    _choose_models(runner, models, run)
    panels = _panels(spec, runner, run, shown)
    _share_styles(spec, panels)
    folder = out / name
    for space, per_model in sorted(panels.items()):
        run.files += _draw(spec, folder, space, per_model)
    run.store = {"hits": store.hits, "misses": store.misses, "writes": store.writes}
    return run


def _choose_models(runner: Runner, patterns: str | None, run: FigureRun) -> None:
    """The candidates with weights here go to ``run.models``, the others (with why) to ``run.left_out``."""
    for model in _candidates(patterns, set(runner.image_sets)):
        try:
            runner.weights_for(model)
            run.models.append(model)
        except WeightsUnavailable as exc:
            run.left_out[model] = str(exc)


def _panels(spec: FigureSpec, runner: Runner, run: FigureRun, shown: int) -> dict[str, dict[str, dict[str, Panel]]]:
    """space -> model -> explainer -> Panel, for each pair the figure draws; a failing pair goes to ``run.failures``."""
    panels: dict[str, dict[str, dict[str, Panel]]] = {}
    for model in run.models:
        mcfg = get_model_cfg(model)
        space = runner.space_for(model)
        for ex in spec.explainers:
            if not get_explainer_cfg(ex).supports(mcfg) or not spec.draws(ex, mcfg.family):
                continue
            try:
                res = runner.explain(model, create_explainer(ex, **dict(case_params(model, ex))), limit=shown)
                logits = runner.predictions(model).logits[: len(res.records)].astype(np.float64)
            except Exception as exc:  # one failing pair never takes the figure down
                run.failures.append(f"{ex} x {model}: {type(exc).__name__}: {exc}")
                continue
            run.computed += res.computed
            panels.setdefault(space, {}).setdefault(model, {})[ex] = _panel(res, logits, model, mcfg, ex, space)
    return panels


def _panel(res: CaseResult, logits: np.ndarray, model: str, mcfg: ModelCfg, explainer: str, space: str) -> Panel:
    """One explainer's maps on one model, with the images as the model saw them and its predictions."""
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return Panel(
        model=model,
        family=mcfg.family,
        explainer=explainer,
        image_ids=[r.id for r in res.records],
        views=[resize_crop(read_image(r.path), mcfg) for r in res.records],
        maps=list(res.attributions),
        preds=[class_name(space, int(t)) for t in res.targets],
        probs=[float(probs[i, int(t)]) for i, t in enumerate(res.targets)],
    )


def _share_styles(spec: FigureSpec, panels: dict[str, dict[str, dict[str, Panel]]]) -> None:
    """One style per explainer and label space, judged on all its maps there."""
    for per_model in panels.values():
        for ex in spec.explainers:
            maps = [a for p in per_model.values() if ex in p for a in p[ex].maps]
            style = overlays.style_for(ex, maps)
            for p in per_model.values():
                if ex in p:
                    p[ex].styles[ex] = style


def _draw(spec, folder: Path, space: str, per_model: dict[str, dict[str, Any]]) -> list[Path]:
    files: list[Path] = []
    if spec.layout == "models":
        first = next(iter(next(iter(per_model.values())).values()))
        for i, image_id in enumerate(first.image_ids):
            stem = image_id.replace("/", "_")
            title = f"{spec.name} [{space}]: {image_id}"
            files.append(fs.models_grid(folder / f"{space}_{stem}.png", i, per_model, spec.explainers, title))
        for ex in spec.explainers:
            files += fs.consensus_figures(
                folder / f"{space}_consensus", ex, {m: p[ex] for m, p in per_model.items() if ex in p}
            )
    elif spec.name == "cam-vs-rollout":
        order = sorted(per_model, key=lambda m: (next(iter(per_model[m].values())).family, m))
        columns = [(f"{m}\n{ex}", per_model[m][ex]) for ex in spec.explainers for m in order if ex in per_model[m]]
        if columns:
            files.append(fs.images_grid(folder / f"{space}.png", columns, f"{spec.name} [{space}]"))
    else:
        for model in sorted(per_model):
            columns = [(ex, per_model[model][ex]) for ex in spec.explainers if ex in per_model[model]]
            if columns:
                files.append(fs.images_grid(folder / f"{model}.png", columns, f"{spec.name}: {model} [{space}]"))
    return files


def cmd_figure(args) -> int:
    store = Store(Path(args.store) if args.store else Store.default_root(Path.cwd()))
    run = make_figure(
        args.name,
        store=store,
        out=Path(args.out),
        images=args.images,
        zoo_images=args.zoo_images,
        max_images=args.max_images,
        shown=args.shown,
        models=args.models,
        weights=tuple(args.weights),
        device=args.device,
    )
    for line in run.lines():
        print(line)
    if not run.files:
        print(f"figure {args.name}: nothing to draw (no model with weights has these explainers)", file=sys.stderr)
        return 2
    return 1 if run.failures else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "figure",
        help="the seed works' figures by name, from the store",
        description=__doc__ + "\n" + "\n".join(f"  {s.name}: {s.about}" for s in SPECS.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=sorted(SPECS))
    p.add_argument("--store", default=None, metavar="PATH", help="as --harness-store")
    p.add_argument("--out", default="reports/figures", help="output folder (default: reports/figures)")
    p.add_argument("--images", default="builtin", metavar="SPEC", help="image set, as --harness-images")
    p.add_argument("--zoo-images", type=int, default=ZOO_IMAGES, metavar="N", help="as --harness-zoo-images")
    p.add_argument("--max-images", type=int, default=None, metavar="N", help="as --harness-max-images")
    p.add_argument("--shown", type=int, default=4, metavar="N", help="images shown per set (default 4)")
    p.add_argument("--models", default=None, help="fnmatch pattern(s), comma-separated (default: every model)")
    p.add_argument("--weights", action="append", default=[], metavar="LOC", help="as --harness-weights")
    p.add_argument("--device", default="auto", help="torch device for what the store lacks")
    p.set_defaults(func=cmd_figure)
