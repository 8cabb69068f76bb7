"""Concept probe split, CLIP-Dissect soft-WPMI, Network Dissection, the clip source and the concepts report."""

import importlib
import math

import numpy as np
import pytest
import torch

from harness.concepts.dissect import clip_dissect, network_dissection, soft_wpmi, top_k_for
from harness.zoo.probe import CONCEPTS, PROBE_SPLIT_ID, SHAPES, class_concepts, make_probe_sample, probe_set
from harness.zoo.shapes import SPLIT_IDS, make_sample


def test_probe_split_is_deterministic_disjoint_and_masked():
    assert PROBE_SPLIT_ID not in SPLIT_IDS.values()
    a, b = make_probe_sample(0, 3), make_probe_sample(0, 3)
    assert np.array_equal(a.image, b.image) and a.concepts == b.concepts
    for split in SPLIT_IDS:
        assert not np.array_equal(a.image, make_sample(0, split, 3).image)
    obj = a.masks[next(c for c in a.concepts if c.startswith("shape:"))]
    colour = a.masks[next(c for c in a.concepts if c.startswith("colour:"))]
    bg = a.masks[next(c for c in a.concepts if c.startswith("background:"))]
    assert obj.any() and colour.any() and not (colour & ~obj).any() and not (bg & obj).any()
    assert set(a.concepts) <= set(CONCEPTS)


def test_probe_concepts_vary_independently_of_classes():
    p = probe_set(0, 48, 28)
    shapes = {m["shape"] for m in p.meta}
    colours = {m["colour"] for m in p.meta}
    assert len(shapes) >= 7 and len(colours) >= 7
    # most probe objects are not any class's (shape, colour, texture) combination
    combos = {class_concepts(k) for k in range(8)}
    own = sum((f"shape:{m['shape']}", f"colour:{m['colour']}", f"texture:{m['texture']}") in combos for m in p.meta)
    assert own < len(p) / 4
    assert p.masks.shape == (48, len(CONCEPTS), 28, 28) and p.presence.sum(1).min() >= 4
    assert np.array_equal(p.presence > 0, p.masks.any(axis=(2, 3)))


def _reference_soft_wpmi(clip_feats, target_feats, top_k, a=10, lam=1, min_prob=1e-7, p_start=0.998, p_end=0.97):
    """CLIP-Dissect's similarity.soft_wpmi, transcribed with its per-unit loop (CPU)."""
    clip_feats = torch.nn.functional.softmax(a * clip_feats, dim=1)
    inds = torch.topk(target_feats, dim=0, k=top_k)[1]
    prob_d_given_e = []
    p_in_examples = p_start - (torch.arange(start=0, end=top_k) / top_k * (p_start - p_end)).unsqueeze(1)
    for orig_id in range(target_feats.shape[1]):
        curr = clip_feats.gather(0, inds[:, orig_id : orig_id + 1].expand(-1, clip_feats.shape[1]))
        curr_p = 1 + p_in_examples * (curr - 1)
        prob_d_given_e.append(torch.sum(torch.log(curr_p + min_prob), dim=0, keepdim=True))
    prob_d_given_e = torch.cat(prob_d_given_e, dim=0)
    prob_d = torch.logsumexp(prob_d_given_e, dim=0, keepdim=True) - torch.log(prob_d_given_e.shape[0] * torch.ones([1]))
    return prob_d_given_e - lam * prob_d


def test_soft_wpmi_matches_the_reference_code():
    g = torch.Generator().manual_seed(0)
    clip, target = torch.rand(60, 7, generator=g), torch.randn(60, 5, generator=g)
    ours = soft_wpmi(clip, target, top_k=9)
    ref = _reference_soft_wpmi(clip, target, 9)
    assert torch.allclose(ours, ref, atol=1e-4), (ours - ref).abs().max()
    assert top_k_for(240, 0.1) == 24 and top_k_for(10, 0.005) == 2


def test_both_methods_label_a_planted_unit():
    p = probe_set(0, 48, 28)
    c = CONCEPTS.index("colour:red")
    # unit 0 fires exactly on red regions; unit 1 is noise
    rng = np.random.default_rng(0)
    red = p.masks[:, c] * (1 + 0.1 * rng.random((48, 28, 28))) + 0.01 * rng.random((48, 28, 28))
    maps = np.stack([red, rng.random((48, 28, 28))], 1).astype(np.float32)
    nd = network_dissection(maps, p.masks)
    assert CONCEPTS[nd.concept[0]] == "colour:red" and nd.interpretable[0] and nd.score[0] > nd.score[1]
    cd = clip_dissect(maps.mean(axis=(2, 3)), p.presence, top_k=4)
    assert CONCEPTS[cd.concept[0]] == "colour:red"


def test_clip_source_plumbing_on_a_random_open_clip_model():
    """Plumbing only: a tiny random-weight open_clip model, labelled as such."""
    pytest.importorskip("open_clip")
    from harness.concepts.similarity import DEFAULT_WORDS, clip_similarity, load_clip, tiny_random_clip

    model, tok = tiny_random_clip()
    p = probe_set(0, 8, 28)
    sim = clip_similarity(p.images, model=model, tokenizer=tok, concepts=CONCEPTS, random_weights=True)
    assert sim.values.shape == (8, len(CONCEPTS)) and np.isfinite(sim.values).all()
    assert np.abs(sim.values).max() <= 1 + 1e-5 and "random" in sim.label and "plumbing" in sim.label
    assert len(DEFAULT_WORDS) == len(CONCEPTS)
    lab = clip_dissect(np.random.default_rng(0).random((8, 3)), sim.values, top_k=2)
    assert lab.concept.shape == (3,)
    with pytest.raises(ValueError, match="never downloads"):
        load_clip("ViT-B-16", None)


