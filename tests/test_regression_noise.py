"""The noise floor in the regression baselines: written with a new baseline, named in a failure, annotated alone."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from harness.checks.noise import CLASSES, NoiseFloor
from harness.checks.regression import (
    DETERMINISTIC_TOLERANCES,
    RegressionFailure,
    annotate_baseline,
    check_regression,
    grid_rel_l2,
)
from harness.cli import main

FLOOR = NoiseFloor("toy", "ig", "float-tolerance", 9.2e-08, 0.99999, 1.0, ("repeat", "batch 1", "2 threads"), 2)


@dataclass
class _Record:
    id: str


@dataclass
class _Result:
    """What :func:`~harness.checks.regression.summarize` reads of a case result."""

    attributions: np.ndarray
    model: str = "toy"
    explainer: str = "ig"
    params: dict = field(default_factory=lambda: {"n_steps": 8})

    @property
    def records(self) -> list[_Record]:
        return [_Record(f"img{i}") for i in range(len(self.attributions))]

    @property
    def targets(self) -> list[int]:
        return [3] * len(self.attributions)


def _maps(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((2, 24, 24))


def _never() -> dict:
    raise AssertionError("a comparison must not measure the noise floor")


def test_a_new_baseline_records_the_floor_and_a_comparison_does_not_measure_it(tmp_path):
    with pytest.raises(RegressionFailure, match="no baseline existed"):
        check_regression(
            _Result(_maps()), "ig-toy", tmp_path, tol=DETERMINISTIC_TOLERANCES, noise=FLOOR.baseline_record
        )
    doc = json.loads((tmp_path / "ig-toy.json").read_text())
    assert doc["noise"]["class"] == "float-tolerance" and doc["noise"]["spread"] == pytest.approx(9.2e-08)
    assert doc["noise"]["measured"]["axes"] == ["repeat", "batch 1", "2 threads"]
    assert doc["noise"]["measured"]["images"] == 2
    out = check_regression(_Result(_maps()), "ig-toy", tmp_path, tol=DETERMINISTIC_TOLERANCES, noise=_never)
    assert out["images"] == 2


def test_regenerating_measures_the_floor_again(tmp_path):
    check_regression(_Result(_maps()), "ig-toy", tmp_path, tol=DETERMINISTIC_TOLERANCES, accept=True)
    assert "noise" not in json.loads((tmp_path / "ig-toy.json").read_text())  # no callable: no field
    stochastic = NoiseFloor("toy", "ig", "seeded-stochastic", 0.5, 0.9, 0.7, ("repeat",), 2)
    check_regression(
        _Result(_maps()),
        "ig-toy",
        tmp_path,
        tol=DETERMINISTIC_TOLERANCES,
        accept=True,
        noise=stochastic.baseline_record,
    )
    assert json.loads((tmp_path / "ig-toy.json").read_text())["noise"]["class"] == "seeded-stochastic"


def test_a_failure_names_the_recorded_class_and_spread_next_to_the_drift(tmp_path):
    maps = _maps()
    with pytest.raises(RegressionFailure):
        check_regression(_Result(maps), "ig-toy", tmp_path, tol=DETERMINISTIC_TOLERANCES, noise=FLOOR.baseline_record)
    moved = maps.copy()
    moved[:, :12] = moved[:, :12][:, ::-1]  # a real move: half of each map mirrored
    with pytest.raises(RegressionFailure) as info:
        check_regression(_Result(moved), "ig-toy", tmp_path, tol=DETERMINISTIC_TOLERANCES, noise=_never)
    text = str(info.value)
    baseline = json.loads((tmp_path / "ig-toy.json").read_text())
    obtained = json.loads((tmp_path / "ig-toy.obtained.json").read_text())
    rel = grid_rel_l2(baseline, obtained)
    assert rel > 0.01
    assert f"largest grid-map rel L2 {rel:.3g} ({rel / 9.2e-08:.3g} x the spread)" in text
    assert "recorded noise floor: float-tolerance, spread 9.2e-08" in text
    assert "over 2 images, varied: repeat, batch 1, 2 threads" in text


def test_a_failure_without_a_recorded_floor_says_how_to_add_one(tmp_path):
    with pytest.raises(RegressionFailure):
        check_regression(_Result(_maps()), "ig-toy", tmp_path, tol=DETERMINISTIC_TOLERANCES)
    with pytest.raises(RegressionFailure, match="records no noise floor .python -m harness baselines annotate"):
        check_regression(_Result(_maps(1)), "ig-toy", tmp_path, tol=DETERMINISTIC_TOLERANCES)


def _without_noise(text: str) -> str:
    doc = json.loads(text)
    doc.pop("noise", None)
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def test_annotating_changes_nothing_but_the_noise_field(tmp_path):
    with pytest.raises(RegressionFailure):
        check_regression(_Result(_maps()), "ig-toy", tmp_path, tol=DETERMINISTIC_TOLERANCES)
    path = tmp_path / "ig-toy.json"
    before = path.read_text()
    assert annotate_baseline(path, FLOOR.baseline_record())
    after = path.read_text()
    assert json.loads(after)["noise"] == FLOOR.baseline_record()
    assert _without_noise(after) == before  # every other byte as written
    diff = [d for d in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)][2:]
    assert not [d for d in diff if d.startswith("-")], "annotating removed or changed a line"  # as git diff shows
    assert [d for d in diff if d.startswith("+")][0] == '+ "noise": {'
    assert not annotate_baseline(path, FLOOR.baseline_record())  # the same floor again: untouched
    assert path.read_text() == after


SUITE = """
import pytest
from harness.suite import Case, run_regression

