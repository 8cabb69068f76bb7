"""pytest-benchmark: building the report (galleries, viewer, consensus) from a warm store vs the cold run.

``test_cold_run`` computes a grid of explanations into a fresh store and
builds the report (what a first ``pytest suites/`` does); then
``test_report_from_warm_store`` rebuilds the report alone from that store.
The warm entry's ``extra_info`` carries ``ratio_vs_cold`` (mean warm build
over the cold run; the goal is < 0.10) and ``ratio_vs_cold_cpu`` (the same in
process CPU time, the steadier figure on a shared machine), and both carry the report's size,
its overlay count and bytes per overlay, from which docs/reports.md
extrapolates the default run's size.

Defaults: ``zoo_resnet`` and ``zoo_vit_p16``, every supported explainer, 2
images; ``XAI_HARNESS_BENCH_REPORT_MODELS``, ``..._EXPLAINERS`` (fnmatch
patterns, comma-separated) and ``..._IMAGES`` scale it.

Timed (marker ``bench``): runs only with ``XAI_HARNESS_BENCH=1`` or ``-m bench``
(skipped otherwise, so ``tox -e tests`` does not pay for it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench  # skipped unless XAI_HARNESS_BENCH=1 or -m bench (tests/conftest.py)

MODELS = os.environ.get("XAI_HARNESS_BENCH_REPORT_MODELS", "zoo_resnet,zoo_vit_p16")
EXPLAINERS = os.environ.get("XAI_HARNESS_BENCH_REPORT_EXPLAINERS", "*")
IMAGES = int(os.environ.get("XAI_HARNESS_BENCH_REPORT_IMAGES", "2"))
_COLD: dict[str, float] = {}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench_report")


def _settings() -> dict[str, str]:
    return {"images": "builtin", "zoo_images": str(IMAGES)}


def _build(root: Path, store_path: Path, run_id: str) -> Path:
    from harness.compute.store import Store
    from harness.report.summary import build_report

    out, _ = build_report(root / "reports", run_id, root=root, store=Store(store_path), settings=_settings())
    return out


def _size(out: Path) -> dict[str, float]:
    files = [p for p in out.rglob("*") if p.is_file()]
    maps = [
        p
        for p in (out / "gallery").rglob("*.t.webp")
        if not p.name.startswith("_image") and not p.name.endswith(".native.t.webp")
    ]
    gallery = sum(p.stat().st_size for p in (out / "gallery").rglob("*") if p.is_file())
    return {
        "report_bytes": sum(p.stat().st_size for p in files),
        "gallery_bytes": gallery,
        "overlays": len(maps),
        "gallery_bytes_per_overlay": gallery / max(1, len(maps)),
    }


def _cold(root: Path) -> None:
    import shutil

    from harness.cases.image_sets import run_image_sets
    from harness.compute.runner import Runner
    from harness.compute.store import Store
    from harness.explainers import list_explainers
    from harness.models import list_models
    from harness.suite.grid import plan_grid

    store_path = root / "store"
    shutil.rmtree(store_path, ignore_errors=True)
    store = Store(store_path)
    images = run_image_sets("builtin", zoo_images=IMAGES, datasets=str(root / "datasets"))
    runner = Runner(store, images, device="cpu")
    models = [m for p in MODELS.split(",") for m in list_models(p.strip())]
    explainers = [e for p in EXPLAINERS.split(",") for e in list_explainers(p.strip())]
    for task in plan_grid(models, explainers, costly_images=IMAGES):
        runner.explain(task.model, task.create(), limit=IMAGES)
    _build(root, store_path, "cold")


def test_cold_run(benchmark, root):
    start, cpu = time.perf_counter(), time.process_time()
    benchmark.pedantic(_cold, args=(root,), rounds=1, iterations=1)
    _COLD["seconds"] = time.perf_counter() - start
    _COLD["cpu"] = time.process_time() - cpu
    benchmark.extra_info.update(_size(root / "reports" / "cold"), models=MODELS, images=IMAGES)


def test_report_from_warm_store(benchmark, root):
    if "seconds" not in _COLD:
        pytest.skip("needs test_cold_run first (same module)")
    counter = iter(range(1000))
    rounds = 3
    cpu = time.process_time()
    out = benchmark.pedantic(
        lambda: _build(root, root / "store", f"warm{next(counter)}"), rounds=rounds, iterations=1, warmup_rounds=0
    )
    warm_cpu = (time.process_time() - cpu) / rounds
    warm = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        _size(out),
        ratio_vs_cold=warm / _COLD["seconds"],
        ratio_vs_cold_cpu=warm_cpu / _COLD["cpu"],
        cold_seconds=_COLD["seconds"],
        cold_cpu_seconds=_COLD["cpu"],
        warm_cpu_seconds=warm_cpu,
    )
    assert (out / "index.html").is_file() and _size(out)["overlays"] > 0
