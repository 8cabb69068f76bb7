"""Bias probe pieces: cue conditions and the counterfactual leave the object alone; reliance on planted maps."""

import numpy as np

from harness.bias.data import base_condition, bias_set
from harness.bias.probe import outside_share, rank_agreement, spearman
from harness.models import get_model_cfg
from harness.models.zoo import CLEAN_ZOO, SPURIOUS_ZOO


def test_conditions_and_counterfactual_touch_only_the_background():
    d = bias_set(8)
    assert sorted(d.labels.tolist()) == list(range(8))
    obj = d.masks
    for cond in ("aligned", "conflicting"):
        img = d.condition(cond)
        assert np.array_equal(img[obj], d.images[obj]) and not np.array_equal(img[~obj], d.images[~obj])
    cf = d.recoloured("aligned", 2)
    assert np.array_equal(cf[obj], d.images[obj])
    assert not np.array_equal(cf[~obj], d.condition("aligned")[~obj])
    assert np.array_equal(d.condition("free"), d.images)


def test_models_are_explained_in_their_own_world():
    assert len(CLEAN_ZOO) == 11 and len(SPURIOUS_ZOO) >= 2
    for m in SPURIOUS_ZOO:
        cfg = get_model_cfg(m)
        assert base_condition(cfg) == "aligned" and cfg.twin in CLEAN_ZOO and cfg.probe_only
        assert get_model_cfg(cfg.twin).arch == cfg.arch and get_model_cfg(cfg.twin).create_kwargs == cfg.create_kwargs
    assert base_condition(get_model_cfg("zoo_resnet")) == "free"


def test_outside_share_and_rank_agreement():
    masks = np.zeros((2, 4, 4), bool)
    masks[:, :2, :2] = True
    on_object = masks.astype(np.float32)
    off_object = (~masks).astype(np.float32)
    assert np.allclose(outside_share(on_object, masks), 0) and np.allclose(outside_share(off_object, masks), 1)
    assert np.isnan(outside_share(np.zeros((1, 4, 4)), masks[:1])).all()
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0 and np.isnan(spearman([1, 2], [1, 2]))
    rows = {
        f"m{i}": dict(reliance={"gradcam": {"outside": r}}, counterfactual={"prob_drop": c})
        for i, (r, c) in enumerate([(0.2, 0.0), (0.5, 0.3), (0.9, 0.6)])
    }
    assert rank_agreement(rows, ("gradcam",))["gradcam"] == {"n_models": 3, "spearman": 1.0}
