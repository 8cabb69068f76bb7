"""Interventions on the shapes world: exact re-renders, stored effects, and the scores against them."""

import numpy as np
import pytest
import torch

from harness.checks import interventions as iv
from harness.compute.store import Store
from harness.models import get_model_cfg
from harness.models.loading import LoadedModel
from harness.models.weights import WeightsSource
from harness.zoo.effects import KIND, SceneRef, measure_effects
from harness.zoo.interventions import intervene, interventions_for, regions, rerender
from harness.zoo.shapes import draw_scene, make_sample, render

SAMPLES = [("test", 4, False), ("test", 11, False), ("val", 3, False), ("test", 1, True)]


@pytest.mark.parametrize(("split", "index", "spurious"), SAMPLES)
def test_rerender_without_change_is_bit_identical(split, index, spurious):
    original = make_sample(0, split, index, spurious=spurious)
    assert np.array_equal(rerender(0, split, index, "none", spurious=spurious), original.image)
    assert np.array_equal(draw_scene(0, split, index, spurious=spurious).mask, original.mask)


@pytest.mark.parametrize(("split", "index", "spurious"), SAMPLES)
def test_each_intervention_changes_its_element_only_and_is_deterministic(split, index, spurious):
    scene = draw_scene(0, split, index, spurious=spurious)
    base = render(scene)
    parts = regions(scene)
    assert np.array_equal(sum(m.astype(int) for m in parts.values()), np.ones(base.shape[:2], int))  # a partition
    where = {"colour": "object", "texture": "object", "cue": "background"}
    for name in interventions_for(scene):
        image = render(intervene(scene, name))
        changed = np.any(image != base, axis=2)
        region = parts[where.get(name, name)]
        assert changed.any(), name
        assert not (changed & ~region).any(), f"{name} changed {int((changed & ~region).sum())} pixels outside"
        assert np.array_equal(image, rerender(0, split, index, name, spurious=spurious)), name


def test_scene_without_distractors_or_tint_offers_neither():
    scene = draw_scene(0, "test", 10)
    assert not scene.distractors and scene.tint is None
    assert interventions_for(scene) == ("object", "background", "colour", "texture")
    with pytest.raises(ValueError, match=r"shapes test/10: unknown intervention 'cue'"):
        intervene(scene, "cue")


class _RedObject(torch.nn.Module):
    """logit_0 = mean red minus mean green, logit_1 = 0: a model whose use of colour is known."""

    def forward(self, x):
        logit = x[:, 0].mean((1, 2)) - x[:, 1].mean((1, 2))
        return torch.stack([logit, torch.zeros_like(logit)], 1)


def test_effects_are_drops_of_the_predicted_logit_and_are_stored(tmp_path):
    cfg = get_model_cfg("zoo_resnet")
    loaded = LoadedModel(cfg, _RedObject(), WeightsSource("hand", None, "red"), torch.device("cpu"))
    store = Store(tmp_path / "store")
    ref = SceneRef(0, "test", 10)  # sample 10 is the red disk (class 0) on a large scale
    fields = {"model": "red", "weights": "red"}
    first = measure_effects(loaded, ref, store=store, model_fields=fields)
    again = measure_effects(loaded, ref, store=store, model_fields=fields)
    assert store.by_kind[KIND] == {"hits": 1, "misses": 1, "writes": 1}
    assert np.array_equal(first.drops, again.drops) and first.names == again.names
    assert first.target == 0 and first.drop("object") > 0.1 * first.logit  # removing the red disk lowers red - green
    assert abs(first.drop("texture")) < abs(first.drop("colour"))  # turning red to cyan matters more than checkers


def _table(attr, importance, area, names=("object", "distractor_0", "background"), logit=1.0):
    mass = np.asarray(attr, float)
    return iv.RegionTable(
        names=names,
        importance=np.asarray(importance, float),
        share=mass / mass.sum(),
        signed=mass,
        area=np.asarray(area, float),
        logit=logit,
    )


def test_scores_prefer_the_map_that_follows_the_interventions():
    rng = np.random.default_rng(0)
    good, ctrl = [], []
    for _ in range(12):
        area = np.array([0.02, 0.05, 0.93])  # a distractor larger than the object: area alone ranks wrongly
        importance = np.array([rng.uniform(1, 2), rng.uniform(-0.01, 0.01), rng.uniform(-0.02, 0.02)])
        good.append(_table(area * np.array([10.0, 0.5, 0.1]) * importance.clip(0.05), importance, area))
        ctrl.append(_table(area * rng.uniform(0.9, 1.1, 3), importance, area))
    for score in iv.SCORES:
        result = iv.evaluate(score, good, ctrl, good[:6])
        iv.assert_beats_control(result, case=f"{score} on a synthetic table")
        assert result.diff_low <= result.value - result.control <= result.diff_high
    with pytest.raises(iv.CheckFailure, match=r"intervention ranking: .* <= random control .*\[swapped\]"):
        iv.assert_beats_control(iv.evaluate("ranking", ctrl, good, ctrl), case="swapped")


def test_tau_is_tuned_on_the_tuning_tables_only():
    area = np.array([0.1, 0.9])
    tune = [_table([0.9, 0.1], [1.0, 0.0], area, names=("object", "background"))]
    tau = iv.tune_tau(tune)
    # density: object 9.0 (important), background 0.11 (unimportant): any tau between separates them
    assert 0.11 <= tau < 9.0 and tau in iv.TAU_CANDIDATES
