"""The package layout: one layering contract that covers every module, and the public import paths kept."""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

import pytest

import harness
from harness.cases.project import _read_toml as read_toml

ROOT = Path(harness.__file__).resolve().parent
PYPROJECT = ROOT.parent / "pyproject.toml"


def _contracts() -> list[dict]:
    return read_toml(PYPROJECT)["tool"]["importlinter"]["contracts"]


def _layer_names() -> list[str]:
    (contract,) = _contracts()
    return [name.strip() for layer in contract["layers"] for name in layer.split("|")]


def _children() -> set[str]:
    """Every module and package directly under ``harness/`` (what a layer must name)."""
    out = {p.stem for p in ROOT.glob("*.py") if p.name != "__init__.py"}
    out |= {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    return out


def test_one_layers_contract_is_exhaustive():
    (contract,) = _contracts()  # one contract, not a list of forbidden pairs
    assert contract["type"] == "layers"
    assert contract["containers"] == ["harness"]
    assert contract["exhaustive"] is True  # lint-imports itself fails on a module in no layer


def test_every_module_of_the_package_is_in_a_layer():
    names = _layer_names()
    assert len(names) == len(set(names)), "a module sits in two layers"
    assert _children() == set(names)


@pytest.mark.parametrize(
    ("kept", "home", "names"),
    [
        ("harness.runner", "harness.compute.runner", ["Runner", "CaseResult", "Predictions"]),
        ("harness.store", "harness.compute.store", ["Store", "Entry", "content_key", "library_versions"]),
        ("harness.drift.noise", "harness.checks.noise", ["NoiseFloor", "Tolerance", "stored_floor", "read_floors"]),
        ("harness.drift.measures", "harness.compare.change", ["MapChange", "map_change"]),
    ],
)
def test_public_import_paths_are_kept(kept, home, names):
    old, new = importlib.import_module(kept), importlib.import_module(home)
    for name in names:
        assert getattr(old, name) is getattr(new, name)


def test_readme_api_imports():
    from harness.checks import check_all
    from harness.explainers import create_explainer
    from harness.runner import Runner
    from harness.store import Store
    from harness.testing import parametrize_with_checks

    assert all(callable(x) for x in (check_all, create_explainer, Runner, Store, parametrize_with_checks))


def test_pytest_entry_point_loads_the_hooks():
    (ep,) = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "harness"]
    assert ep.value == "harness.plugin"
    plugin = ep.load()
    for hook in ("pytest_addoption", "pytest_configure", "pytest_collection_modifyitems", "pytest_runtest_makereport"):
        assert callable(getattr(plugin, hook, None)), hook


def test_store_keys_do_not_depend_on_where_modules_live():
    """Explanation keys are hashes of plain fields: no module path enters them, so moving a module
    keeps every stored entry and baseline valid.  The hash of fixed fields is pinned here, as the
    code before the layout change computed it."""
    from harness.compute.store import content_key

    fields = {"model": "zoo_resnet", "explainer": "gradcam", "params": {"layer": "auto"}, "image": "ab" * 32}
    assert content_key("explanation", fields) == (
        "49828920bbd20ab9665011554180b28d29e45971f47b79aaef5f096c27d0a109"  # computed before the move (53ac351)
    )


def test_check_code_digest_covers_the_whole_package():
    from harness.compute import replay

    # stored check outcomes are keyed by a digest of every source under harness/, not only compute/
    assert replay.PACKAGE_ROOT == ROOT
