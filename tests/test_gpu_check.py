"""The prepared GPU script (``.ci/gpu_check.py``) runs its code paths on the CPU with ``--quick``.

On a machine with CUDA it runs the thesis preset on 128 images, the out-of-memory back-off and the
overhead benchmarks; here the same script, on one zoo model and 4 images, must write its JSON with
the device and each part's figures, so that the day a GPU is lent the script is known to run.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # about 30 s: the whole GPU-check script in a subprocess, on the CPU
def test_gpu_check_quick_runs_every_part_on_the_cpu(tmp_path):
    run = subprocess.run(
        [sys.executable, ".ci/gpu_check.py", "--out", str(tmp_path), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["device"]["device"] in ("cpu", "cuda") and report["quick"] is True
    assert report["thesis"]["exit"] == 0 and report["thesis"]["seconds"] > 0
    assert "python -m harness run" in report["thesis"]["command"]
    assert any((tmp_path / "store" / "explanation").rglob("*.npz"))
    if report["device"]["device"] == "cpu":
        assert "skipped" in report["oom"]
    assert report["overhead"]["exit"] == 0, report["overhead"]
    floors = report["noise"]["floors"]
    assert set(floors) == {"gradcam-zoo_resnet", "saliency-zoo_resnet"}, report["noise"]
    for floor in floors.values():
        assert floor["class"] in ("bit-identical", "float-tolerance", "seeded-stochastic") and floor["spread"] >= 0
        assert ("deterministic algorithms" in floor["axes"]) == (report["device"]["device"] == "cuda")
