"""A user's project: ``[tool.xai-harness]``, the register hook, an own explainer, ``parametrize_with_checks``.

Runs pytest in a fresh directory (pytester) holding only a pyproject.toml,
a checkpoint of a tiny timm model, an ImageFolder of two classes, a
conftest with a user explainer and the three-line test file.
"""

import pytest
import torch

from conftest import write_png

PYPROJECT = """
[tool.xai-harness]
baselines = "baselines"

[tool.xai-harness.images.val]
folder = "data/val"

[tool.xai-harness.models.mine]
arch = "test_resnet"
checkpoint = "mine.safetensors"
class_names = {classes}
images = "val"
input_size = 64
"""

CONFTEST = """
import torch
from harness.explainers import ExplainerCfg, RawExplanation

def pytest_harness_register(registry):
    @registry.explainer(ExplainerCfg(name="input_grad", title="Input x gradient", group="gradient",
                                     families=("cnn",), multiplies_by_inputs=True))
    def input_grad(model, x, target):
        x = x.clone().requires_grad_(True)
        score = model(x).gather(1, target[:, None]).sum()
        (g,) = torch.autograd.grad(score, x)
        return RawExplanation(attributions=(g * x).sum(1).detach())
"""

TEST = """
from harness.testing import parametrize_with_checks

@parametrize_with_checks(explainers=["gradcam", "input_grad"], checks=["check_shape", "check_finite", "check_reg*"])
def test_explanations(case, request, harness): case.run(request, harness)
"""


@pytest.fixture
def project(pytester):
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(0)
    save_file(timm.create_model("test_resnet", num_classes=2).state_dict(), str(pytester.path / "mine.safetensors"))
    for i, cls in enumerate(("cat", "dog")):
        for j in range(2):
            write_png(pytester.path / "data" / "val" / cls / f"{j}.png", seed=10 * i + j, size=48)
    pytester.makefile(".toml", pyproject=PYPROJECT.format(classes='["cat", "dog"]'))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_mine=TEST)
    yield pytester
    from harness.cases.project import unload_project

    unload_project(pytester.path)


def _run(p, *args):
    return p.runpytest("-p", "no:cacheprovider", "--harness-no-report", "--harness-zoo-images=0", "-v", *args)


def test_project_declares_model_images_and_explainer(project):
    first = _run(project)
    # regression: a new image set writes its baselines and fails; the other checks pass
    first.assert_outcomes(passed=4, failed=2)
    first.stdout.fnmatch_lines_random(
        [
            "*test_explanations?gradcam-mine-check_shape? PASSED*",
            "*test_explanations?input_grad-mine-check_finite? PASSED*",
            "*gradcam-mine: no baseline existed; wrote*baselines?val?gradcam-mine.json*",
            "*input_grad-mine: no baseline existed; wrote*",
        ]
    )
    assert (project.path / "baselines" / "val" / "input_grad-mine.json").is_file()
    _run(project).assert_outcomes(passed=6)
    regen = _run(project, "--harness-regen", "-k", "regression")
    regen.assert_outcomes(failed=2, deselected=4)
    _run(project, "--harness-regen-accept", "-k", "regression").assert_outcomes(passed=2, deselected=4)


def test_class_mismatch_is_a_usage_error(project):
    project.makefile(".toml", pyproject=PYPROJECT.format(classes='["cat", "fox"]'))
    out = _run(project)
    err = out.stderr.str()
    assert "classes of model mine ['cat', 'fox'] do not match the class folders of " in err
    assert "val ['cat', 'dog']: only in the folder: ['dog']; only in the model: ['fox']" in err
    assert out.ret != 0


def test_entry_point_plugins_get_the_registry(monkeypatch, tmp_path):
    import types

    from harness.cases import project
    from harness.models import ModelCfg, is_registered

    module = types.ModuleType("fake_plugin")

    def pytest_harness_register(registry):
        registry.add_model(ModelCfg(name="ep_model", arch="toy_cnn", family="cnn", source="toy"))

    module.pytest_harness_register = pytest_harness_register  # type: ignore[attr-defined]
    ep = types.SimpleNamespace(name="fake", load=lambda: module)
    monkeypatch.setattr(
        project.metadata, "entry_points", lambda group: [ep] if group == project.ENTRY_POINT_GROUP else []
    )
    reg = project.load_project(tmp_path)
    try:
        assert reg.models == ["ep_model"] and is_registered("ep_model")
        assert project.project_models(tmp_path) == ["ep_model"]
    finally:
        project.unload_project(tmp_path)
    assert not is_registered("ep_model")


def test_bad_declarations_name_the_entry(tmp_path):
    from harness.cases.project import HarnessRegistry, ProjectConfigError, apply_section

    reg = HarnessRegistry(root=tmp_path)
    with pytest.raises(ProjectConfigError, match=r"\[tool.xai-harness.models.m\] needs arch"):
        apply_section({"models": {"m": {"checkpoint": "x.pth"}}}, reg)
    with pytest.raises(ProjectConfigError, match=r"image set val: folder .*nowhere does not exist"):
        apply_section({"images": {"val": {"folder": "nowhere"}}}, reg)
    with pytest.raises(ProjectConfigError, match=r"explainer 'no_such_module': cannot import"):
        apply_section({"explainers": ["no_such_module"]}, reg)