@pytest.mark.parametrize("case", [pytest.param(Case("toy_linear", "ig", (("baseline", "black"), ("n_steps", 8))),
                                               id="ig-toy_linear-check_regression")])
def test_regression(request, harness, case):
    run_regression(request, harness, case)
"""


def test_the_suite_writes_the_floor_and_the_annotate_command_measures_the_same(pytester, image_dir, tmp_path, capsys):
    """End to end on a hand-weighted model: the suite's new baseline holds the store-cached floor; stripped
    of it, ``python -m harness baselines annotate`` puts the same field back and touches nothing else."""
    pytester.makepyfile(test_reg=SUITE)
    store, root = tmp_path / "store", tmp_path / "baselines"
    args = [f"--harness-images=folder:{image_dir}", f"--harness-store={store}", f"--harness-baselines={root}"]
    pytester.runpytest(*args, "--harness-no-report", "-p", "no:cacheprovider").assert_outcomes(failed=1)
    path = root / image_dir.name / "ig-toy_linear.json"
    written = path.read_text()
    noise = json.loads(written)["noise"]
    assert noise["class"] in CLASSES and noise["class"] != "seeded-stochastic"  # IG is deterministic
    assert 0.0 <= noise["spread"] < 1e-4
    path.write_text(_without_noise(written))
    folder = ["--dir", str(root), "--images", f"folder:{image_dir}", "--store", str(store), "--device", "cpu"]
    assert main(["baselines", "annotate", *folder]) == 0
    assert f"annotated {path}: {noise['class']}" in capsys.readouterr().out
    assert path.read_text() == written  # the store's floor: the same numbers, and nothing else changed


def test_annotate_names_a_file_it_cannot_annotate(tmp_path, image_dir, capsys):
    folder = tmp_path / "baselines"
    folder.mkdir()
    (folder / "ig-toy_linear.json").write_text(json.dumps({"model": "toy_linear", "explainer": "ig", "params": {}}))
    argv = ["baselines", "annotate", "--dir", str(folder), "--images", f"folder:{image_dir}"]
    assert main([*argv, "--store", str(tmp_path / "store"), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert f"{folder / 'ig-toy_linear.json'}: not annotated: toy_linear's image set here" in err
    assert "noise" not in json.loads((folder / "ig-toy_linear.json").read_text())
    assert main(["baselines", "annotate", "--dir", str(Path(tmp_path) / "nowhere")]) == 2
