"""Grad-CAM native resolution of every model at 25/50/75/100 % depth.

Structure only: models run with declared-random weights (``_random`` in the
id and report), on one real photo, so this needs no downloaded weights.
"""

import pytest

from harness.checks.resolution import check_resolution
from harness.images import builtin_images, image_digest, preprocess, read_image
from harness.models import get_model_cfg
from harness.models.loading import random_weights
from harness.suite import CaseRecord, case_param, record_case, replay_case, suite_models


@pytest.fixture(scope="module")
def photo():
    return read_image(builtin_images().records[0].path)


@pytest.mark.parametrize(
    "model",
    [
        case_param(
            m,
            model=m,
            explainer="gradcam",
            check="check_resolution",
            needs_weights=False,
            id=f"gradcam-{m}_random-check_resolution",
        )
        for m in suite_models()
    ],
)
def test_resolution(request, harness, photo, model):
    def body():
        loaded = harness.runner.random_model(model)
        assert loaded.label == f"{model}_random"
        measured = check_resolution(loaded, preprocess([photo], loaded.cfg).to(loaded.device))
        value = {
            "measured": {f"{d}%": list(v) for d, v in measured.items()},
            "expected": {f"{d}%": list(loaded.cfg.native_grid(d)) for d in measured},
        }
        record_case(
            request,
            CaseRecord(
                id=request.node.callspec.id,
                model=model,
                explainer="gradcam",
                check="check_resolution",
                value=value,
                model_label=loaded.label,
            ),
        )

    cfg = get_model_cfg(model)
    inputs = {"model": model, "config": repr(cfg), "weights": random_weights(cfg).sha256, "image": image_digest(photo)}
    replay_case(request, harness, "check_resolution", inputs, body)


def test_study_models_last_grid_resolution(request):
    """All 14 study models at 224 px: 7x7 at the last layer, 14x14 where a 16-px token grid is kept."""
    from harness.models import STUDY_NAMES, get_model_cfg

    assert len(STUDY_NAMES) == 14, f"resolution: {len(STUDY_NAMES)} study models registered, expected 14"
    table = {}
    for name in STUDY_NAMES:
        cfg = get_model_cfg(name)
        want = (14, 14) if cfg.patch_size == 16 else (7, 7)
        table[name] = list(cfg.native_grid(100))
        assert cfg.input_size == 224 and cfg.native_grid(100) == want, (
            f"resolution: config of {name} expects {cfg.native_grid(100)} at 100% depth, the study has {want} "
            f"(tolerance: exact)"
        )
    record_case(
        request,
        CaseRecord(
            id="study-check_resolution_table",
            model="study",
            explainer="gradcam",
            check="check_resolution_table",
            value=table,
        ),
    )
