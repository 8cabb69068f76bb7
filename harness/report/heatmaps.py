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


def leaf_order(linkage: np.ndarray | None, n: int) -> list[int]:
    """Indices of the models in the dendrogram's left-to-right order (identity without a tree)."""
    if linkage is None or n < 2:
        return list(range(n))
    from scipy.cluster.hierarchy import leaves_list

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    n = len(names)
    order = leaf_order(linkage, n)
    m = np.asarray(matrix)[np.ix_(order, order)]
    ordered = [names[i] for i in order]
    fig = plt.figure(figsize=(3.0 + 0.45 * n, 2.6 + 0.45 * n))
    grid = fig.add_gridspec(
        2, 3, width_ratios=[0.15, 0.45 * n, 0.2], height_ratios=[0.15, 0.45 * n], wspace=0.05, hspace=0.05
    )
    ax = fig.add_subplot(grid[1, 1])
    im = ax.imshow(m, vmin=vmin, vmax=vmax, cmap=cmap, aspect="auto")
    ax.set_xticks(range(n), ordered, rotation=90, fontsize=8)
    ax.tick_params(left=False, labelleft=False)
    if families is not None:
        fams = [families[i] for i in order]
        colours = family_colours(families)
        keys = list(colours)
        strip = ListedColormap([colours[k] for k in keys])
        codes = np.array([[keys.index(f) for f in fams]])
        top = fig.add_subplot(grid[0, 1])
        top.imshow(codes, cmap=strip, vmin=0, vmax=max(1, len(keys) - 1), aspect="auto")
        top.set_axis_off()
        left = fig.add_subplot(grid[1, 0])
        left.imshow(codes.T, cmap=strip, vmin=0, vmax=max(1, len(keys) - 1), aspect="auto")
        left.set_xticks([])
        left.set_yticks(range(n), ordered, fontsize=8)
        top.legend(
            handles=[Patch(color=colours[k], label=k) for k in keys],
            title="family",
            fontsize="x-small",
            loc="lower left",
            bbox_to_anchor=(1.02, 0.0),
        )
    else:
        ax.set_yticks(range(n), ordered, fontsize=8)
    cax = fig.add_subplot(grid[1, 2])
    fig.colorbar(im, cax=cax, label=label)
    fig.suptitle(title + "\n(rows and columns in dendrogram leaf order)", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return ordered
