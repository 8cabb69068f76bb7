"""``python -m harness baselines annotate``: record each regression baseline's noise floor in its file.

    python -m harness baselines annotate                      # every file of suites/baselines/
    python -m harness baselines annotate --models 'zoo_*' --explainers ig,saliency
    python -m harness baselines annotate --dir my/baselines --images my_images/

A baseline written by the regression suite records its pair's noise floor
(``"noise": {"class", "spread", "measured"}``, :mod:`harness.checks.noise`);
this command adds the field to baselines written before it, measuring each
floor as ``python -m harness drift`` does, with the parameters the file
records (kept in the store, so a second run measures nothing).  Only the ``noise`` field changes: the maps, targets,
statistics and versions stay as they are.  The image options must be the ones
the suite runs with, so the floor is measured on the suite's images.  Exit
status: 0 done, 2 some file could not be annotated (each named).
"""

from __future__ import annotations

import argparse
import json
import sys
from fnmatch import fnmatch
from pathlib import Path

from ..cases.defaults import add_options
from ..cases.image_sets import run_image_sets
from ..checks.noise import stored_floor
from ..checks.regression import annotate_baseline, baseline_dir_for
from ..compute.runner import Runner
from ..compute.store import Store
from ..models import WeightsOptions, WeightsUnavailable

OPTIONS = ("images", "max-images", "zoo-images", "store", "weights", "device")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "baselines",
        help="regression baselines: annotate them with their noise floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=("annotate",), help="annotate: add the noise field, nothing else")
    p.add_argument("--dir", default="suites/baselines", help="the baselines folder (default: suites/baselines)")
    p.add_argument("--models", default="*", help="fnmatch pattern(s), comma-separated (default: all)")
    p.add_argument("--explainers", default="*", help="fnmatch pattern(s), comma-separated (default: all)")
    p.add_argument("--noise-images", type=int, default=2, metavar="N", help="images per noise floor (default 2)")
    add_options(p.add_argument, "--", names=OPTIONS)  # as pytest's --harness-<name>
    p.set_defaults(func=cmd_baselines)


def _matches(name: str, patterns: str) -> bool:
    return any(fnmatch(name, p.strip()) for p in patterns.split(","))


def cmd_baselines(args) -> int:

    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"harness baselines: {folder}: no such folder", file=sys.stderr)
        return 2
    store = Store(Path(args.store) if args.store else Store.default_root(Path.cwd()))
    images = run_image_sets(
        args.images,
        max_images=args.max_images,
        zoo_images=args.zoo_images,
        datasets=str(store.root.parent / "datasets"),
    )
    runner = Runner(store, images, weights=WeightsOptions.from_env(tuple(args.weights)), device=args.device)
    errors = []
    for path in sorted(folder.rglob("*.json")):
        if path.name.endswith(".obtained.json"):
            continue
        doc = json.loads(path.read_text())
        model, explainer = doc.get("model", ""), doc.get("explainer", "")
        if not (_matches(model, args.models) and _matches(explainer, args.explainers)):
            continue
        try:
            why = _mismatch(doc, path, folder, runner)
            if why:
                raise ValueError(why)
            floor = stored_floor(runner, model, explainer, images=args.noise_images, params=doc.get("params"))
        except (KeyError, TypeError, ValueError, WeightsUnavailable) as exc:
            errors.append(f"{path}: {exc}")
            print(f"harness baselines: {path}: not annotated: {exc}", file=sys.stderr)
            continue
        changed = annotate_baseline(path, floor.baseline_record())
        state = "annotated" if changed else "unchanged"
        print(f"{state} {path}: {floor.determinism}, spread {floor.spread:.2g} ({floor.images} images)")
    return 2 if errors else 0


def _mismatch(doc, path: Path, root: Path, runner) -> str | None:
    """Why the floor measured here would not be this baseline's (None: it would)."""

    name = runner.images_for(doc["model"]).name
    expected = baseline_dir_for(root, name)
    if expected.resolve() != path.parent.resolve():
        return f"{doc['model']}'s image set here ({name}) keeps its baselines in {expected}, not {path.parent}"
    return None
