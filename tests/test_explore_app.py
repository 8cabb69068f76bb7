"""The explore app's functions, without a browser: uploads good and bad, the store, the checks, concurrency.

The models are two trained zoo models (a CNN and a ViT, loaded once per module);
the explainers are the cheap Grad-CAM, Saliency and rollout.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from harness.app import Comparison, ExploreSession, UploadError, available_models, explore, read_pick, read_upload
from harness.app.checks import FAIL, KNOWN, NOT_APPLICABLE, PASS
from harness.app.render import grid_html, write_downloads
from harness.app.ui import run_request
from harness.app.uploads import MAX_SIDE, MIN_SIDE, picks
from harness.compute.store import Store
from harness.images import builtin_images

CNN, VIT = "zoo_resnet", "zoo_vit_p16"
EXPLAINERS = ["gradcam", "saliency", "rollout"]


def _photo() -> Path:
    return next(r.path for r in builtin_images().records if r.id == "skimage/chelsea")


def _png(path: Path, width: int, height: int) -> Path:
    from PIL import Image

    Image.new("RGB", (width, height), (200, 120, 40)).save(path)
    return path


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> ExploreSession:
    return ExploreSession(Store(tmp_path_factory.mktemp("explore") / "store"), [CNN, VIT], EXPLAINERS, device="cpu")


@pytest.fixture(scope="module")
def zoo_pick():
    """A zoo shapes test image: it has an object mask, so localisation applies."""
    return read_pick(next(p.id for p in picks() if p.mask is not None))


# -- bad input ---------------------------------------------------------------------------------------------
def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """case -> (file, what the message must say)."""
    text = tmp / "notes.txt"
    text.write_text("this is not an image\n" * 20)
    truncated = tmp / "truncated.jpg"
    from PIL import Image

    Image.open(_photo()).convert("RGB").save(tmp / "full.jpg", quality=90)
    data = (tmp / "full.jpg").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    empty = tmp / "empty.png"
    empty.write_bytes(b"")
    return {
        "not an image": (text, "not an image"),
        "truncated": (truncated, "truncated"),
        "1x1": (_png(tmp / "dot.png", 1, 1), "too small"),
        "10000 px wide": (_png(tmp / "panorama.png", 10_000, 40), "too large"),
        "empty": (empty, "empty"),
    }


@pytest.mark.parametrize("case", ["not an image", "truncated", "1x1", "10000 px wide", "empty"])
def test_bad_upload_is_refused_with_a_message_naming_it(case, tmp_path):
    path, says = _bad_files(tmp_path)[case]
    with pytest.raises(UploadError) as err:
        read_upload(path)
    msg = str(err.value)
    assert path.name in msg and says in msg, f"{case}: {msg}"
    assert str(path.parent) not in msg, f"{case}: the message shows the server's path: {msg}"


def test_limits_are_stated_in_the_messages(tmp_path):
    files = _bad_files(tmp_path)
    with pytest.raises(UploadError, match=f"at least {MIN_SIDE} px"):
        read_upload(files["1x1"][0])
    with pytest.raises(UploadError, match=f"up to {MAX_SIDE} px"):
        read_upload(files["10000 px wide"][0])


def test_bad_uploads_answer_in_the_page_and_the_app_keeps_serving(session, tmp_path):
    """Through the page's handler: each bad file gives one status message and no exception; then a good one runs."""
    from harness.app.ui import _guarded

    for case, (path, says) in _bad_files(tmp_path).items():
        answers = list(_guarded(run_request(session, str(path), None, [CNN], ["gradcam"], 1, tmp_path)))
        assert len(answers) == 1, case
        status, pixels, grid, files = answers[0]
        assert status.startswith("**Cannot use this image.**") and says in status, f"{case}: {status}"
        assert "Traceback" not in status and pixels is None and grid == "" and files is None
    answers = list(_guarded(run_request(session, str(_photo()), None, [CNN], ["gradcam"], 1, tmp_path)))
    status, pixels, grid, files = answers[-1]
    assert status.startswith("Done: 1 maps"), status
    assert pixels.shape == read_upload(_photo()).pixels.shape
    assert grid.count('class="xh-overlay"') == 1
    assert {Path(f).suffix for f in files} == {".png", ".npy"}


def test_nothing_chosen_is_said_in_the_page(session, tmp_path):
    from harness.app.ui import _guarded

    (status, *_), *_ = list(_guarded(run_request(session, None, None, [CNN], ["gradcam"], 1, tmp_path)))
    assert "no image" in status
    (status, *_), *_ = list(_guarded(run_request(session, str(_photo()), None, [], ["gradcam"], 1, tmp_path)))
    assert "at least one model" in status


