"""Cross-model consensus: do explanations group by architecture?

For each explainer and similarity metric: the mean similarity matrix, the
dissimilarity ``sqrt((1-mean)^2 + std^2)``, average-linkage clustering and
its dendrogram, Louvain communities, and alignment of both with the models'
family tags.  Written as CSV and PNG files plus ``consensus.json``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import compare
from ..compare.clustering import Method as Linkage
from ..store import canonical_json
from .collect import MapGroup

METRICS: dict[str, Any] = {
    "cosine": "cosine",
    "rbf": "rbf",
    "kappa_top10": functools.partial(compare.cohens_kappa, top_k=0.1),
}
TOP_PAIRS = 5
MIN_PER_FAMILY = 2


@dataclass(frozen=True)
class ConsensusOptions:
    same_prediction: bool = False
    linkage: Linkage = "average"
    resolution: float = 1.0
    seed: int = 0


def _pairs(sim: compare.SimilarityMatrix) -> list[dict[str, Any]]:
    names = sim.names
    out = [
        {
            "a": names[i],
            "b": names[j],
            "similarity": float(sim.similarity[i, j]),
            "dissimilarity": float(sim.dissimilarity[i, j]),
            "images": int(sim.counts[i, j]),
        }
        for i in range(len(names))
        for j in range(i + 1, len(names))
    ]
    return sorted(out, key=lambda p: -p["similarity"])


def analyse(group: MapGroup, metric: str, options: ConsensusOptions) -> dict[str, Any]:
    """Similarity, clustering, communities and alignment of one group under one metric."""
    sim = compare.similarity_matrix(
        group.maps,
        metric=METRICS[metric],
        same_prediction=group.predictions if options.same_prediction else None,
    )
    families = [group.families[group.models.index(n)] for n in sim.names]
    tree = compare.cluster(sim.dissimilarity, sim.names, method=options.linkage)
    cut = tree.cut(2)
    comms = compare.louvain(sim.similarity, sim.names, resolution=options.resolution, seed=options.seed)
    sil = compare.silhouette_by_family(sim.dissimilarity, families)
    a_cut, a_comm = compare.alignment(cut, families), compare.alignment(comms.labels, families)
    pairs = _pairs(sim)
    line = compare.verdict(a_cut, silhouette=sil.score)
    smallest = min(families.count(f) for f in set(families))
    if len(set(families)) >= 2 and smallest < MIN_PER_FAMILY:
        # one model per family is trivially "its own cluster": no evidence either way
        line = (
            f"cannot tell whether clusters follow architecture: a family has {smallest} model(s), "
            f"need {MIN_PER_FAMILY} ({len(families)} models)"
        )
    return {
        "metric": metric,
        "names": list(sim.names),
        "families": families,
        "matrix": sim,
        "clustering": tree,
        "cut2": [int(c) for c in cut],
        "communities": [int(c) for c in comms.labels],
        "modularity": float(comms.modularity),
        "alignment_cut2": {"ari": a_cut.ari, "purity": a_cut.purity, "clusters": a_cut.n_clusters},
        "alignment_communities": {"ari": a_comm.ari, "purity": a_comm.purity, "clusters": a_comm.n_clusters},
        "silhouette": sil.score,
        "verdict": line,
        "most_similar": pairs[:TOP_PAIRS],
        "least_similar": pairs[::-1][:TOP_PAIRS],
    }


def _slug(group: MapGroup, taken: set[str]) -> str:
    slug = group.explainer if group.label_space == "imagenet" else f"{group.explainer}-{group.label_space}"
    if slug in taken:
        slug += "-" + hashlib.sha256(canonical_json(group.params).encode()).hexdigest()[:8]
    taken.add(slug)
    return slug


def _write_matrix(path: Path, names: list[str], matrix: np.ndarray) -> None:
    import pandas as pd

    pd.DataFrame(matrix, index=names, columns=names).to_csv(path, float_format="%.6g")


def _heatmap(path: Path, names: list[str], matrix: np.ndarray, title: str, families=None, linkage=None) -> None:
    """The matrix in the dendrogram's leaf order with a family colour bar (:mod:`harness.report.heatmaps`)."""
    from .heatmaps import ordered_heatmap

    ordered_heatmap(
        path, names, matrix, title, families=families, linkage=linkage, vmin=min(0.0, float(matrix.min())), vmax=1.0
    )


def write_consensus(groups: list[MapGroup], out: Path, options: ConsensusOptions | None = None) -> dict[str, Any]:
    """Write ``out/consensus/<explainer>/*`` and return the JSON-able summary."""
    options = options or ConsensusOptions()
    summary: dict[str, Any] = {"options": vars(options), "explainers": []}
    taken: set[str] = set()
    for group in groups:
        slug = _slug(group, taken)
        folder = out / "consensus" / slug
        folder.mkdir(parents=True, exist_ok=True)
        entry: dict[str, Any] = {
            "explainer": group.explainer,
            "params": group.params,
            "slug": slug,
            "label_space": group.label_space,
            "models": list(group.models),
            "families": list(group.families),
            "images": list(group.image_ids),
            "metrics": [],
        }
        for metric in METRICS:
            res = analyse(group, metric, options)
            sim = res.pop("matrix")
            tree = res.pop("clustering")
            files = {}
            for kind, matrix in (
                ("similarity", sim.similarity),
                ("dissimilarity", sim.dissimilarity),
                ("counts", sim.counts),
            ):
                _write_matrix(folder / f"{metric}_{kind}.csv", res["names"], matrix)
                files[kind] = f"consensus/{slug}/{metric}_{kind}.csv"
            _heatmap(
                folder / f"{metric}_heatmap.png",
                res["names"],
                sim.similarity,
                f"{group.title}: mean {metric} similarity",
                families=res["families"],
                linkage=tree.linkage,
            )
            files["heatmap"] = f"consensus/{slug}/{metric}_heatmap.png"
            compare.plot_dendrogram(
                tree,
                folder / f"{metric}_dendrogram.png",
                families=res["families"],
                title=f"{group.title}: {options.linkage} linkage, {metric}",
            )
            files["dendrogram"] = f"consensus/{slug}/{metric}_dendrogram.png"
            res["files"] = files
            entry["metrics"].append(res)
        summary["explainers"].append(entry)
    (out / "consensus.json").write_text(json.dumps(summary, indent=2, default=float))
    return summary
