"""pytest-benchmark: what the bootstrap over images adds to building the report (target: under 20 %).

Two entries in one group build the whole report (``build_report``: consensus
with its CSVs, heatmaps and dendrograms, leaderboard, index) from the same
store, ``plain`` with ``resamples=0`` (no intervals) and ``bootstrap`` with
the default B = 1000; the ``bootstrap`` entry's ``extra_info`` carries
``ratio_vs_plain`` (ratio of the means) and ``ratio_vs_plain_min`` (of the
fastest rounds, the steadier figure on a shared machine).

The store: ``XAI_HARNESS_BENCH_STORE`` (a real run's, e.g. the default zoo
grid ``python -m harness run --models 'zoo_*' --explainers
gradcam,ig,kernelshap,scorecam --store PATH``, with
``XAI_HARNESS_BENCH_ZOO_IMAGES=8`` to read the default 8 of a larger store);
without it, a planted store of the same shape (11 models, 4 explainers, 8
images, 224 px maps, 2 metrics x 4 explainers x 11 models on 4 images).

Timed (marker ``bench``): runs only with ``XAI_HARNESS_BENCH=1`` or ``-m bench``
(skipped otherwise, so ``tox -e tests`` does not pay for it).
"""

import os
from pathlib import Path

import numpy as np
import pytest

from harness.compute.store import Store
from harness.report.consensus import ConsensusOptions
from harness.report.summary import build_report

pytestmark = pytest.mark.bench  # skipped unless XAI_HARNESS_BENCH=1 or -m bench (tests/conftest.py)

ROUNDS = int(os.environ.get("XAI_HARNESS_BENCH_ROUNDS", "3"))
ZOO_IMAGES = int(os.environ.get("XAI_HARNESS_BENCH_ZOO_IMAGES", "0"))
_REF: dict[str, tuple[float, float]] = {}


def _planted(root: Path) -> Store:
    store = Store(root)
    rng = np.random.default_rng(0)
    models = [(f"cnn{i}", "cnn") for i in range(6)] + [(f"vit{i}", "transformer") for i in range(5)]
    for explainer in ("gradcam", "ig", "kernelshap", "scorecam"):
        protos = {f: rng.random((8, 224, 224), dtype=np.float32) for f in ("cnn", "transformer")}
        for model, family in models:
            maps = protos[family] + 0.5 * rng.random((8, 224, 224), dtype=np.float32)
            for i, attr in enumerate(maps):
                fields = {"model": model, "weights": "w", "explainer": explainer, "params": {}, "image": f"d{i}"}
                meta = {"targets_mode": "pred", "family": family, "image_id": f"shapes/{i}", "label": i % 8}
                meta["label_space"] = "shapes"
                store.put(
                    "explanation", fields | {"target": i}, {"attribution": attr}, meta | {"label_space": "shapes"}
                )
    for metric in ("faithfulness_corr", "pointing_game"):
        for model, _ in models:
            for explainer in ("gradcam", "ig", "kernelshap", "scorecam", "random"):
                fields = {
                    "model": model,
                    "weights": "w",
                    "explainer": explainer,
                    "explainer_params": {},
                    "metric": metric,
                    "metric_params": {},
                    "images": ["d0", "d1", "d2", "d3"],
                    "targets": [0, 1, 2, 3],
                }
                meta = {"higher_is_better": True, "category": "x", "created": 1.0}
                store.put("metric", fields, {"scores": rng.random(4)}, meta)
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = os.environ.get("XAI_HARNESS_BENCH_STORE")
    if path:
        return Store(Path(path))
    return _planted(tmp_path_factory.mktemp("bench-store"))


@pytest.mark.parametrize("impl", ["plain", "bootstrap"])
def test_report_with_bootstrap(benchmark, store, tmp_path, impl):
    subsets = None
    if ZOO_IMAGES:
        from harness.zoo.shapes import LABEL_SPACE, shapes_images

        subsets = {LABEL_SPACE: tuple(r.id for r in shapes_images("test", ZOO_IMAGES, root=tmp_path).records)}
    options = ConsensusOptions(resamples=0 if impl == "plain" else 1000)
    runs = iter(range(10_000))

    def build():
        return build_report(
            tmp_path / "reports",
            f"run{next(runs)}",
            root=tmp_path,
            store=store,
            settings={},
            consensus_options=options,
            image_subsets=subsets,
        )

    benchmark.group = "report: bootstrap over images"
    benchmark.extra_info.update(impl=impl, store=os.environ.get("XAI_HARNESS_BENCH_STORE", "planted"))
    out, consensus = benchmark.pedantic(build, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert consensus["explainers"]
    if impl == "bootstrap":
        assert consensus["bootstrap"]["resamples"] == 1000
    if benchmark.stats is None:  # --benchmark-disable
        return
    st = benchmark.stats.stats
    if impl == "plain":
        _REF["plain"] = (st.mean, st.min)
    elif "plain" in _REF:
        benchmark.extra_info["ratio_vs_plain"] = round(st.mean / _REF["plain"][0], 3)
        benchmark.extra_info["ratio_vs_plain_min"] = round(st.min / _REF["plain"][1], 3)
