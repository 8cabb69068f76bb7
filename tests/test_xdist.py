"""pytest-xdist: ``-n 2`` gives the serial run's outcomes and report, with the store counters summed."""

import csv
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("xdist")

SUITE = """
import pytest
from harness.suite import case_param, explanation_params, metric_params, run_check, run_metric, run_top1

MODELS = ["toy_linear", "toy_efficientnet"]
EXPLAINERS = ["gradcam", "saliency"]

@pytest.mark.parametrize(("case", "check"), explanation_params(models=MODELS, explainers=EXPLAINERS))
def test_explanation(request, harness, case, check):
    run_check(request, harness, case, check)

@pytest.mark.parametrize(("case", "metric"), metric_params(models=MODELS, explainers=EXPLAINERS))
def test_metric(request, harness, case, metric):
    run_metric(request, harness, case, metric)

TOP1 = [case_param(m, model=m, explainer="-", check="check_top1", id=f"{m}-check_top1") for m in MODELS]

@pytest.mark.parametrize("model", TOP1)
def test_top1(request, harness, model):
    run_top1(request, harness, model)
"""


def _run(pytester, image_dir, tmp_path, name, *extra):
    out = tmp_path / name
    result = pytester.runpytest_subprocess(
        f"--harness-images=folder:{image_dir}",
        f"--harness-store={out / 'store'}",
        f"--harness-reports={out / 'reports'}",
        "-k",
        "check_ or complexity",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        *extra,
    )
    return result, out / "reports" / "latest"


def _cases(latest: Path) -> list[tuple]:
    summary = json.loads((latest / "summary.json").read_text())
    return [(c["id"], c["outcome"], json.dumps(c.get("value"), sort_keys=True)) for c in summary["cases"]]


def _files(latest: Path) -> dict[str, bytes]:
    """The report's tables: similarity matrices and leaderboard (CSV and JSON, not images or timings)."""
    out = {}
    for p in sorted(latest.rglob("*")):
        rel = str(p.relative_to(latest))
        if p.suffix == ".csv" and (rel.startswith("consensus/") or "leaderboard" in rel):
            rows = list(csv.reader(p.read_text().splitlines()))
            keep = [i for i, h in enumerate(rows[0]) if h != "seconds"]  # time taken: differs run to run
            out[rel] = [[r[i] for i in keep] for r in rows]
    return out


@pytest.mark.slow  # about 45 s: a serial and a two-worker pytester run of the same suite
def test_two_workers_give_the_serial_outcomes_and_report(pytester, image_dir, tmp_path, monkeypatch):
    # one torch thread on both sides: an xdist worker gets its share of the CPUs (here 1), and the
    # maps of some models differ in the last float bits between thread counts
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    pytester.makepyfile(test_suite=SUITE)
    serial, a = _run(pytester, image_dir, tmp_path, "serial")
    workers, b = _run(pytester, image_dir, tmp_path, "xdist", "-n", "2")
    same = lambda r: {k: v for k, v in r.parseoutcomes().items() if k not in ("warnings", "deselected")}  # noqa: E731
    assert same(serial) == same(workers)
    assert _cases(a) == _cases(b) and len(_cases(a)) > 10
    fa, fb = _files(a), _files(b)
    assert any(k.startswith("consensus/") for k in fa) and any("leaderboard" in k for k in fa), sorted(fa)
    assert fa == fb
    # the counters reached the controller, summed: every explanation written once, by one worker
    line = lambda r: next(x for x in r.outlines if x.startswith("store:"))  # noqa: E731
    writes = [int(re.search(r"(\d+) writes", line(r))[1]) for r in (serial, workers)]
    assert writes[0] == writes[1] > 0, (line(serial), line(workers))
    assert sum(1 for x in workers.outlines if x.startswith("report:")) == 1


def test_cases_are_grouped_by_the_model_in_their_id():
    from harness.plugin.xdist_groups import model_of

    assert model_of("suites/test_explanations.py::test_explanation[gradcam-zoo_resnet-check_shape]") == "zoo_resnet"
    assert model_of("suites/test_models.py::test_top1[zoo_swin-check_top1]") == "zoo_swin"
    assert model_of("suites/test_metrics.py::test_metric[ig-efficientnet_lite0-faithfulness_road]@x") == (
        "efficientnet_lite0"
    )
    assert model_of("suites/test_properties_grid.py::test_grid_control") is None
    assert model_of("t.py::test_x[shapes-synthetic-check_y]") is None
