import numpy as np
import pytest
import torch

from harness.cases.image_sets import image_set_from_spec
from harness.images import (
    ImageLoadError,
    builtin_images,
    foolbox_images,
    image_folder,
    imagenette,
    preprocess,
    read_image,
    resize_crop,
)
from harness.models import get_model_cfg


def test_builtin_set_is_real_labelled_and_documented():
    images = builtin_images()
    assert len(images.labelled) >= 20
    assert len(foolbox_images()) == 20
    for rec in images:
        assert rec.path.is_file(), rec.id
        assert rec.source and rec.licence, f"{rec.id} lacks source or licence"
        assert rec.label is not None and 0 <= rec.label < 1000
    assert {r.id for r in images} >= {"foolbox/imagenet_00_243", "skimage/chelsea"}
    mastiff = next(r for r in images if r.id == "foolbox/imagenet_00_243")
    assert mastiff.label == 243 and mastiff.accepts(243) and not mastiff.accepts(244)


def test_hand_labels_accept_listed_alternatives():
    cat = next(r for r in builtin_images() if r.id == "skimage/chelsea")
    assert cat.accepts(281) and cat.accepts(285) and not cat.accepts(243)


def test_corrupt_image_names_the_file(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 this is not a jpeg")
    with pytest.raises(ImageLoadError, match="broken.jpg"):
        read_image(bad)


def test_image_folder_labels_from_synsets(image_dir):
    images = image_folder(image_dir)
    assert len(images) == 4
    assert [r.label for r in images] == [0, 0, 1, 1]  # n01440764 = tench = 0, n01443537 = goldfish = 1


def test_image_folder_without_classes_is_unlabelled(tmp_path):
    from conftest import write_png

    write_png(tmp_path / "a.png", 0)
    images = image_folder(tmp_path, name="loose")
    assert [r.id for r in images] == ["loose/a"] and images.records[0].label is None


def test_imagenette_layout(tmp_path):
    from conftest import write_png

    for i in range(3):
        write_png(tmp_path / "val" / "n03888257" / f"ILSVRC_{i}.JPEG", i)
    images = imagenette(tmp_path, split="val", per_class=2)
    assert len(images) == 2 and {r.label for r in images} == {701}  # parachute
    with pytest.raises(FileNotFoundError, match="synset"):
        imagenette(tmp_path / "val" / "n03888257")


def test_unknown_spec_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="unknown image set"):
        image_set_from_spec("imagenet")
    with pytest.raises(FileNotFoundError):
        image_set_from_spec(f"folder:{tmp_path / 'nothing'}")


def test_preprocessing_follows_model_config():
    pixels = np.full((300, 400, 3), 127, dtype=np.uint8)
    lite = get_model_cfg("efficientnet_lite1")
    x = preprocess([pixels], lite)
    assert x.shape == (1, 3, 240, 240)
    assert torch.allclose(x, torch.zeros_like(x), atol=1e-6)  # (127 - 127) / 128
    assert resize_crop(pixels, get_model_cfg("resnet50")).shape == (224, 224, 3)
