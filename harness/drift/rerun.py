"""Run one selection in one environment (a subprocess of ``python -m harness run``) and record it as a run folder.

The explanations land in the shared store; the run folder's ``run.json``
holds the store, the selection and the library versions that environment
puts into the store keys, which is what picks its entries for a diff.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.atomic import write_json
from .envs import subprocess_env

_VERSIONS_CODE = """
import json, sys
from harness.explainers import create_explainer, list_explainers
from harness.explainers.registry import explainer_dist_versions
from harness.cases.project import load_project
from harness.compute.store import library_versions
load_project('.')
out = dict(library_versions())
for pat in sys.argv[1].split(','):
    for name in list_explainers(pat.strip()):
        out.update(explainer_dist_versions(create_explainer(name)))
print(json.dumps(out))
"""


_COUNTS = re.compile(r"(\d+) explanations computed, (\d+) found in the store")


class RunFailed(RuntimeError):
    """The selection could not be run in an environment; the message names it and says why."""


@dataclass(frozen=True)
class RunSpec:
    """The selection, as ``python -m harness run`` options."""

    models: str
    explainers: str
    images: str = "builtin"
    max_images: int = 2
    zoo_images: int = 2
    costly_images: int = 2

    def args(self) -> list[str]:
        return [
            "--models",
            self.models,
            "--explainers",
            self.explainers,
            "--images",
            self.images,
            "--max-images",
            str(self.max_images),
            "--zoo-images",
            str(self.zoo_images),
            "--costly-images",
            str(self.costly_images),
            "--metric-images",
            "0",
        ]


def key_versions(python: str | Path, explainers: str, env: dict[str, str]) -> dict[str, str]:
    """The library versions ``python``'s environment writes into the keys of ``explainers``."""
    proc = subprocess.run(
        [str(python), "-c", _VERSIONS_CODE, explainers], capture_output=True, text=True, env=env, cwd=Path.cwd()
    )
    if proc.returncode != 0:
        raise RunFailed(f"{python}: cannot import the harness there: {proc.stderr.strip().splitlines()[-1:]}")
    return {str(k): str(v) for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}


def run_selection(
    python: str | Path, spec: RunSpec, *, store: Path, folder: Path, label: str, extra_env: dict[str, str] | None = None
) -> Path:
    """Run ``spec`` with ``python`` into ``store`` and write ``folder/run.json``; returns ``folder``."""
    env = subprocess_env(extra_env)
    cmd = [str(python), "-m", "harness", "run", *spec.args(), "--store", str(store), "--no-progress"]
    print(f"drift: [{label}] {' '.join(cmd[1:])}", file=sys.stderr)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise RunFailed(f"[{label}] python -m harness run failed (exit {proc.returncode}):\n{tail}")
    versions = key_versions(python, spec.explainers, env)
    counts = _COUNTS.search(proc.stdout)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(
        folder / "run.json",
        {
            "label": label,
            "python": str(python),
            "store": str(store.resolve()),
            "versions": versions,
            "selection": asdict(spec),
            "extra_env": extra_env or {},
            # explanations this run computed and found stored: 0 computed means every key was already there
            "computed": int(counts.group(1)) if counts else None,
            "cached": int(counts.group(2)) if counts else None,
            "settings": {"images": spec.images, "zoo_images": spec.zoo_images, "store": str(store.resolve())},
        },
    )
    return folder
