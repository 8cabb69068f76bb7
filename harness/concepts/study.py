"""Dissect zoo models on the probe set and score the labels against the probe's ground truth.

The probe set (:func:`harness.zoo.probe.probe_set`, :data:`PROBE_N` images)
is cut in two: the first :data:`TUNE_N` images are the *tuning* part, on
which the free parameters were chosen once (:func:`tune`, with
``python -m harness concepts tune``): CLIP-Dissect's ``top_k`` share and the
logits' spatial map for Network Dissection.  Every reported number and
every suite check uses the *held-out* rest.

Ground truth: the logit unit of class *k* is right when its label is one of
class *k*'s own concepts (its shape, colour or texture,
:func:`~harness.zoo.probe.class_concepts`).  Chance, for a label drawn
uniformly from the :data:`~harness.zoo.probe.CONCEPTS`, is 3/22 = 0.136.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..models import load_model
from ..models.config import DEPTHS
from ..zoo.probe import CONCEPTS, ProbeSet, class_concepts, probe_set
from ..zoo.shapes import CLASS_NAMES
from .activations import LAYERS, LOGIT_MAPS, LOGITS, Activations, activation_pass
from .dissect import ND_IOU_MIN, TOP_K_SHARES, Labels, clip_dissect, network_dissection, top_k_for

PROBE_SEED, PROBE_N, TUNE_N = 0, 400, 160
METHODS = ("clip_dissect", "netdissect")
CHANCE = 3 / len(CONCEPTS)
# Chosen on the tuning part (``python -m harness concepts tune``; docs/concepts.md has the table).
TOP_K_SHARE = 0.1
LOGIT_MAP = "gradcam"
TOP_UNITS = 50


def parts(n: int = PROBE_N, tune_n: int = TUNE_N) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the tuning part and of the held-out part."""
    return np.arange(tune_n), np.arange(tune_n, n)


@lru_cache(maxsize=1)
def activations_of(
    name: str,
    pretrained: bool = True,
    device: str = "auto",
    part: str = "held",
    logit_maps: tuple[str, ...] = (LOGIT_MAP,),
) -> Activations:
    """One activation pass of ``name`` (``pretrained=False``: its seeded random-weight control) over one part
    of the probe set (``tune`` or ``held``), with the logit map variants ``logit_maps`` (tuning asks for all).

    The last pass is kept (a model's trained pass and its control's are each read once; tuning reads its
    pass once per candidate): the 25 % maps of a probe part take hundreds of MB."""

    model = load_model(name, pretrained=pretrained, device=device)
    idx = dict(zip(("tune", "held"), parts()))[part]
    return activation_pass(model, probe_set(PROBE_SEED, PROBE_N).images[idx], logit_maps=logit_maps)


def label_layers(
    acts: Activations,
    similarity: np.ndarray,
    probe: ProbeSet,
    idx: np.ndarray,
    *,
    top_k_share: float = TOP_K_SHARE,
    logit_map: str = LOGIT_MAP,
    layers: tuple[str, ...] = LAYERS,
) -> dict[str, dict[str, Labels]]:
    """``{layer: {method: Labels}}`` on the images ``idx`` of the probe set."""
    sub = acts if len(acts.pooled[LOGITS]) == len(idx) else acts.subset(idx)
    top_k = top_k_for(len(idx), top_k_share)
    out: dict[str, dict[str, Labels]] = {}
    for layer in layers:
        spatial = sub.maps[f"{LOGITS}:{logit_map}"] if layer == LOGITS else sub.maps[layer]
        out[layer] = {
            "clip_dissect": clip_dissect(sub.pooled[layer], similarity[idx], top_k=top_k),
            "netdissect": network_dissection(spatial, probe.masks[idx]),
        }
    return out


def logit_hits(labels: Labels, concepts: tuple[str, ...] = CONCEPTS) -> list[bool]:
    """Per class: is the logit unit's label one of the class's own concepts?"""
    return [concepts[int(c)] in class_concepts(k) for k, c in enumerate(labels.concept)]


@dataclass
class Dissection:
    """One model's (or control's) labels on the held-out probe images, in plain types for JSON."""

    model: str
    family: str
    random: bool
    source: str
    top_k: int
    n_images: int
    layers: dict[str, dict[str, dict[str, Any]]]  # layer -> method -> {labels, scores, interpretable}
    logit_hits: dict[str, list[bool]]  # method -> per class

    def share(self, method: str | None = None) -> float:
        hits = [h for m, hs in self.logit_hits.items() if method in (None, m) for h in hs]
        return float(np.mean(hits)) if hits else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def dissect(
    name: str,
    *,
    pretrained: bool = True,
    source: str = "annotations",
    similarity: np.ndarray | None = None,
    device: str = "auto",
) -> Dissection:
    """Dissect ``name`` on the held-out probe images with the chosen parameters (cached for ``annotations``)."""
    if similarity is None:
        return _dissect_annotations(name, pretrained, device)
    return _dissect(name, pretrained=pretrained, source=source, similarity=similarity, device=device)


