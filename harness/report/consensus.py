"""Cross-model consensus: do explanations group by architecture?

For each explainer and similarity metric: the mean similarity matrix, the
dissimilarity ``sqrt((1-mean)^2 + std^2)``, average-linkage clustering and
its dendrogram, Louvain communities, and alignment of both with the models'
family tags.  Written as CSV and PNG files plus ``consensus.json``.

Every pair's similarity and dissimilarity, and the ARI, purity and family
silhouette of the 2-cluster cut, carry a 95 % percentile interval from a
seeded bootstrap over images (:mod:`harness.compare.bootstrap`; the per-image
similarities are computed once and re-weighted).  The verdict reads the ARI
interval three ways: "follow" when its lower bound is above the threshold,
"do not follow" when its upper bound is below, else "undecided at N images"
with the images a 1/sqrt(n) power estimate says would decide it.
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
from ..compare.alignment import ARI_THRESHOLD
from ..compare.bootstrap import LEVEL, RESAMPLES, BootstrapOptions, format_interval
from ..compare.clustering import Method as Linkage
from ..compute.replay import code_digest
from ..compute.store import Store, canonical_json
from ..core.atomic import write_atomic
from ..zoo.shapes import CLASS_NAMES, LABEL_SPACE
from .collect import MapGroup
from .heatmaps import ordered_heatmap
from .kept import keep_files, restore_files

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
    resamples: int = RESAMPLES  # bootstrap over images: B (0 = no intervals)
    bootstrap_seed: int = 0
    level: float = LEVEL
    ari_threshold: float = ARI_THRESHOLD

    def bootstrap(self) -> BootstrapOptions:
        """The bootstrap settings (``resamples`` 0: no intervals), shared with the leaderboard."""
        return BootstrapOptions(
            resamples=self.resamples, seed=self.bootstrap_seed, level=self.level, threshold=self.ari_threshold
        )


def _pairs(sim: compare.SimilarityMatrix, boot: compare.ConsensusBootstrap | None) -> list[dict[str, Any]]:
    names = sim.names
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            pair: dict[str, Any] = {
                "a": names[i],
                "b": names[j],
                "similarity": float(sim.similarity[i, j]),
                "dissimilarity": float(sim.dissimilarity[i, j]),
                "images": int(sim.counts[i, j]),
            }
            if boot is not None:
                pair["similarity_interval"] = [float(boot.similarity_low[i, j]), float(boot.similarity_high[i, j])]
                pair["dissimilarity_interval"] = [
                    float(boot.dissimilarity_low[i, j]),
                    float(boot.dissimilarity_high[i, j]),
                ]
            out.append(pair)
    return sorted(out, key=lambda p: -p["similarity"])


def interval_cell(pair: dict[str, Any], key: str) -> object:
    """A pair's ``key`` as ``0.82 [0.75, 0.88]`` when it carries ``<key>_interval``, else the plain value."""
    bounds = pair.get(f"{key}_interval")
    return pair[key] if bounds is None else format_interval(pair[key], *bounds)


def class_counts(group: MapGroup) -> dict[str, int]:
    """How many of the group's images show each class (true labels; ``unlabelled`` where none)."""
    names = _class_names(group.label_space)
    counts: dict[str, int] = {}
    for label in group.labels:
        if label is None:
            key = "unlabelled"
        elif names is not None and 0 <= int(label) < len(names):
            key = names[int(label)]
        else:
            key = f"class {int(label)}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _class_names(label_space: str) -> tuple[str, ...] | None:
    return CLASS_NAMES if label_space == LABEL_SPACE else None


def classes_line(counts: dict[str, int]) -> str:
    """``8 classes x 1`` when balanced, else ``diamond 3, square 2, ...``; empty when unknown."""
    if not counts:
        return ""
    if len(set(counts.values())) == 1 and "unlabelled" not in counts:
        n = next(iter(counts.values()))
        return f"{len(counts)} {'class' if len(counts) == 1 else 'classes'} x {n}"
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def three_way_verdict(
    a_cut: compare.Alignment, boot: compare.ConsensusBootstrap, *, threshold: float, classes: str = ""
) -> str:
    """The verdict line from the ARI interval: follow / do not follow / undecided at N images."""
    n = boot.n_images
    numbers = (
        f"ARI {boot.ari}, threshold {threshold:.2f}; purity {boot.purity}; family silhouette {boot.silhouette}; "
        f"{a_cut.n_clusters} clusters, {a_cut.n_families} families, {a_cut.n_models} models; "
        f"{n} images{f' ({classes})' if classes else ''}, B={boot.resamples}"
    )
    if boot.state == "follows":
        return f"clusters follow architecture ({numbers})"
    if boot.state == "does not follow":
        return f"clusters do not follow architecture ({numbers})"
    need = (
        f"about {boot.images_needed} images would decide (half-width ~ 1/sqrt(n))"
        if boot.images_needed is not None
        else "the ARI sits on the threshold: more images alone may not decide"
    )
    return f"undecided at {n} images whether clusters follow architecture ({numbers}); {need}"


