"""The page: Gradio Blocks around :mod:`harness.app.job` (no computation here, only wiring).

Left: an upload (any file: the app checks it, not the browser) or a built-in
or zoo image, and the picture as received.  Right: model families, models,
explainers, which class to explain, and three buttons: explain, the one-click
CNN Grad-CAM versus ViT rollout comparison, and stop.  Below: a status line,
the grid (models as rows with their top-5, explainers as columns, each map's
checks under it) and the downloads (the figure as PNG, each map as ``.npy``).

Every answer to the page goes through :func:`_guarded`: an unreadable upload
or anything unexpected becomes a message in the status line (the traceback
goes to the server's log), and the app keeps serving.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..explainers import get_explainer_cfg
from ..models import FAMILIES, get_model_cfg
from .job import Comparison, explore
from .render import grid_html, write_downloads
from .session import ExploreSession
from .uploads import Picture, UploadError, picks, read_pick, read_upload

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)
CONCURRENCY = 4  # requests computing at once (two tabs, each with a comparison); a model's lock serialises its work
DEFAULT_EXPLAINERS = ("gradcam", "rollout")


def choose_picture(upload: str | None, pick: str | None) -> Picture:
    """The upload if there is one, else the picked image; :class:`UploadError` when neither is given."""
    if upload:
        return read_upload(upload)
    if pick:
        return read_pick(pick)
    raise UploadError("no image: upload one, or pick a built-in or zoo image")


def default_selection(models: list[str], compare: Comparison) -> list[str]:
    """The models ticked when the page opens: the comparison's CNN and ViT, and the first ImageNet model
    (a photo's classes; the zoo models know only the 8 shapes)."""
    try:
        chosen, _ = compare.select(models)
    except ValueError:
        chosen = models[:2]
    imagenet = [m for m in models if get_model_cfg(m).label_space == "imagenet" and m not in chosen]
    return chosen + imagenet[:1]


def _explainer_label(name: str) -> str:
    cfg = get_explainer_cfg(name)
    return name if cfg.cost == "cheap" else f"{name} ({cfg.cost}: progress, can be stopped)"


def run_request(
    session: ExploreSession,
    upload: str | None,
    pick: str | None,
    models: list[str],
    explainers: list[str],
    rank: int,
    out: Path,
    progress: Any = None,
) -> Iterator[tuple[str, Any, str, list[str] | None]]:
    """``(status, picture pixels, grid HTML, download files)`` after each step of one request."""
    picture = choose_picture(upload, pick)
    if not models or not explainers:
        yield "Choose at least one model and one explainer.", picture.pixels, "", None
        return
    step = None
    for step in explore(session, picture, models, explainers, rank=int(rank)):
        if progress is not None:
            progress((step.done, step.total), desc=step.what)
        yield f"{step.done}/{step.total}: {step.what}", picture.pixels, grid_html(step.grid), None
    if step is not None:
        files = write_downloads(step.grid, Path(tempfile.mkdtemp(dir=out)))
        stored = sum(1 for c in step.grid.cells.values() if c.result is not None and c.result.cached)
        shown = sum(1 for c in step.grid.cells.values() if c.result is not None)
        yield (
            f"Done: {shown} maps for {picture.name} ({stored} from the store).",
            picture.pixels,
            grid_html(step.grid),
            [str(f) for f in files],
        )


def _guarded(gen: Iterator[tuple]) -> Iterator[tuple]:
    """``gen``'s answers; an error becomes a message in the status line, never a traceback in the page."""
    try:
        yield from gen
    except UploadError as exc:
        yield f"**Cannot use this image.** {exc}", None, "", None
    except Exception as exc:  # the page's last line of defence: log it, say it, keep serving
        log.exception("explore: request failed")
        yield f"**Something went wrong:** {type(exc).__name__}: {exc} (details in the server log)", None, "", None


def build_app(session: ExploreSession, *, title: str = "xai-harness explore"):
    """The Gradio Blocks of the app on ``session`` (not launched)."""
    import gradio as gr  # lazy: optional extra [app]

    out = Path(tempfile.mkdtemp(prefix="xai-harness-explore-"))
    compare = Comparison()
    with gr.Blocks(title=title) as demo:
        gr.Markdown(
            f"## {title}\nUpload an image (or pick one), choose models and explainers, and compare the maps. "
            "Answers are kept in the harness's store, so nothing is computed twice."
        )
        with gr.Row():
            with gr.Column(scale=1):
                picture = _picture_column()
            with gr.Column(scale=2):
                choices = _choice_column(session, compare)
        answer = _answer_panel()
        _wire(session, compare, out, picture, choices, answer)
    return demo


@dataclass
class _Picture:
    """The left column: the image to explain, uploaded or picked, and the picture as received."""

    upload: gr.File
    pick: gr.Dropdown
    preview: gr.Image


@dataclass
class _Choices:
    """The right column: what to explain, and the buttons."""

    families: gr.CheckboxGroup
    models: gr.CheckboxGroup
    explainers: gr.CheckboxGroup
    rank: gr.Radio
    explain: gr.Button
    compare: gr.Button
    stop: gr.Button


@dataclass
class _Answer:
    """Below the columns: what a request answers."""

    status: gr.Markdown
    grid: gr.HTML
    files: gr.File


def _picture_column() -> _Picture:
    import gradio as gr

    return _Picture(
        upload=gr.File(label="Upload an image", type="filepath", elem_id="xh-upload"),
        pick=gr.Dropdown(
            choices=[p.id for p in picks()],
            value=None,
            label="or pick a built-in or zoo image",
            elem_id="xh-pick",
        ),
        preview=gr.Image(label="the image", interactive=False, height=240, elem_id="xh-preview"),
    )


def _choice_column(session: ExploreSession, compare: Comparison) -> _Choices:
    import gradio as gr

    families = [f for f in FAMILIES if any(get_model_cfg(m).family == f for m in session.models)]
    default_models = default_selection(session.models, compare)
    default_expl = [e for e in DEFAULT_EXPLAINERS if e in session.explainers] or session.explainers[:1]
    fam = gr.CheckboxGroup(choices=families, value=families, label="model families", elem_id="xh-families")
    models = gr.CheckboxGroup(choices=session.models, value=default_models, label="models", elem_id="xh-models")
    explainers = gr.CheckboxGroup(
        choices=[(_explainer_label(e), e) for e in session.explainers],
        value=default_expl,
        label="explainers",
        elem_id="xh-explainers",
    )
    rank = gr.Radio(
        choices=[("top-1 class", 1), ("second-ranked class", 2)],
        value=1,
        label="explain",
        elem_id="xh-rank",
    )
    with gr.Row():
        go = gr.Button("Explain", variant="primary", elem_id="xh-explain")
        cmp_btn = gr.Button("CNN Grad-CAM vs ViT rollout", elem_id="xh-compare")
        stop = gr.Button("Stop", variant="stop", elem_id="xh-stop")
    return _Choices(fam, models, explainers, rank, go, cmp_btn, stop)


def _answer_panel() -> _Answer:
    import gradio as gr

    return _Answer(
        status=gr.Markdown(elem_id="xh-status"),
        grid=gr.HTML(elem_id="xh-grid"),
        files=gr.File(label="downloads: figure (PNG) and maps (.npy)", file_count="multiple", elem_id="xh-files"),
    )


def _wire(
    session: ExploreSession, compare: Comparison, out: Path, picture: _Picture, choices: _Choices, answer: _Answer
) -> None:
    """The page's events (inside the Blocks): explain, the comparison, stop, and the pick/upload exclusion."""
    import gradio as gr

    def on_run(upload, pick, models, explainers, rank, progress=gr.Progress()):  # noqa: B008 (Gradio's way)
        yield from _guarded(run_request(session, upload, pick, models, explainers, rank, out, progress))

    def on_families(chosen, current):
        names = [m for m in session.models if get_model_cfg(m).family in chosen]
        return gr.CheckboxGroup(choices=names, value=[m for m in current if m in names])

    def on_compare():
        try:
            models, explainers = compare.select(session.models)
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        return gr.CheckboxGroup(value=list(FAMILIES)), models, explainers, 1

    upload, pick, c = picture.upload, picture.pick, choices
    inputs = [upload, pick, c.models, c.explainers, c.rank]
    outputs = [answer.status, picture.preview, answer.grid, answer.files]
    pick.input(lambda _: None, pick, upload)  # one image at a time: a pick clears the upload ...
    upload.upload(lambda _: None, upload, pick)  # ... and an upload the pick
    c.families.input(
        on_families, [c.families, c.models], c.models
    )  # the user's clicks only, not the comparison's reset
    ran = c.explain.click(on_run, inputs, outputs, concurrency_limit=CONCURRENCY, concurrency_id="explain")
    compared = c.compare.click(on_compare, None, [c.families, c.models, c.explainers, c.rank]).then(
        on_run, inputs, outputs, concurrency_limit=CONCURRENCY, concurrency_id="explain"
    )
    c.stop.click(None, None, None, cancels=[ran, compared])
