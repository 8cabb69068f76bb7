"""The seed works' figures, by name, drawn from explanations (``python -m harness figure NAME``).

* ``thesis-grid``: per image, the original and its Grad-CAM, IG and KernelSHAP
  maps, one row per model grouped by family (the CNN-vs-transformer thesis;
  IG's patch-grid pattern shows on the ViTs), plus per explainer the
  dissimilarity heatmap and the dendrogram, both in the dendrogram's leaf
  order with a family colour bar.
* ``cam-vs-rollout``: per image, each CNN's Grad-CAM beside each
  transformer's attention rollout (the CAM-vs-rollout demo).
* ``cam-family``: per model, Grad-CAM, Score-CAM, Ablation-CAM and LIME image
  by image (the CLIP-Dissect/LIME/Grad-CAM report).

This module only draws: :mod:`harness.cli.figures` fetches the
explanations through the runner (from the store when warm) and hands them
over as :class:`Panel` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import compare
from ..core.atomic import write_atomic
from ..explainers.resample import resample_map
from . import overlays
from .heatmaps import ordered_heatmap

CELL_IN = 1.6  # inches per cell


@dataclass(frozen=True)
class FigureSpec:
    """A named figure: the explainers it shows and how its rows are laid out."""

    name: str
    explainers: tuple[str, ...]
    layout: str  # "models": rows are models, one figure per image; "images": rows are images
    about: str
    only: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (explainer, families it is drawn for); others: all

    def draws(self, explainer: str, family: str) -> bool:
        fams = dict(self.only).get(explainer)
        return fams is None or family in fams


SPECS: dict[str, FigureSpec] = {
    s.name: s
    for s in (
        FigureSpec(
            "thesis-grid",
            ("gradcam", "ig", "kernelshap"),
            "models",
            "original image, Grad-CAM, IG and KernelSHAP per model (rows by family); dissimilarity heatmaps "
            "and dendrograms in leaf order",
        ),
        FigureSpec(
            "cam-vs-rollout",
            ("gradcam", "rollout"),
            "images",
            "each CNN's Grad-CAM beside each transformer's attention rollout, image by image",
            only=(("gradcam", ("cnn",)), ("rollout", ("transformer",))),
        ),
        FigureSpec(
            "cam-family",
            ("gradcam", "scorecam", "ablationcam", "lime"),
            "images",
            "Grad-CAM, Score-CAM, Ablation-CAM and LIME image by image, one figure per model",
        ),
    )
}


@dataclass
class Panel:
    """One model's maps of one explainer on the images shown, with what the model saw and predicted."""

    model: str
    family: str
    explainer: str
    image_ids: list[str]
    views: list[np.ndarray]  # RGB as the model saw each image
    maps: list[np.ndarray]
    preds: list[str]
    probs: list[float | None]
    styles: dict[str, overlays.Style] = field(default_factory=dict)


def _cell(ax, view: np.ndarray | None, attr: np.ndarray | None, style: overlays.Style | None) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if attr is None or style is None:
        if view is not None:
            ax.imshow(overlays.fit_image(view, overlays.THUMB))
        else:
            ax.set_facecolor("#eee")
        return
    rgba = overlays.resize_rgba(overlays.colorize(overlays.normalise(attr, style), style), overlays.THUMB)
    base = None if view is None else overlays.fit_image(view, overlays.THUMB)
    ax.imshow(overlays.blend(base, rgba))


def _save(fig, path: Path) -> Path:
    write_atomic(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=90, bbox_inches="tight"))
    import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.2-0.8 s to import

    plt.close(fig)
    return path


def _figure(rows: int, cols: int):
    import matplotlib  # lazy: matplotlib takes ~0.2-0.8 s to import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.2-0.8 s to import

    fig, axes = plt.subplots(rows, cols, figsize=(1.2 + CELL_IN * cols, 0.9 + CELL_IN * rows), squeeze=False)
    return fig, axes


def _pred(p: Panel, i: int) -> str:
    prob = p.probs[i]
    return f"{p.preds[i]}" + (f" p={prob:.2f}" if prob is not None else "")


def models_grid(
    path: Path, image_index: int, panels: dict[str, dict[str, Panel]], explainers: Sequence[str], title: str
) -> Path:
    """Rows: models (by family), columns: the image then one per explainer, for image ``image_index``."""
    models = sorted(panels, key=lambda m: (next(iter(panels[m].values())).family, m))
    fig, axes = _figure(len(models), 1 + len(explainers))
    for r, model in enumerate(models):
        any_panel = next(iter(panels[model].values()))
        view = any_panel.views[image_index]
        _cell(axes[r][0], view, None, None)
        axes[r][0].set_ylabel(f"{model}\n[{any_panel.family}]\n{_pred(any_panel, image_index)}", fontsize=7)
        for c, ex in enumerate(explainers, start=1):
            p = panels[model].get(ex)
            _cell(axes[r][c], view, p.maps[image_index] if p else None, p.styles.get(ex) if p else None)
            if r == 0:
                style = next((q[ex].styles.get(ex) for q in panels.values() if ex in q), None)
                axes[0][c].set_title(f"{ex}\n{style.cmap if style else ''}", fontsize=8)
    axes[0][0].set_title("image", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.text(0.01, 0.005, "normalisation: " + overlays.NORMALISATION, fontsize=6, wrap=True)
    return _save(fig, path)


def images_grid(path: Path, columns: list[tuple[str, Panel]], title: str) -> Path:
    """Rows: images; columns: the image then one per (label, panel)."""
    first = columns[0][1]
    n = len(first.image_ids)
    fig, axes = _figure(n, 1 + len(columns))
    for i in range(n):
        _cell(axes[i][0], first.views[i], None, None)
        axes[i][0].set_ylabel(first.image_ids[i].split("/")[-1], fontsize=7)
        for c, (label, p) in enumerate(columns, start=1):
            if i < len(p.maps):
                _cell(axes[i][c], p.views[i], p.maps[i], p.styles.get(p.explainer))
                axes[i][c].set_xlabel(_pred(p, i), fontsize=6)
            if i == 0:
                axes[0][c].set_title(label, fontsize=8)
    axes[0][0].set_title("image", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.text(0.01, 0.005, "normalisation: " + overlays.NORMALISATION, fontsize=6, wrap=True)
    return _save(fig, path)


def consensus_figures(folder: Path, explainer: str, panels: dict[str, Panel], *, side: int = 56) -> list[Path]:
    """Mean-cosine dissimilarity heatmap and dendrogram of the models' maps, in leaf order, family bar."""

    if len(panels) < 2:
        return []
    names = sorted(panels)
    n = min(len(panels[m].maps) for m in names)
    maps = {m: np.stack([resample_map(a, side) for a in panels[m].maps[:n]]) for m in names}
    sim = compare.similarity_matrix(maps, metric="cosine")
    families = [panels[m].family for m in sim.names]
    tree = compare.cluster(sim.dissimilarity, sim.names)
    heat = folder / f"{explainer}_dissimilarity.png"
    ordered_heatmap(
        heat,
        list(sim.names),
        sim.dissimilarity,
        f"{explainer}: dissimilarity sqrt((1-mean)^2 + std^2) of cosine similarity, {n} images",
        families=families,
        linkage=tree.linkage,
        cmap="magma_r",
        vmin=0.0,
        label="dissimilarity",
    )
    dendro = write_atomic(
        folder / f"{explainer}_dendrogram.png",
        lambda tmp: compare.plot_dendrogram(tree, tmp, families=families, title=f"{explainer}: average linkage"),
    )
    return [heat, dendro]