def analyse(
    group: MapGroup, metric: str, options: ConsensusOptions, weights: np.ndarray | None = None
) -> dict[str, Any]:
    """Similarity, clustering, communities and alignment of one group under one metric.

    ``weights`` (``[B, n]`` image resample counts, shared by the group's
    metrics) gives the intervals; None leaves them out.
    """
    pv = compare.pair_values(
        group.maps,
        metric=METRICS[metric],
        same_prediction=group.predictions if options.same_prediction else None,
    )
    sim = pv.matrix()
    families = [group.families[group.models.index(n)] for n in sim.names]
    tree = compare.cluster(sim.dissimilarity, sim.names, method=options.linkage)
    cut = tree.cut(2)
    comms = compare.louvain(sim.similarity, sim.names, resolution=options.resolution, seed=options.seed)
    sil = compare.silhouette_by_family(sim.dissimilarity, families)
    a_cut, a_comm = compare.alignment(cut, families), compare.alignment(comms.labels, families)
    boot = None
    if weights is not None:
        boot = compare.bootstrap_consensus(
            pv,
            families,
            weights,
            estimates={"ari": a_cut.ari, "purity": a_cut.purity, "silhouette": sil.score},
            method=options.linkage,
            level=options.level,
            threshold=options.ari_threshold,
        )
    pairs = _pairs(sim, boot)
    line, state = _verdict(group, families, a_cut, sil.score, boot, options)
    out: dict[str, Any] = {
        "metric": metric,
        "names": list(sim.names),
        "families": families,
        "matrix": sim,
        "clustering": tree,
        "bootstrap": boot,
        "cut2": [int(c) for c in cut],
        "communities": [int(c) for c in comms.labels],
        "modularity": float(comms.modularity),
        "alignment_cut2": {"ari": a_cut.ari, "purity": a_cut.purity, "clusters": a_cut.n_clusters},
        "alignment_communities": {"ari": a_comm.ari, "purity": a_comm.purity, "clusters": a_comm.n_clusters},
        "silhouette": sil.score,
        "verdict": line,
        "state": state,
        "most_similar": pairs[:TOP_PAIRS],
        "least_similar": pairs[::-1][:TOP_PAIRS],
    }
    if boot is not None:
        out["alignment_cut2"]["ari_interval"] = [boot.ari.low, boot.ari.high]
        out["alignment_cut2"]["purity_interval"] = [boot.purity.low, boot.purity.high]
        out["silhouette_interval"] = [boot.silhouette.low, boot.silhouette.high]
        out["images_needed"] = boot.images_needed
        out["pairs"] = pairs
    return out


def _verdict(group: MapGroup, families: list[str], a_cut, silhouette: float, boot, options: ConsensusOptions):
    """(verdict line, state): three-way with intervals, or the point verdict; "cannot tell" when the
    families cannot show anything (one family, or a family with fewer than ``MIN_PER_FAMILY`` models)."""
    classes = classes_line(class_counts(group))
    if boot is not None:
        line = three_way_verdict(a_cut, boot, threshold=options.ari_threshold, classes=classes)
    else:
        line = compare.verdict(a_cut, silhouette=silhouette)
    state = boot.state if boot is not None else None
    images = f"{len(group.image_ids)} images" + (f": {classes}" if classes else "")
    smallest = min(families.count(f) for f in set(families))
    if len(set(families)) < 2:
        state = "cannot tell"
        if boot is not None:
            line = f"cannot tell whether clusters follow architecture: one family ({len(families)} models; {images})"
    elif smallest < MIN_PER_FAMILY:
        # one model per family is trivially "its own cluster": no evidence either way
        state = "cannot tell"
        line = (
            f"cannot tell whether clusters follow architecture: a family has {smallest} model(s), "
            f"need {MIN_PER_FAMILY} ({len(families)} models; {images})"
        )
    return line, state


def _slug(group: MapGroup, taken: set[str]) -> str:
    slug = group.explainer if group.label_space == "imagenet" else f"{group.explainer}-{group.label_space}"
    if slug in taken:
        slug += "-" + hashlib.sha256(canonical_json(group.params).encode()).hexdigest()[:8]
    taken.add(slug)
    return slug


def _write_matrix(path: Path, names: list[str], matrix: np.ndarray) -> None:
    import pandas as pd  # lazy: drift overlays may pin a numpy this pandas was not built for

    write_atomic(path, pd.DataFrame(matrix, index=names, columns=names).to_csv(float_format="%.6g"))


