"""``python -m harness weights fetch|where``, offline, on a cache laid out as the hub lays it out.

The cache holds ``models--timm--resnet18.a1_in1k/snapshots/<rev>/model.safetensors``,
``config.json`` and ``refs/main``; under ``HF_HUB_OFFLINE=1`` ``fetch`` finds
cached models and names the ones it cannot get, and ``where`` / the
weights resolution (``HF_HUB_CACHE`` or ``--harness-weights DIR``) use the copy.
"""

import json

import pytest

from harness.cli import main
from harness.cli.weights import select_models
from harness.models import WeightsOptions, get_model_cfg, resolve_weights

REV = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path):
    cfg = get_model_cfg("resnet18")
    repo = tmp_path / "hub" / f"models--{cfg.hf_hub_id.replace('/', '--')}"
    snap = repo / "snapshots" / REV
    snap.mkdir(parents=True)
    (snap / "model.safetensors").write_bytes(b"not really tensors, only found and hashed")
    (snap / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REV)
    return tmp_path / "hub"


def test_study_selection_is_sixteen():
    names = select_models("study")
    assert len(names) == 16 and {"resnet34", "vit_b16"} <= set(names)
    assert all(get_model_cfg(n).hf_hub_id.startswith("timm/") for n in names)


def test_fetch_offline_finds_cached_and_names_missing(hub_cache, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rc = main(["weights", "fetch", "--models", "resnet18,resnet34", "--cache-dir", str(hub_cache), "--json"])
    rows = {r["model"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["resnet18"]["status"] == "ok" and rows["resnet18"]["path"].endswith(REV)
    assert rows["resnet34"]["status"] == "failed" and rc == 1


def test_where_and_resolution_use_the_cache(hub_cache, monkeypatch, capsys):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("XAI_HARNESS_WEIGHTS", raising=False)
    assert main(["weights", "where", "--models", "resnet18,resnet34", "--cache-dir", str(hub_cache), "--json"]) == 0
    rows = {r["model"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["resnet18"]["status"] == "hf-cache" and rows["resnet18"]["path"].endswith("model.safetensors")
    assert rows["resnet34"]["status"] == "missing" and "resnet34" in rows["resnet34"]["path"]
    # --harness-weights DIR pointing at the hub cache
    src = resolve_weights(get_model_cfg("resnet18"), WeightsOptions(locations=(str(hub_cache),)))
    assert src.kind == "local" and src.path.parent.name == REV
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))  # HF_HUB_CACHE on the air-gapped machine
    assert resolve_weights(get_model_cfg("resnet18"), WeightsOptions()).kind == "hf-cache"
