"""Read explanations back from the store, grouped for cross-model comparison.

Only primary explanations (targets = each model's top-1 prediction) are
used, grouped by explainer and parameters other than the per-case ``seed``
of stochastic explainers (KernelSHAP's differs per model by design); probes
such as the second-class maps of ``check_target_respected`` are left out.
Models of different input sizes see the same field of view
(resize-and-centre-crop with the same ``crop_pct``), so their maps are
area-resampled to a common ``side`` before comparison.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..compute.store import Store, canonical_json
from ..explainers.resample import resample_map

COMMON_SIDE = 56


@dataclass(frozen=True, eq=False)
class MapGroup:
    """One explainer (with fixed parameters) across models, on common images."""

    explainer: str
    params: dict
    models: tuple[str, ...]
    families: tuple[str, ...]
    image_ids: tuple[str, ...]
    maps: dict[str, np.ndarray]  # model -> [N, side, side]
    predictions: dict[str, np.ndarray]  # model -> [N]
    label_space: str = "imagenet"  # models are only compared on the same images
    labels: tuple[int | None, ...] = ()  # true class per image (None: unlabelled), for the class counts

    @property
    def title(self) -> str:
        name = self.explainer if self.label_space == "imagenet" else f"{self.explainer} [{self.label_space}]"
        return name if not self.params else f"{name} {canonical_json(self.params)}"


def collect_groups(
    store: Store, *, cases: set[tuple[str, str]] | None = None, side: int = COMMON_SIDE
) -> list[MapGroup]:
    """Groups of maps per explainer; ``cases`` limits to (model, explainer) pairs."""
    # (explainer, params json) -> model -> weights -> image digest -> (attr, target, image id, family)
    tree: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    params_of: dict[tuple[str, str, str], dict] = {}
    for entry in store.entries("explanation"):
        f, meta = entry.fields, entry.meta
        if meta.get("targets_mode") != "pred":
            continue
        if cases is not None and (f["model"], f["explainer"]) not in cases:
            continue
        # a stochastic explainer's seed differs per case (``<explainer>-<model>``): not a setting to group on
        params = {k: v for k, v in f["params"].items() if k != "seed"}
        key = (f["explainer"], canonical_json(params), meta.get("label_space", "imagenet"))
        params_of[key] = params
        tree[key][f["model"]][f["weights"]][f["image"]] = (
            entry.arrays["attribution"],
            int(f["target"]),
            meta.get("image_id", f["image"]),
            meta.get("family", "?"),
            meta.get("label"),
        )
    groups = []
    for key, per_model in sorted(tree.items()):
        chosen = {m: max(ws.values(), key=len) for m, ws in per_model.items()}  # most complete weights
        if len(chosen) < 2:
            continue
        common = sorted(
            set.intersection(*(set(imgs) for imgs in chosen.values())), key=lambda d: next(iter(chosen.values()))[d][2]
        )
        if not common:
            continue
        models = tuple(sorted(chosen))
        groups.append(
            MapGroup(
                explainer=key[0],
                params=params_of[key],
                models=models,
                label_space=key[2],
                families=tuple(next(iter(chosen[m].values()))[3] for m in models),
                image_ids=tuple(next(iter(chosen.values()))[d][2] for d in common),
                maps={m: np.stack([resample_map(chosen[m][d][0], side) for d in common]) for m in models},
                predictions={m: np.array([chosen[m][d][1] for d in common]) for m in models},
                labels=tuple(next(iter(chosen.values()))[d][4] for d in common),
            )
        )
    return groups


def restrict_images(groups: list[MapGroup], keep: dict[str, tuple[str, ...]]) -> list[MapGroup]:
    """Groups of a label space in ``keep`` cut down to those image ids, in that order (others unchanged).

    How a report reads a subset of what the store holds, e.g. the zoo's first
    8 balanced images of a store that has 64 (``python -m harness report
    --zoo-images 8``); a group left with no image is dropped.
    """
    out = []
    for g in groups:
        if g.label_space not in keep:
            out.append(g)
            continue
        pos = {i: k for k, i in enumerate(g.image_ids)}
        idx = [pos[i] for i in keep[g.label_space] if i in pos]
        if not idx:
            continue
        out.append(
            MapGroup(
                explainer=g.explainer,
                params=g.params,
                models=g.models,
                families=g.families,
                image_ids=tuple(g.image_ids[k] for k in idx),
                maps={m: v[idx] for m, v in g.maps.items()},
                predictions={m: v[idx] for m, v in g.predictions.items()},
                label_space=g.label_space,
                labels=tuple(g.labels[k] for k in idx) if g.labels else (),
            )
        )
    return out
