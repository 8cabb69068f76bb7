"""``python -m harness figure``: drawn from the store, computing nothing when it is warm."""

from __future__ import annotations

import pytest
from PIL import Image

from harness.cli import main
from harness.cli.figures import make_figure
from harness.compute.store import Store
from harness.report.figure_sets import SPECS

MODELS = "zoo_resnet,zoo_vit_p16"


def test_thesis_grid_computes_nothing_on_a_warm_store(tmp_path, capsys):
    root = tmp_path / "store"
    cold = make_figure("thesis-grid", store=Store(root), out=tmp_path / "cold", models=MODELS, zoo_images=1, shown=1)
    assert cold.store["misses"] > 0 and cold.computed == 6  # gradcam, ig, kernelshap x 2 models x 1 image
    assert sorted(cold.models) == ["zoo_resnet", "zoo_vit_p16"]
    code = main(
        ["figure", "thesis-grid", "--store", str(root), "--out", str(tmp_path / "warm"), "--models", MODELS]
        + ["--zoo-images", "1", "--shown", "1"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "store: 8 hits, 0 misses, 0 writes; 0 explanations computed" in out
    folder = tmp_path / "warm" / "thesis-grid"
    grids = sorted(folder.glob("shapes_*.png"))
    assert len(grids) == 1 and Image.open(grids[0]).size[0] > 300
    for ex in SPECS["thesis-grid"].explainers:  # heatmap and dendrogram per explainer, in leaf order
        assert (folder / "shapes_consensus" / f"{ex}_dissimilarity.png").is_file()
        assert (folder / "shapes_consensus" / f"{ex}_dendrogram.png").is_file()


def test_models_without_weights_are_left_out_in_one_line(tmp_path):
    from harness.models import WeightsOptions, WeightsUnavailable, get_model_cfg, resolve_weights

    missing = []
    for name in ("vit_b16", "deit_tiny", "resnet18", "swin_tiny"):
        try:
            resolve_weights(get_model_cfg(name), WeightsOptions.from_env())
        except WeightsUnavailable:
            missing.append(name)
    if not missing:
        pytest.skip("every candidate model has weights here")
    run = make_figure(
        "cam-vs-rollout", store=Store(tmp_path / "s"), out=tmp_path, models=",".join(missing), zoo_images=1, shown=1
    )
    assert run.files == [] and set(run.left_out) == set(missing)
    assert sum("left out for want of weights" in line for line in run.lines()) == 1
