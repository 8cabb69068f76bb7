"""Wired oracle models (issue 26, item 4): every applicable explainer against a known right answer.

The models (:mod:`harness.models.oracle`) have hand-set weights; their ground truth is part of the
construction, so a failure here is the explainer's, never the model's.  Per model the table
``ORACLE_TRUTHS`` says which checks apply (:mod:`harness.checks.oracle`); the explainers come
from the registry by support and by tags or the closed-form table ``EXACT``:

* ``check_oracle_exact``: the closed-form map on the linear oracles (``oracle_linear``, ``oracle_vit``);
* ``check_oracle_region``: ``>= 0.95`` of ``|attr|`` on the pixels the logit reads;
* ``check_oracle_patches``: attention explainers (group ``attention``) put the top tokens on the
  wired patches of ``oracle_vit``, on the native token map;
* ``check_oracle_ig_equals_ixg``: IG (black = zero baseline) equals Input x Gradient on the
  bias-free ReLU CNN (the Hypothesis property over random weights lives in ``tests/test_oracle.py``);
* ``check_oracle_cancelling``: on ``oracle_cancel`` the map agrees in sign with the Shapley values
  of the two cancelling regions.

Every case runs on two images (``OracleTruth.inputs``), target class 0 (the wired logit), with the
explainer's defaults; outcomes join the stored-outcome replay (a warm rerun loads nothing).
Select with ``pytest suites/test_oracle.py`` or ``-k oracle``.
"""

import hashlib

import pytest
import torch

from harness.checks import oracle as checks
from harness.checks.basic import CheckFailure
from harness.explainers import create_explainer, get_explainer_cfg, list_explainers
from harness.models import get_model_cfg, list_models
from harness.models.oracle import ORACLE_TRUTHS
from harness.suite import CaseRecord, case_param, record_case, replay_case

# which explainers each check applies to: by tags, or by the closed-form table for ``exact``
APPLIES = {
    "exact": lambda name, cfg: name in checks.EXACT,
    "region": lambda name, cfg: True,
    "patches": lambda name, cfg: cfg.group == "attention",
    "ig_equals_ixg": lambda name, cfg: cfg.has_baseline and cfg.multiplies_by_inputs and not cfg.stochastic,
    "cancelling": lambda name, cfg: True,
}

# how each check reads the explanation ``ex`` of the inputs ``x`` against the module's ground-truth buffers
RUNS = {
    "exact": lambda ex, m, x, t, case: checks.check_exact(ex=ex, weight=m.oracle_weight, x=x, case=case),
    "region": lambda ex, m, x, t, case: checks.check_region(ex=ex, region=m.oracle_region, case=case),
    "patches": lambda ex, m, x, t, case: checks.check_patches(ex=ex, patches=m.oracle_patches, case=case),
    "ig_equals_ixg": lambda ex, m, x, t, case: checks.check_ig_equals_ixg(
        ig=torch.as_tensor(ex.attributions), ixg=checks.input_x_gradient(m, x, t), case=case
    ),
    "cancelling": lambda ex, m, x, t, case: checks.check_cancelling(
        ex=ex, a=m.oracle_region_a, b=m.oracle_region_b, case=case
    ),
}


def _params():
    out = []
    for model in list_models(source="oracle"):
        mcfg = get_model_cfg(model)
        for check in ORACLE_TRUTHS[model].checks:
            for name in list_explainers():
                cfg = get_explainer_cfg(name)
                if cfg.supports(mcfg) and APPLIES[check](name, cfg):
                    out.append(
                        case_param(
                            name,
                            model,
                            check,
                            model=model,
                            explainer=name,
                            check=f"check_oracle_{check}",
                            raises=CheckFailure,
                        )
                    )
    return out


def _run(loaded, explainer: str, check: str, case: str) -> dict:
    truth = ORACLE_TRUTHS[loaded.cfg.name]
    x = truth.inputs().to(loaded.device)
    target = torch.full((x.shape[0],), truth.target, dtype=torch.long, device=x.device)
    ex = create_explainer(explainer)(loaded, x, target)
    return RUNS[check](ex, loaded.module, x, target, case)


@pytest.mark.parametrize(("explainer", "model", "check"), _params())
def test_oracle(request, harness, explainer, model, check):
    name = f"check_oracle_{check}"
    x = ORACLE_TRUTHS[model].inputs()

    def body():
        loaded = harness.runner.model(model)
        record = record_case(
            request,
            CaseRecord(
                id=request.node.callspec.id, model=model, explainer=explainer, check=name, model_label=loaded.label
            ),
        )
        value: dict = {}
        try:
            value = _run(loaded, explainer, check, f"{explainer} on {loaded.label}")
        except CheckFailure as exc:
            value = {"failure": str(exc)}
            raise
        finally:
            record.value = value

    inputs = {
        "model": harness.runner.model_fields(model),
        "inputs": hashlib.sha256(x.numpy().tobytes()).hexdigest(),
        "explainer": [list(p) for p in create_explainer(explainer).params],
    }
    replay_case(request, harness, name, inputs, body)
