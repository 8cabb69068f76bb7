"""``python -m harness drift``: rerun a selection under candidate dependencies, diff it, name the package.

    python -m harness drift --candidate captum==0.8.0 --models zoo_resnet --explainers ig,saliency,kernelshap
    python -m harness drift --candidate captum==0.8.0 --candidate timm==1.0.15 --models 'zoo_*' --explainers ig
    python -m harness drift --set-env TIMM_FUSED_ATTN=0 --models zoo_vit_p16 --explainers rollout

The base is the current environment.  Each candidate set is an overlay of it
(:mod:`harness.drift.envs`), cached by a hash of its pins under ``--cache``;
``--set-env`` reruns with environment variables set instead (into a store of
its own, since variables are not part of the store keys).  The selection runs
in both (``python -m harness run``) into one store, each case's noise floor is
measured in the base (:mod:`harness.checks.noise`), and the two are diffed as
``python -m harness diff`` does.  With several candidates, each moved case is
attributed by rerunning each package alone.  Exit status: 0 nothing moved,
1 something moved, 2 a candidate could not be built or run (the others are
still reported).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..cases.image_sets import run_image_sets
from ..checks.noise import stored_floor, write_floors
from ..compute.runner import Runner
from ..compute.store import Store
from ..core.atomic import write_json
from ..drift.attribute import attribute, summary_lines
from ..drift.diff import diff_runs
from ..drift.envs import CandidateError, Pin, build_overlay, outside_requirements
from ..drift.rerun import RunFailed, RunSpec, run_selection
from ..drift.runs import RunSpecError, Selection, load_run
from ..models import WeightsOptions, WeightsUnavailable
from ..suite.grid import plan_grid
from .diff import add_diff_options, gate_status, report_diff
from .run import _select


@dataclass(frozen=True)
class Candidate:
    """What differs from the base: pins (an overlay) and/or environment variables."""

    pins: tuple[Pin, ...]
    env: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return " + ".join([str(p) for p in self.pins] + [f"{k}={v}" for k, v in self.env]) or "base"

    @property
    def slug(self) -> str:
        return hashlib.sha256(self.label.encode()).hexdigest()[:12]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "drift",
        help="rerun a selection under candidate dependencies and diff it against this environment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--candidate", action="append", default=[], metavar="PKG==VER", help="a pin (repeatable)")
    p.add_argument(
        "--requirements",
        default=None,
        metavar="FILE",
        help="candidates: every exact pin (PKG==VER) of FILE whose version differs from this environment's",
    )
    p.add_argument("--set-env", action="append", default=[], metavar="VAR=VAL", help="an environment switch")
    p.add_argument("--allow-torch", action="store_true", help="build candidates that install another torch build")
    p.add_argument("--images", default="builtin", metavar="SPEC", help="image set, as harness run")
    p.add_argument("--max-images", type=int, default=2, metavar="N", help="ImageNet images (default 2)")
    p.add_argument("--zoo-images", type=int, default=2, metavar="N", help="zoo test images (default 2)")
    p.add_argument("--costly-images", type=int, default=2, metavar="N", help="images of costly explainers (2)")
    p.add_argument("--store", default=None, metavar="PATH", help="the shared store (default .harness/store)")
    p.add_argument("--cache", default=".harness/envs", metavar="DIR", help="overlay environments (default)")
    p.add_argument("--constraints", default="constraints.txt", metavar="FILE", help="the project's constraints")
    p.add_argument("--find-links", action="append", default=[], metavar="DIR", help="extra wheel folders for pip")
    p.add_argument("--noise-images", type=int, default=2, metavar="N", help="images per noise floor (0: none)")
    add_diff_options(p, sides=False)
    p.set_defaults(func=cmd_drift, out="drift", preset=None)


def requirement_pins(path: Path) -> list[Pin]:
    """The exact pins of a requirements file that differ from the installed versions."""

    out = []
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" not in text or text.startswith("-"):
            continue
        pin = Pin.parse(re.sub(r"\[.*?\]", "", text))
        try:
            have = version(pin.name)
        except PackageNotFoundError:
            have = ""
        if have != pin.version:
            out.append(pin)
    return out


def _parse(args) -> list[Candidate]:
    pins = tuple(Pin.parse(c) for c in args.candidate)
    if args.requirements:
        path = Path(args.requirements)
        if not path.is_file():
            raise ValueError(f"--requirements {path}: no such file")
        pins += tuple(requirement_pins(path))
    env = []
    for item in args.set_env:
        var, sep, val = item.partition("=")
        if not sep or not var:
            raise ValueError(f"--set-env {item!r}: give VAR=VALUE")
        env.append((var, val))
    if not pins and not env:
        if args.requirements:
            print(f"drift: every pin of {args.requirements} matches this environment; nothing to rerun")
            return []
        raise ValueError("give at least one --candidate PKG==VER, --requirements FILE or --set-env VAR=VAL")
    return [Candidate((p,)) for p in pins] + ([Candidate((), tuple(env))] if env else [])


def _noise(args, spec, out: Path):
    """Noise floors of every planned pair, measured here (the base environment)."""

    models, explainers = _select(args)
    store = Store(Path(args.store) if args.store else Store.default_root(Path.cwd()))
    images = run_image_sets(
        spec.images,
        max_images=spec.max_images,
        zoo_images=spec.zoo_images,
        datasets=str(store.root.parent / "datasets"),
    )
    runner = Runner(store, images, weights=WeightsOptions.from_env(), device="cpu")
    floors = []
    for task in plan_grid(models, explainers):
        try:
            floors.append(stored_floor(runner, task.model, task.explainer, images=args.noise_images))
        except WeightsUnavailable:
            continue
        f = floors[-1]
        print(f"noise floor {f.explainer} x {f.model}: {f.determinism}, spread {f.spread:.2g}", file=sys.stderr)
    write_floors(out / "noise.json", floors)
    return {(f.model, f.explainer): f for f in floors}


class _Drift:
    """One drift session: the base run, then candidate runs, each diffed against it."""

    def __init__(self, args, spec, store: Path, out: Path) -> None:
        self.args, self.spec, self.store, self.out = args, spec, store, out
        self.errors: list[str] = []
        # candidate versions the harness's own requirements exclude: a move there may be the harness's
        # use of an API that changed, not the package's results
        self.unsupported: list[str] = []

    def run(self, cand: Candidate):
        """The run folder of ``cand`` (None when it cannot be built or run: the error is kept)."""

        python: Path | str = sys.executable
        try:
            if cand.pins:
                cons = Path(self.args.constraints)
                overlay = build_overlay(
                    cand.pins,
                    cache=Path(self.args.cache).resolve(),
                    constraints=cons if cons.is_file() else None,
                    find_links=tuple(str(Path(f).resolve()) for f in self.args.find_links),
                    allow_torch=self.args.allow_torch,
                )
                python = overlay.python
                extra = {n: v for n, v in overlay.installed.items() if all(n != p.name for p in cand.pins)}
                if extra:
                    print(f"drift: {cand.label} also installs {extra}", file=sys.stderr)
                for line in outside_requirements(overlay.installed):
                    if line not in self.unsupported:
                        self.unsupported.append(line)
                        print(f"drift: warning: {line}", file=sys.stderr)
            # variables are not in the store keys: a switched run gets a store of its own
            store = self.store if not cand.env else self.out / "stores" / cand.slug
            return run_selection(
                python, self.spec, store=store, folder=self.out / cand.slug, label=cand.label, extra_env=dict(cand.env)
            )
        except (CandidateError, RunFailed) as exc:
            self.errors.append(str(exc))
            print(f"harness drift: {exc}", file=sys.stderr)
            return None


def cmd_drift(args) -> int:

    try:
        return _drift(args)
    except RunSpecError as exc:
        print(f"harness drift: {exc}", file=sys.stderr)
        return 2


def _drift(args) -> int:

    try:
        candidates = _parse(args)
    except (CandidateError, ValueError) as exc:
        print(f"harness drift: {exc}", file=sys.stderr)
        return 2
    if not candidates:
        return 0
    if not args.models or not args.explainers:
        print("harness drift: give --models and --explainers (the selection to rerun)", file=sys.stderr)
        return 2
    spec = RunSpec(args.models, args.explainers, args.images, args.max_images, args.zoo_images, args.costly_images)
    store = Path(args.store) if args.store else Store.default_root(Path.cwd())
    out = Path(args.out)
    session = _Drift(args, spec, store, out)
    try:
        base_dir = run_selection(sys.executable, spec, store=store, folder=out / "base", label="base")
    except RunFailed as exc:
        print(f"harness drift: the base environment cannot run the selection: {exc}", file=sys.stderr)
        return 2
    floors = _noise(args, spec, out) if args.noise_images else {}
    sel = Selection.parse(args.models, args.explainers)
    base = load_run(base_dir, sel, name="base (this environment)")
    usable = [c for c in candidates if len(candidates) == 1 or session.run(c) is not None]
    if not usable:
        return 2
    full = Candidate(tuple(p for c in usable for p in c.pins), tuple(kv for c in usable for kv in c.env))
    full_dir = session.run(full)
    if full_dir is None:
        return 2
    after = load_run(full_dir, sel, name=full.label)
    args.out = str(out / "diff")
    result = report_diff(base, after, args, floors=floors)
    rc = gate_status(result)
    print(f"drift verdict [{full.label}]: {result.verdict_line()}")
    if full.pins and after.versions == base.versions:
        print(
            f"note: [{full.label}] changes none of the versions in these explainers' store keys (the harness's code "
            "for them does not import it), so the candidate run reused the base's explanations: identical by "
            "construction"
        )
    if session.unsupported:
        print(
            f"note: [{full.label}] installs versions the harness does not declare support for "
            f"({'; '.join(session.unsupported)}): a case that moved or failed there may be the harness's own use "
            "of an API that changed between those versions, not a change in the package's results"
        )
    if len(usable) > 1 and result.moved:
        solo = {}
        for c in usable:
            solo_run = load_run(out / c.slug, sel, name=c.label)
            solo[c.label] = {d.case for d in diff_runs(base, solo_run, floors=floors).moved}
        found = attribute({c.case for c in result.moved}, solo)
        write_json(out / "diff" / "attribution.json", {"attribution": [a.to_dict() for a in found]})
        for line in summary_lines(found):
            print(line)
    return 2 if session.errors else rc
