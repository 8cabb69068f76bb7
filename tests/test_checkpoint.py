"""A user's checkpoint and classes: arch + file + class names; ImageFolder sets labelled by class name."""

from pathlib import Path

import pytest
import torch

from conftest import write_png
from harness.images import ClassMismatch, class_folder
from harness.models import WeightsLoadError, WeightsUnavailable, load_model
from harness.models.checkpoint import checkpoint_model

CLASSES = ("circle", "square", "triangle")


def _trained_like(tmp_path: Path, suffix: str) -> tuple[Path, torch.nn.Module]:
    import timm

    torch.manual_seed(3)
    module = timm.create_model("resnet18", pretrained=False, num_classes=3).eval()
    path = tmp_path / f"mine{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(module.state_dict(), str(path))
    else:
        torch.save({"state_dict": module.state_dict(), "epoch": 3}, path)
    return path, module


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_checkpoint_loads_the_users_weights(tmp_path, suffix):
    path, module = _trained_like(tmp_path, suffix)
    cfg = checkpoint_model("mine", arch="resnet18", checkpoint=path, class_names=CLASSES, register=False)
    assert cfg.num_classes == 3 and cfg.class_names == CLASSES and cfg.label_space == "mine"
    assert cfg.target_layers == ("layer1", "layer2", "layer3", "layer4")
    loaded = load_model(cfg, device="cpu")
    assert loaded.weights.kind == "checkpoint" and loaded.label == "mine"
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), module(x))


def test_refused_pickle_and_wrong_head(tmp_path):
    import timm

    whole = tmp_path / "whole.pth"
    torch.save(timm.create_model("resnet18", pretrained=False, num_classes=3), whole)
    cfg = checkpoint_model("mine", arch="resnet18", checkpoint=whole, class_names=CLASSES, register=False)
    with pytest.raises(WeightsLoadError, match=r"mine: cannot load weights from .*whole.pth: refused: a pickle"):
        load_model(cfg, device="cpu")
    path, _ = _trained_like(tmp_path, ".safetensors")
    four = checkpoint_model("four", arch="resnet18", checkpoint=path, num_classes=4, register=False)
    with pytest.raises(WeightsLoadError, match=r"four: cannot load weights .*size mismatch for fc"):
        load_model(four, device="cpu")


def test_missing_checkpoint_and_bad_declarations(tmp_path):
    cfg = checkpoint_model("gone", arch="resnet18", checkpoint=tmp_path / "gone.safetensors", num_classes=2,
                           register=False)  # fmt: skip
    with pytest.raises(WeightsUnavailable, match=r"gone: checkpoint .*gone.safetensors does not exist"):
        load_model(cfg, device="cpu")
    with pytest.raises(ValueError, match="2 class names"):
        checkpoint_model("x", arch="resnet18", checkpoint="x.pth", num_classes=3, class_names=("a", "b"))
    with pytest.raises(ValueError, match="not one of"):
        checkpoint_model("x", arch="resnet18", checkpoint="x.onnx", num_classes=3)


def _folder(root: Path, classes) -> Path:
    for i, c in enumerate(classes):
        for j in range(2):
            write_png(root / c / f"{j}.png", seed=10 * i + j, size=32)
    return root


def test_image_folder_labels_by_the_models_class_order(tmp_path):
    root = _folder(tmp_path / "val", ("triangle", "circle", "square"))
    s = class_folder(root, classes=("square", "circle", "triangle"), model="mine", label_space="mine")
    assert s.classes == ("square", "circle", "triangle") and len(s) == 6
    labels = {r.id: r.label for r in s}
    assert labels["val/square/0"] == 0 and labels["val/triangle/1"] == 2
    assert {r.label_space for r in s} == {"mine"}
    assert class_folder(root).classes == ("circle", "square", "triangle")  # sorted, as ImageFolder


def test_class_mismatch_names_both(tmp_path):
    root = _folder(tmp_path / "val", ("circle", "hexagon"))
    with pytest.raises(ClassMismatch) as err:
        class_folder(root, classes=CLASSES, model="mine")
    msg = str(err.value)
    assert "model mine ['circle', 'square', 'triangle']" in msg and "['circle', 'hexagon']" in msg
    assert "only in the folder: ['hexagon']" in msg and "only in the model: ['square', 'triangle']" in msg
    part = _folder(tmp_path / "part", ("circle",))
    assert len(class_folder(part, classes=CLASSES, subset_ok=True)) == 2


def test_imagefolder_spec(tmp_path):
    from harness.cases.image_sets import image_set_from_spec

    root = _folder(tmp_path / "val", ("b", "a"))
    s = image_set_from_spec(f"imagefolder:{root}")
    assert s.classes == ("a", "b") and sorted({r.label for r in s}) == [0, 1]
