"""One generator for every check: what a user's model gets from ``parametrize_with_checks``.

A small model is declared in each test as a project declares it (``HarnessRegistry``,
``[tool.xai-harness]``): the cases it gets are those its tags allow (property checks,
metrics), localisation only when its ImageFolder carries masks (a ``masks/`` folder
beside it, or ``masks =`` in the declaration), and a missing or mismatched mask is an
error naming the image.
"""

import re

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from safetensors.torch import save_file

from conftest import write_png
from harness.cases.image_sets import LABEL_SPACE_SETS, masked_label_spaces
from harness.cases.project import HarnessRegistry, ProjectConfigError, load_project, unload_project
from harness.checks import CheckFailure, check_all, yield_checks
from harness.compute.runner import Runner
from harness.compute.store import Store
from harness.explainers import create_explainer, get_explainer_cfg
from harness.images import MaskMismatch, class_folder, image_folder, read_mask
from harness.models import get_model_cfg
from harness.testing import check_params

CLASSES = ("a", "b")


def _folder(root, *, size=48):
    for i, cls in enumerate(CLASSES):
        for j in range(2):
            write_png(root / cls / f"{j}.png", seed=10 * i + j, size=size)
    return root


def _masks(images, masks, *, skip=None, size=48):
    """A mask per image: a centred square, 0/255; ``skip`` leaves one out."""
    for path in sorted(images.rglob("*.png")):
        rel = path.relative_to(images)
        if rel.as_posix() == skip:
            continue
        m = np.zeros((size, size), np.uint8)
        m[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
        (masks / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(m).save(masks / rel)
    return masks


@pytest.fixture
def registry(tmp_path):
    reg = HarnessRegistry(root=tmp_path)
    yield reg
    reg.unregister()


def _declare(reg, arch="resnet10t"):
    reg.add_image_set("val", "data/val")
    reg.checkpoint_model(
        "mine", arch=arch, checkpoint="mine.safetensors", class_names=list(CLASSES), images="val", input_size=64
    )


def _ids(explainers):
    return [p.id for p in check_params(["mine"], explainers)]


def test_user_model_gets_the_property_and_metric_cases_its_tags_allow(tmp_path, registry):
    _folder(tmp_path / "data" / "val")
    _declare(registry)
    ids = _ids(["ig", "gradcam", "lrp_cnn"])
    # property checks, by tags: completeness needs has_baseline + multiplies_by_inputs (IG, not Grad-CAM);
    # conservation an LRP explainer on a ResNet; the randomisation cascade any explainer; the grid score IG's maps
    assert "ig-mine-check_completeness" in ids and "gradcam-mine-check_completeness" not in ids
    assert "lrp_cnn-mine-check_conservation" in ids and "ig-mine-check_conservation" not in ids
    assert {f"{e}-mine-check_randomisation_sanity" for e in ("ig", "gradcam", "lrp_cnn")} <= set(ids)
    assert "ig-mine-check_grid_artefact" in ids and "gradcam-mine-check_grid_artefact" not in ids
    # metrics within their default budget: MPRT runs on zoo and toy models only, localisation needs masks
    assert {"gradcam-mine-faithfulness_pixel_flipping", "ig-mine-faithfulness_road"} <= set(ids)
    assert not [i for i in ids if "mprt" in i or "localisation" in i]
    # the same set the one generator yields, plus the regression baselines; every id once
    cfg = get_model_cfg("mine")
    expected = {
        f"{e}-mine-{spec.name}"
        for e in ("ig", "gradcam", "lrp_cnn")
        for spec in yield_checks(cfg, get_explainer_cfg(e))
        if get_explainer_cfg(e).supports(cfg)
    } | {f"{e}-mine-check_regression" for e in ("ig", "gradcam", "lrp_cnn")}
    assert set(ids) == expected and len(ids) == len(set(ids))


def test_masks_beside_the_folder_add_the_localisation_cases(tmp_path, registry):
    images = _folder(tmp_path / "data" / "val")
    _masks(images, tmp_path / "data" / "masks")
    _declare(registry)
    assert "mine" in masked_label_spaces()
    ids = _ids(["gradcam"])
    for check in ("check_localisation", "localisation_relevance_mass", "localisation_pointing_game"):
        assert f"gradcam-mine-{check}" in ids
    records = LABEL_SPACE_SETS["mine"]().records
    assert [r.mask.relative_to(tmp_path / "data" / "masks").as_posix() for r in records] == [
        "a/0.png",
        "a/1.png",
        "b/0.png",
        "b/1.png",
    ]


@pytest.mark.parametrize("where", ["images", "models"])
def test_declared_mask_folder(tmp_path, where):
    """``masks =`` in the image set's table, or in the model's beside an ``images`` path."""
    images = _folder(tmp_path / "data" / "val")
    _masks(images, tmp_path / "seg")
    torch.save({}, tmp_path / "mine.pth")
    image_set = '[tool.xai-harness.images.val]\nfolder = "data/val"\n' + (
        'masks = "seg"\n' if where == "images" else ""
    )
    model = (
        '[tool.xai-harness.models.mine]\narch = "test_resnet"\ncheckpoint = "mine.pth"\n'
        'class_names = ["a", "b"]\ninput_size = 64\n'
        + ('images = "val"\n' if where == "images" else 'images = "data/val"\nmasks = "seg"\n')
    )
    (tmp_path / "pyproject.toml").write_text(image_set + "\n" + model)
    try:
        load_project(tmp_path, entry_points=False)
        assert "mine" in masked_label_spaces()
        assert all(r.mask.parent.parent == tmp_path / "seg" for r in LABEL_SPACE_SETS["mine"]().records)
        assert "gradcam-mine-check_localisation" in _ids(["gradcam"])
    finally:
        unload_project(tmp_path)
    assert "mine" not in masked_label_spaces()


def test_without_masks_no_localisation(tmp_path, registry):
    _folder(tmp_path / "data" / "val")
    _declare(registry)
    assert "mine" not in masked_label_spaces()
    assert all(r.mask is None for r in LABEL_SPACE_SETS["mine"]().records)
    assert not [i for i in _ids(["gradcam"]) if "localisation" in i]


def test_missing_mask_names_the_image(tmp_path, registry):
    images = _folder(tmp_path / "data" / "val")
    _masks(images, tmp_path / "data" / "masks", skip="b/1.png")
    with pytest.raises(ProjectConfigError, match=r"model mine, image set 'val': image .*val/b/1\.png has no mask"):
        _declare(registry)


def test_mask_of_another_size_names_the_image(tmp_path):
    images = _folder(tmp_path / "val")
    masks = _masks(images, tmp_path / "masks")
    Image.fromarray(np.zeros((30, 48), np.uint8)).save(masks / "a" / "1.png")
    with pytest.raises(MaskMismatch, match=r"mask .*a/1\.png is 48x30 px, its image .*val/a/1\.png is 48x48 px"):
        class_folder(images, masks=masks)


def test_label_index_masks_count_as_object(tmp_path):
    m = np.zeros((8, 8), np.uint8)
    m[2:4, 2:4] = 1  # a label-index mask: 1 is the object
    Image.fromarray(m).save(tmp_path / "m.png")
    assert read_mask(tmp_path / "m.png").sum() == 4


def test_check_all_runs_the_property_checks(tmp_path, image_dir):
    """The notebook entry point runs the catalogue too: completeness is exact on the hand-weighted linear toy."""
    run = Runner(Store(tmp_path / "store"), image_folder(image_dir), device="cpu")
    out = check_all(run, "toy_linear", create_explainer("ig", n_steps=8), checks=["check_*"])
    assert {"check_shape", "check_completeness", "check_randomisation_sanity", "check_grid_artefact"} <= set(out)
    assert not any(isinstance(v, CheckFailure) for v in out.values()), out
    assert out["check_completeness"]["max_rel_error"] < 1e-3 and out["check_completeness"]["n_steps"] == 256


PYPROJECT = """
[tool.xai-harness.images.val]
folder = "data/val"

[tool.xai-harness.models.mine]
arch = "test_resnet"
checkpoint = "mine.safetensors"
class_names = ["a", "b"]
images = "val"
input_size = 64
"""

TEST = """
from harness.testing import parametrize_with_checks

@parametrize_with_checks(explainers=["ig", "gradcam"])
def test_explanations(case, request, harness): case.run(request, harness)
"""


@pytest.fixture
def project(pytester):
    torch.manual_seed(0)
    save_file(timm.create_model("test_resnet", num_classes=2).state_dict(), str(pytester.path / "mine.safetensors"))
    _masks(_folder(pytester.path / "data" / "val"), pytester.path / "data" / "masks")
    pytester.makefile(".toml", pyproject=PYPROJECT)
    pytester.makepyfile(test_mine=TEST)
    yield pytester
    unload_project(pytester.path)


def test_parametrize_with_checks_runs_property_metric_and_localisation_cases(project):
    """The user's three-line test file collects and runs the property, metric and localisation cases."""
    args = ("-p", "no:cacheprovider", "--harness-no-report", "--harness-zoo-images=0")
    ids = [line.split("[", 1)[1].rstrip("]") for line in project.runpytest(*args, "--collect-only", "-q").outlines
           if "::test_explanations[" in line]  # fmt: skip
    for case in ("ig-mine-check_completeness", "gradcam-mine-check_randomisation_sanity", "ig-mine-check_grid_artefact",
                 "gradcam-mine-check_localisation", "gradcam-mine-localisation_relevance_mass",
                 "gradcam-mine-faithfulness_pixel_flipping", "ig-mine-check_shape"):  # fmt: skip
        assert case in ids, ids
    out = project.runpytest(*args, "-v", "-k", "check_completeness or check_localisation or sanity")
    # completeness holds for IG on a ReLU net (256 steps); the randomisation cascade moves the maps
    out.stdout.fnmatch_lines_random(
        [
            "*test_explanations?ig-mine-check_completeness? PASSED*",
            "*test_explanations?ig-mine-check_randomisation_sanity? PASSED*",
            "*test_explanations?gradcam-mine-check_randomisation_sanity? PASSED*",
        ]
    )
    outcomes = out.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 5 and "error" not in outcomes, outcomes
    # a random-weight net need not localise (here the object's mass and the random control's are within 0.01
    # of each other: the cases failed in a serial run and passed under -n 2): a failure must be the
    # localisation check's own verdict on the masks, one summary line per failing case
    text = out.stdout.str()
    failed = re.findall(r"^FAILED.*test_explanations\[(\S+)\]", text, flags=re.M)
    assert len(failed) == outcomes.get("failed", 0), text[-3000:]
    for case in failed:
        explainer, _, check = case.partition("-mine-")
        assert check == "check_localisation", case
        verdict = (
            rf"CheckFailure: localisation: relevance mass on the object \S+ is not above .*\[{explainer} on mine\]"
        )
        assert re.search(verdict, text), text[-3000:]


def test_user_resnet_passes_lrp_conservation(tmp_path, registry):
    """A user's ResNet (random init, 64 px) gets check_conservation with LRP: relevance sums to the logit."""
    _folder(tmp_path / "data" / "val", size=64)
    torch.manual_seed(0)
    save_file(timm.create_model("resnet10t", num_classes=2).state_dict(), str(tmp_path / "mine.safetensors"))
    _declare(registry)
    run = Runner(Store(tmp_path / "store"), {"mine": LABEL_SPACE_SETS["mine"]()}, device="cpu")
    out = check_all(run, "mine", create_explainer("lrp_cnn"), checks="check_conservation")
    assert set(out) == {"check_conservation"} and not isinstance(out["check_conservation"], CheckFailure), out
    assert out["check_conservation"]["input"] <= out["check_conservation"]["rtol"]