@lru_cache(maxsize=64)
def _dissect_annotations(name: str, pretrained: bool, device: str) -> Dissection:
    return _dissect(name, pretrained=pretrained, source="annotations", similarity=None, device=device)


def _dissect(name: str, *, pretrained: bool, source: str, similarity: np.ndarray | None, device: str) -> Dissection:
    probe = probe_set(PROBE_SEED, PROBE_N)
    acts = activations_of(name, pretrained, device, "held")
    sim = probe.presence if similarity is None else similarity
    _, held = parts()
    labelled = label_layers(acts, sim, probe, held)
    layers = {
        layer: {
            method: dict(
                module=acts.layer_names[layer],
                labels=[CONCEPTS[int(c)] for c in lab.concept],
                scores=[round(float(s), 4) for s in lab.score],
                interpretable=[bool(b) for b in lab.interpretable],
            )
            for method, lab in by_method.items()
        }
        for layer, by_method in labelled.items()
    }
    return Dissection(
        model=acts.model,
        family=acts.family,
        random=not pretrained,
        source=source,
        top_k=top_k_for(len(held), TOP_K_SHARE),
        n_images=len(held),
        layers=layers,
        logit_hits={m: logit_hits(labelled[LOGITS][m]) for m in METHODS},
    )


def summarise(d: Dissection) -> dict[str, Any]:
    """One model's rows of the CLIP-Dissect report's tables: highest similarity, top-50 and unique concepts."""
    hidden = [str(x) for x in DEPTHS]
    layers = (*hidden, LOGITS)
    best = {layer: {m: max(d.layers[layer][m]["scores"]) for m in METHODS} for layer in layers}
    units = [
        (s, lab, layer)
        for layer in hidden
        for s, lab in zip(d.layers[layer]["clip_dissect"]["scores"], d.layers[layer]["clip_dissect"]["labels"])
    ]
    top = sorted(units, key=lambda u: -u[0])[:TOP_UNITS]
    counts: dict[str, int] = {}
    for _, lab, _ in top:
        counts[lab] = counts.get(lab, 0) + 1
    nd_labels = {
        lab
        for layer in hidden
        for lab, ok in zip(d.layers[layer]["netdissect"]["labels"], d.layers[layer]["netdissect"]["interpretable"])
        if ok
    }
    nd_interp = {layer: float(np.mean(d.layers[layer]["netdissect"]["interpretable"])) for layer in (*hidden, LOGITS)}
    return dict(
        model=d.model,
        family=d.family,
        random=d.random,
        highest_similarity=best,
        top50_concepts=dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        unique_concepts=dict(
            clip_dissect=len({lab for layer in hidden for lab in d.layers[layer]["clip_dissect"]["labels"]}),
            netdissect=len(nd_labels),
        ),
        interpretable_share=nd_interp,
        logit_share={m: d.share(m) for m in METHODS},
        logit_labels={m: dict(zip(CLASS_NAMES, d.layers[LOGITS][m]["labels"])) for m in METHODS},
    )


def tune(models: list[str], *, device: str = "auto", log=None) -> dict[str, Any]:
    """Logit ground-truth share on the *tuning* part for each candidate parameter (never the held-out part)."""
    probe = probe_set(PROBE_SEED, PROBE_N)
    tune_idx, _ = parts()
    cd: dict[float, list[bool]] = {s: [] for s in TOP_K_SHARES}
    nd: dict[str, list[bool]] = {v: [] for v in LOGIT_MAPS}
    per_model: dict[str, dict[str, float]] = {}
    for name in models:
        acts = activations_of(name, True, device, "tune", LOGIT_MAPS)
        for share in TOP_K_SHARES:
            lab = label_layers(acts, probe.presence, probe, tune_idx, top_k_share=share, layers=(LOGITS,))
            cd[share] += logit_hits(lab[LOGITS]["clip_dissect"])
        for variant in LOGIT_MAPS:
            lab = label_layers(acts, probe.presence, probe, tune_idx, logit_map=variant, layers=(LOGITS,))
            hits = logit_hits(lab[LOGITS]["netdissect"])
            nd[variant] += hits
            per_model.setdefault(name, {})[f"netdissect:{variant}"] = float(np.mean(hits))
        if log is not None:
            log(f"[concepts tune] {name}: {per_model[name]}")
    return dict(
        per_model=per_model,
        n_tune=len(tune_idx),
        top_k_share={str(s): dict(top_k=top_k_for(len(tune_idx), s), share=float(np.mean(v))) for s, v in cd.items()},
        logit_map={v: float(np.mean(h)) for v, h in nd.items()},
        iou_min=ND_IOU_MIN,
    )