def _heatmap(path: Path, names: list[str], matrix: np.ndarray, title: str, families=None, linkage=None) -> None:
    """The matrix in the dendrogram's leaf order with a family colour bar (:mod:`harness.report.heatmaps`)."""

    ordered_heatmap(
        path, names, matrix, title, families=families, linkage=linkage, vmin=min(0.0, float(matrix.min())), vmax=1.0
    )


def write_consensus(
    groups: list[MapGroup], out: Path, options: ConsensusOptions | None = None, *, store: Store | None = None
) -> dict[str, Any]:
    """Write ``out/consensus/<explainer>/*`` and return the JSON-able summary.

    With a ``store``, each group's section (its JSON entry, CSVs and figures) is kept as a ``consensus``
    entry keyed by a digest of the group's maps, predictions, models and images, the options and the
    harness's code: a rerun over the same explanations copies the files instead of drawing them again.
    """
    options = options or ConsensusOptions()
    boot: BootstrapOptions | None = options.bootstrap() if options.resamples else None
    summary: dict[str, Any] = {
        "options": vars(options),
        "bootstrap": boot.describe() if boot is not None else None,
        "explainers": [],
    }
    taken: set[str] = set()
    for group in groups:
        slug = _slug(group, taken)
        folder = out / "consensus" / slug
        folder.mkdir(parents=True, exist_ok=True)
        fields = _cache_fields(group, slug, options) if store is not None else None
        entry = _cached_section(store, fields, folder) if store is not None and fields is not None else None
        if entry is None:
            entry = _section(group, slug, folder, options, boot)
            if store is not None and fields is not None:
                _keep_section(store, fields, entry, folder)
        summary["explainers"].append(entry)
    write_atomic(out / "consensus.json", json.dumps(summary, indent=2, default=float))
    return summary


def _section(
    group: MapGroup, slug: str, folder: Path, options: ConsensusOptions, boot: BootstrapOptions | None
) -> dict[str, Any]:
    """One group's consensus entry; its CSVs and figures are written to ``folder``."""
    entry: dict[str, Any] = {
        "explainer": group.explainer,
        "params": group.params,
        "slug": slug,
        "label_space": group.label_space,
        "models": list(group.models),
        "families": list(group.families),
        "images": list(group.image_ids),
        "class_counts": class_counts(group),
        "metrics": [],
    }
    weights = (
        compare.resample_weights(len(group.image_ids), resamples=boot.resamples, seed=boot.seed)
        if boot is not None
        else None
    )
    for metric in METRICS:
        res = analyse(group, metric, options, weights)
        sim = res.pop("matrix")
        tree = res.pop("clustering")
        intervals = res.pop("bootstrap")
        files = {}
        matrices = [("similarity", sim.similarity), ("dissimilarity", sim.dissimilarity), ("counts", sim.counts)]
        if intervals is not None:
            matrices += [
                ("similarity_low", intervals.similarity_low),
                ("similarity_high", intervals.similarity_high),
                ("dissimilarity_low", intervals.dissimilarity_low),
                ("dissimilarity_high", intervals.dissimilarity_high),
            ]
        for kind, matrix in matrices:
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
        title = f"{group.title}: {options.linkage} linkage, {metric}"
        draw = functools.partial(compare.plot_dendrogram, tree, families=res["families"], title=title)
        write_atomic(folder / f"{metric}_dendrogram.png", draw)
        files["dendrogram"] = f"consensus/{slug}/{metric}_dendrogram.png"
        res["files"] = files
        entry["metrics"].append(res)
    return entry


# -- the section cache: drawn only when its inputs change ------------------------------------------------

CACHE_KIND = "consensus"


def _cache_fields(group: MapGroup, slug: str, options: ConsensusOptions) -> dict[str, Any]:
    h = hashlib.sha256()
    described = {
        "explainer": group.explainer,
        "params": group.params,
        "models": list(group.models),
        "families": list(group.families),
        "images": list(group.image_ids),
        "label_space": group.label_space,
        "labels": list(group.labels),
    }
    h.update(canonical_json(described).encode())
    for model in group.models:
        h.update(np.ascontiguousarray(group.maps[model]).tobytes())
        h.update(np.ascontiguousarray(group.predictions[model]).tobytes())
    return {"group": h.hexdigest(), "slug": slug, "options": vars(options), "code": code_digest()}


def _cached_section(store: Store, fields: dict[str, Any], folder: Path) -> dict[str, Any] | None:
    stored = restore_files(store, CACHE_KIND, fields, folder)
    if stored is None or "entry" not in stored.arrays:
        return None
    return json.loads(stored.arrays["entry"].tobytes().decode())


def _keep_section(store: Store, fields: dict[str, Any], entry: dict[str, Any], folder: Path) -> None:
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    encoded = np.frombuffer(json.dumps(entry, default=float).encode(), np.uint8)
    keep_files(store, CACHE_KIND, fields, folder, names, entry=encoded)
