"""Command line.

``python -m harness list models|explainers|metrics|images [--json]``
``python -m harness report [--store PATH] [--out DIR]``: rebuild a report from the store
``python -m harness leaderboard [--store PATH] [--out DIR]``: metric tables and agreement from the store
``python -m harness compare RUN_A RUN_B``: how the similarity matrices moved between runs
``python -m harness run --models P --explainers P [--preset thesis] [--engine ray]``: precompute into the store
``python -m harness figure thesis-grid|cam-vs-rollout|cam-family``: the seed works' figures from the store
``python -m harness zoo data|train|evaluate``: the ground-truth zoo (see :mod:`harness.zoo`)
``python -m harness weights fetch|where --models study [--cache-dir DIR]``: fill a hub cache for offline use
``python -m harness concepts tune|dissect|bias``: concept labels of units and the spurious-cue bias probe
``python -m harness explore [--models P] [--explainers P] [--store PATH] [--port N]``: the live app (extra ``app``)
``python -m harness diff A B``: which explanations moved between two runs (exit 1 when any did)
``python -m harness drift --candidate PKG==VER``: rerun a selection under candidate dependencies and diff it
``python -m harness baselines annotate``: record each regression baseline's noise floor in its file
"""

from __future__ import annotations

import argparse
import importlib

# One module per command group, each with ``add_parser(subparsers)``; a new command is a new module here.
COMMANDS = (
    "listing",
    "reports",
    "run",
    "zoo",
    "figures",
    "weights",
    "concepts",
    "explore",
    "diff",
    "drift",
    "baselines",
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
