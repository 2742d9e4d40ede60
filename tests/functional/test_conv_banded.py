"""The banded-GEMM conv: its band matrix cell by cell, when it is chosen, and dx skipped on demand
(its values against PyTorch, the loop reference and finite differences run in test_conv, where
every groups-1 case goes through both the banded and the im2col path)."""

from __future__ import annotations

import numpy as np
import pytest

from juanji.functional import conv2d_backward, conv2d_forward, conv_banded
from tests.functional.test_conv import conv_path
from tests.helpers import assert_close


def test_band_holds_each_tap_where_its_window_reads():
    kh, kw, c_in, c_out = 2, 3, 2, 4
    w = np.arange(kh * kw * c_in * c_out, dtype=np.float64).reshape(kh, kw, c_in, c_out) + 1
    wp, wo, stride, dilation = 9, 3, 2, 1  # windows start at padded columns 0, 2, 4
    band = conv_banded.band(w, wp, wo, stride, dilation)
    assert band.shape == (kh * wp * c_in, wo * c_out)
    b6 = band.reshape(kh, wp, c_in, wo, c_out)
    for j in range(wo):
        for col in range(wp):
            b = col - j * stride
            want = w[:, b] if 0 <= b < kw else np.zeros((kh, c_in, c_out))
            np.testing.assert_array_equal(b6[:, col, :, j, :], want)


def test_row_windows_are_the_kh_rows_each_output_row_reads():
    x = np.arange(2 * 7 * 3 * 2, dtype=np.float64).reshape(2, 7, 3, 2)
    rows = conv_banded.row_windows(x, kh=3, stride_h=2, dilation_h=2, ho=2)  # rows 0,2,4 / 2,4,6
    assert rows.shape == (2 * 2, 3 * 3 * 2)
    np.testing.assert_array_equal(rows[1].reshape(3, 3, 2), x[0, [2, 4, 6]])
    np.testing.assert_array_equal(rows[2].reshape(3, 3, 2), x[1, [0, 2, 4]])


@pytest.mark.parametrize("x_shape, w_shape, padding, groups, tile", [
    ((64, 28, 28, 1), (5, 5, 1, 6), 2, 1, (7, 11, 7)),    # LeNet-5's first conv: 4 tiles of 7
    ((64, 14, 14, 6), (5, 5, 6, 16), 0, 1, (5, 9, 5)),    # and its second: 2 tiles of 5 (9 read)
    ((2, 11, 11, 1), (5, 5, 1, 6), 0, 1, "row"),          # Wo = 7, prime: one band per row
    ((2, 64, 64, 3), (3, 3, 3, 32), 1, 1, (2, 4, 2)),     # tinyvgg's first conv: tiles of 2
    ((2, 96, 96, 1), (5, 5, 1, 6), 0, 1, (4, 8, 4)),      # Wo = 92: 23 tiles of 4
    ((2, 93, 93, 1), (5, 5, 1, 6), 0, 1, (6, 10, 6)),     # Wo = 89, prime: 15 tiles of 6, cut
    ((2, 8, 8, 32), (3, 3, 32, 32), 0, 1, None),          # Wo = 6, 32 channels: im2col
    ((2, 64, 64, 32), (3, 3, 32, 32), 1, 1, None),     # many channels: the shifted conv
    ((2, 14, 14, 64), (3, 3, 64, 64), 1, 1, None),     # a 10.5 MiB band, mostly zeros
    ((2, 14, 14, 6), (5, 5, 3, 16), 0, 2, None),       # groups: im2col per group
])
def test_chosen_for_few_channels_in_one_band_per_row_or_in_tiles(x_shape, w_shape, padding,
                                                                 groups, tile):
    x = np.zeros(x_shape, np.float32)
    w = np.zeros(w_shape, np.float32)
    cache = conv2d_forward(x, w, padding=padding, groups=groups)[1]
    assert (cache.band is not None) is (tile is not None)
    assert cache.tile == (None if tile == "row" else tile)


def test_tiled_windows_are_the_columns_each_tile_reads():
    x = np.arange(1 * 4 * 9 * 2, dtype=np.float64).reshape(1, 4, 9, 2)
    # 3x3 kernel, stride 2: tiles of 2 output columns read 5 input columns, 4 apart
    rows = conv_banded.row_windows(x, kh=3, stride_h=1, dilation_h=1, ho=2, tile=(2, 5, 4))
    assert rows.shape == (1 * 2 * 2, 3 * 5 * 2)  # (N*Ho*tiles, kh*T_in*C)
    np.testing.assert_array_equal(rows[0].reshape(3, 5, 2), x[0, 0:3, 0:5])
    np.testing.assert_array_equal(rows[3].reshape(3, 5, 2), x[0, 1:4, 4:9])


def test_need_dx_false_gives_the_same_dw_and_db():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 9, 8, 2))
    w = rng.standard_normal((3, 2, 2, 5))
    b = rng.standard_normal(5)
    with conv_path("banded"):
        y, cache = conv2d_forward(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2))
        assert cache.band is not None
        dy = rng.standard_normal(y.shape)
        _, dw, db = conv2d_backward(dy, cache)
        dx_none, dw2, db2 = conv2d_backward(dy, cache, need_dx=False)
    assert dx_none is None
    assert_close(dw2, dw, np.float64)
    assert_close(db2, db, np.float64)


def test_axes_of_length_one_with_odd_strides_are_read_right():
    # x[None, :, :, None] has stride 0 on its batch and channel axes: "contiguous" to NumPy
    grid = np.array([[1.0, 3, 2, 1], [2, 9, 9, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
    x = grid[None, :, :, None]
    assert x.strides[3] == 0 and x.flags.c_contiguous
    w = np.array([[1.0, 0], [0, -1]])[:, :, None, None]
    with conv_path("banded"):
        y, cache = conv2d_forward(x, w, np.array([0.5]))
    assert cache.band is not None
    want = grid[:-1, :-1] - grid[1:, 1:] + 0.5  # the 2x2 kernel [[1, 0], [0, -1]] by hand
    np.testing.assert_array_equal(y[0, :, :, 0], want)


def test_the_tile_width_follows_the_memory_budget_and_band_limit(monkeypatch):
    """tile_width's answers are cached: a changed budget or band limit must still change them."""
    from juanji.functional import set_memory_budget
    args = ((64, 28, 28, 1), (5, 5, 1, 6), (32, 32), (28, 28), 1, 1, 1, 4)  # LeNet-5's C1
    assert conv_banded.tile_width(*args) is not None
    old = set_memory_budget(1)  # no room for the band's input rows: im2col (chunked)
    try:
        assert conv_banded.tile_width(*args) is None
    finally:
        set_memory_budget(old)
    assert conv_banded.tile_width(*args) is not None
    monkeypatch.setattr(conv_banded, "MAX_BAND_BYTES", 0)
    assert conv_banded.tile_width(*args) is None
