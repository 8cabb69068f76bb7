"""Models load their real weights and classify the labelled photos."""

import pytest

from harness.models import get_model_cfg
from harness.suite import case_param, run_top1, suite_models

# A correctly loaded ImageNet model gets most of foolbox's 20 samples; a
# wrong tensor mapping or normalisation drops it towards chance (1/1000).
MIN_FOOLBOX_TOP1 = 0.75
MIN_LABELLED_TOP1 = 0.5
# Zoo models score >= 0.90 on the 1000-image shapes test split (manifest);
# on the suite's few test images allow for sampling noise, far above 1/8.
MIN_ZOO_TOP1 = 0.75


@pytest.mark.parametrize(
    "model",
    [case_param(m, model=m, explainer="-", check="check_top1", id=f"{m}-check_top1") for m in suite_models()],
)
def test_top1(request, harness, model):
    row = run_top1(request, harness, model)
    if get_model_cfg(model).source == "zoo":
        assert row.top1 >= MIN_ZOO_TOP1, (
            f"top-1: {row.correct}/{row.labelled} = {row.top1:.2f} < {MIN_ZOO_TOP1} on the shapes "
            f"test images [{model}]; misses: {row.misses}"
        )
    elif row.foolbox_total:
        acc = row.foolbox_correct / row.foolbox_total
        assert acc >= MIN_FOOLBOX_TOP1, (
            f"top-1: {row.foolbox_correct}/{row.foolbox_total} = {acc:.2f} < {MIN_FOOLBOX_TOP1} "
            f"on foolbox's ImageNet samples [{model}]; misses: {row.misses}"
        )
    elif row.labelled:
        assert row.top1 >= MIN_LABELLED_TOP1, (
            f"top-1: {row.top1:.2f} < {MIN_LABELLED_TOP1} on {row.labelled} labelled images [{model}]"
        )
    else:
        pytest.skip(f"{model}: the image set has no labelled images")


def test_images_readable(harness):
    """Every image of the set decodes; unreadable ones are named."""
    runner = harness.runner
    assert not runner.bad_images, "unreadable images: " + "; ".join(runner.bad_images.values())
    for space, images in runner.image_sets.items():
        assert len(images) > 0, f"the {space} image set ({images.name}) is empty"
