"""``python -m harness diff A B``: what moved between two runs, case by case.

    python -m harness diff reports/run-a reports/run-b
    python -m harness diff .harness/store other/store --models 'zoo_*' --explainers ig --junit-xml drift.xml
    python -m harness diff .harness/store .harness/store --env-a captum=0.8.0 --env-b captum=0.9.0

A and B are run folders (``run.json``, written by ``python -m harness drift``),
report folders (``summary.json``) or stores.  Exit status: 0 nothing moved
beyond tolerance, 1 something moved, 2 the inputs could not be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..checks.noise import read_floors
from ..drift.diff import diff_runs
from ..drift.render import terminal_lines, write_json_report, write_junit, write_page
from ..drift.runs import RunSpecError, Selection, load_run


def add_parser(sub) -> None:
    p = sub.add_parser(
        "diff",
        help="compare two runs' explanations case by case (drift gate)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_a", help="before: run folder, report folder or store")
    p.add_argument("run_b", help="after: run folder, report folder or store")
    add_diff_options(p)
    p.set_defaults(func=cmd_diff)


def add_diff_options(p, *, sides: bool = True) -> None:
    """The selection and output options; with ``sides``, also how to pick each side's entries and floors."""
    p.add_argument("--models", default=None, help="fnmatch pattern(s), comma-separated (default: all)")
    p.add_argument("--explainers", default=None, help="fnmatch pattern(s), comma-separated (default: all)")
    if sides:
        p.add_argument("--env-a", default=None, metavar="DIST=VER,...", help="library versions of A's entries")
        p.add_argument("--env-b", default=None, metavar="DIST=VER,...", help="library versions of B's entries")
        p.add_argument("--noise", default=None, metavar="FILE", help="noise floors (noise.json of a drift run)")
    p.add_argument("--out", default="drift-diff", help="folder for diff.json and diff.html (default: drift-diff)")
    p.add_argument("--junit-xml", default=None, metavar="PATH", help="also write JUnit XML (moved = failure)")


def cmd_diff(args) -> int:
    try:
        a = load_run(args.run_a, Selection.parse(args.models, args.explainers, args.env_a), name=args.run_a)
        b = load_run(args.run_b, Selection.parse(args.models, args.explainers, args.env_b), name=args.run_b)
    except RunSpecError as exc:
        print(f"harness diff: {exc}", file=sys.stderr)
        return 2

    floors = read_floors(Path(args.noise)) if args.noise else {}
    return gate_status(report_diff(a, b, args, floors=floors))


def gate_status(result) -> int:
    """0 nothing moved, 1 something moved beyond tolerance, 2 nothing could be compared."""
    if not result.cases and not result.report:
        return 2
    return 1 if result.anything_moved else 0


def report_diff(a, b, args, *, floors):
    """Diff two loaded runs, print the table and write diff.json, diff.html (and JUnit XML); the result."""
    result = diff_runs(a, b, floors=floors)
    for line in terminal_lines(result):
        print(line)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_report(out / "diff.json", result)
    write_page(out, result, a, b)
    if args.junit_xml:
        write_junit(Path(args.junit_xml), result)
    print(f"diff: {out / 'diff.json'}, {out / 'diff.html'}")
    return result
