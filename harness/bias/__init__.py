"""The spurious-cue bias probe: the zoo's spurious models against their clean twins.

``data`` makes cue-aligned, cue-free and cue-conflicting images and the
background-recolouring counterfactual; ``probe`` measures accuracy,
background reliance per explainer and the counterfactual effect; ``checks``
turns them into ``check_background_reliance`` and ``check_cue_accuracy``.
"""

from .data import CONDITIONS, BiasSet, base_condition, bias_set
from .probe import BIAS_EXPLAINERS, background_reliance, counterfactual_effect, cue_accuracy, rank_agreement

__all__ = [
    "BIAS_EXPLAINERS",
    "CONDITIONS",
    "BiasSet",
    "background_reliance",
    "base_condition",
    "bias_set",
    "counterfactual_effect",
    "cue_accuracy",
    "rank_agreement",
]
