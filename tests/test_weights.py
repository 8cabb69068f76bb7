"""Weight resolution with weights we save ourselves, and the no-weights paths."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from harness.models import WeightsOptions, WeightsUnavailable, get_model_cfg, load_model, resolve_weights
from harness.models import weights as weights_mod
from harness.models.config import ModelCfg
from harness.models.loading import build_module
from harness.models.packaged import remap_in_order

# A timm-sourced model small enough to build in milliseconds.
TINY = ModelCfg(
    name="tiny_timm",
    arch="test_resnet",
    family="cnn",
    source="timm",
    input_size=64,
    hf_hub_id="timm/test_resnet.r160_in1k",
    create_kwargs=(("num_classes", 10),),
    num_classes=10,
)


def _saved_model(path: Path, seed: int = 1) -> torch.nn.Module:
    torch.manual_seed(seed)
    module = build_module(TINY).eval()
    if path.suffix == ".safetensors":
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
    else:
        torch.save(module.state_dict(), path)
    return module


def _same_outputs(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return torch.equal(a(x), b(x))


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    monkeypatch.delenv(weights_mod.ENV_WEIGHTS, raising=False)

    def refuse(cfg):
        raise AssertionError("the hub must not be contacted")

    monkeypatch.setattr(weights_mod, "_download", refuse)


def test_local_directory_reproduces_saved_weights(tmp_path):
    ref = _saved_model(tmp_path / "tiny_timm.safetensors")
    loaded = load_model(TINY, weights=WeightsOptions(locations=(str(tmp_path),)), device="cpu")
    assert loaded.weights.kind == "local"
    assert loaded.weights.path == tmp_path / "tiny_timm.safetensors"
    assert loaded.label == "tiny_timm"
    assert _same_outputs(ref, loaded.module)


def test_name_equals_path_with_pth(tmp_path):
    ref = _saved_model(tmp_path / "anything.pth", seed=3)
    loaded = load_model(
        TINY, weights=WeightsOptions(locations=(f"tiny_timm={tmp_path / 'anything.pth'}",)), device="cpu"
    )
    assert _same_outputs(ref, loaded.module)


def test_environment_variable(tmp_path, monkeypatch):
    _saved_model(tmp_path / "test_resnet.safetensors")  # named by arch also works
    monkeypatch.setenv(weights_mod.ENV_WEIGHTS, str(tmp_path))
    assert resolve_weights(TINY, WeightsOptions.from_env()).kind == "local"


def test_missing_named_file_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsUnavailable, match="tiny_timm: weights file .*nope.pth.* does not exist"):
        resolve_weights(TINY, WeightsOptions(locations=(f"tiny_timm={tmp_path / 'nope.pth'}",)))


def test_hf_cache_is_used(tmp_path, monkeypatch):
    cache = tmp_path / "hf"
    snap = cache / "models--timm--test_resnet.r160_in1k" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    ref = _saved_model(snap / "model.safetensors", seed=7)
    (cache / "models--timm--test_resnet.r160_in1k" / "refs").mkdir()
    (cache / "models--timm--test_resnet.r160_in1k" / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    loaded = load_model(TINY, weights=WeightsOptions(), device="cpu")
    assert loaded.weights.kind == "hf-cache"
    assert _same_outputs(ref, loaded.module)


def test_local_beats_hf_cache_order(tmp_path, monkeypatch):
    test_hf_cache_is_used(tmp_path, monkeypatch)
    local = tmp_path / "local"
    local.mkdir()
    _saved_model(local / "tiny_timm.safetensors", seed=9)
    assert resolve_weights(TINY, WeightsOptions(locations=(str(local),))).kind == "local"


def test_unavailable_names_model_and_remedy():
    with pytest.raises(WeightsUnavailable) as info:
        load_model(TINY, weights=WeightsOptions(), device="cpu")
    msg = str(info.value)
    assert msg.startswith("tiny_timm: no weights offline")
    assert "--harness-weights" in msg and "XAI_HARNESS_WEIGHTS" in msg and "\n" not in msg
    assert info.value.model == "tiny_timm"


def test_corrupt_weights_file_names_model_and_file(tmp_path):
    from harness.models import WeightsLoadError

    (tmp_path / "tiny_timm.safetensors").write_bytes(b"definitely not safetensors")
    with pytest.raises(WeightsLoadError, match=r"tiny_timm: cannot load weights from .*tiny_timm.safetensors"):
        load_model(TINY, weights=WeightsOptions(locations=(str(tmp_path),)), device="cpu")


def test_random_only_when_asked_and_labelled():
    loaded = load_model(TINY, weights=WeightsOptions(), random_ok=True, device="cpu")
    assert loaded.weights.is_random and loaded.label == "tiny_timm_random"
    again = load_model(TINY, weights=WeightsOptions(), random_ok=True, device="cpu")
    assert _same_outputs(loaded.module, again.module), "random init must be deterministic"


def test_download_only_when_allowed(monkeypatch, tmp_path):
    ref = _saved_model(tmp_path / "downloaded.safetensors", seed=5)
    monkeypatch.setattr(weights_mod, "_download", lambda cfg: tmp_path / "downloaded.safetensors")
    with pytest.raises(WeightsUnavailable):
        resolve_weights(TINY, WeightsOptions(allow_download=False))
    loaded = load_model(TINY, weights=WeightsOptions(allow_download=True), device="cpu")
    assert loaded.weights.kind == "hub" and _same_outputs(ref, loaded.module)


def test_packaged_lite_weights_resolve_and_hash():
    src = resolve_weights(get_model_cfg("efficientnet_lite0"), WeightsOptions())
    assert src.kind == "package" and src.path.suffix == ".pth"
    assert src.sha256 == weights_mod.file_sha256(src.path) and len(src.sha256) == 64


def test_remap_in_order_checks_shapes():
    a = {"x.w": torch.zeros(2, 3), "x.b": torch.zeros(2)}
    assert list(remap_in_order(a, {"y.w": torch.ones(2, 3), "y.b": torch.ones(2)}, model="m")) == ["y.w", "y.b"]
    with pytest.raises(ValueError, match=r"m: tensor x.w \(2, 3\) does not fit y.w \(3, 2\)"):
        remap_in_order(a, {"y.w": torch.ones(3, 2), "y.b": torch.ones(2)}, model="m")
    with pytest.raises(ValueError, match="2 tensors, the model expects 1"):
        remap_in_order(a, {"y.w": torch.ones(2, 3)}, model="m")


def test_pretrained_false_is_random_even_when_weights_exist():
    loaded = load_model("toy_linear", pretrained=False, device="cpu")
    assert loaded.weights.is_random and loaded.label == "toy_linear_random"
    with_weights = load_model(TINY, weights=WeightsOptions(), random_ok=True, pretrained=False, device="cpu")
    assert with_weights.label == "tiny_timm_random"


class _NotATensor:
    """A class a pickle would have to import: what a weights file must not need."""


def test_refused_pickle_names_model_file_and_reason(tmp_path):
    from harness.models import WeightsLoadError

    path = tmp_path / "tiny_timm.pth"
    torch.save({"conv.weight": torch.zeros(1), "extra": _NotATensor()}, path)
    with pytest.raises(WeightsLoadError) as info:
        load_model(TINY, weights=WeightsOptions(locations=(str(tmp_path),)), device="cpu")
    msg = str(info.value)
    assert msg.startswith(f"tiny_timm: cannot load weights from {path}: refused: a pickle")
    assert "_NotATensor" in msg and "safetensors" in msg
    assert "UnpicklingError" not in msg and "weights_only=False" not in msg and "\n" not in msg
