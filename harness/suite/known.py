"""One table of expected failures for every case generator (explanations, properties, metrics).

``KNOWN_FAILURES`` maps ``(explainer, model, check)`` patterns to a reason
(or a :class:`KnownFailure` for the rare entry that is not strict).  The
three parts are ``fnmatch`` patterns against the case id's parts, so
``("rollout", "*", "check_target_respected")`` covers rollout on every
model; ``check`` is the id's last part (``check_localisation``,
``check_completeness_hypothesis``, ``faithfulness_pixel_flipping``).
Every generator asks :func:`xfail_marks`, so a listed case becomes
``xfail(strict=True)``: a case that starts passing fails the run until its
entry goes.  Every entry carries the measurement behind it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class KnownFailure:
    """A reason, and whether an unexpected pass fails the run (``strict``, the default)."""

    reason: str
    strict: bool = True


_LITE_PF = "PixelFlipping on EfficientNet-Lite: random's scattered black pixels break the model faster"

KNOWN_FAILURES: dict[tuple[str, str, str], str | KnownFailure] = {
    # -- concept labels (suites/test_concepts.py) ---------------------------------------------------------
    # issue 17, 2026-12-01, 240 held-out probe images: CLIP-Dissect labels 0.966 of the zoo's logit units
    # with their class's own concept, Network Dissection 0.500 (its logit maps are the class's Grad-CAM at
    # the last layer, chosen on the tuning part); zoo-wide 0.733 of 176 < target 0.9.  Network Dissection
    # fails where the last-layer Grad-CAM does not localise (see the check_localisation entries above):
    # share of 16 (8 classes x 2 methods) = CLIP-Dissect 1.0 with Network Dissection 0.0 (ConvNeXt),
    # 0.125 (ViT-p32), 0.0 (DeiT), 0.25 (Swin), 0.25 (PVT-v2).
    (
        "dissect",
        "zoo",
        "check_concept_share",
    ): "0.733 of 176 logit units carry their own concept < 0.9 (NetDissect 0.50)",
    (
        "dissect",
        "zoo_convnext",
        "check_concept_labels",
    ): "Network Dissection 0/8 on the logits: Grad-CAM misses the object",
    (
        "dissect",
        "zoo_vit_p32",
        "check_concept_labels",
    ): "Network Dissection 1/8 on the logits: Grad-CAM misses the object",
    ("dissect", "zoo_deit_distilled", "check_concept_labels"): "Network Dissection 0/8 on the logits (Grad-CAM maps)",
    ("dissect", "zoo_swin", "check_concept_labels"): "Network Dissection 2/8 on the logits (Grad-CAM maps)",
    ("dissect", "zoo_pvt_v2", "check_concept_labels"): "Network Dissection 2/8 on the logits (Grad-CAM maps)",
    # -- bias probe (suites/test_bias.py): a spurious-cue model that an explainer fails to flag ------------
    # issue 17: outside-object share on the 16 held-out balanced test images 16-31 (2026-12-01), thresholds
    # for transformers set on calibration images 0-15: Grad-CAM 0.684 (twin zoo_vit_p16 0.642) <= 0.75,
    # LIME 0.688 (twin 0.674) <= 0.72; on the calibration images Grad-CAM even ranked them the other way
    # (0.699 vs twin 0.738).  The spurious ViT leans on the cue only mildly (counterfactual drop 0.18).
    (
        "gradcam",
        "zoo_vit_p16_spurious",
        "check_background_reliance",
    ): "Grad-CAM at the ViT's last block spreads as much for the clean twin as for the spurious ViT (0.642 vs 0.684)",
    (
        "lime",
        "zoo_vit_p16_spurious",
        "check_background_reliance",
    ): "LIME separates the ViT pair by 0.014 on held-out images (0.674 vs 0.688), under the 0.72 threshold",
    # -- explanation checks and properties ----------------------------------------------------------------
    # (issue 4: lrp_vit's default AttnLRP rules are not conservative by design; the suite checks the
    # CP rules with additive constants zeroed and records the AttnLRP leak, so no entry here.)
    # issue 4: ReLU6 / hard-swish nets: IG (256 Gauss-Legendre steps, black baseline) misses completeness
    # on Hypothesis-drawn examples by 0.128 (zoo_efficientnet_lite0, target 1, gap 0.81, 2nd example) and
    # 0.074 (zoo_mobilenetv3, target 0, gap 1.75, 1st example) of the gap > 0.05; the fixed example
    # (predicted class) passes on both (check_completeness).
    ("ig", "zoo_efficientnet_lite0", "check_completeness_hypothesis"): "IG at 256 steps misses 5 % on a ReLU6 net",
    ("ig", "zoo_mobilenetv3", "check_completeness_hypothesis"): "IG at 256 steps misses 5 % on a hard-swish net",
    (
        "rollout",
        "*",
        "check_target_respected",
    ): "attention rollout is class-agnostic by construction: the map does not depend on the target",
    # Score-CAM masks the input with min-max-normalised channels of the last block's norm1 tokens;
    # these carry no object-positive layout (mass 0.039 / 0.041 vs control 0.049 on 8 shapes images).
    ("scorecam", "zoo_vit_p16", "check_localisation"): "Score-CAM on ViT LayerNorm tokens does not localise",
    ("scorecam", "zoo_deit_distilled", "check_localisation"): "Score-CAM on ViT LayerNorm tokens does not localise",
    # PVT-v2's last stage map does not localise the object with CAM-style channel weights
    # (mass 0.048-0.049 vs control 0.050 on 8 shapes images; Grad-CAM at 25-75 % depth does).
    ("cam", "zoo_pvt_v2", "check_localisation"): "last-stage CAM on the zoo PVT-v2 does not localise",
    ("gradcampp", "zoo_pvt_v2", "check_localisation"): "last-stage CAM on the zoo PVT-v2 does not localise",
    ("scorecam", "zoo_pvt_v2", "check_localisation"): "last-stage CAM on the zoo PVT-v2 does not localise",
    ("ablationcam", "zoo_pvt_v2", "check_localisation"): "last-stage CAM on the zoo PVT-v2 does not localise",
    # The zoo ConvNeXt's last-stage Ablation-CAM (the class-balanced default images, one per class, since
    # 2026-12-01; Grad-CAM, Grad-CAM++ and Score-CAM there now beat the control and their entries went).
    (
        "ablationcam",
        "zoo_convnext",
        "check_localisation",
    ): "last-stage Ablation-CAM on the zoo ConvNeXt does not localise",
    ("gradcam", "zoo_pvt_v2", "check_localisation"): "last-stage Grad-CAM on the zoo PVT-v2 does not localise",
    # Measured on the class-balanced default images (8 shapes test images, one per class), 2026-12-01,
    # `pytest suites -k "zoo and check_localisation"`: relevance mass on the object vs the random control.
    # Ablation-CAM scores channels by the logit drop when each is zeroed; on transformers and Swin these
    # drops are near-uniform, so the map spreads off the object.
    ("ablationcam", "zoo_deit_distilled", "check_localisation"): (
        "Ablation-CAM on the zoo DeiT: mass 0.054 vs control 0.068 (pointing game 0.25 vs 0.12)"
    ),
    ("ablationcam", "zoo_vit_p16", "check_localisation"): (
        "Ablation-CAM on the zoo ViT-p16: mass 0.058 vs control 0.069 (pointing game 0.25 vs 0.00)"
    ),
    ("ablationcam", "zoo_vit_p32", "check_localisation"): (
        "Ablation-CAM on the zoo ViT-p32: mass 0.062 vs control 0.069 (pointing game 0.50 vs 0.12)"
    ),
    ("ablationcam", "zoo_swin", "check_localisation"): (
        "Ablation-CAM on the zoo Swin: mass 0.061 vs control 0.069 (pointing game 0.38 vs 0.00)"
    ),
    ("scorecam", "zoo_swin", "check_localisation"): (
        "Score-CAM on the zoo Swin: mass 0.060 vs control 0.069 (pointing game 0.50 vs 0.00)"
    ),
    ("gradcampp", "zoo_deit_distilled", "check_localisation"): (
        "Grad-CAM++ on the zoo DeiT's last block: mass 0.049 vs control 0.069 (pointing game 0.12 vs 0.12)"
    ),
    # (issue 26: Grad-CAM at 50 % depth of the fine-tuned Lite0, mass 0.0686 vs control 0.0688, a tie, was an
    # entry here.  Lite0 also uses the background (a swap moves its logit > 10 % on 13/16 images), so the check
    # now judges it on finding the object (harness.checks.mask_scope): pointing game 0.125 vs 0.000 passes.)
    # Plain Grad-CAM on the zoo ViT-p32's 7x7 tokens (8 shapes images): mass 0.038 vs control 0.050.
    ("gradcam", "zoo_vit_p32", "check_localisation"): "last-block Grad-CAM on the zoo ViT-p32 does not localise",
    ("gradcampp", "zoo_vit_p32", "check_localisation"): "Grad-CAM++ on the zoo ViT-p32's 7x7 tokens does not localise",
    ("scorecam", "zoo_vit_p32", "check_localisation"): "Score-CAM on ViT LayerNorm tokens does not localise",
    # -- metrics ----------------------------------------------------------------------------------------------
    # Filled only from measurements: exactly the gated pairs (PixelFlipping, RelevanceMassAccuracy) that lose
    # to the random control at the suite's defaults (4 images, 12 steps), measured with
    # `pytest suites/test_metrics.py -k "pixel_flipping or relevance_mass"` and `python -m harness.suite.controls`
    # (harness/suite/controls.py); "won k/4" counts the images where the explainer beats the control.
    #
    # EfficientNet-Lite, PixelFlipping: random beats every regression explainer but IG on all three (IG 0.394,
    # 0.265, 0.303 vs random 0.520, 0.464, 0.510).  Not softmax saturation: on logits (pixel_flipping.softmax=False)
    # Grad-CAM loses by more.  Likely the perturbation's shape: random orders scatter black pixels over the whole
    # image, which breaks these ImageNet CNNs faster than contiguous blocks or sparse gradient maps do (ROAD's
    # argument).
    ("gradcam", "efficientnet_lite0", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: Grad-CAM 0.968 vs random 0.520 at 4 images (lower is better; won 2/4); 0.686 vs 0.697 at "
        "8 images (won 5/8), on logits 28.9 vs 23.4 (loses); IG 0.394 beats random"
    ),
    ("kernelshap", "efficientnet_lite0", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: KernelSHAP 1.066 vs random 0.520 at 4 images (lower is better; won 1/4)"
    ),
    ("saliency", "efficientnet_lite0", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: Saliency 1.249 vs random 0.520 at 4 images (lower is better; won 2/4)"
    ),
    ("gradcam", "efficientnet_lite1", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: Grad-CAM 0.666 vs random 0.464 at 4 images (lower is better; won 1/4); at 8 images 0.662 "
        "vs 0.507, on logits 28.2 vs 24.2; IG 0.265 beats random"
    ),
    ("kernelshap", "efficientnet_lite1", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: KernelSHAP 1.032 vs random 0.464 at 4 images (lower is better; won 1/4)"
    ),
    ("saliency", "efficientnet_lite1", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: Saliency 1.086 vs random 0.464 at 4 images (lower is better; won 2/4)"
    ),
    ("gradcam", "efficientnet_lite2", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: Grad-CAM 1.307 vs random 0.510 at 4 images (lower is better; won 1/4); at 8 images 0.765 "
        "vs 0.615, on logits 26.8 vs 24.7; IG 0.303 beats random"
    ),
    ("kernelshap", "efficientnet_lite2", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: KernelSHAP 1.557 vs random 0.510 at 4 images (lower is better; won 1/4)"
    ),
    ("saliency", "efficientnet_lite2", "faithfulness_pixel_flipping"): (
        f"{_LITE_PF}: Saliency 1.319 vs random 0.510 at 4 images (lower is better; won 2/4)"
    ),
    # Trained zoo (8 shape classes, 224 px), on the first 4 of the class-balanced default images (one per
    # class), measured 2026-12-01 with `pytest suites -k "zoo and (faithfulness_pixel_flipping or
    # localisation_relevance_mass)"`.  On these images Grad-CAM and KernelSHAP on zoo_efficientnet and Grad-CAM's
    # relevance mass on zoo_convnext now beat the control (their entries went); IG loses on the fine-tuned Lite0.
    ("gradcam", "zoo_vit_p32", "faithfulness_pixel_flipping"): (
        "Grad-CAM 4.061 vs random 2.725 at 4 images (lower is better; won 2/4); IG 0.096"
    ),
    ("gradcam", "zoo_pvt_v2", "faithfulness_pixel_flipping"): (
        "Grad-CAM 8.424 vs random 6.013 at 4 images (lower is better; won 1/4); IG 0.697"
    ),
    ("gradcam", "zoo_pvt_v2", "localisation_relevance_mass"): (
        "Grad-CAM 0.0408 vs random 0.0423 at 4 images (higher is better; won 2/4): a tie at chance level; IG 0.421"
    ),
    ("gradcam", "zoo_deit_distilled", "faithfulness_pixel_flipping"): (
        "Grad-CAM 5.552 vs random 3.118 at 4 balanced images (lower is better)"
    ),
    ("gradcam", "zoo_swin", "faithfulness_pixel_flipping"): (
        "Grad-CAM 2.822 vs random 2.506 at 4 balanced images (lower is better)"
    ),
    ("ig", "zoo_efficientnet_lite0", "faithfulness_pixel_flipping"): (
        "IG 6.999 vs random 6.17 at 4 balanced images (lower is better): the fine-tuned Lite0 breaks as fast "
        "under random black pixels, as the ImageNet Lites do under Grad-CAM, KernelSHAP and Saliency"
    ),
    ("kernelshap", "zoo_mobilenetv3", "faithfulness_pixel_flipping"): (
        "KernelSHAP 1.336 vs random 1.332 at 4 balanced images (lower is better): a tie"
    ),
    ("saliency", "zoo_mobilenetv3", "faithfulness_pixel_flipping"): (
        "Saliency 1.568 vs random 1.332 at 4 balanced images (lower is better)"
    ),
    # -- wired oracle models (suites/test_oracle.py; issue 26): the right answer is known by construction ----
    # Measured 2026-12-06 on the two OracleTruth inputs, target 0, explainer defaults.
    # oracle_cancel: logit_0 = ReLU(s_A - s_B) with s_A = 0.5 < s_B = 1.0; Shapley values +0.25 (A), -0.25 (B).
    # The ReLU is flat from the black baseline to the input, so every gradient is exactly zero: all-zero maps.
    ("saliency", "oracle_cancel", "check_oracle_cancelling"): "zero gradient on the flat ReLU: all-zero map",
    (
        "smoothgrad",
        "oracle_cancel",
        "check_oracle_cancelling",
    ): "noise (stdev 0.15) never unflattens the ReLU: zero map",
    ("ig", "oracle_cancel", "check_oracle_cancelling"): "s_A - s_B < 0 on the whole path from black: zero map",
    ("gradientshap", "oracle_cancel", "check_oracle_cancelling"): "zero map on both images (16 samples)",
    ("gradcam*", "oracle_cancel", "check_oracle_cancelling"): "zero gradient at the gated maps: all-zero map",
    ("ablationcam", "oracle_cancel", "check_oracle_cancelling"): "ablating a channel leaves the logit at 0: zero map",
    # Occlusion removes one 4x4 window at a time: s_B stays >= 0.94 > s_A, so no single window moves the logit.
    ("occlusion", "oracle_cancel", "check_oracle_cancelling"): "no single 4x4 window moves ReLU(s_A - s_B) off 0",
    ("scorecam", "oracle_cancel", "check_oracle_cancelling"): (
        "Score-CAM is rectified: mean 6.54 on A, 11.7 on B (Shapley +, -); B, which lowers the logit, gets most mass"
    ),
    # oracle_vit: the class token attends to patches 1, 6, 9 only (3/16 = 0.1875 of the pixels).
    # Grad-CAM averages each channel's gradient over the tokens, so the content channel gets one weight
    # everywhere and the map follows every patch's brightness: share 0.180, chance level.
    ("gradcam*", "oracle_vit", "check_oracle_region"): (
        "Grad-CAM/Grad-CAM++ at the block input: share on the attended patches 0.180 (++: 0.359) < 0.95, area 0.1875"
    ),
    ("scorecam", "oracle_vit", "check_oracle_region"): "Score-CAM at the block input: share 0.300 < 0.95",
    ("ablationcam", "oracle_vit", "check_oracle_region"): "Ablation-CAM at the block input: share 0.176 < 0.95",
    # The native 4x4 token maps are right (check_oracle_patches passes: top-3 = the wired patches, the rest
    # 0); the bilinear upsampling to 32 px spreads 38 % of the mass onto neighbouring patches.
    ("rollout", "oracle_vit", "check_oracle_region"): "native map exact; bilinear upsampling leaves share 0.615",
    ("chefer", "oracle_vit", "check_oracle_region"): "native map exact; bilinear upsampling leaves share 0.616",
    # KernelSHAP matches the superpixel sums of the closed form (check_oracle_exact passes) but SLIC
    # superpixels straddle the 8 px patches: share 0.862.
    ("kernelshap", "oracle_vit", "check_oracle_region"): "SLIC superpixels straddle the patches: share 0.862",
    ("lime", "oracle_vit", "check_oracle_region"): "LIME (100 samples, ridge) puts share 0.777 < 0.95 on the patches",
    ("lime", "oracle_linear", "check_oracle_region"): "LIME (100 samples, ridge) puts share 0.804 < 0.95 on the region",
    # AttnLRP's uniform rule gives half of A @ v's relevance to the attention logits, which read only
    # positional dimensions here: the pixels get exactly half, max error 0.00191 of max 0.00382.
    ("lrp_vit", "oracle_vit", "check_oracle_exact"): "AttnLRP gives the pixels half the relevance (0.00191 of 0.00382)",
    # -- interventions on the shapes world (suites/test_interventions.py; issue 26) --------------------------
    # Measured 2026-12-06: 16 class-balanced test images (spurious models: the spurious test split), thresholds
    # tuned on 16 val images; score vs a seeded uniform-noise map; the 95 % interval of the difference is over
    # images (1000 resamples).  Single deletion (FunnyBirds: part sums vs the part's deletion drop) is
    # confounded by area on this world: the object is both the largest and the most important part, so the
    # random map's sums already rank it first (random 0.68-0.86); Grad-CAM and Saliency often do no better.
    # check_intervention_usage: a model whose background swap (or tint change) moves the predicted logit by
    # more than 10 % on half the images or more uses the background, so object masks are not its whole
    # ground truth (see docs/ground-truth.md).
    (
        "gradcam",
        "zoo_pvt_v2",
        "check_intervention_background",
    ): "Grad-CAM never puts the object above an unimportant background (0.000 vs random 0.000, 14 images)",
    (
        "gradcam",
        "zoo_vit_p32",
        "check_intervention_background",
    ): "Grad-CAM never puts the object above an unimportant background (0.000 vs random 0.000, 14 images)",
    (
        "gradcam",
        "zoo_efficientnet_lite0",
        "check_intervention_background",
    ): "Grad-CAM never puts the object above an unimportant background (0.000 vs random 0.000, 3 images)",
    (
        "gradcam",
        "zoo_pvt_v2",
        "check_intervention_distractors",
    ): "Grad-CAM never puts the object above an unimportant distractor (0.000 vs random 0.000, 10 images)",
    (
        "gradcam",
        "zoo_pvt_v2",
        "check_intervention_ranking",
    ): "-0.279 <= random -0.040 on 16 images (diff CI [-0.513, 0.007])",
    (
        "saliency",
        "zoo_resnet_spurious",
        "check_intervention_ranking",
    ): "-0.181 <= random -0.128 on 16 images (diff CI [-0.339, 0.287])",
    (
        "saliency",
        "zoo_vit_p16_spurious",
        "check_intervention_ranking",
    ): "0.195 <= random 0.252 on 16 images (diff CI [-0.303, 0.214])",
    (
        "gradcam",
        "zoo_vit_p32",
        "check_intervention_ranking",
    ): "-0.087 <= random -0.074 on 16 images (diff CI [-0.354, 0.339])",
    (
        "gradcam",
        "zoo_convnext",
        "check_intervention_single_deletion",
    ): "0.344 <= random 0.678 on 9 images (diff CI [-0.833, 0.100])",
    (
        "gradcam",
        "zoo_deit_distilled",
        "check_intervention_single_deletion",
    ): "0.445 <= random 0.740 on 10 images (diff CI [-0.777, 0.100])",
    (
        "saliency",
        "zoo_deit_distilled",
        "check_intervention_single_deletion",
    ): "0.710 <= random 0.740 on 10 images (diff CI [-0.160, 0.080])",
    (
        "gradcam",
        "zoo_densenet",
        "check_intervention_single_deletion",
    ): "0.820 <= random 0.820 on 10 images (diff CI [-0.150, 0.100])",
    (
        "saliency",
        "zoo_densenet",
        "check_intervention_single_deletion",
    ): "0.790 <= random 0.820 on 10 images (diff CI [-0.170, 0.080])",
    (
        "saliency",
        "zoo_efficientnet_lite0",
        "check_intervention_single_deletion",
    ): "0.620 <= random 0.710 on 10 images (diff CI [-0.220, 0.000])",
    (
        "gradcam",
        "zoo_pvt_v2",
        "check_intervention_single_deletion",
    ): "0.760 <= random 0.760 on 10 images (diff CI [0.000, 0.000])",
    (
        "saliency",
        "zoo_pvt_v2",
        "check_intervention_single_deletion",
    ): "0.720 <= random 0.760 on 10 images (diff CI [-0.300, 0.181])",
    (
        "saliency",
        "zoo_resnet_spurious",
        "check_intervention_single_deletion",
    ): "-0.350 <= random -0.250 on 12 images (diff CI [-0.242, 0.033])",
    (
        "gradcam",
        "zoo_swin",
        "check_intervention_single_deletion",
    ): "0.760 <= random 0.820 on 10 images (diff CI [-0.180, 0.040])",
    (
        "saliency",
        "zoo_swin",
        "check_intervention_single_deletion",
    ): "0.700 <= random 0.820 on 10 images (diff CI [-0.300, 0.000])",
    (
        "gradcam",
        "zoo_vit_p16",
        "check_intervention_single_deletion",
    ): "0.522 <= random 0.822 on 9 images (diff CI [-0.744, -0.022])",
    (
        "saliency",
        "zoo_vit_p16",
        "check_intervention_single_deletion",
    ): "0.790 <= random 0.840 on 10 images (diff CI [-0.150, 0.000])",
    (
        "gradcam",
        "zoo_vit_p16_spurious",
        "check_intervention_single_deletion",
    ): "0.641 <= random 0.782 on 11 images (diff CI [-0.377, 0.064])",
    (
        "saliency",
        "zoo_vit_p16_spurious",
        "check_intervention_single_deletion",
    ): "0.675 <= random 0.767 on 12 images (diff CI [-0.333, 0.142])",
    (
        "gradcam",
        "zoo_vit_p32",
        "check_intervention_single_deletion",
    ): "0.589 <= random 0.844 on 9 images (diff CI [-0.478, -0.044])",
    (
        "saliency",
        "zoo_vit_p32",
        "check_intervention_single_deletion",
    ): "0.560 <= random 0.860 on 10 images (diff CI [-0.570, -0.050])",
    # Chefer's relevance (the ViTs; 2026-12-06): area-confounded like the other maps
    (
        "chefer",
        "zoo_deit_distilled",
        "check_intervention_single_deletion",
    ): "0.720 <= random 0.740 on 10 images (diff CI [-0.120, 0.060])",
    (
        "chefer",
        "zoo_vit_p32",
        "check_intervention_single_deletion",
    ): "0.800 <= random 0.860 on 10 images (diff CI [-0.140, 0.000])",
    (
        "interventions",
        "zoo_densenet",
        "check_intervention_usage",
    ): "uses the background: swap/tint moves the logit > 10 % on 0.50 of 16 images (object 1.00, distractors 0.00)",
    (
        "interventions",
        "zoo_efficientnet_lite0",
        "check_intervention_usage",
    ): "uses the background: swap/tint moves the logit > 10 % on 0.81 of 16 images (object 1.00, distractors 0.30)",
    (
        "interventions",
        "zoo_mobilenetv3",
        "check_intervention_usage",
    ): "uses the background: swap/tint moves the logit > 10 % on 0.50 of 16 images (object 1.00, distractors 0.10)",
    (
        "interventions",
        "zoo_resnet_spurious",
        "check_intervention_usage",
    ): "uses the background: swap/tint moves the logit > 10 % on 1.00 of 16 images (object 0.81, distractors 0.00)",
    (
        "interventions",
        "zoo_vit_p16_spurious",
        "check_intervention_usage",
    ): "uses the background: swap/tint moves the logit > 10 % on 0.69 of 16 images (object 0.94, distractors 0.17)",
}

# issue 26, item 2, every other explainer (opt-in: ``XAI_HARNESS_INTERVENTION_EXPLAINERS=all pytest
# suites/test_interventions.py -k intervention``; 2026-12-06, 821 cases in 49 min 34 s on one core: 636 passed,
# 16 skipped, 32 xfailed on the entries above, these 137 failed): each score lost to its random control.  104 of
# the 137 are single deletion, area-confounded on this world (above).  Each row is (explainer, model, score, the
# score, the random control's, images, the 95 % interval of the difference), written into the reason as the entries
# above are.
_OPT_IN_INTERVENTIONS = (
    ("ablationcam", "zoo_pvt_v2", "background", 0.000, 0.000, 14, 0.000, 0.000),
    ("ablationcam", "zoo_vit_p32", "background", 0.000, 0.000, 14, 0.000, 0.000),
    ("cam", "zoo_pvt_v2", "background", 0.000, 0.000, 14, 0.000, 0.000),
    ("gradcam_d25", "zoo_vit_p32", "background", 0.000, 0.000, 14, 0.000, 0.000),
    ("gradcam_d50", "zoo_efficientnet_lite0", "background", 0.000, 0.000, 3, 0.000, 0.000),
    ("gradcam_d50", "zoo_vit_p16_spurious", "background", 0.000, 0.000, 5, 0.000, 0.000),
    ("gradcampp", "zoo_pvt_v2", "background", 0.000, 0.000, 14, 0.000, 0.000),
    ("gradcampp", "zoo_vit_p32", "background", 0.000, 0.000, 14, 0.000, 0.000),
    ("kernelshap", "zoo_mobilenetv3", "background", 0.000, 0.000, 8, 0.000, 0.000),
    ("scorecam", "zoo_pvt_v2", "background", 0.000, 0.000, 14, 0.000, 0.000),
    ("scorecam", "zoo_vit_p16_spurious", "background", 0.000, 0.000, 5, 0.000, 0.000),
    ("scorecam", "zoo_vit_p32", "background", 0.000, 0.000, 14, 0.000, 0.000),
    ("ablationcam", "zoo_pvt_v2", "distractors", 0.000, 0.000, 10, 0.000, 0.000),
    ("cam", "zoo_pvt_v2", "distractors", 0.000, 0.000, 10, 0.000, 0.000),
    ("gradcampp", "zoo_pvt_v2", "distractors", 0.000, 0.000, 10, 0.000, 0.000),
    ("lime", "zoo_mobilenetv3", "distractors", 0.183, 0.217, 10, -0.383, 0.317),
    ("occlusion", "zoo_resnet_spurious", "distractors", 0.033, 0.033, 10, 0.000, 0.000),
    ("scorecam", "zoo_pvt_v2", "distractors", 0.000, 0.000, 10, 0.000, 0.000),
    ("scorecam", "zoo_vit_p32", "distractors", 0.000, 0.000, 10, 0.000, 0.000),
    ("ablationcam", "zoo_pvt_v2", "ranking", -0.258, -0.040, 16, -0.465, 0.020),
    ("ablationcam", "zoo_swin", "ranking", -0.188, -0.117, 16, -0.366, 0.304),
    ("ablationcam", "zoo_vit_p16_spurious", "ranking", 0.054, 0.252, 16, -0.612, 0.152),
    ("cam", "zoo_pvt_v2", "ranking", -0.279, -0.040, 16, -0.513, 0.007),
    ("gradcampp", "zoo_deit_distilled", "ranking", -0.194, -0.129, 16, -0.483, 0.323),
    ("gradcampp", "zoo_pvt_v2", "ranking", -0.335, -0.040, 16, -0.569, -0.032),
    ("gradcampp", "zoo_resnet_spurious", "ranking", -0.204, -0.128, 16, -0.454, 0.347),
    ("gradientshap", "zoo_resnet_spurious", "ranking", -0.315, -0.128, 16, -0.531, 0.224),
    ("ig", "zoo_resnet_spurious", "ranking", -0.219, -0.128, 16, -0.475, 0.367),
    ("scorecam", "zoo_pvt_v2", "ranking", -0.119, -0.040, 16, -0.358, 0.200),
    ("scorecam", "zoo_swin", "ranking", -0.249, -0.117, 16, -0.415, 0.221),
    ("scorecam", "zoo_vit_p16_spurious", "ranking", 0.200, 0.252, 16, -0.494, 0.391),
    ("scorecam", "zoo_vit_p32", "ranking", -0.224, -0.074, 16, -0.552, 0.219),
    ("smoothgrad", "zoo_vit_p16_spurious", "ranking", 0.203, 0.252, 16, -0.295, 0.223),
    ("ablationcam", "zoo_convnext", "single_deletion", 0.678, 0.678, 9, 0.000, 0.000),
    ("ablationcam", "zoo_deit_distilled", "single_deletion", 0.731, 0.778, 9, -0.136, 0.000),
    ("ablationcam", "zoo_densenet", "single_deletion", 0.820, 0.820, 10, -0.150, 0.100),
    ("ablationcam", "zoo_pvt_v2", "single_deletion", 0.760, 0.760, 10, 0.000, 0.000),
    ("ablationcam", "zoo_swin", "single_deletion", 0.820, 0.820, 10, 0.000, 0.000),
    ("ablationcam", "zoo_vit_p16", "single_deletion", 0.678, 0.822, 9, -0.356, 0.000),
    ("ablationcam", "zoo_vit_p16_spurious", "single_deletion", 0.660, 0.767, 12, -0.270, 0.012),
    ("ablationcam", "zoo_vit_p32", "single_deletion", 0.233, 0.844, 9, -1.022, -0.222),
    ("cam", "zoo_densenet", "single_deletion", 0.820, 0.820, 10, -0.150, 0.100),
    ("cam", "zoo_efficientnet", "single_deletion", 0.650, 0.650, 10, -0.140, 0.120),
    ("cam", "zoo_pvt_v2", "single_deletion", 0.760, 0.760, 10, 0.000, 0.000),
    ("gradcam_d25", "zoo_convnext", "single_deletion", 0.430, 0.710, 10, -0.770, 0.180),
    ("gradcam_d25", "zoo_deit_distilled", "single_deletion", 0.402, 0.767, 9, -0.809, -0.033),
    ("gradcam_d25", "zoo_densenet", "single_deletion", 0.710, 0.820, 10, -0.280, 0.040),
    ("gradcam_d25", "zoo_efficientnet_lite0", "single_deletion", 0.610, 0.710, 10, -0.360, 0.110),
    ("gradcam_d25", "zoo_pvt_v2", "single_deletion", 0.491, 0.760, 10, -0.865, 0.198),
    ("gradcam_d25", "zoo_swin", "single_deletion", 0.802, 0.820, 10, -0.207, 0.183),
    ("gradcam_d25", "zoo_vit_p16", "single_deletion", 0.789, 0.822, 9, -0.300, 0.222),
    ("gradcam_d25", "zoo_vit_p16_spurious", "single_deletion", 0.449, 0.767, 12, -0.780, 0.085),
    ("gradcam_d25", "zoo_vit_p32", "single_deletion", 0.465, 0.860, 10, -0.841, -0.040),
    ("gradcam_d50", "zoo_convnext", "single_deletion", 0.670, 0.710, 10, -0.430, 0.300),
    ("gradcam_d50", "zoo_densenet", "single_deletion", 0.790, 0.820, 10, -0.220, 0.160),
    ("gradcam_d50", "zoo_pvt_v2", "single_deletion", 0.689, 0.760, 10, -0.512, 0.263),
    ("gradcam_d50", "zoo_swin", "single_deletion", 0.817, 0.820, 10, -0.180, 0.175),
    ("gradcam_d50", "zoo_vit_p16", "single_deletion", 0.785, 0.840, 10, -0.305, 0.140),
    ("gradcam_d50", "zoo_vit_p32", "single_deletion", 0.564, 0.857, 7, -0.714, -0.007),
    ("gradcam_d75", "zoo_deit_distilled", "single_deletion", -0.033, 0.778, 9, -1.389, -0.256),
    ("gradcam_d75", "zoo_densenet", "single_deletion", 0.760, 0.820, 10, -0.220, 0.090),
    ("gradcam_d75", "zoo_pvt_v2", "single_deletion", 0.645, 0.733, 9, -0.464, 0.230),
    ("gradcam_d75", "zoo_vit_p16", "single_deletion", 0.283, 0.840, 10, -0.990, -0.157),
    ("gradcam_d75", "zoo_vit_p16_spurious", "single_deletion", 0.421, 0.767, 12, -0.754, -0.071),
    ("gradcam_d75", "zoo_vit_p32", "single_deletion", 0.856, 0.900, 9, -0.133, 0.000),
    ("gradcampp", "zoo_convnext", "single_deletion", 0.467, 0.678, 9, -0.711, 0.178),
    ("gradcampp", "zoo_deit_distilled", "single_deletion", 0.292, 0.740, 10, -0.989, 0.042),
    ("gradcampp", "zoo_densenet", "single_deletion", 0.820, 0.820, 10, -0.150, 0.100),
    ("gradcampp", "zoo_pvt_v2", "single_deletion", 0.760, 0.760, 10, 0.000, 0.000),
    ("gradcampp", "zoo_resnet_spurious", "single_deletion", -0.317, -0.250, 12, -0.192, 0.033),
    ("gradcampp", "zoo_swin", "single_deletion", 0.752, 0.837, 8, -0.235, 0.000),
    ("gradcampp", "zoo_vit_p16", "single_deletion", 0.300, 0.822, 9, -1.111, -0.067),
    ("gradcampp", "zoo_vit_p16_spurious", "single_deletion", 0.617, 0.767, 12, -0.383, 0.086),
    ("gradcampp", "zoo_vit_p32", "single_deletion", 0.300, 0.887, 8, -1.063, -0.175),
    ("gradientshap", "zoo_convnext", "single_deletion", 0.580, 0.710, 10, -0.500, 0.200),
    ("gradientshap", "zoo_densenet", "single_deletion", 0.740, 0.820, 10, -0.230, 0.040),
    ("gradientshap", "zoo_mobilenetv3", "single_deletion", 0.370, 0.640, 10, -0.661, 0.080),
    ("gradientshap", "zoo_pvt_v2", "single_deletion", 0.370, 0.760, 10, -0.970, 0.120),
    ("gradientshap", "zoo_vit_p16", "single_deletion", 0.780, 0.840, 10, -0.240, 0.080),
    ("gradientshap", "zoo_vit_p32", "single_deletion", 0.860, 0.860, 10, 0.000, 0.000),
    ("ig", "zoo_convnext", "single_deletion", 0.660, 0.710, 10, -0.550, 0.290),
    ("ig", "zoo_deit_distilled", "single_deletion", 0.690, 0.740, 10, -0.220, 0.110),
    ("ig", "zoo_densenet", "single_deletion", 0.760, 0.820, 10, -0.210, 0.080),
    ("ig", "zoo_efficientnet", "single_deletion", 0.460, 0.650, 10, -0.681, 0.140),
    ("ig", "zoo_efficientnet_lite0", "single_deletion", 0.680, 0.710, 10, -0.290, 0.200),
    ("ig", "zoo_mobilenetv3", "single_deletion", 0.460, 0.640, 10, -0.680, 0.210),
    ("ig", "zoo_swin", "single_deletion", 0.760, 0.820, 10, -0.270, 0.150),
    ("ig", "zoo_vit_p16", "single_deletion", 0.840, 0.840, 10, -0.210, 0.210),
    ("ig", "zoo_vit_p16_spurious", "single_deletion", 0.633, 0.767, 12, -0.383, 0.067),
    ("kernelshap", "zoo_convnext", "single_deletion", 0.510, 0.710, 10, -0.700, 0.130),
    ("kernelshap", "zoo_densenet", "single_deletion", 0.710, 0.820, 10, -0.400, 0.140),
    ("kernelshap", "zoo_efficientnet", "single_deletion", 0.220, 0.650, 10, -0.970, 0.050),
    ("kernelshap", "zoo_mobilenetv3", "single_deletion", 0.050, 0.640, 10, -0.980, -0.230),
    ("kernelshap", "zoo_swin", "single_deletion", 0.730, 0.820, 10, -0.290, 0.120),
    ("kernelshap", "zoo_vit_p16", "single_deletion", 0.790, 0.840, 10, -0.280, 0.160),
    ("kernelshap", "zoo_vit_p16_spurious", "single_deletion", 0.525, 0.767, 12, -0.650, 0.017),
    ("kernelshap", "zoo_vit_p32", "single_deletion", 0.820, 0.860, 10, -0.140, 0.040),
    ("lime", "zoo_convnext", "single_deletion", 0.710, 0.710, 10, -0.550, 0.360),
    ("lime", "zoo_efficientnet", "single_deletion", 0.300, 0.650, 10, -0.870, 0.120),
    ("lime", "zoo_mobilenetv3", "single_deletion", -0.190, 0.640, 10, -1.180, -0.460),
    ("lime", "zoo_resnet_spurious", "single_deletion", -0.258, -0.250, 12, -0.642, 0.609),
    ("lime", "zoo_swin", "single_deletion", 0.760, 0.820, 10, -0.300, 0.170),
    ("lime", "zoo_vit_p16", "single_deletion", 0.570, 0.840, 10, -0.480, -0.050),
    ("lime", "zoo_vit_p16_spurious", "single_deletion", 0.725, 0.767, 12, -0.484, 0.225),
    ("lime", "zoo_vit_p32", "single_deletion", 0.830, 0.860, 10, -0.230, 0.170),
    ("lrp_vit", "zoo_deit_distilled", "single_deletion", 0.680, 0.740, 10, -0.320, 0.210),
    ("lrp_vit", "zoo_vit_p16", "single_deletion", 0.840, 0.840, 10, -0.230, 0.260),
    ("occlusion", "zoo_convnext", "single_deletion", 0.530, 0.710, 10, -0.690, 0.140),
    ("occlusion", "zoo_deit_distilled", "single_deletion", 0.030, 0.740, 10, -1.310, -0.220),
    ("occlusion", "zoo_densenet", "single_deletion", 0.570, 0.820, 10, -0.650, 0.000),
    ("occlusion", "zoo_efficientnet_lite0", "single_deletion", 0.310, 0.710, 10, -0.860, 0.000),
    ("occlusion", "zoo_mobilenetv3", "single_deletion", 0.260, 0.640, 10, -0.850, 0.000),
    ("occlusion", "zoo_pvt_v2", "single_deletion", 0.390, 0.760, 10, -0.870, 0.040),
    ("occlusion", "zoo_resnet", "single_deletion", 0.320, 0.640, 10, -0.741, 0.000),
    ("occlusion", "zoo_resnet_spurious", "single_deletion", -0.375, -0.250, 12, -0.708, 0.417),
    ("occlusion", "zoo_swin", "single_deletion", 0.770, 0.820, 10, -0.150, 0.000),
    ("occlusion", "zoo_vit_p16", "single_deletion", 0.250, 0.840, 10, -1.190, -0.060),
    ("occlusion", "zoo_vit_p16_spurious", "single_deletion", 0.508, 0.767, 12, -0.675, 0.067),
    ("occlusion", "zoo_vit_p32", "single_deletion", 0.440, 0.860, 10, -0.940, 0.000),
    ("rollout", "zoo_deit_distilled", "single_deletion", 0.690, 0.740, 10, -0.240, 0.140),
    ("rollout", "zoo_vit_p16", "single_deletion", 0.690, 0.840, 10, -0.310, -0.020),
    ("rollout", "zoo_vit_p32", "single_deletion", 0.710, 0.860, 10, -0.350, 0.070),
    ("scorecam", "zoo_deit_distilled", "single_deletion", 0.590, 0.740, 10, -0.350, 0.000),
    ("scorecam", "zoo_densenet", "single_deletion", 0.820, 0.820, 10, -0.150, 0.100),
    ("scorecam", "zoo_pvt_v2", "single_deletion", 0.760, 0.760, 10, 0.000, 0.000),
    ("scorecam", "zoo_swin", "single_deletion", 0.820, 0.820, 10, 0.000, 0.000),
    ("scorecam", "zoo_vit_p16", "single_deletion", 0.750, 0.840, 10, -0.200, 0.000),
    ("scorecam", "zoo_vit_p16_spurious", "single_deletion", 0.758, 0.767, 12, -0.125, 0.100),
    ("scorecam", "zoo_vit_p32", "single_deletion", 0.620, 0.860, 10, -0.660, 0.000),
    ("smoothgrad", "zoo_deit_distilled", "single_deletion", 0.730, 0.740, 10, -0.150, 0.120),
    ("smoothgrad", "zoo_densenet", "single_deletion", 0.800, 0.820, 10, -0.060, 0.000),
    ("smoothgrad", "zoo_efficientnet_lite0", "single_deletion", 0.700, 0.710, 10, -0.130, 0.110),
    ("smoothgrad", "zoo_resnet_spurious", "single_deletion", -0.308, -0.250, 12, -0.184, 0.059),
    ("smoothgrad", "zoo_swin", "single_deletion", 0.700, 0.820, 10, -0.330, 0.100),
    ("smoothgrad", "zoo_vit_p16", "single_deletion", 0.790, 0.840, 10, -0.150, 0.000),
    ("smoothgrad", "zoo_vit_p16_spurious", "single_deletion", 0.592, 0.767, 12, -0.633, 0.125),
    ("smoothgrad", "zoo_vit_p32", "single_deletion", 0.560, 0.860, 10, -0.570, -0.050),
)
for _explainer, _model, _score, _value, _control, _images, _low, _high in _OPT_IN_INTERVENTIONS:
    KNOWN_FAILURES[_explainer, _model, f"check_intervention_{_score}"] = (
        f"{_value:.3f} <= random {_control:.3f} on {_images} images (diff CI [{_low:.3f}, {_high:.3f}])"
    )

# issue 26, item 3: the model of every check_localisation entry above uses the object and nothing else (stored
# interventions on 16 class-balanced test images, `pytest suites/test_interventions.py -k usage`: removing the
# object moves the predicted logit > 10 % on the first count, swapping the background on the second; no
# distractor on any), so each stays: the explainer misses what the model uses.  A model that also uses the
# background is judged on finding the object instead (harness.checks.mask_scope) and needs no entry.
_OBJECT_ONLY = {
    "zoo_convnext": (14, 1),
    "zoo_deit_distilled": (14, 1),
    "zoo_pvt_v2": (14, 0),
    "zoo_swin": (14, 1),
    "zoo_vit_p16": (14, 1),
    "zoo_vit_p32": (15, 2),
}
for (_explainer, _model, _check), _reason in list(KNOWN_FAILURES.items()):
    if _check == "check_localisation" and isinstance(_reason, str) and _model in _OBJECT_ONLY:
        _used, _background = _OBJECT_ONLY[_model]
        KNOWN_FAILURES[_explainer, _model, _check] = (
            f"{_reason}; interventions: the model uses the object only "
            f"(object {_used}/16, background {_background}/16 images)"
        )


def known_failure(explainer: str, model: str, check: str) -> KnownFailure | None:
    """The first entry whose three patterns match the case, or None."""
    for (e, m, c), entry in KNOWN_FAILURES.items():
        if fnmatch.fnmatchcase(explainer, e) and fnmatch.fnmatchcase(model, m) and fnmatch.fnmatchcase(check, c):
            return entry if isinstance(entry, KnownFailure) else KnownFailure(entry)
    return None


def xfail_marks(explainer: str, model: str, check: str, *, raises=None) -> list[pytest.MarkDecorator]:
    """``[xfail(reason, strict)]`` for a listed case (``raises`` narrows what counts), else ``[]``."""
    entry = known_failure(explainer, model, check)
    if entry is None:
        return []
    return [pytest.mark.xfail(reason=entry.reason, strict=entry.strict, raises=raises)]
