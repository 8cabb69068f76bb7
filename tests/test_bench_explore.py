"""pytest-benchmark: how fast the explore app answers with a cheap explainer on a zoo model.

One request as the page makes it (:func:`harness.app.explore`: the model's
top-5, the map and its single-image checks, the second-class map of the
target check included, then the grid's HTML with the overlay) for a new upload, its pixels changed each round so
nothing is in the store; the model is loaded beforehand, as it stays loaded
in the app.  Then the same request answered from the store.  ``extra_info``
carries the cold/stored ratio; docs/explore.md states the figures.

Timed (marker ``bench``): runs only with ``XAI_HARNESS_BENCH=1`` or ``-m bench``
(skipped otherwise, so ``tox -e tests`` does not pay for it)::

    XAI_HARNESS_BENCH=1 OMP_NUM_THREADS=1 pytest tests/test_bench_explore.py --benchmark-columns=mean,min,max
"""

from __future__ import annotations

import itertools

import pytest

from harness.app import ExploreSession, explore, read_pick
from harness.app.render import grid_html
from harness.app.uploads import Picture
from harness.compute.store import Store
from harness.images import image_digest

pytestmark = pytest.mark.bench  # skipped unless XAI_HARNESS_BENCH=1 or -m bench (tests/conftest.py)

PAIRS = [("zoo_resnet", "gradcam"), ("zoo_resnet", "saliency"), ("zoo_vit_p16", "rollout"), ("zoo_vit_p16", "gradcam")]
ROUNDS = 5
COLD: dict[str, float] = {}


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> ExploreSession:
    s = ExploreSession(Store(tmp_path_factory.mktemp("bench-explore")), [m for m, _ in PAIRS], device="cpu")
    photo = read_pick("skimage/chelsea")
    for m, e in PAIRS:  # load the models and warm the explainers up, as a running app has
        list(explore(s, photo, [m], [e]))
    return s


_counter = itertools.count(1)


def _new_upload() -> Picture:
    """The photo with one pixel changed: new pixels, so a store miss, as a user's new image."""
    base = read_pick("skimage/chelsea")
    px = base.pixels.copy()
    k = next(_counter)
    px[k // px.shape[1] % px.shape[0], k % px.shape[1], 0] ^= 1
    digest = image_digest(px)
    return Picture(id=f"upload/{digest}", name="new.jpg", pixels=px, digest=digest)


def _answer(session: ExploreSession, picture: Picture, model: str, explainer: str):
    grid = list(explore(session, picture, [model], [explainer]))[-1].grid
    grid_html(grid)  # the page's HTML with the overlay encoded, as the app sends it
    return grid


@pytest.mark.benchmark(group="explore: new upload", min_rounds=ROUNDS)
@pytest.mark.parametrize(("model", "explainer"), PAIRS, ids=[f"{e}-{m}" for m, e in PAIRS])
def test_bench_new_upload(benchmark, session, model, explainer):
    grid = benchmark.pedantic(
        _answer,
        setup=lambda: ((session, _new_upload(), model, explainer), {}),
        rounds=ROUNDS,
        iterations=1,
    )
    cell = grid.cells[(model, explainer)]
    assert cell.result is not None and not cell.result.cached, cell.note
    COLD[f"{explainer}-{model}"] = benchmark.stats.stats.mean


@pytest.mark.benchmark(group="explore: stored", min_rounds=ROUNDS)
@pytest.mark.parametrize(("model", "explainer"), PAIRS, ids=[f"{e}-{m}" for m, e in PAIRS])
def test_bench_stored(benchmark, session, model, explainer):
    picture = _new_upload()
    _answer(session, picture, model, explainer)
    computed = session.computed
    grid = benchmark.pedantic(_answer, args=(session, picture, model, explainer), rounds=ROUNDS, iterations=1)
    assert grid.cells[(model, explainer)].result.cached and session.computed == computed
    cold = COLD.get(f"{explainer}-{model}")
    if cold:
        benchmark.extra_info["new_upload_over_stored"] = round(cold / benchmark.stats.stats.mean, 1)
