"""Store keys stay what they were: the runner and the grid address the same entries, pinned.

The pins were computed on the commit before the case record, the runner's engine and the defaults moved
(b02e429), with the library versions fixed here so that an upgrade of torch or numpy does not move them:
a refactor that changes any key (an explanation's, a prediction's, or a check's inputs) fails this test.
"""

import hashlib

import pytest

from harness.cases import Case, case_params, image_limit
from harness.compute import store as store_module
from harness.compute.chunks import explain_chunk
from harness.compute.engines import LocalEngine, Worker
from harness.compute.runner import Runner
from harness.compute.store import Store, content_key
from harness.explainers import get_explainer_cfg
from harness.explainers.registry import explainer_dist_versions
from harness.images import image_folder
from harness.suite.grid import plan_grid, run_grid

MODELS = ("toy_linear", "toy_resnet")
EXPLAINERS = ("saliency", "gradcam", "kernelshap")  # cheap, cheap with a layer, costly and seeded
COSTLY = 2
VERSIONS = {"torch": "T", "timm": "M", "captum": "C", "numpy": "N", "scikit-image": "S"}

# sha256 over the sorted keys of each kind, computed on b02e429 (see the module docstring)
PINNED = {
    "logits": "148512ae9b643c7fbfbbf96b6d547ad21367f884377a3a458f03ec5adc41400c",
    "explanation": "f67b636b0f98cbc3954c4c7f6d661d0f3dbe0df088e072d2845c0ae7e152923a",
    "inputs": "d77f3f6a343d120dc4f68f82bacd568d4c2aea86538278f85b5d65cad04b763c",
}


@pytest.fixture
def fixed_versions(monkeypatch):
    monkeypatch.setattr(store_module, "_library_versions", lambda: dict(VERSIONS))


def _digest(keys) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


def _runner(root, image_dir) -> Runner:
    return Runner(Store(root), image_folder(image_dir), device="cpu", random_ok=True)


def _cases() -> list[Case]:
    return [Case(m, e, case_params(m, e)) for m in MODELS for e in EXPLAINERS]


def _runner_keys(run: Runner) -> dict[str, list[str]]:
    """The keys the pytest side reads: predictions, top-1 explanations and a check's inputs."""
    logits, explanations, inputs = [], [], []
    for model in MODELS:
        base = run.model_fields(model)
        logits += [content_key("logits", {**base, "image": run.digest(r)}) for r in run.images_for(model).records]
    for case in _cases():
        explainer = case.create()
        assert explainer_dist_versions(explainer) == {}, "a dist version in the key: pick another explainer"
        limit = image_limit(get_explainer_cfg(case.explainer), COSTLY)
        keys = run.explanation_keys(case.model, explainer, limit)
        explanations += keys
        model_in = {"model": run.model_fields(case.model), "images": [run.digest(r) for r in run.images.records]}
        inputs.append(content_key("check", {"explanations": keys, "model": model_in}))
    return {"logits": logits, "explanation": explanations, "inputs": inputs}


def _stored(root, kind: str) -> set[str]:
    return {p.stem for p in (root / kind).glob("*/*.npz")}


@pytest.mark.usefixtures("fixed_versions")
def test_runner_and_grid_keys_are_pinned_and_equal(tmp_path, image_dir):
    """The runner computes and reads the pinned keys; the grid writes exactly the runner's top-1 keys
    (plus its target probes), and a runner on the grid's store then misses nothing."""
    run = _runner(tmp_path / "runner", image_dir)
    for case in _cases():
        run.explain(case.model, case.create(), limit=image_limit(get_explainer_cfg(case.explainer), COSTLY))
    keys = _runner_keys(run)
    got = {kind: _digest(k) for kind, k in keys.items()}
    assert got == PINNED
    assert set(keys["explanation"]) <= _stored(tmp_path / "runner", "explanation")

    grid_root = tmp_path / "grid"
    grid_run = _runner(grid_root, image_dir)
    tasks = plan_grid(MODELS, EXPLAINERS, costly_images=COSTLY)
    report = run_grid(grid_run, tasks, LocalEngine(Worker(random_ok=True, device="cpu")))
    assert not report.failures, report.failures
    assert _stored(grid_root, "logits") == set(keys["logits"])
    assert set(keys["explanation"]) <= _stored(grid_root, "explanation")

    reader = _runner(grid_root, image_dir)
    for case in _cases():
        res = reader.explain(case.model, case.create(), limit=image_limit(get_explainer_cfg(case.explainer), COSTLY))
        assert res.computed == 0, case.id
    assert reader.store.misses == 0 and reader.store.writes == 0 and reader.loads == 0


def test_suites_and_grid_plan_the_same_case_record(tmp_path):
    """``make_case`` (the suites) and ``plan_grid`` (``harness run``) give one record: equal but for the limit,
    which the grid resolves as the session does."""
    from dataclasses import replace

    from harness.suite import make_case
    from harness.suite.session import HarnessOptions, HarnessSession

    session = HarnessSession(HarnessOptions(store=tmp_path, reports=tmp_path, costly_images=COSTLY), tmp_path)
    for task in plan_grid(MODELS, EXPLAINERS, costly_images=COSTLY):
        case = make_case(task.model, task.explainer)
        assert type(task) is type(case) is Case
        assert replace(task, limit=None) == case and case.limited(COSTLY) == task, task.id
        assert task.limit == session.image_limit(case.create()), task.id


def test_runner_computes_on_its_local_engine(tmp_path, image_dir):
    """The runner's predictions and maps are jobs on a LocalEngine; the model the checks ask for is the
    one its worker loaded (one load in all), and the logits equal a plain forward pass."""
    import numpy as np
    import torch

    run = _runner(tmp_path / "s", image_dir)
    assert isinstance(run.engine, LocalEngine) and run.engine.pending == 0
    preds = run.predictions("toy_resnet")
    run.explain("toy_resnet", Case("toy_resnet", "saliency").create())
    assert run.loads == 1 and run.engine.worker.loads == {"toy_resnet": 1}
    loaded = run.model("toy_resnet")
    assert run.loads == 1
    with torch.no_grad():
        plain = loaded(run.batch("toy_resnet", list(preds.records))).float().numpy()
    np.testing.assert_array_equal(preds.logits, plain)
    # the maps are what the runner computed before the engine (the chunk on its preprocessed batch), bit for bit
    res = run.explain("toy_resnet", Case("toy_resnet", "gradcam").create())
    direct = explain_chunk(
        loaded,
        Case("toy_resnet", "gradcam").create(),
        run.batch("toy_resnet", list(res.records)),
        torch.as_tensor(res.targets),
    )
    np.testing.assert_array_equal(res.attributions, direct.attributions)


def test_runner_raises_a_case_failure_with_its_own_type(tmp_path, image_dir):
    """Through the engine, a failing explainer still fails the case with its exception (not an error string)."""
    from harness.explainers import Explainer, ExplainerCfg

    def fn(model, x, target):
        raise ValueError("injected failure")

    bad = Explainer(cfg=ExplainerCfg(name="bad", title="bad", group="test"), params=(), fn=fn)
    with pytest.raises(ValueError, match="injected failure"):
        _runner(tmp_path / "s", image_dir).explain("toy_resnet", bad)
