"""The localisation check's judgement follows the model's stored intervention usage (issue 26, item 3).

A zoo model whose stored interventions say it also uses the background is judged on whether the map finds
the object at all; a model that uses the object only, or one outside the shapes world, keeps the mask
judgement (relevance mass above the random control's).  The intervention logits are planted in a real
store, so the tests go through the same path as the suites: nothing is loaded or rendered by a model.
"""

from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pytest

from harness.checks import CheckFailure, check_localisation
from harness.checks.catalogue import LOCALISATION
from harness.checks.mask_scope import model_scope, scope_from_usage, scope_inputs
from harness.compute.store import Store
from harness.images import read_mask
from harness.models import get_model_cfg
from harness.zoo import shapes_images
from harness.zoo.effects import EFFECTS_VERSION, KIND, N_EVAL, evaluated_refs
from harness.zoo.interventions import interventions_for

MODEL = "zoo_resnet"
LOGIT = 10.0


class _Runner:
    """The parts of a Runner the judgement reads; loading the model is an error (the logits are stored)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def model_fields(self, name: str) -> dict:
        return {"model": name, "weights": "planted"}

    def model(self, name: str):
        raise AssertionError(f"{name} loaded although its intervention logits are stored")


def _plant(store: Store, *, background_drop: float, used_on: int) -> None:
    """Store logits for the evaluated scenes: removing the object drops the predicted logit by all of it;
    swapping the background drops it by ``background_drop`` on the first ``used_on`` scenes, 0 elsewhere."""
    for k, ref in enumerate(evaluated_refs(get_model_cfg(MODEL))):
        names = interventions_for(ref.scene())
        logits = np.zeros((1 + len(names), 8), np.float32)
        logits[:, 0] = LOGIT
        logits[1 + names.index("object"), 0] = 0.0
        if k < used_on:
            logits[1 + names.index("background"), 0] = LOGIT - background_drop
        fields = {
            "model": {"model": MODEL, "weights": "planted"},
            "scene": asdict(ref),
            "version": EFFECTS_VERSION,
            "interventions": list(names),
        }
        store.put(KIND, fields, {"logits": logits}, {"names": list(names)})


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return shapes_images("test", 4, root=tmp_path_factory.mktemp("shapes"))


def _result(images, maps):
    return SimpleNamespace(
        model=MODEL, model_label=MODEL, explainer="planted", records=images.records, attributions=maps
    )


def _peak_off_mass(images) -> np.ndarray:
    """Maps whose mass lies off the object (the background is 1, the object 0) but whose single peak is on it."""
    masks = np.stack([read_mask(r.mask) for r in images]).astype(bool)
    maps = np.where(masks, 0.0, 1.0).astype(np.float32)
    for m, mask in zip(maps, masks):
        y, x = np.argwhere(mask)[len(np.argwhere(mask)) // 2]
        m[y, x] = 50.0
    return maps


def test_usage_decides_the_judgement():
    base = {"object": 1.0, "colour": 1.0, "texture": 1.0, "background": 0.0, "distractors": 0.0}
    assert scope_from_usage(None).judgement == "mask"
    assert scope_from_usage(base).judgement == "mask"
    assert scope_from_usage({**base, "background": 0.4375}).judgement == "mask"  # 7/16: not used
    scope = scope_from_usage({**base, "background": 0.8125})
    assert scope.judgement == "object_found"
    assert "the background on 13/16 images" in scope.why
    assert scope_from_usage({**base, "distractors": 0.5}).judgement == "object_found"
    assert scope_from_usage({**base, "object": 0.25}).judgement == "unjudged"


@pytest.mark.parametrize(("used_on", "judgement"), [(13, "object_found"), (7, "mask"), (0, "mask")])
def test_stored_usage_picks_the_judgement(tmp_path, used_on, judgement):
    runner = _Runner(Store(tmp_path / "store"))
    _plant(runner.store, background_drop=5.0, used_on=used_on)
    scope = model_scope(runner, MODEL)
    assert scope.judgement == judgement
    assert scope.usage is not None and scope.usage["background"] == used_on / N_EVAL
    assert scope.usage["object"] == 1.0 and scope.n_images == N_EVAL
    assert runner.store.by_kind[KIND]["hits"] == N_EVAL  # read from the store, not measured


def test_a_small_background_drop_is_not_use(tmp_path):
    runner = _Runner(Store(tmp_path / "store"))
    _plant(runner.store, background_drop=0.5, used_on=16)  # 5 % of the logit <= EPS_REL
    assert model_scope(runner, MODEL).judgement == "mask"


def test_background_users_are_judged_on_finding_the_object(tmp_path, images):
    runner = _Runner(Store(tmp_path / "store"))
    _plant(runner.store, background_drop=5.0, used_on=13)
    maps = _peak_off_mass(images)
    out = check_localisation(_result(images, maps), runner)  # the mask judgement would fail it (mass 0.0x)
    assert out["judgement"] == "object_found"
    assert out["relevance_mass"] <= out["relevance_mass_random"]
    assert out["pointing_game"] == 1.0 > out["pointing_game_random"]
    assert "the background on 13/16 images" in out["judged_because"]
    assert out["usage"]["background"] == 0.8125 and out["usage"]["n_images"] == N_EVAL
    masks = np.stack([read_mask(r.mask) for r in images]).astype(bool)
    with pytest.raises(CheckFailure, match=r"does not find the object \(model also uses the background on 13/16"):
        check_localisation(_result(images, np.where(masks, 0.0, 1.0).astype(np.float32)), runner)


@pytest.mark.parametrize("used_on", [7, 0])
def test_object_only_users_keep_the_mask_judgement(tmp_path, images, used_on):
    runner = _Runner(Store(tmp_path / "store"))
    _plant(runner.store, background_drop=5.0, used_on=used_on)
    with pytest.raises(
        CheckFailure, match=r"relevance mass on the object \S+ is not above .*model uses the object on 16/16 images"
    ):
        check_localisation(_result(images, _peak_off_mass(images)), runner)


def test_without_a_runner_or_interventions_the_mask_judges(images):
    with pytest.raises(CheckFailure, match=r"is not above .*no interventions for this model"):
        check_localisation(_result(images, _peak_off_mass(images)), None)


def test_the_usage_inputs_key_the_stored_outcome(tmp_path):
    runner = _Runner(Store(tmp_path / "store"))
    inputs = scope_inputs(runner, MODEL)
    assert LOCALISATION.inputs is scope_inputs
    assert inputs is not None and inputs["model"] == runner.model_fields(MODEL)
    assert [s["index"] for s in inputs["scenes"]] == [r.index for r in evaluated_refs(get_model_cfg(MODEL))]
    assert scope_inputs(runner, "resnet18") is None  # an ImageNet model: no interventions, judgement fixed
