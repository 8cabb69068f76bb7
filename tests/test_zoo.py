"""The ground-truth zoo: shapes dataset, training step, committed weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from harness.images import image_digest, read_image, read_mask
from harness.models import get_model_cfg, list_models
from harness.zoo.shapes import CLASS_NAMES, NUM_CLASSES, make_sample, make_split, shapes_images


def test_classes_and_sample_contract():
    assert NUM_CLASSES >= 8 and len(set(CLASS_NAMES)) == NUM_CLASSES
    s = make_sample(0, "train", 3)
    assert s.image.shape == (224, 224, 3) and s.image.dtype == np.uint8
    assert s.mask.shape == (224, 224) and s.mask.dtype == bool
    assert 0 <= s.label < NUM_CLASSES and s.meta["class_name"] == CLASS_NAMES[s.label]
    # The object is large enough to see and never fills the frame.
    assert 0.01 < s.mask.mean() < 0.3


def test_deterministic_by_seed():
    a, b = make_sample(7, "val", 11), make_sample(7, "val", 11)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask) and a.label == b.label
    c = make_sample(8, "val", 11)
    assert not np.array_equal(a.image, c.image)


def test_splits_never_overlap():
    digests = {
        split: {image_digest(make_sample(0, split, i).image) for i in range(60)} for split in ("train", "val", "test")
    }
    assert all(len(d) == 60 for d in digests.values())
    assert not (digests["train"] & digests["val"]) and not (digests["train"] & digests["test"])
    assert not (digests["val"] & digests["test"])


def test_mask_marks_the_class_object():
    """Inside the mask the pixels carry the class colour; the mask is exact, not a box."""
    s = make_sample(0, "test", 5)
    inside = s.image[s.mask].astype(float)
    outside = s.image[~s.mask].astype(float)
    assert np.abs(inside.mean(0) - outside.mean(0)).max() > 20
    ys, xs = np.nonzero(s.mask)
    box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
    assert s.mask.sum() < box  # rotated shapes never fill their bounding box


def test_labels_cover_all_classes():
    _, _, labels = make_split(0, "test", 120)
    assert set(labels.tolist()) == set(range(NUM_CLASSES))


def test_spurious_cue_correlates_in_train_only():
    train = [make_sample(0, "train", i, spurious=True, cue_p=0.9) for i in range(200)]
    test = [make_sample(0, "test", i, spurious=True, cue_p=0.9) for i in range(200)]
    agree_train = np.mean([s.cue == s.label for s in train])
    agree_test = np.mean([s.cue == s.label for s in test])
    assert agree_train > 0.8, agree_train
    assert agree_test < 0.3, agree_test
    assert all(s.meta["spurious"] for s in train)


def test_shapes_image_set_on_disk(tmp_path):
    images = shapes_images("test", 6, seed=1, root=tmp_path)
    assert len(images) == 6 and images.name == "shapes:test"
    for rec in images:
        px, mask = read_image(rec.path), read_mask(rec.mask)
        assert rec.label_space == "shapes" and rec.label is not None
        sample = make_sample(1, "test", int(rec.id.split("_")[1]))
        assert np.array_equal(px, sample.image) and np.array_equal(mask, sample.mask)
    again = shapes_images("test", 6, seed=1, root=tmp_path)  # reused, not rewritten
    assert [r.path for r in again] == [r.path for r in images]


def test_zoo_data_command(tmp_path, capsys):
    from harness.cli import main

    assert main(["zoo", "data", "--out", str(tmp_path), "--n", "4", "--split", "val", "--spurious"]) == 0
    folder = next(tmp_path.glob("shapes-spurious-s0-val-n4"))
    index = json.loads((folder / "index.json").read_text())
    assert len(index["samples"]) == 4 and index["spurious"]
    assert all((folder / row["mask"]).is_file() for row in index["samples"])


def test_zoo_registry_families_and_grids():
    zoo = [get_model_cfg(n) for n in list_models(source="zoo")]
    fams = [c.family for c in zoo]
    assert fams.count("cnn") >= 5 and fams.count("transformer") >= 4
    assert all(c.label_space == "shapes" and c.num_classes == NUM_CLASSES for c in zoo)
    by_name = {c.name: c for c in zoo}
    assert by_name["zoo_vit_p16"].native_grid(100) == (14, 14)
    assert by_name["zoo_vit_p32"].native_grid(100) == (7, 7)
    assert by_name["zoo_resnet"].native_grid(100) == (7, 7)


def test_training_step_lowers_the_loss():
    """A tiny run of the real training loop: the training loss falls."""
    from harness.zoo.train import make_data, train_one

    torch.set_num_threads(2)
    data = make_data(3, 96, 32, 8)
    _, info = train_one(
        "zoo_vit_p32", data, seed=0, epochs=4, budget_s=120, stop_at=1.01, batch=32, lr=2e-3, device=torch.device("cpu")
    )
    losses = [row["train_loss"] for row in info["history"]]
    assert len(losses) == 4
    assert losses[-1] < losses[0] - 0.05, losses


def test_localisation_check_uses_masks_and_a_random_control(tmp_path):
    from types import SimpleNamespace

    from harness.checks import CheckFailure, check_localisation

    images = shapes_images("test", 4, root=tmp_path)
    masks = np.stack([read_mask(r.mask) for r in images]).astype(np.float32)

    def result(maps):
        return SimpleNamespace(
            model="zoo_resnet", model_label="zoo_resnet", explainer="planted", records=images.records, attributions=maps
        )

    good = check_localisation(result(masks + 0.01), None)
    assert good["pointing_game"] == 1.0 and good["relevance_mass"] > 0.5
    assert good["relevance_mass_random"] < 0.3 and good["zero_maps"] == 0
    with pytest.raises(
        CheckFailure,
        match=r"relevance mass on the object 0\.000 is not above the "
        r"random-attribution control .*\[planted on zoo_resnet\]",
    ):
        check_localisation(result(1.0 - masks), None)


def test_shapes_is_an_image_source_like_any_other(tmp_path, monkeypatch, capsys):
    from harness.cases.image_sets import image_set_from_spec
    from harness.cli import main

    monkeypatch.setenv("XAI_HARNESS_DATA", str(tmp_path))
    images = image_set_from_spec("shapes:val:3")
    assert len(images) == 3 and all(r.mask is not None and r.label_space == "shapes" for r in images)
    assert len(image_set_from_spec("shapes-spurious")) == 16
    with pytest.raises(ValueError, match="bad image set 'shapes:dev'"):
        image_set_from_spec("shapes:dev")
    assert main(["list", "images", "--set", "shapes:val:3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["mask"] is not None for r in rows] == [True] * 3


def test_missing_zoo_weights_say_how_to_train(monkeypatch, tmp_path):
    from harness.models import WeightsUnavailable, resolve_weights, weights

    monkeypatch.setattr(weights, "ZOO_DIR", tmp_path)
    with pytest.raises(
        WeightsUnavailable,
        match=r"zoo_resnet: no weights at .*zoo_resnet\.safetensors; "
        r"train it with `python -m harness zoo train zoo_resnet`",
    ):
        resolve_weights(get_model_cfg("zoo_resnet"))
