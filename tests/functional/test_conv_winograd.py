"""Winograd F(4x4, 3x3): the transform matrices, when the cost model picks it, and chunked runs
against PyTorch (the full case grid runs through it in test_conv's "winograd" path)."""

from __future__ import annotations

import numpy as np
import pytest

from juanji.functional import conv2d_backward, conv2d_forward, conv_winograd
from juanji.functional.memory import set_memory_budget
from tests.functional.test_conv import Case, assert_like_torch, run


def test_the_transforms_compute_a_1d_correlation_exactly():
    # F(4, 3) in 1-D: y = A^T [(G g) * (B^T d)] is the valid correlation of d (6) with g (3)
    rng = np.random.default_rng(0)
    d, g = rng.standard_normal(6), rng.standard_normal(3)
    y = conv_winograd._AT @ ((conv_winograd._G @ g) * (conv_winograd._BT @ d))
    np.testing.assert_allclose(y, np.correlate(d, g, "valid"), rtol=0, atol=1e-13)


def test_chosen_for_wide_3x3_stride1_layers_only():
    def cache(c_in=16, k=3, stride=1, dilation=1, hw=16):
        x = np.zeros((2, hw, hw, c_in), np.float32)
        w = np.zeros((k, k, c_in, 8), np.float32)
        return conv2d_forward(x, w, stride=stride, padding=1, dilation=dilation)[1]

    assert cache().wino is not None
    assert cache(c_in=3).wino is None  # few channels: the banded conv is 2x faster
    assert cache(k=5).wino is None and cache(stride=2).wino is None
    assert cache(dilation=2).wino is None
    assert cache(hw=2).wino is None  # a 2x2 output would be mostly padding in a 4x4 tile


def test_chunks_of_one_image_with_ragged_tiles_match_torch(monkeypatch):
    """Outputs 9x7 (tiles reaching past them), asymmetric padding, one image per chunk, float64
    against PyTorch to 1e-10."""
    dtype = np.float64
    monkeypatch.setattr(conv_winograd, "CHUNK_BYTES", 1)
    case = Case((3, 9, 6, 16), (3, 3), 5, 1, ((1, 1), (2, 1)), 1, 1, ((1, 1), (2, 1)), (9, 7))
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, case.x_shape).astype(dtype)
    w = rng.uniform(-1, 1, (3, 3, 16, 5)).astype(dtype)
    b = rng.uniform(-1, 1, 5).astype(dtype)
    dy = rng.uniform(-1, 1, (3, 9, 7, 5)).astype(dtype)
    _, cache = conv2d_forward(x, w, b, padding=case.padding)
    assert cache.wino.chunk == 1 and len(cache.wino.v) == 3
    assert_like_torch(case, run(case, x, w, b, dy), x, w, b, dy, dtype)
    dx, dw, db = conv2d_backward(dy, cache, need_dx=False)
    assert dx is None
    np.testing.assert_array_equal(dw, run(case, x, w, b, dy)[2])


def test_float32_error_is_a_few_1e_6_of_the_output_scale():
    """float32 Winograd against a float64 reference, 16 channels: the transforms' constants
    (up to 8 and 1/24) cost about 10x im2col's rounding; measured here, the bound documents it.
    (test_conv's grid, <= 4 channels, meets the float32 test tolerance 1e-4 / 1e-5 as it is.)"""
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (2, 12, 12, 32))
    w = rng.uniform(-1, 1, (3, 3, 32, 16))
    dy = rng.uniform(-1, 1, (2, 12, 12, 16))
    y64, c64 = conv2d_forward(x, w, padding=1)
    dx64, dw64, _ = conv2d_backward(dy, c64)
    f = np.float32
    y32, c32 = conv2d_forward(x.astype(f), w.astype(f), padding=1)
    dx32, dw32, _ = conv2d_backward(dy.astype(f), c32)
    assert c32.wino is not None
    for a, e in ((y32, y64), (dx32, dx64), (dw32, dw64)):
        assert np.abs(a - e).max() <= 1e-5 * np.abs(e).max()


def test_the_memory_budget_bounds_the_chunk():
    old = set_memory_budget(36 * 4 * 16 * 8 * 2)  # two images' transformed tiles (float64)
    try:
        x = np.zeros((5, 8, 8, 16))
        _, cache = conv2d_forward(x, np.zeros((3, 3, 16, 4)), padding=1)
    finally:
        set_memory_budget(old)
    assert cache.wino.chunk == 2
