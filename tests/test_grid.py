"""``python -m harness run``: the grid fills the store with what the suites read, and resumes after a kill."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.explainers import get_explainer_cfg, list_explainers
from harness.suite import make_case, suite_models
from harness.suite.grid import plan_grid
from harness.suite.session import HarnessOptions, HarnessSession

SUITE = """
import pytest
from harness.suite import explanation_params, metric_params, run_check, run_metric

@pytest.mark.parametrize(("case", "check"), explanation_params(models=MODELS, explainers=EXPLAINERS))
def test_explanation(request, harness, case, check):
    run_check(request, harness, case, check)

@pytest.mark.parametrize(("case", "metric"), metric_params(models=MODELS, explainers=EXPLAINERS))
def test_metric(request, harness, case, metric):
    run_metric(request, harness, case, metric)
"""


def test_plan_matches_the_suites_cases_and_limits(tmp_path):
    """Every suite pair: the grid's parameters (seeds) and image limits are the suites'."""
    session = HarnessSession(HarnessOptions(store=tmp_path / "s", reports=tmp_path / "r"), tmp_path)
    tasks = plan_grid(suite_models(), list_explainers())
    assert len(tasks) > 100
    for t in tasks:
        case = make_case(t.model, t.explainer)
        assert t.params == case.params, t.id
        assert t.limit == session.image_limit(t.create()), t.id
    assert any(get_explainer_cfg(t.explainer).stochastic and t.params for t in tasks)


def test_grid_then_suite_computes_no_explanation(pytester, image_dir, tmp_path):
    store, models, explainers = tmp_path / "store", ["toy_linear", "toy_resnet"], ["gradcam", "saliency", "kernelshap"]
    images = f"folder:{image_dir}"
    args = ["run", "--models", ",".join(models), "--explainers", ",".join(explainers), "--images", images]
    assert main([*args, "--store", str(store), "--costly-images", "2", "--no-progress"]) == 0
    pytester.makepyfile(test_suite=f"MODELS = {models!r}\nEXPLAINERS = {explainers!r}\n" + SUITE)
    result = pytester.runpytest(
        f"--harness-images={images}",
        f"--harness-store={store}",
        "--harness-costly-images=2",
        "--harness-no-report",
        "-k",
        "check_ or random_logit",  # RandomLogit re-explains other classes: the grid computed those too
        "-p",
        "no:cacheprovider",
    )
    outcomes = result.parseoutcomes()  # a random toy's Grad-CAM may fail check_not_constant: what counts is the store
    checks, logit_cases = len(models) * len(explainers) * 4, len(models) * 2  # KernelSHAP: RandomLogit opt-in only
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == checks + logit_cases, outcomes
    line = next(x for x in result.outlines if x.strip().startswith("by kind:"))
    expl = re.search(r"explanation (\d+)/(\d+)/(\d+)", line)
    assert expl and int(expl[1]) > 0 and expl.groups()[1:] == ("0", "0"), line  # hits, no misses, no writes
    assert re.search(r"logits \d+/0/0", line), line


def _count(store: Path) -> int:
    return len(list((store / "explanation").glob("*/*.npz"))) if (store / "explanation").is_dir() else 0


def test_killed_run_resumes_losing_only_work_in_flight(image_dir, tmp_path):
    store = tmp_path / "store"
    cmd = [sys.executable, "-m", "harness", "run", "--models", "toy_resnet", "--explainers", "kernelshap,lime,saliency"]
    cmd += ["--images", f"folder:{image_dir}", "--store", str(store), "--costly-images", "0", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 240
    while _count(store) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()[0]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = _count(store)
    assert kept >= 2
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    m = re.search(r"(\d+) explanations computed, (\d+) found in the store", out.stdout)
    assert m, out.stdout
    total = _count(store)
    # every stored entry was kept: the restart computed only what the killed run had not written
    assert int(m[1]) == total - kept and int(m[2]) >= 2


def test_models_without_weights_are_left_out_unless_random_is_asked(image_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args = ["run", "--models", "resnet18", "--explainers", "saliency", "--images", f"folder:{image_dir}"]
    args += ["--store", str(tmp_path / "s"), "--no-progress"]
    assert main(args) == 2
    assert "--random-weights-ok" in capsys.readouterr().err
    assert main([*args, "--random-weights-ok", "--max-images", "1"]) == 0
    out = capsys.readouterr().out
    assert "resnet18_random" in out and "3 explanations computed" in out  # map, target probe, RandomLogit class


def test_unknown_pattern_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no explainer matches nope"):
        main(["run", "--models", "toy_linear", "--explainers", "nope", "--store", str(tmp_path)])


def test_grid_results_equal_the_runner_s(image_dir, tmp_path):
    from harness.compute.engines import LocalEngine, Worker
    from harness.compute.runner import Runner
    from harness.compute.store import Store
    from harness.explainers import create_explainer
    from harness.images import image_folder
    from harness.suite.grid import run_grid

    tasks = plan_grid(["toy_resnet"], ["gradcam", "occlusion"], costly_images=2)
    grid = Runner(Store(tmp_path / "a"), image_folder(image_dir), device="cpu")
    report = run_grid(grid, tasks, LocalEngine(Worker(device="cpu")))
    assert not report.failures and report.computed >= 4 + 2 + 2 + 2  # maps + the target probes (more: zero maps)
    plain = Runner(Store(tmp_path / "b"), image_folder(image_dir), device="cpu")
    for t in tasks:
        a = grid.explain(t.model, create_explainer(t.explainer, **dict(t.params)), limit=t.limit)
        b = plain.explain(t.model, create_explainer(t.explainer, **dict(t.params)), limit=t.limit)
        assert a.computed == 0 and b.computed == len(b.records)
        # equal up to float32 rounding: the grid's chunks batch the images differently from the runner's,
        # and oneDNN may pick another convolution algorithm per batch shape on some CPUs (measured: 5e-9
        # absolute, under 1e-5 of the map's largest value, on this project's 2-core AMD EPYC box)
        scale = float(np.abs(b.attributions).max()) or 1.0
        np.testing.assert_allclose(a.attributions, b.attributions, rtol=1e-4, atol=1e-5 * scale, err_msg=t.id)
        assert a.metas[0]["peak_memory_bytes"] > 0 and a.metas[0]["batch"] >= 1


def test_each_model_is_loaded_once_even_with_late_probes(image_dir, tmp_path):
    """Random toy Grad-CAM maps are often all zero, so probes are planned after the maps: they still run
    before the next model's chunks (model-ordered queue), and the worker loads each model once."""
    from harness.compute.engines import LocalEngine, Worker
    from harness.compute.runner import Runner
    from harness.compute.store import Store
    from harness.images import image_folder
    from harness.suite.grid import run_grid

    tasks = plan_grid(["toy_resnet", "toy_vit", "toy_efficientnet"], ["gradcam", "saliency"])
    run = Runner(Store(tmp_path / "s"), image_folder(image_dir), device="cpu")
    report = run_grid(run, tasks, LocalEngine(Worker(device="cpu")))
    assert not report.failures
    (loads,) = report.loads.values()
    assert loads == {"toy_resnet": 1, "toy_vit": 1, "toy_efficientnet": 1}
