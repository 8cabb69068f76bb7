"""The suite layer: one support test behind every generator, one known-failure table, public helpers only."""

import ast
import fnmatch
import importlib.util
import re
from pathlib import Path

import pytest

from harness.explainers import list_explainers
from harness.models import get_model_cfg
from harness.suite import (
    KNOWN_FAILURES,
    CaseRecord,
    explanation_params,
    known_failure,
    metric_params,
    regression_params,
    suite_models,
    supported_pairs,
    xfail_marks,
)

ROOT = Path(__file__).resolve().parents[1]


def _suite_module(name: str):
    spec = importlib.util.spec_from_file_location(f"_suite_{name}", ROOT / "suites" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pairs(params) -> set[tuple[str, str]]:
    out = set()
    for p in params:
        mark = next(m for m in p.marks if m.name == "harness_case")
        out.add((mark.kwargs["model"], mark.kwargs["explainer"]))
    return out


def test_explanation_metric_and_property_generators_select_the_same_pairs():
    models, explainers = suite_models(), list_explainers()
    supported = set(supported_pairs(models, explainers))
    assert _pairs(explanation_params(models, explainers)) == supported
    assert _pairs(metric_params(models, explainers)) == supported
    # the regression and completeness generators cover fewer explainers / models, never other pairs
    reg = _pairs(regression_params(models, explainers))
    assert reg == supported
    completeness = _suite_module("test_properties_completeness")
    chosen = set(supported_pairs(completeness.MODELS, completeness.EXPLAINERS))
    assert _pairs(completeness._params(completeness.MODELS, "check_completeness")) == chosen
    assert chosen <= supported


def test_unsupported_pairs_make_no_case_in_any_generator():
    # rollout needs tokens (Swin has none), CAM needs a GAP-linear head (ConvNeXt has none),
    # zennit LRP needs timm ResNet blocks (DenseNet has none)
    for model, explainer in (("zoo_swin", "rollout"), ("zoo_convnext", "cam"), ("zoo_densenet", "lrp_cnn")):
        assert (model, explainer) not in set(supported_pairs([model], [explainer]))
        assert not explanation_params([model], [explainer])
        assert not metric_params([model], [explainer])


def test_every_known_failure_matches_a_generated_case():
    ids = [p.id for p in explanation_params() + metric_params(explainers=list_explainers()) + regression_params()]
    for module in (
        "test_properties_completeness",
        "test_properties_grid",
        "test_properties_sanity",
        "test_bias",
        "test_concepts",
        "test_oracle",
        "test_interventions",
    ):
        mod = _suite_module(module)
        for value in vars(mod).values():
            marks = getattr(value, "pytestmark", [])
            for m in marks:
                if m.name == "parametrize":
                    ids += [p.id for p in m.args[1] if hasattr(p, "id")]
    # the intervention suite's opt-in cases (XAI_HARNESS_INTERVENTION_EXPLAINERS=all) have entries too
    interventions = _suite_module("test_interventions")
    ids += [p.id for p in interventions._params(interventions._explainers("all"))]
    for (e, m, c), reason in KNOWN_FAILURES.items():
        pattern = f"{e}-{m}-{c}"
        assert any(fnmatch.fnmatchcase(i, pattern) for i in ids), f"stale known-failure entry {pattern}: {reason}"


def test_known_failures_are_strict_with_a_reason_and_one_matcher():
    entry = known_failure("rollout", "zoo_vit_p16", "check_target_respected")
    assert entry is not None and entry.strict and "class-agnostic" in entry.reason
    assert known_failure("gradcam", "zoo_resnet", "check_shape") is None
    (mark,) = xfail_marks("gradcam", "efficientnet_lite0", "faithfulness_pixel_flipping")
    assert mark.kwargs["strict"] is True and "PixelFlipping" in mark.kwargs["reason"]
    assert all(isinstance(r, str) and r.strip() for r in KNOWN_FAILURES.values() if isinstance(r, str))


def test_case_record_round_trips_through_a_dict():
    rec = CaseRecord(id="gradcam-zoo_resnet-check_shape", model="zoo_resnet", explainer="gradcam", check="check_shape")
    rec.value, rec.outcome = [8, 224, 224], "passed"
    assert CaseRecord.from_dict({**rec.to_dict(), "unknown_key": 1}) == rec


def test_suites_import_no_private_names():
    for path in sorted((ROOT / "suites").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private {private} from {node.module}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.attr.startswith("_") and not node.attr.startswith("__") and node.value.id in ("run", "harness"):
                    pytest.fail(f"{path.name}:{node.lineno} uses private {node.value.id}.{node.attr}")


def test_no_model_name_branches_in_the_library_or_suites():
    pattern = re.compile(r'(==|!=)\s*"(zoo_|efficientnet|vit_|deit_|resnet)')
    for path in sorted(list((ROOT / "harness").rglob("*.py")) + list((ROOT / "suites").glob("*.py"))):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line), f"{path.relative_to(ROOT)}:{i}: name branch: {line.strip()}"


def test_every_family_mark_comes_from_the_config():
    for p in explanation_params(models=["zoo_vit_p16", "zoo_resnet"], explainers=["gradcam"]):
        model = next(m for m in p.marks if m.name == "harness_case").kwargs["model"]
        assert get_model_cfg(model).family in {m.name for m in p.marks}
