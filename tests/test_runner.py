import numpy as np
import pytest

from harness.checks import check_all
from harness.checks.basic import CheckFailure, check_finite, check_not_constant
from harness.compute.runner import Runner
from harness.compute.store import Store
from harness.explainers import create_explainer
from harness.images import image_folder


def _runner(tmp_path, image_dir, **kw):
    return Runner(Store(tmp_path / "store"), image_folder(image_dir), device="cpu", **kw)


def test_second_run_is_all_cache_hits_and_loads_no_model(tmp_path, image_dir):
    seen = []
    first = _runner(tmp_path, image_dir, progress=lambda *a: seen.append(a))
    a = first.explain("toy_resnet", create_explainer("gradcam"))
    assert a.computed == 4 and a.cached == 0 and seen and seen[-1][1:3] == (4, 4)
    second = _runner(tmp_path, image_dir)
    b = second.explain("toy_resnet", create_explainer("gradcam"))
    assert b.computed == 0 and b.cached == 4
    assert second.loads == 0, "a fully cached case must not load the model"
    np.testing.assert_array_equal(a.attributions, b.attributions)
    assert b.native_resolution == (2, 2) and b.model_label == "toy_resnet_random"


def test_changed_parameter_is_a_miss(tmp_path, image_dir):
    run = _runner(tmp_path, image_dir)
    run.explain("toy_resnet", create_explainer("gradcam"))
    again = run.explain("toy_resnet", create_explainer("gradcam", depth=50))
    assert again.computed == 4


def test_targets_pred_label_and_limit(tmp_path, image_dir):
    run = _runner(tmp_path, image_dir)
    preds = run.predictions("toy_linear")
    res = run.explain("toy_linear", create_explainer("saliency"))
    np.testing.assert_array_equal(res.targets, preds.top1)
    lab = run.explain("toy_linear", create_explainer("saliency"), targets="label", limit=2)
    assert list(lab.targets) == [0, 0] and lab.attributions.shape[0] == 2
    with pytest.raises(ValueError, match="3 targets for 4 images"):
        run.explain("toy_linear", create_explainer("saliency"), targets=np.array([1, 2, 3]))


def test_corrupt_image_is_left_out_and_named(tmp_path, image_dir):
    (image_dir / "n01440764" / "bad.png").write_bytes(b"not a png")
    run = _runner(tmp_path, image_dir)
    assert len(run.images) == 4
    assert list(run.bad_images) == ["imgs/n01440764/bad"] and "bad.png" in run.bad_images["imgs/n01440764/bad"]


def test_check_all_without_pytest(tmp_path, image_dir):
    run = _runner(tmp_path, image_dir)
    out = check_all(run, "toy_linear", create_explainer("ig", n_steps=8), reads=("explanations",))
    assert set(out) == {"check_shape", "check_finite", "check_not_constant", "check_target_respected"}
    assert not any(isinstance(v, Exception) for v in out.values()), out


def test_checks_catch_nan_and_constant_maps(tmp_path, image_dir):
    res = _runner(tmp_path, image_dir).explain("toy_linear", create_explainer("saliency"))
    res.attributions[1, 0, 0] = np.nan
    with pytest.raises(
        CheckFailure, match=r"finite: 1 image\(s\) with NaN.*imgs/n01440764/img1 \[saliency on toy_linear\]"
    ):
        check_finite(res)
    res.attributions[2] = 0.5
    with pytest.raises(CheckFailure, match=r"not constant: .*imgs/n01443537/img2"):
        check_not_constant(res)


def test_each_model_sees_the_images_of_its_label_space(tmp_path, image_dir):
    from harness.zoo.shapes import shapes_images

    shapes = shapes_images("test", 3, root=tmp_path / "data")
    run = Runner(Store(tmp_path / "store"), {"toy": image_folder(image_dir), "shapes": shapes}, device="cpu")
    assert [r.id for r in run.images_for("toy_linear")] == [r.id for r in image_folder(image_dir)]
    assert run.images_for("zoo_vit_p16") is run.image_sets["shapes"]
    assert run.images_for("efficientnet_lite0") is run.images  # no ImageNet set: the main (first) one
    res = run.explain("toy_linear", create_explainer("saliency"))
    assert res.metas[0]["label_space"] == "toy" and len(res.records) == 4
