"""Imports go at module level; a function-level import needs a reason in the allow-list below.

The scan is a walk of ``harness/`` with :mod:`ast`: every ``import`` or ``from ... import`` inside a function
(nested functions and methods included) is named by its module file and the module it imports (relative
imports resolved), and must appear in :data:`ALLOWED` under one reason.  Entries that no longer match an import
fail too, so the list only ever names imports that exist.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import harness

ROOT = Path(harness.__file__).resolve().parent
REPO = ROOT.parent

# Reason -> the (module file, imported module) pairs it covers.
ALLOWED: dict[str, frozenset[tuple[str, str]]] = {
    "import cycle: harness.models.from_timm imports harness.models.config": frozenset(
        {("harness/models/config.py", "harness.models.from_timm")}
    ),
    "optional dependency (an extra: app, ray, clip, transformers, dev's pytest-xdist)": frozenset(
        {
            ("harness/app/ui.py", "gradio"),
            ("harness/cli/explore.py", "gradio"),
            ("harness/compute/ray_engine.py", "ray"),
            ("harness/concepts/similarity.py", "open_clip"),
            ("harness/concepts/similarity.py", "open_clip.model"),
            ("harness/models/adapters.py", "transformers"),
            ("harness/plugin/__init__.py", "harness.plugin.xdist_groups"),  # imports xdist
        }
    ),
    "POSIX-only standard library module": frozenset(
        {("harness/core/memory.py", "resource"), ("harness/zoo/manifest.py", "fcntl")}
    ),
    "pytest start-up: `import harness.plugin` (pytest11 entry point) reaches this module and does not load this "
    "package today (captum, zennit, quantus, timm, torchvision, matplotlib, huggingface_hub)": frozenset(
        {
            ("harness/checks/localisation.py", "quantus"),
            ("harness/checks/conservation.py", "zennit.attribution"),
            ("harness/checks/conservation.py", "zennit.canonizers"),
            ("harness/checks/conservation.py", "zennit.composites"),
            ("harness/checks/quantus_asserts.py", "quantus.helpers"),
            ("harness/compare/clustering.py", "matplotlib.backends.backend_agg"),
            ("harness/compare/clustering.py", "matplotlib.figure"),
            ("harness/compare/clustering.py", "matplotlib.patches"),
            ("harness/explainers/gradient.py", "captum.attr"),
            ("harness/explainers/lrp_cnn.py", "timm.models.resnet"),
            ("harness/explainers/lrp_cnn.py", "zennit.attribution"),
            ("harness/explainers/lrp_cnn.py", "zennit.canonizers"),
            ("harness/explainers/lrp_cnn.py", "zennit.composites"),
            ("harness/explainers/lrp_cnn.py", "zennit.layer"),
            ("harness/explainers/perturbation.py", "captum._utils.models.linear_model"),
            ("harness/explainers/perturbation.py", "captum.attr"),
            ("harness/explainers/perturbation.py", "captum.attr._core.lime"),
            ("harness/explainers/smoothing.py", "captum._utils.gradient"),
            ("harness/explainers/smoothing.py", "captum.attr"),
            ("harness/images/folders.py", "timm.data"),
            ("harness/metrics/faithfulness.py", "quantus.functions.similarity_func"),
            ("harness/metrics/faithfulness.py", "quantus.helpers.utils"),
            ("harness/metrics/mprt.py", "quantus"),
            ("harness/metrics/mprt.py", "quantus.functions.similarity_func"),
            ("harness/metrics/plain.py", "quantus"),
            ("harness/metrics/road.py", "quantus.functions.perturb_func"),
            ("harness/metrics/road.py", "quantus.helpers.model.pytorch_model"),
            ("harness/models/adapters.py", "torchvision"),
            ("harness/models/from_timm.py", "timm"),
            ("harness/models/from_timm.py", "timm.models.resnet"),
            ("harness/models/loading.py", "timm"),
            ("harness/models/oracle.py", "timm.models.vision_transformer"),
            ("harness/models/weights.py", "huggingface_hub"),
            ("harness/report/heatmaps.py", "matplotlib"),
            ("harness/report/heatmaps.py", "matplotlib.patches"),
            ("harness/report/heatmaps.py", "matplotlib.pyplot"),
            ("harness/report/overlays.py", "matplotlib"),
        }
    ),
    "CLI start-up: `python -m harness --help` imports every command module and would load matplotlib, timm or "
    "huggingface_hub's HTTP stack for every command": frozenset(
        {
            ("harness/app/labels.py", "timm.data"),
            ("harness/app/render.py", "matplotlib"),
            ("harness/app/render.py", "matplotlib.figure"),
            ("harness/cli/weights.py", "huggingface_hub"),
            ("harness/report/figure_sets.py", "matplotlib"),
            ("harness/report/figure_sets.py", "matplotlib.pyplot"),
            ("harness/zoo/evaluate.py", "matplotlib"),
            ("harness/zoo/evaluate.py", "matplotlib.pyplot"),
        }
    ),
    "drift overlays may pin a numpy this pandas was not built for": frozenset(
        {("harness/report/consensus.py", "pandas"), ("harness/report/leaderboard.py", "pandas")}
    ),
}


def _absolute(path: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = path.removesuffix(".py").split("/")[:-1]  # a module's package; __init__'s is its own folder
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def local_imports(path: str, source: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) of each import inside a function of ``source`` (the file at ``path``)."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, ast.Import):
                yield from ((alias.name, child.lineno) for alias in child.names)
            elif in_function and isinstance(child, ast.ImportFrom):
                yield _absolute(path, child), child.lineno
            yield from walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    yield from walk(ast.parse(source, filename=path), False)


def _found() -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for file in sorted(ROOT.rglob("*.py")):
        path = file.relative_to(REPO).as_posix()
        for module, line in local_imports(path, file.read_text()):
            found.setdefault((path, module), []).append(line)
    return found


def test_function_level_imports_have_a_reason():
    allowed = frozenset().union(*ALLOWED.values())
    stray = [
        f"{path}:{lines[0]} imports {module}"
        for (path, module), lines in _found().items()
        if (path, module) not in allowed
    ]
    assert not stray, (
        "function-level imports without a reason (move them to module level, or add them to ALLOWED in "
        "tests/test_local_imports.py under the reason that keeps them lazy):\n" + "\n".join(stray)
    )


def test_allow_list_names_only_imports_that_exist():
    found = _found()
    stale = [
        f"{path} -> {module} [{reason}]"
        for reason, pairs in ALLOWED.items()
        for path, module in pairs
        if (path, module) not in found
    ]
    assert not stale, "allow-list entries with no such function-level import (remove them):\n" + "\n".join(stale)


def test_each_entry_has_one_reason():
    seen: dict[tuple[str, str], str] = {}
    twice = [
        f"{pair}: {seen[pair]!r} and {reason!r}"
        for reason, pairs in ALLOWED.items()
        for pair in pairs
        if seen.setdefault(pair, reason) != reason
    ]
    assert not twice, "\n".join(twice)


def test_scan_resolves_relative_and_nested_imports():
    source = (
        "import os\n"
        "def f():\n"
        "    from . import sibling\n"
        "    from ..core import atomic\n"
        "    class C:\n"
        "        def m(self):\n"
        "            import json\n"
    )
    assert list(local_imports("harness/models/x.py", source)) == [
        ("harness.models", 3),
        ("harness.core", 4),
        ("json", 7),
    ]
    assert list(local_imports("harness/plugin/__init__.py", "def g():\n    from .xdist_groups import M\n")) == [
        ("harness.plugin.xdist_groups", 2)
    ]
