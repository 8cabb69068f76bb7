"""The app's pictures: overlays in the viewer's colour conventions, the grid as HTML, the figure and the downloads.

Colours are the report viewer's (:mod:`harness.report.overlays`): signed maps
on the diverging ``RdBu_r`` centred on zero, rectified and non-negative ones
on ``inferno``, each map clipped at its 99th percentile, drawn over the image
as the model saw it (its resize and centre crop).
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.atomic import write_atomic
from ..images import resize_crop
from ..models import get_model_cfg
from ..report.overlays import NORMALISATION, blend, colorize, normalise, resize_rgba, style_for
from .checks import CheckOutcome
from .labels import class_namer
from .session import MapResult, Prediction
from .uploads import Picture

CELL = 224  # px of one overlay in the page and the figure


@dataclass
class Cell:
    """One model x explainer of the grid: the map, its checks, or why there is none."""

    model: str
    explainer: str
    result: MapResult | None = None
    checks: tuple[CheckOutcome, ...] = ()
    note: str = ""  # why the cell is empty (not applicable, failed, cancelled)


@dataclass
class Grid:
    """Everything one request shows: the picture, the predictions and the cells (models as rows)."""

    picture: Picture
    models: list[str]
    explainers: list[str]
    rank: int = 1
    predictions: dict[str, Prediction] = field(default_factory=dict)
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)


def overlay(picture: Picture, result: MapResult) -> np.ndarray:
    """``uint8 [H, W, 3]``: the map over the model's view of the picture."""
    view = resize_crop(picture.pixels, get_model_cfg(result.model))
    style = style_for(result.explainer, [result.attribution])
    rgba = colorize(normalise(result.attribution, style), style)
    if rgba.shape[:2] != view.shape[:2]:
        rgba = resize_rgba(rgba, view.shape[0])
    return blend(view, rgba)


def data_uri(pixels: np.ndarray, side: int = CELL) -> str:
    im = Image.fromarray(pixels)
    if im.size != (side, side):
        im = im.resize((side, side), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="WEBP", quality=80)
    return "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode()


def _checks_html(checks: tuple[CheckOutcome, ...]) -> str:
    items = "".join(
        f'<li class="xh-check xh-{c.status.replace("/", "")}" title="{html.escape(c.detail)}">'
        f"{html.escape(c.name)}: <b>{html.escape(c.status)}</b></li>"
        for c in checks
    )
    return f'<ul class="xh-checks">{items}</ul>'


def _cell_html(grid: Grid, cell: Cell) -> str:
    attrs = f'data-model="{html.escape(cell.model)}" data-explainer="{html.escape(cell.explainer)}"'
    if cell.result is None:
        return f'<td class="xh-empty" {attrs}>{html.escape(cell.note or "waiting")}</td>'
    r = cell.result
    name = grid.predictions[r.model].top[0][1] if r.model in grid.predictions else str(r.target)
    target = class_namer(get_model_cfg(r.model))(r.target)
    how = "stored" if r.cached else f"{r.seconds:.2f} s"
    alt = f"{r.explainer} on {r.model} for {target} (top-1 {name})"
    return (
        f'<td class="xh-cell" {attrs}><img class="xh-overlay" alt="{html.escape(alt)}" '
        f'src="{data_uri(overlay(grid.picture, r))}" width="{CELL}" height="{CELL}">'
        f'<div class="xh-caption">class <b>{html.escape(target)}</b> · {how}</div>{_checks_html(cell.checks)}</td>'
    )


def _prediction_html(pred: Prediction | None) -> str:
    if pred is None:
        return ""
    rows = "".join(
        f'<li class="xh-class" data-rank="{i}">{html.escape(n)} <span>{p:.1%}</span></li>'
        for i, (_, n, p) in enumerate(pred.top, start=1)
    )
    return f'<ol class="xh-top">{rows}</ol>'


STYLE = """
<style>
.xh-grid{border-collapse:collapse} .xh-grid td,.xh-grid th{border:1px solid #ddd;padding:6px;vertical-align:top}
.xh-grid th{background:#f6f6f6} .xh-model{min-width:170px} .xh-top{margin:4px 0 0 18px;padding:0;font-size:13px}
.xh-top span{color:#666} .xh-checks{list-style:none;margin:4px 0 0;padding:0;font-size:12px}
.xh-pass b{color:#1a7f37} .xh-fail b{color:#cf222e} .xh-known b{color:#9a6700} .xh-na b{color:#777}
.xh-caption{font-size:13px}
.xh-empty{color:#777;font-size:13px;width:224px;height:224px;text-align:center} .xh-cell{min-width:232px}
.xh-overlay{max-width:none!important;width:224px;height:224px}
</style>"""


def grid_html(grid: Grid) -> str:
    """The grid as an HTML table: one row per model (its top-5 first), one column per explainer."""
    head = "".join(f'<th class="xh-explainer">{html.escape(e)}</th>' for e in grid.explainers)
    rows = []
    for m in grid.models:
        cfg = get_model_cfg(m)
        label = (
            f'<td class="xh-model" data-model="{html.escape(m)}"><b>{html.escape(m)}</b><br>'
            f"{html.escape(cfg.family)} · {html.escape(cfg.label_space)}"
            f"{_prediction_html(grid.predictions.get(m))}</td>"
        )
        cells = "".join(_cell_html(grid, grid.cells.get((m, e), Cell(m, e))) for e in grid.explainers)
        rows.append(f"<tr>{label}{cells}</tr>")
    which = "top-1 class" if grid.rank == 1 else "second-ranked class"
    note = f'<p class="xh-note">Maps for each model\'s {which}. {html.escape(NORMALISATION)}.</p>'
    return f'{STYLE}<table class="xh-grid"><tr><th>model</th>{head}</tr>{"".join(rows)}</table>{note}'


def figure_png(grid: Grid, path: Path) -> Path:
    """The grid as one PNG (models as rows, explainers as columns), written to ``path``."""
    import matplotlib  # lazy: matplotlib takes ~0.2-0.8 s to import

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # lazy: matplotlib takes ~0.2-0.8 s to import

    rows, cols = len(grid.models), len(grid.explainers)
    fig = Figure(figsize=(2.2 * cols + 0.4, 2.3 * rows + 0.3), dpi=100)
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, m in enumerate(grid.models):
        for j, e in enumerate(grid.explainers):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            cell = grid.cells.get((m, e))
            if cell is not None and cell.result is not None:
                ax.imshow(overlay(grid.picture, cell.result))
            else:
                ax.text(0.5, 0.5, (cell.note if cell else "") or "n/a", ha="center", va="center", fontsize=7, wrap=True)
            if i == 0:
                ax.set_title(e, fontsize=9)
            if j == 0:
                pred = grid.predictions.get(m)
                ax.set_ylabel(f"{m}\n{pred.top[0][1] if pred else ''}", fontsize=8)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    return path


def write_downloads(grid: Grid, folder: Path) -> list[Path]:
    """The figure as ``explore.png`` and each map as ``<model>__<explainer>__class<k>.npy`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [figure_png(grid, folder / "explore.png")]
    for (m, e), cell in grid.cells.items():
        if cell.result is not None:
            path = folder / f"{m}__{e}__class{cell.result.target}.npy"
            buf = io.BytesIO()
            np.save(buf, cell.result.attribution)
            write_atomic(path, buf.getvalue())
            files.append(path)
    return files
