"""docs/contributing.md: a model, an explainer, a check and a metric, each added in one place, show up in
every suite where a built-in entry of the same kind shows up, and the added check and metric run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_DIR = Path(__file__).resolve().parent / "contrib"


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGIN_DIR), str(ROOT)]), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "contrib_plugin", "-p", "no:cacheprovider"]
    return subprocess.run([*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def ids(tmp_path_factory) -> list[str]:
    out = _pytest("--collect-only", "-q", "--harness-show-skipped", cwd=tmp_path_factory.mktemp("collect"))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return [line.strip() for line in out.stdout.splitlines() if "::" in line]


def _renamed(ids: list[str], old: str, new: str) -> set[str]:
    return {i.replace(old, new) for i in ids if old in i}


def _with(ids: list[str], name: str) -> set[str]:
    return {i for i in ids if name in i}


def _pairs(ids: list[str], check: str) -> set[tuple[str, str]]:
    """(suite module, explainer-model) of every case of ``check``."""
    out = set()
    for i in ids:
        m = re.search(rf"\[(.+)-{check}\]$", i)
        if m:
            out.add((i.split("::")[0], m.group(1)))
    return out


def test_a_model_shows_up_wherever_a_model_of_its_kind_does(ids):
    # contrib_vit is a timm ViT like the study's vit_b16: the same cases, in the same suite modules
    expected = _renamed(ids, "vit_b16", "contrib_vit")
    assert expected and _with(ids, "contrib_vit") == expected


# Suite cases that pick their explainers by name, not by tags, so a new explainer does not join them:
NAMED = {
    "test_interventions.py": "two cheap explainers, for cost",
    "check_randomisation_sanity": "the sanity suite's budget: one explainer per group",
    "check_oracle_exact": "a closed form per explainer (harness.checks.oracle.EXACT)",
}


def test_an_explainer_shows_up_wherever_one_with_its_tags_does(ids):
    # contrib_grad has saliency's tags: it gets every case saliency gets, except the named ones above
    renamed = _renamed(ids, "saliency", "contrib_grad")
    expected = {i for i in renamed if not any(n in i for n in NAMED)}
    assert expected and _with(ids, "contrib_grad") == expected
    assert all(any(n in i for i in renamed) for n in NAMED), "a suite listed in NAMED has no saliency case any more"


def test_a_check_runs_on_every_explanation_case(ids):
    assert _pairs(ids, "check_contrib_mass") == _pairs(ids, "check_shape") != set()


def test_a_metric_runs_wherever_a_metric_of_its_category_does(ids):
    # complexity metrics need no masks and no model calls: the same pairs as Quantus's Sparseness
    assert _pairs(ids, "complexity_contrib_spread") == _pairs(ids, "complexity_sparseness") != set()


@pytest.mark.slow
def test_the_added_check_and_metric_run(tmp_path):
    out = _pytest(
        "-q",
        "-k",
        "saliency-zoo_resnet-check_contrib_mass or saliency-zoo_resnet-complexity_contrib_spread",
        "--harness-store",
        str(tmp_path / "store"),
        "--harness-no-report",
        "--harness-zoo-images",
        "2",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.search(r"\b2 passed\b", out.stdout), out.stdout[-2000:]
