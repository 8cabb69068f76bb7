"""Model-by-model heatmaps in the dendrogram's leaf order, with a family colour bar.

Rows and columns follow ``scipy.cluster.hierarchy.leaves_list`` of the
clustering's linkage, so blocks of similar models sit together as in the
dendrogram drawn beside it; a strip along each axis colours the models by
family (the same colours as :func:`harness.compare.plot_dendrogram`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import leaves_list

from ..core.atomic import write_atomic


def leaf_order(linkage: np.ndarray | None, n: int) -> list[int]:
    """Indices of the models in the dendrogram's left-to-right order (identity without a tree)."""
    if linkage is None or n < 2:
        return list(range(n))

    return [int(i) for i in leaves_list(np.asarray(linkage))]


def family_colours(families: Sequence[str]) -> dict[str, str]:
    """Family -> matplotlib colour, in order of first appearance (as the dendrogram's legend)."""
    return {f: f"C{i % 10}" for i, f in enumerate(dict.fromkeys(families))}


def ordered_heatmap(
    path: Path,
    names: Sequence[str],
    matrix: np.ndarray,
    title: str,
    *,
    families: Sequence[str] | None = None,
    linkage: np.ndarray | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    label: str = "",
) -> list[str]:
    """Draw ``matrix`` with rows and columns in leaf order and a family colour bar; returns the order used."""
    import matplotlib  # lazy: matplotlib takes ~0.2-0.8 s to import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib takes ~0.2-0.8 s to import
    from matplotlib.patches import Patch, Rectangle  # lazy: matplotlib takes ~0.2-0.8 s to import

    n = len(names)
    order = leaf_order(linkage, n)
    m = np.asarray(matrix)[np.ix_(order, order)]
    ordered = [names[i] for i in order]
    fig, ax = plt.subplots(figsize=(3.0 + 0.45 * n, 2.4 + 0.45 * n))
    im = ax.imshow(m, vmin=vmin, vmax=vmax, cmap=cmap)
    ax.set_xticks(range(n), ordered, rotation=90, fontsize=8)
    ax.set_yticks(range(n), ordered, fontsize=8)
    if families is not None:  # one strip above and one left of the matrix, a cell per model
        colours = family_colours(families)
        for i, k in enumerate(order):
            c = colours[families[k]]
            ax.add_patch(Rectangle((i - 0.5, -1.25), 1, 0.6, color=c, clip_on=False))
            ax.add_patch(Rectangle((-1.25, i - 0.5), 0.6, 1, color=c, clip_on=False))
        ax.set_xlim(-1.3, n - 0.5)
        ax.set_ylim(n - 0.5, -1.3)
        ax.tick_params(length=0)
        for side in ("top", "left"):
            ax.spines[side].set_visible(False)
        ax.legend(
            handles=[Patch(color=c, label=f) for f, c in colours.items()],
            title="family",
            fontsize="x-small",
            loc="upper left",
            bbox_to_anchor=(1.25, 1.0),
        )
    fig.colorbar(im, ax=ax, fraction=0.046, label=label)
    ax.set_title(title + "\n(rows and columns in dendrogram leaf order)", fontsize=9)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=100))
    plt.close(fig)
    return ordered
