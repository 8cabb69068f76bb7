"""CLIP-Dissect's soft-WPMI and Network Dissection's IoU labels, on one activation pass.

* :func:`soft_wpmi` follows ``similarity.soft_wpmi`` of Oikarinen & Weng's
  CLIP-Dissect code line by line (softmax of ``a * P`` over concepts, the
  ``top_k`` most activating images of each unit weighted from ``p_start``
  down to ``p_end``, minus ``lam`` times the layer-wide log mean), with
  their defaults ``a=10, lam=1, p_start=0.998, p_end=0.97``.  Their
  ``top_k=100`` was set for the 63,305 Broden images; here ``top_k`` is a
  share of the probe set (:data:`TOP_K_SHARES`, chosen on a tuning half).
* :func:`network_dissection` follows Bau et al. (2017): each unit's
  threshold is the top 0.5 % quantile of its activations over the probe
  set; its map is upsampled (bilinear) to the mask resolution and
  thresholded; the score is the dataset-wide IoU with each concept's masks;
  the label is the argmax; a unit is interpretable at IoU > 0.04.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

A, LAM, P_START, P_END = 10.0, 1.0, 0.998, 0.97
MIN_PROB = 1e-7
TOP_K_SHARES = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2)  # candidates, chosen on the tuning half
ND_QUANTILE = 0.005
ND_IOU_MIN = 0.04


def top_k_for(n_images: int, share: float) -> int:
    """``top_k`` for a probe set of ``n_images``: ``ceil(share * n)``, at least 2."""
    return max(2, math.ceil(share * n_images))


@torch.no_grad()
def soft_wpmi(
    clip_feats: torch.Tensor,
    target_feats: torch.Tensor,
    *,
    top_k: int,
    a: float = A,
    lam: float = LAM,
    p_start: float = P_START,
    p_end: float = P_END,
    min_prob: float = MIN_PROB,
) -> torch.Tensor:
    """``[units, concepts]`` soft-WPMI of image x concept similarities ``clip_feats`` ``[N, C]``
    and unit activations ``target_feats`` ``[N, U]`` (CLIP-Dissect's ``similarity.soft_wpmi``)."""
    clip_feats = torch.softmax(a * clip_feats.float(), dim=1)
    inds = torch.topk(target_feats.float(), dim=0, k=top_k)[1]  # [top_k, U]
    p_in_examples = (p_start - (torch.arange(top_k, dtype=torch.float32) / top_k * (p_start - p_end)))[:, None]
    gathered = clip_feats[inds]  # [top_k, U, C]
    p_d_given_e = 1 + p_in_examples[:, :, None] * (gathered - 1)
    prob_d_given_e = torch.log(p_d_given_e + min_prob).sum(dim=0)  # [U, C]
    prob_d = torch.logsumexp(prob_d_given_e, dim=0, keepdim=True) - math.log(prob_d_given_e.shape[0])
    return prob_d_given_e - lam * prob_d


@dataclass(frozen=True)
class Labels:
    """One method's verdict on one layer: a concept index and a score per unit."""

    concept: np.ndarray  # [U] int
    score: np.ndarray  # [U] float: soft-WPMI similarity or IoU
    interpretable: np.ndarray  # [U] bool (Network Dissection: IoU > 0.04; CLIP-Dissect: all)


def clip_dissect(pooled: np.ndarray, similarity: np.ndarray, *, top_k: int) -> Labels:
    """Label each unit of ``pooled`` ``[N, U]`` with the concept of highest soft-WPMI."""
    top_k = min(top_k, len(pooled))
    sim = soft_wpmi(torch.from_numpy(np.asarray(similarity)), torch.from_numpy(np.asarray(pooled)), top_k=top_k)
    score, concept = sim.max(dim=1)
    return Labels(concept.numpy(), score.numpy(), np.ones(len(concept), bool))


#: Values of one upsampled batch of unit maps in :func:`dissection_iou` (64 MB as float32).
_UPSAMPLED_MAX = 1 << 24


@torch.no_grad()
def dissection_iou(
    maps: np.ndarray, masks: np.ndarray, *, quantile: float = ND_QUANTILE, batch: int = 25
) -> np.ndarray:
    """``[U, C]`` dataset-wide IoU of each unit's top-``quantile`` region with each concept's masks.

    ``maps`` ``[N, U, h, w]`` activations; ``masks`` ``[N, C, r, r]`` bool.  At most ``batch`` images are
    upsampled at once, fewer for wide layers (:data:`_UPSAMPLED_MAX` values: 1280 units of a
    Lite0 at 56 px took 1.3 GB for 25 images).  The counts are integers, so the batch does not change them.
    """
    m = torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float32))
    n, u = m.shape[:2]
    flat = m.transpose(0, 1).reshape(u, -1)  # per unit, over every position of every image (native maps)
    k = max(1, min(flat.shape[1], math.ceil((1 - quantile) * flat.shape[1])))
    thresholds = torch.stack([torch.kthvalue(row, k).values for row in flat])
    res = masks.shape[-1]
    batch = max(1, min(batch, _UPSAMPLED_MAX // (u * res * res)))
    inter = torch.zeros(u, masks.shape[1], dtype=torch.float64)
    unit_area = torch.zeros(u, 1, dtype=torch.float64)
    concept_area = torch.zeros(1, masks.shape[1], dtype=torch.float64)
    for s in range(0, n, batch):
        up = F.interpolate(m[s : s + batch], size=(res, res), mode="bilinear", align_corners=False)
        on = (up > thresholds.view(1, -1, 1, 1)).float().flatten(2)  # [B, U, P]
        mk = torch.from_numpy(masks[s : s + batch]).float().flatten(2)  # [B, C, P]
        inter += torch.einsum("bup,bcp->uc", on, mk).double()
        unit_area += on.sum(dim=(0, 2)).double()[:, None]
        concept_area += mk.sum(dim=(0, 2)).double()[None, :]
    union = unit_area + concept_area - inter
    return (inter / union.clamp(min=1)).float().numpy()


def network_dissection(maps: np.ndarray, masks: np.ndarray, *, iou_min: float = ND_IOU_MIN) -> Labels:
    iou = dissection_iou(maps, masks)
    concept = iou.argmax(axis=1)
    score = iou[np.arange(len(concept)), concept]
    return Labels(concept, score, score > iou_min)
