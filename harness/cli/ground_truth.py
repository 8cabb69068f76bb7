"""``python -m harness.cli.ground_truth REPORTS/latest/summary.json``: the tables of ``docs/ground-truth.md``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..report.ground_truth import render_all
from ..suite.known import KNOWN_FAILURES


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m harness.cli.ground_truth REPORTS/latest/summary.json", file=sys.stderr)
        return 2
    path = Path(args[0])
    if not path.is_file():
        print(f"ground_truth: no summary at {path} (run pytest with --harness-reports first)", file=sys.stderr)
        return 2
    try:
        summary = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        print(f"ground_truth: {path} is not JSON ({exc})", file=sys.stderr)
        return 2
    print(render_all(summary, KNOWN_FAILURES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
