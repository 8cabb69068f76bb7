"""Stable seeds from case ids: the same id gives the same seed on any machine.

Stochastic explainers (KernelSHAP, LIME, SmoothGrad, GradientSHAP), the
random-attribution controls and Hypothesis all draw their seed from the
case's id, so a failure reproduces from its id alone.
"""

from __future__ import annotations

import hashlib


def seed_for(case_id: str) -> int:
    """A 31-bit seed from ``case_id`` (a pytest id or ``<explainer>-<model>``)."""
    return int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16) % (2**31)
