"""Unit tests of the ViT grid-artefact detector (issue 4, item 4) on synthetic maps.

Bounds are the module's stated control limits: a per-patch-gain map scores
>= ``CONTROL_MIN_SCORE`` (2.0; 1000 seeds at 224 px gave >= 2.33) and maps
without a patch grid <= ``CONTROL_MAX_SCORE`` (1.5; 1000 seeds gave <= 1.35).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.checks import artefacts
from harness.checks.basic import CheckFailure
from harness.models.config import ModelCfg

SIDE = 224
periods = st.sampled_from((8, 16, 32))
seeds = st.integers(0, 2**16)


@given(period=periods, seed=seeds)
def test_fires_on_a_per_patch_gain(period, seed):
    on = artefacts.grid_score(artefacts.synthetic_grid(SIDE, period, seed=seed), period)
    assert on >= artefacts.CONTROL_MIN_SCORE, f"grid: {period}-px patch-gain map scores {on:.3g} [seed {seed}]"


@given(period=periods, seed=seeds)
def test_quiet_on_noise_under_a_smooth_envelope(period, seed):
    off = artefacts.grid_score(artefacts.synthetic_smooth(SIDE, seed=seed), period)
    assert off <= artefacts.CONTROL_MAX_SCORE, f"grid: smooth map scores {off:.3g} at {period} px [seed {seed}]"


@given(stride=st.sampled_from((2, 4, 8)), period=st.sampled_from((16, 32)), seed=seeds)
def test_quiet_on_stride_aliasing(stride, period, seed):
    """A strided conv's checkerboard at period 2, 4 or 8 (harmonics of 1/16 the spectral score fires on)."""
    m = artefacts.synthetic_stride_aliasing(SIDE, stride, seed=seed)
    off = artefacts.grid_score(m, period)
    assert off <= artefacts.CONTROL_MAX_SCORE, f"grid: stride-{stride} checkerboard scores {off:.3g} [seed {seed}]"


def test_spectral_score_fires_on_stride_aliasing():
    """Why the spectral detector was replaced: it scores a stride-4 checkerboard as a 16-px grid."""
    m = artefacts.synthetic_stride_aliasing(SIDE, 4, seed=0)
    assert artefacts.spectral_score(m, 16) > 10 * artefacts.grid_score(m, 16)


@given(period=periods, seed=seeds)
def test_phase_locked_to_the_patch_grid(period, seed):
    """The same blocks shifted by a quarter patch are not the model's grid: about 1 (and a real grid at
    offset p/4 of the scorer reads the same way)."""
    shifted = artefacts.synthetic_grid(SIDE, period, seed=seed, offset=period // 4)
    assert artefacts.grid_score(shifted, period) <= artefacts.CONTROL_MAX_SCORE
    grid = artefacts.synthetic_grid(SIDE + period, period, seed=seed)
    assert artefacts.grid_score(grid, period, offset=period // 4) <= artefacts.CONTROL_MAX_SCORE


def test_blind_to_an_equal_gain_tile():
    """Documented limit: one pattern tiled at equal gain has no energy jumps at boundaries."""
    rng = np.random.default_rng(0)
    tile = np.tile(rng.normal(size=(16, 16)), (SIDE // 16, SIDE // 16))
    assert abs(artefacts.grid_score(tile, 16) - 1) < 0.3
    assert artefacts.spectral_score(tile, 16) > 100


def test_scale_and_sign_invariant():
    m = artefacts.synthetic_grid(SIDE, 16, seed=3)
    s = artefacts.grid_score(m, 16)
    assert artefacts.grid_score(-1e-6 * m, 16) == pytest.approx(s, rel=1e-9)


def test_degenerate_maps():
    assert artefacts.grid_score(np.zeros((SIDE, SIDE)), 16) == 1.0
    with pytest.raises(ValueError, match="fewer than 2 patches"):
        artefacts.grid_score(np.ones((40, 40)), 32)
    assert np.isfinite(artefacts.grid_score(artefacts.synthetic_grid(260, 16, seed=0), 16))  # Lite2: 256 px used


def test_periods_and_model_score():
    vit = ModelCfg(name="v", arch="a", family="transformer", patch_size=32, layout="tokens", grid_size=(7, 7))
    cnn = ModelCfg(name="c", arch="a", family="cnn")
    assert artefacts.periods_for(vit) == (32,) and artefacts.periods_for(cnn) == artefacts.CANDIDATE_PERIODS
    maps = np.stack([artefacts.synthetic_grid(SIDE, 32, seed=s) for s in range(2)])
    score, period = artefacts.model_score(maps, (16, 32))
    assert period == 32 and score >= artefacts.CONTROL_MIN_SCORE


def test_control_check_passes():
    out = artefacts.check_grid_control(period=16)
    assert out["grid"] >= artefacts.CONTROL_MIN_SCORE and max(out["smooth"], out["stride4"], out["shifted"]) <= 1.5


def test_separation_message():
    with pytest.raises(CheckFailure, match=r"lowest uniform-patch score 1\.5 \(vit\) is not above .* 2 \(cnn\)"):
        artefacts.check_grid_separation({"vit": 1.5, "cnn": 2.0}, {"vit"}, case="test")
    assert artefacts.check_grid_separation({"vit": 4.0, "cnn": 2.0}, {"vit"}, case="test") == 2.0