# -- the store ------------------------------------------------------------------------------------------------
def test_same_pixels_are_never_computed_twice(session, tmp_path):
    picture = read_upload(_photo())
    first = session.explain(CNN, "gradcam", picture)
    computed = session.computed
    again = session.explain(CNN, "gradcam", picture)
    assert again.cached and session.computed == computed
    np.testing.assert_array_equal(first.attribution, again.attribution)
    # the same pixels under another name are the same image
    copy = tmp_path / "renamed.png"
    copy.write_bytes(_photo().read_bytes())
    assert read_upload(copy).digest == picture.digest
    assert session.explain(CNN, "gradcam", read_upload(copy)).cached


def test_a_new_session_on_the_same_store_loads_no_model(session):
    picture = read_upload(_photo())
    for e in ("gradcam", "saliency"):
        session.explain(CNN, e, picture)
    fresh = ExploreSession(session.store, [CNN], EXPLAINERS, device="cpu")
    for e in ("gradcam", "saliency"):
        assert fresh.explain(CNN, e, picture).cached
    assert fresh.loads == 0 and fresh.computed == 0


def test_models_load_once(tmp_path):
    session = ExploreSession(Store(tmp_path / "store"), [CNN, VIT], EXPLAINERS, device="cpu")
    picture = read_upload(_photo())
    for e in ("gradcam", "saliency"):
        session.explain(VIT, e, picture)
        session.explain(CNN, e, picture, rank=2)
    assert session.loads == 2 and sorted(session.loaded()) == [CNN, VIT]
    assert session.computed == 2 + 4  # two predictions, four maps


# -- predictions, ranks, checks -------------------------------------------------------------------------------
def test_top5_are_probabilities_in_rank_order(session):
    pred = session.predict(CNN, read_upload(_photo()))
    probs = [p for _, _, p in pred.top]
    assert len(pred.top) == 5 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert pred.top[0][0] == int(np.argmax(pred.logits)) and pred.top[0][1] != f"class {pred.top[0][0]}"


def test_second_ranked_class_map(session):
    picture = read_upload(_photo())
    pred = session.predict(CNN, picture)
    second = session.explain(CNN, "gradcam", picture, rank=2)
    assert second.target == pred.top[1][0]
    assert not np.array_equal(second.attribution, session.explain(CNN, "gradcam", picture).attribution)


def test_checks_on_an_upload_and_on_a_zoo_image(session, zoo_pick):
    steps = list(explore(session, read_upload(_photo()), [CNN, VIT], EXPLAINERS))
    grid = steps[-1].grid
    assert steps[-1].done == steps[-1].total == 2 * (1 + len(EXPLAINERS))
    cell = grid.cells[(CNN, "gradcam")]
    status = {c.name: c.status for c in cell.checks}
    assert status == {"finite": PASS, "not constant": PASS, "target respected": PASS, "localisation": NOT_APPLICABLE}
    # rollout is class-agnostic: the one table of expected failures says so, and the page shows it as known
    rollout = {c.name: c for c in grid.cells[(VIT, "rollout")].checks}
    assert rollout["target respected"].status == KNOWN and "class-agnostic" in rollout["target respected"].detail
    assert grid.cells[(CNN, "rollout")].result is None and "transformer" in grid.cells[(CNN, "rollout")].note

    zoo = list(explore(session, zoo_pick, [CNN], ["gradcam"]))[-1].grid.cells[(CNN, "gradcam")]
    loc = {c.name: c for c in zoo.checks}["localisation"]
    assert loc.status in (PASS, FAIL) and "relevance_mass" in loc.detail
    # judged as the suite judges it: the zoo ResNet uses the object only (its stored interventions say so)
    assert "judgement mask" in loc.detail or "object mask" in loc.detail


def test_grid_html_and_downloads(session, tmp_path):
    grid = list(explore(session, read_upload(_photo()), [CNN, VIT], ["gradcam", "rollout"]))[-1].grid
    page = grid_html(grid)
    assert page.count('class="xh-overlay"') == 3  # rollout does not apply to the CNN
    assert page.count('class="xh-empty"') == 1
    assert grid.predictions[CNN].top[0][1] in page
    files = write_downloads(grid, tmp_path / "dl")
    assert files[0].name == "explore.png" and files[0].stat().st_size > 1000
    maps = sorted(f.name for f in files[1:])
    assert maps == sorted(
        f"{m}__{e}__class{grid.cells[(m, e)].result.target}.npy" for m, e in grid.cells if grid.cells[(m, e)].result
    )
    arr = np.load(tmp_path / "dl" / maps[0])
    assert arr.shape == (224, 224) and arr.dtype == np.float32


