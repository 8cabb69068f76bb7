"""The full explainer set: tags, cost statements, CLI listing and which suite cases exist."""

import json
import subprocess
import sys

from harness.explainers import get_explainer_cfg, list_explainers
from harness.models import get_model_cfg
from harness.suite import explanation_params, regression_params

ISSUE_SET = {
    "cam",
    "gradcam",
    "gradcam_d25",
    "gradcam_d50",
    "gradcam_d75",
    "gradcampp",
    "scorecam",
    "ablationcam",
    "lime",
    "occlusion",
    "smoothgrad",
    "gradientshap",
    "rollout",
    "chefer",
    "lrp_vit",
    "lrp_cnn",
    "ig",
    "kernelshap",
    "saliency",
}
ZOO_CNN, ZOO_TRANSFORMERS = ("zoo_resnet", "zoo_convnext"), ("zoo_vit_p16", "zoo_swin", "zoo_pvt_v2")


def test_every_method_is_registered_with_cost_and_passes():
    assert set(list_explainers()) >= ISSUE_SET
    for name in ISSUE_SET:
        cfg = get_explainer_cfg(name)
        assert cfg.cost in ("cheap", "moderate", "expensive") and "forward" in cfg.passes, name


def test_each_method_runs_on_a_cnn_and_a_transformer_or_declares_its_family():
    for name in ISSUE_SET:
        cfg = get_explainer_cfg(name)
        cnn = any(cfg.supports(get_model_cfg(m)) for m in ZOO_CNN)
        vit = any(cfg.supports(get_model_cfg(m)) for m in ZOO_TRANSFORMERS)
        assert cnn or "cnn" not in cfg.families, name
        assert vit or "transformer" not in cfg.families, name
        assert cnn or vit, name


def test_unsupported_pairs_are_deselected_not_failed():
    ids = {
        p.id
        for p in explanation_params(
            models=["zoo_resnet", "zoo_swin", "zoo_vit_p16", "zoo_pvt_v2"],
            explainers=["cam", "rollout", "lrp_cnn", "lrp_vit"],
        )
    }
    assert "cam-zoo_resnet-check_shape" in ids and "cam-zoo_pvt_v2-check_shape" in ids
    assert "rollout-zoo_vit_p16-check_shape" in ids and "lrp_vit-zoo_vit_p16-check_shape" in ids
    assert "lrp_cnn-zoo_resnet-check_shape" in ids
    for absent in (
        "cam-zoo_vit_p16",
        "cam-zoo_swin",
        "rollout-zoo_swin",
        "rollout-zoo_pvt_v2",
        "rollout-zoo_resnet",
        "lrp_cnn-zoo_swin",
        "lrp_vit-zoo_pvt_v2",
    ):
        assert not any(i.startswith(absent + "-") for i in ids), absent


def test_regression_gate_covers_only_explainers_with_baselines():
    gated = {p.id.split("-")[0] for p in regression_params(models=["zoo_resnet", "zoo_vit_p16"])}
    assert gated == {"gradcam", "ig", "kernelshap", "saliency"}
    explicit = {p.id for p in regression_params(models=["zoo_resnet"], explainers=["cam"])}
    assert explicit == {"cam-zoo_resnet-check_regression"}


def test_rollout_is_a_declared_known_failure_of_target_respect():
    params = {p.id: p for p in explanation_params(models=["zoo_vit_p16"], explainers=["rollout"])}
    marks = [m.name for m in params["rollout-zoo_vit_p16-check_target_respected"].marks]
    assert "xfail" in marks


def test_cli_lists_every_method_with_tags_and_passes():
    out = subprocess.run(
        [sys.executable, "-m", "harness", "list", "explainers", "--json"], capture_output=True, text=True, check=True
    ).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) >= ISSUE_SET
    assert rows["rollout"]["tags"]["needs_tokens"] and rows["cam"]["tags"]["requires"] == ["gap_linear_head"]
    assert rows["lime"]["tags"]["stochastic"] and rows["lime"]["tags"]["cost"] == "expensive"
    assert rows["scorecam"]["passes"].startswith("1 + n_channels forward")


def test_cli_stops_quietly_when_its_reader_goes_away():
    """``python -m harness list explainers --json | head -1``: no BrokenPipeError traceback on stderr.

    The reading end is closed before the command has imported anything, so its first write meets a closed
    pipe (the listing fits in a pipe's buffer: a reader that left after one line would not be noticed)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "list", "explainers", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
