"""The shifted-rows conv (stride 1, groups 1, no column matrix) against PyTorch and against the
im2col path, on every stride-1 geometry of test_conv, plus when it is and is not chosen."""

from __future__ import annotations

import numpy as np
import pytest

from juanji.functional import conv2d_backward, conv2d_forward, conv_shifted, conv_winograd
from tests.functional.test_conv import BIASES, CASES, assert_like_torch, make, run
from tests.helpers import assert_close

STRIDE1 = [name for name, c in CASES.items() if c.stride in (1, (1, 1)) and c.groups == 1]


@pytest.fixture
def always_shifted(monkeypatch):
    """Take the shifted path for any channel count and padding overhead."""
    monkeypatch.setattr(conv_shifted, "MIN_CHANNELS", 1)
    monkeypatch.setattr(conv_shifted, "MAX_GRID_RATIO", float("inf"))


def test_the_grid_covers_padding_dilation_and_odd_kernels():
    assert len(STRIDE1) >= 8
    assert any(CASES[n].dilation != 1 for n in STRIDE1)
    assert any(CASES[n].kernel[0] != CASES[n].kernel[1] for n in STRIDE1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("name", STRIDE1)
def test_shifted_matches_torch(always_shifted, name, bias, dtype):
    case = CASES[name]
    x, w, b, dy = make(case, bias, dtype)
    _, cache = conv2d_forward(x, w, b, padding=case.padding, dilation=case.dilation)
    assert cache.rows is not None and cache.cols is None  # the shifted path ran
    assert_like_torch(case, run(case, x, w, b, dy), x, w, b, dy, dtype)


@pytest.mark.parametrize("name", STRIDE1)
def test_shifted_equals_im2col_and_skips_dx(monkeypatch, name):
    case = CASES[name]
    x, w, b, dy = make(case, "vector", np.float64, seed=3)
    want = run(case, x, w, b, dy)  # default thresholds: these small layers take im2col
    monkeypatch.setattr(conv_shifted, "MIN_CHANNELS", 1)
    monkeypatch.setattr(conv_shifted, "MAX_GRID_RATIO", float("inf"))
    for got, exp in zip(run(case, x, w, b, dy), want):
        assert_close(got, exp, np.float64)
    _, cache = conv2d_forward(x, w, b, padding=case.padding, dilation=case.dilation)
    dx, dw, db = conv2d_backward(dy, cache, need_dx=False)
    assert dx is None
    assert_close(dw, want[2], np.float64)
    assert_close(db, want[3], np.float64)


def _layer(c_in, hw=16, padding=1, stride=1, dtype=np.float32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, hw, hw, c_in)).astype(dtype)
    w = rng.standard_normal((3, 3, c_in, 8)).astype(dtype)
    return conv2d_forward(x, w, stride=stride, padding=padding)[1]


@pytest.fixture
def no_winograd(monkeypatch):
    """The choice among the other paths, with Winograd F(4x4, 3x3) (which takes wide 3x3
    stride-1 layers first, see test_conv_winograd) out of the way."""
    monkeypatch.setattr(conv_winograd, "MIN_CHANNELS", 10**9)


def test_chosen_for_wide_stride1_layers_only(no_winograd):
    assert _layer(16).rows is not None  # 16 channels, 18*18 padded cells per 16*16 outputs
    assert _layer(3).rows is None  # too few channels: im2col
    assert _layer(16, stride=2).rows is None  # stride 2: most grid rows would be wasted
    assert _layer(16, hw=4, padding=0).rows is None  # 4*4 cells for 2*2 outputs: wasteful


def test_without_a_blas_gemm_every_conv_takes_im2col(no_winograd, monkeypatch):
    monkeypatch.setattr(conv_shifted._blas, "_funcs", {})
    cache = _layer(16)
    assert cache.rows is None and cache.cols is not None


@pytest.mark.parametrize("name", [n for n in STRIDE1 if CASES[n].x_shape[0] >= 2])
def test_backward_in_one_image_blocks_matches_torch(always_shifted, monkeypatch, name):
    """Backward builds the row-wide rows a block of images at a time; blocks of one image (each
    block's dX rows folded on their own) give PyTorch's gradients too."""
    monkeypatch.setattr(conv_shifted, "BLOCK_BYTES", 1)
    case = CASES[name]
    x, w, b, dy = make(case, "vector", np.float64, seed=5)
    assert conv_shifted.blocks(slice(0, len(x)), 8, conv_shifted.BLOCK_BYTES) == [
        slice(i, i + 1) for i in range(len(x))]
    assert_like_torch(case, run(case, x, w, b, dy), x, w, b, dy, np.float64)
