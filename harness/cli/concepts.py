"""``python -m harness concepts tune|dissect|bias``: concept labels of units and the spurious-cue bias probe."""

from __future__ import annotations

import argparse
import json
import sys

from ..bias.checks import bias_study
from ..concepts.similarity import DEFAULT_WORDS, clip_similarity, load_clip
from ..concepts.study import PROBE_N, PROBE_SEED, dissect, summarise, tune
from ..models.zoo import CLEAN_ZOO
from ..report.table import render_table
from ..zoo.probe import CONCEPTS, probe_set


def cmd_tune(args) -> int:
    result = tune(
        args.models or list(CLEAN_ZOO), device=args.device, log=lambda m: print(m, file=sys.stderr, flush=True)
    )
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _clip_similarity(args):
    words = tuple(open(args.words).read().split("\n")) if args.words else DEFAULT_WORDS
    words = tuple(w for w in words if w.strip())
    model, tok = load_clip(args.clip_model, args.clip_weights, device="cpu" if args.device == "auto" else args.device)
    concepts = CONCEPTS if words == DEFAULT_WORDS else words
    return clip_similarity(
        probe_set(PROBE_SEED, PROBE_N).images, model=model, tokenizer=tok, words=words, concepts=concepts
    )


def cmd_dissect(args) -> int:
    sim = _clip_similarity(args) if args.source == "clip" else None
    rows, out = [], {}
    for name in args.models or list(CLEAN_ZOO):
        for pretrained in (True, False) if args.controls else (True,):
            d = dissect(
                name,
                pretrained=pretrained,
                source=sim.label if sim is not None else "annotations",
                similarity=None if sim is None else sim.values,
                device=args.device,
            )
            s = summarise(d)
            out[d.model] = s
            rows.append([d.model, d.family, d.share("clip_dissect"), d.share("netdissect"), d.top_k, d.n_images])
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        headers = ("model", "family", "CLIP-Dissect", "NetDissect", "top_k", "images")
        print(render_table(headers, rows, title="logit units labelled with their class's own concept (held-out probe)"))
    return 0


def cmd_bias(args) -> int:
    result = bias_study(tuple(args.models) or None, device=args.device)
    if args.json:
        json.dump(result, sys.stdout, indent=1, default=float)
        sys.stdout.write("\n")
        return 0
    rows = []
    for name, r in result["models"].items():
        a, cf = r["accuracy"], r["counterfactual"]
        rel = {ex: v["outside"] for ex, v in r["reliance"].items()}
        rows.append(
            [name, r["trained_on"], a["aligned"], a["free"], a["conflicting"], cf["prob_drop"], json.dumps(rel)]
        )
    print(render_table(("model", "trained on", "aligned", "free", "conflicting", "cf. drop", "outside share"), rows))
    print("Spearman:", json.dumps(result["spearman"]))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("concepts", help="concept labels of units (CLIP-Dissect, Network Dissection) and the bias probe")
    psub = p.add_subparsers(dest="concepts_command", required=True)
    t = psub.add_parser("tune", help="ground-truth share on the probe's tuning part for each candidate parameter")
    t.add_argument("models", nargs="*")
    t.add_argument("--device", default="auto")
    t.set_defaults(func=cmd_tune)
    d = psub.add_parser("dissect", help="label units on the held-out probe and score the logits against ground truth")
    d.add_argument("models", nargs="*", help="zoo models (default: the 11 clean ones)")
    d.add_argument("--source", choices=("annotations", "clip"), default="annotations")
    d.add_argument("--clip-model", default="ViT-B-16", help="open_clip architecture (default ViT-B-16)")
    d.add_argument("--clip-weights", default=None, help="open_clip weights file or cached tag (never downloaded)")
    d.add_argument("--words", default=None, help="concept word list, one per line (default: the probe's concepts)")
    d.add_argument("--controls", action="store_true", help="also the random-weight controls")
    d.add_argument("--json", action="store_true")
    d.add_argument("--device", default="auto")
    d.set_defaults(func=cmd_dissect)
    b = psub.add_parser("bias", help="the spurious-cue bias probe (accuracy, background reliance, counterfactual)")
    b.add_argument("models", nargs="*", help="default: the spurious zoo models and their clean twins")
    b.add_argument("--json", action="store_true")
    b.add_argument("--device", default="auto")
    b.set_defaults(func=cmd_bias)