def test_activation_pass_shapes_on_random_weights():
    from harness.concepts.activations import LOGIT_MAPS, activation_pass
    from harness.models import load_model

    p = probe_set(0, 4, 28)
    for name in ("zoo_resnet", "zoo_vit_p32"):
        model = load_model(name, pretrained=False, device="cpu")
        acts = activation_pass(model, p.images, batch=4)
        assert acts.model == f"{name}_random"
        assert acts.pooled["logits"].shape == (4, 8)
        for v in LOGIT_MAPS:
            assert acts.maps[f"logits:{v}"].shape[:2] == (4, 8)
        # the head map's mean is the logit for a GAP + linear head
        if name == "zoo_resnet":
            assert np.allclose(acts.maps["logits:head"].mean(axis=(2, 3)), acts.pooled["logits"], atol=1e-4)
        assert acts.pooled["100"].shape[0] == 4 and acts.maps["25"].ndim == 4


def test_concepts_report_tables(tmp_path):
    from harness.concepts.study import CHANCE
    from harness.report.concepts import write_concepts
    from harness.report.records import CaseRecord

    def summary(model, fam, s):
        layers = ("25", "50", "75", "100", "logits")
        return dict(
            model=model,
            family=fam,
            random=model.endswith("_random"),
            highest_similarity={d: {"clip_dissect": s, "netdissect": s / 10} for d in layers},
            top50_concepts={"colour:red": 30, "shape:disk": 20},
            unique_concepts={"clip_dissect": 9, "netdissect": 5},
            interpretable_share={d: 0.5 for d in layers},
            logit_share={"clip_dissect": 1.0, "netdissect": 0.875},
            logit_labels={},
        )

    value = dict(
        model="zoo_resnet",
        control="zoo_resnet_random",
        share=0.9375,
        share_by_method={"clip_dissect": 1.0, "netdissect": 0.875},
        random_share=0.125,
        chance=CHANCE,
        top_k=24,
        n_images=240,
        source="annotations",
        summary=summary("zoo_resnet", "cnn", 3.0),
        control_summary=summary("zoo_resnet_random", "cnn", 1.0),
    )
    cases = [
        CaseRecord(
            id="dissect-zoo_resnet-check_concept_labels",
            model="zoo_resnet",
            explainer="dissect",
            check="check_concept_labels",
            value=value,
        )
    ]
    assert write_concepts(tmp_path, cases)
    md = (tmp_path / "concepts.md").read_text()
    for heading in (
        "Highest similarity by layer and model",
        "top-50 units",
        "Unique concepts",
        "CNNs against transformers",
    ):
        assert heading in md
    assert "zoo_resnet_random" in md and "0.938" in md
    assert not write_concepts(tmp_path / "none", [])


def test_chance_level():
    from harness.concepts.study import CHANCE

    assert math.isclose(CHANCE, 3 / 22) and len(CONCEPTS) == 22 and len(SHAPES) == 8


def test_concepts_command_parses():
    from harness.cli import build_parser

    args = build_parser().parse_args(
        ["concepts", "dissect", "zoo_resnet", "--source", "clip", "--clip-weights", "w.pt"]
    )
    assert args.models == ["zoo_resnet"] and args.source == "clip" and args.clip_model == "ViT-B-16"
    assert build_parser().parse_args(["concepts", "bias", "--json"]).json


def test_a_pass_for_one_logit_map_equals_the_full_pass():
    """The check computes only the Grad-CAM logit maps it reads (issue 24): same numbers, fewer backward passes."""
    from harness.concepts.activations import LOGIT_MAPS, activation_pass
    from harness.models import load_model

    p = probe_set(0, 4, 28)
    for name in ("zoo_resnet", "zoo_vit_p32"):
        model = load_model(name, pretrained=False, device="cpu")
        full = activation_pass(model, p.images, batch=4)
        for v in LOGIT_MAPS:
            one = activation_pass(model, p.images, batch=4, logit_maps=(v,))
            assert set(one.maps) == {*(k for k in full.maps if not k.startswith("logits:")), f"logits:{v}"}
            np.testing.assert_array_equal(one.maps[f"logits:{v}"], full.maps[f"logits:{v}"], err_msg=f"{name} {v}")
            for k, a in full.pooled.items():
                np.testing.assert_array_equal(one.pooled[k], a, err_msg=f"{name} pooled {k}")
    with pytest.raises(ValueError, match="unknown logit map"):
        activation_pass(model, p.images, logit_maps=("nope",))


def test_dissection_iou_does_not_depend_on_how_many_images_are_upsampled_at_once(monkeypatch):
    """Wide layers are upsampled a few images at a time (a memory bound); the IoUs are counts, so equal."""
    dissect = importlib.import_module("harness.concepts.dissect")  # the package exports a function `dissect`

    rng = np.random.default_rng(0)
    maps = rng.random((12, 40, 7, 7)).astype(np.float16)
    masks = rng.random((12, 5, 28, 28)) > 0.7
    whole = dissect.dissection_iou(maps, masks, batch=12)
    monkeypatch.setattr(dissect, "_UPSAMPLED_MAX", 40 * 28 * 28 * 3)  # 3 images at a time
    np.testing.assert_array_equal(dissect.dissection_iou(maps, masks, batch=12), whole)
    monkeypatch.setattr(dissect, "_UPSAMPLED_MAX", 1)  # never below one image
    np.testing.assert_array_equal(dissect.dissection_iou(maps, masks), whole)
    assert whole.max() > 0