# -- concurrency ----------------------------------------------------------------------------------------------
def test_two_concurrent_requests_both_complete_and_compute_each_map_once(tmp_path, zoo_pick):
    session = ExploreSession(Store(tmp_path / "store"), [CNN, VIT], EXPLAINERS, device="cpu")
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def request(i: int) -> None:
        try:
            results[i] = list(explore(session, zoo_pick, [CNN, VIT], ["gradcam", "saliency"]))[-1].grid
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(results) == 2
    for key in results[0].cells:
        np.testing.assert_array_equal(
            results[0].cells[key].result.attribution, results[1].cells[key].result.attribution
        )
    # 4 top-1 maps and 4 second-class maps (the target check), 2 predictions: each written once
    assert session.store.by_kind["explanation"]["writes"] == 8
    assert session.store.by_kind["logits"]["writes"] == 2
    assert session.loads == 2


# -- what is offered ------------------------------------------------------------------------------------------
def test_only_models_with_real_weights_are_offered():
    offered = available_models(["*"], exclude_source=("toy",))
    assert CNN in offered and VIT in offered and "efficientnet_lite0" in offered
    assert not any(m.startswith("toy_") for m in offered)
    assert "toy_resnet" not in available_models(["toy_*"])  # declared random weights are never offered


def test_comparison_picks_a_cnn_and_a_vit_in_one_label_space():
    models, explainers = Comparison().select(["efficientnet_lite0", CNN, VIT])
    assert models == [CNN, VIT] and explainers == ["gradcam", "rollout"]
    with pytest.raises(ValueError, match="transformer"):
        Comparison().select([CNN])


def test_cli_says_how_to_install_the_extra_when_gradio_is_missing(monkeypatch, capsys):
    import sys

    from harness.cli import main

    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio raises ImportError
    assert main(["explore", "--models", CNN]) == 2
    assert "pip install 'xai-harness[app]'" in capsys.readouterr().err


def test_the_page_builds(session):
    pytest.importorskip("gradio", reason="the app extra: pip install 'xai-harness[app]'")
    from harness.app.ui import build_app

    demo = build_app(session)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"xh-upload", "xh-models", "xh-explainers", "xh-explain", "xh-compare", "xh-stop", "xh-grid"} <= ids


# -- a user's project ------------------------------------------------------------------------------------------
@pytest.fixture
def own_project():
    """examples/own-project loaded as ``python -m harness explore --project`` loads it; unloaded after."""
    import sys

    from harness.cases.project import load_project, unload_project
    from harness.explainers.registry import EXPLAINERS

    root = Path(__file__).resolve().parents[1] / "examples" / "own-project"
    before = set(EXPLAINERS.names())
    load_project(root)
    yield root
    unload_project(root)
    for name in set(EXPLAINERS.names()) - before:  # its explainer registered at import
        EXPLAINERS.remove(name)
    sys.modules.pop("shapes_xai", None)
    if str(root) in sys.path:
        sys.path.remove(str(root))


def test_project_models_and_explainers_appear_beside_the_built_in_ones(own_project, tmp_path):
    import argparse

    from harness.cli.explore import select

    args = argparse.Namespace(models=None, explainers="gradcam,input_x_grad", weights=[])
    models, explainers = select(args)
    assert "shapes_resnet" in models and CNN in models and explainers == ["gradcam", "input_x_grad"]
    picture = read_upload(next((own_project / "data" / "val" / "red_disk").glob("*.png")))
    session = ExploreSession(Store(tmp_path / "store"), ["shapes_resnet"], explainers, device="cpu")
    grid = list(explore(session, picture, ["shapes_resnet"], explainers))[-1].grid
    assert grid.predictions["shapes_resnet"].top[0][1] in ("blue_triangle", "green_square", "red_disk")
    assert all(grid.cells[("shapes_resnet", e)].result is not None for e in explainers)


# -- stopping ---------------------------------------------------------------------------------------------------
def test_stopping_between_maps_computes_nothing_more(tmp_path):
    """The page's Stop closes the request's generator: the map in hand is stored, no later one is computed."""
    session = ExploreSession(Store(tmp_path / "store"), [CNN], EXPLAINERS, device="cpu")
    steps = explore(session, read_upload(_photo()), [CNN], ["gradcam", "saliency"])
    for step in steps:
        if (CNN, "gradcam") in step.grid.cells:
            steps.close()
            break
    # the prediction, the Grad-CAM map and its second-class map (the target check); no Saliency map
    assert session.computed == 3
    keys = {(e.fields["explainer"], e.fields["target"]) for e in session.store.entries("explanation")}
    assert {name for name, _ in keys} == {"gradcam"} and len(keys) == 2
