"""examples/own-project/.github/workflows/drift.yml: its drift step, run locally on a copy of the project.

The install step (``git show origin/...``, pip from the network) is not run here: this
environment plays the base.  The drift step's command is taken from the workflow file verbatim.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from harness.drift.envs import subprocess_env

PROJECT = Path(__file__).resolve().parent.parent / "examples" / "own-project"
WORKFLOW = PROJECT / ".github" / "workflows" / "drift.yml"


def _workflow() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(WORKFLOW.read_text())


def _step(name: str) -> dict:
    steps = _workflow()["jobs"]["drift"]["steps"]
    return next(s for s in steps if s.get("name", "").startswith(name))


def _project(tmp_path: Path, pins: dict[str, str]) -> Path:
    root = tmp_path / "own-project"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns(".harness", "drift", "reports"))
    (root / "requirements.txt").write_text("".join(f"{k}=={v}\n" for k, v in pins.items()))
    return root


def _run(root: Path, command: str) -> subprocess.CompletedProcess:
    # `python` is this interpreter, as setup-python makes it the runner's
    env = subprocess_env({"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])})
    return subprocess.run(["bash", "-e", "-c", command], cwd=root, capture_output=True, text=True, env=env, timeout=900)


def test_workflow_shape():
    doc = _workflow()
    trigger = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    assert "requirements.txt" in trigger["pull_request"]["paths"]
    upload = _step("Keep the diff page")
    assert upload["if"] == "always()" and upload["with"]["path"] == "drift/diff/"
    assert "--requirements requirements.txt" in _step("Drift gate")["run"]


def test_drift_step_with_unchanged_pins_reruns_nothing(tmp_path):
    root = _project(tmp_path, {"captum": version("captum"), "timm": version("timm")})
    proc = _run(root, _step("Drift gate")["run"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "matches this environment; nothing to rerun" in proc.stdout


@pytest.mark.slow
def test_drift_step_on_a_captum_bump_writes_the_artifact(tmp_path):
    root = _project(tmp_path, {"captum": "0.8.0", "timm": version("timm")})
    proc = _run(root, _step("Drift gate")["run"])
    text = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), text  # 0: nothing moved, 1: something did; never an error
    assert "drift verdict [captum==0.8.0]" in proc.stdout, text
    for name in ("diff.html", "diff.json"):
        assert (root / "drift" / "diff" / name).is_file(), text
    assert (root / "drift" / "junit.xml").is_file()
