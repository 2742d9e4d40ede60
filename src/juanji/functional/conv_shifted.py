"""Stride-1 convolution without a column matrix: one GEMM per kernel offset on shifted rows.

Flatten the padded input to rows, ``X = x_pad.reshape(N*Hp*Wp, C_in)``, and give every output
pixel the flat index of its window's top-left cell, ``p = n*Hp*Wp + i*Wp + j``. With stride 1 the
cell (a, b) of that window is row ``p + a*d*Wp + b*d`` of X, so for each kernel offset the rows
read by all windows are ONE contiguous block of X, shifted by ``a*d*Wp + b*d``:

    Y[p] = sum_{a, b} X[p + a*d*Wp + b*d] @ w[a, b]              Y (N*Hp*Wp, C_out)
    dw[a, b] = X[shift(a, b) : shift(a, b) + L].T @ dY           (C_in, C_out)
    dX[shift(a, b) : shift(a, b) + L] += dY @ w[a, b].T          (L, C_in)

Y is computed on the whole padded grid; the rows with i >= Ho or j >= Wo are thrown away (forward)
or given a zero gradient (backward), about (Hp*Wp) / (Ho*Wo) - 1 extra work (6 % for 64x64 'same'
3x3). No im2col copy and no scatter: each offset is a GEMM accumulated in place with BLAS's
``beta = 1`` (:mod:`juanji.functional._blas`, NumPy's own BLAS), so the only copies are the
padding and the output crop.

Measured (one thread, float32, tinyvgg's 32x64x64x32 -> 32, 3x3 'same'): the forward 28.6 ms
instead of 84 ms (im2col 35 ms + GEMM 48 ms). Used by :mod:`juanji.functional.conv` for stride 1,
groups 1, at least ``MIN_CHANNELS`` input channels and little padding overhead, when NumPy's
BLAS exposes its gemm; otherwise every conv takes the im2col path (same results up to rounding).
"""

from __future__ import annotations

import numpy as np

from . import _blas
from ._parallel import gemm_work, over_batch, sum_over_batch
from .windows import embed

MIN_CHANNELS = 16   # fewer input channels: the per-offset GEMMs are too thin to beat im2col
MAX_GRID_RATIO = 1.5  # padded grid cells per output pixel beyond which the waste is too large
# Threads: forward and backward split the batch over juanji's threads (`_parallel`), one BLAS
# thread each. Measured on the quiet 2-core machine, tinyvgg's 32x64x64x32 -> 32 backward: 73-112
# ms with dw on one BLAS thread and dx on OpenBLAS's two, 47 ms split over the batch.


def usable(x_shape: tuple, w_shape: tuple, padded_hw: tuple, out_hw: tuple, stride: tuple,
           groups: int, dtype) -> bool:
    """Whether the shifted-rows conv applies and is expected to be faster than im2col.

    >>> usable((2, 16, 16, 32), (3, 3, 32, 8), (18, 18), (16, 16), (1, 1), 1, np.float32) \\
    ...     == _blas.available(np.float32)          # 18*18 padded cells <= 1.5 * 16*16
    True
    >>> usable((2, 8, 8, 32), (3, 3, 32, 8), (10, 10), (8, 8), (1, 1), 1, np.float32)
    False
    """
    n, _, _, c_in = x_shape
    (hp, wp), (ho, wo) = padded_hw, out_hw
    return (_blas.available(dtype) and stride == (1, 1) and groups == 1
            and c_in >= MIN_CHANNELS and n * ho * wo > 0 and w_shape[3] > 0
            and hp * wp <= MAX_GRID_RATIO * ho * wo)


def _tail(w_shape: tuple, wp: int, dilation: tuple) -> int:
    """Rows read past the last grid cell by the last windows: the largest shift."""
    kh, kw = w_shape[:2]
    return (kh - 1) * dilation[0] * wp + (kw - 1) * dilation[1]


def _shift(a: int, b: int, wp: int, dilation: tuple) -> int:
    return a * dilation[0] * wp + b * dilation[1]


def padded_rows(x: np.ndarray, padding, w_shape: tuple, dilation: tuple) -> np.ndarray:
    """x (N, H, W, C) -> its zero-padded rows (N*Hp*Wp + tail, C), tail zero rows after."""
    n, h, wd, c = x.shape
    (t, bt), (left, r) = padding
    hp, wp = h + t + bt, wd + left + r
    rows = np.empty((n * hp * wp + _tail(w_shape, wp, dilation), c), dtype=x.dtype)
    rows[n * hp * wp:] = 0  # the tail
    grid = rows[:n * hp * wp].reshape(n, hp, wp, c)  # (N, Hp, Wp, C), a view
    over_batch(lambda s: embed(grid[s], x[s], t, left), n, work=grid.size)
    return rows


def forward(xrows: np.ndarray, w: np.ndarray, bias, padded_shape: tuple, out_hw: tuple,
            dilation: tuple) -> np.ndarray:
    """y (N, Ho, Wo, C_out) from the padded rows (N*Hp*Wp + tail, C_in), bias added."""
    n, hp, wp, _ = padded_shape
    kh, kw, _, c_out = w.shape
    m = n * hp * wp
    ho, wo = out_hw
    grid = np.empty((m, c_out), dtype=w.dtype)  # (N*Hp*Wp, C_out); rows i >= Ho, j >= Wo unused
    y = np.empty((n, ho, wo, c_out), dtype=w.dtype)  # (N, Ho, Wo, C_out)
    w = np.ascontiguousarray(w)  # each w[a, b] a row-major (C_in, C_out) block

    def images(s: slice) -> None:  # the grid rows of images s, then their outputs
        r0, r1 = s.start * hp * wp, s.stop * hp * wp
        for a in range(kh):
            for b in range(kw):
                sh = _shift(a, b, wp, dilation)
                # grid (+)= X[sh+r0 : sh+r1] (rows, C_in) @ w[a, b] (C_in, C_out), in place
                _blas.gemm(xrows[sh + r0:sh + r1], w[a, b], grid[r0:r1],
                           beta=0.0 if a == b == 0 else 1.0)
        valid = grid[r0:r1].reshape(-1, hp, wp, c_out)[:, :ho, :wo, :]  # (n_s, Ho, Wo, C_out)
        if bias is None:
            y[s] = valid
        else:
            np.add(valid, bias.reshape(c_out), out=y[s])  # the crop's copy adds the bias

    over_batch(images, n, work=gemm_work(m * xrows.shape[1] * c_out * kh * kw), blas=True)
    return y


def backward(dy: np.ndarray, xrows: np.ndarray, w: np.ndarray, padded_shape: tuple,
             dilation: tuple, need_dx: bool, padding, in_hw: tuple):
    """(dx or None, dw): dx (N, H, W, C_in) with the ``padding`` cropped off (H, W = ``in_hw``),
    dw like w.

    Both split the batch over threads (one BLAS thread each): dw sums each slice's partial dw
    (a small output with a long inner dimension, which OpenBLAS's own threads split badly); dx
    gives each slice its own padded rows, whose tail the slice's last image may reach into.
    """
    n, hp, wp, c_in = padded_shape
    kh, kw, _, c_out = w.shape
    _, ho, wo, _ = dy.shape
    (top, _), (left, _) = padding
    h, wd = in_hw
    m = n * hp * wp
    dgrid = np.empty((m, c_out), dtype=w.dtype)  # (N*Hp*Wp, C_out): dy, zero off the output
    w = np.ascontiguousarray(w)  # each w[a, b] a row-major (C_in, C_out) block
    tail = _tail(w.shape, wp, dilation)
    dx = np.empty((n, h, wd, c_in), dtype=w.dtype) if need_dx else None  # (N, H, W, C_in)

    def images(s: slice) -> np.ndarray:  # dw of images s; their dx into dx[s]
        r0, r1 = s.start * hp * wp, s.stop * hp * wp
        embed(dgrid[r0:r1].reshape(-1, hp, wp, c_out), dy[s], 0, 0)  # (n_s, Hp, Wp, C_out)
        part = np.empty(w.shape, dtype=w.dtype)  # (kh, kw, C_in, C_out)
        for a in range(kh):
            for b in range(kw):
                sh = _shift(a, b, wp, dilation)
                # dw[a, b] = X[sh+r0 : sh+r1].T (C_in, rows) @ dgrid[r0:r1] (rows, C_out)
                np.matmul(xrows[sh + r0:sh + r1].T, dgrid[r0:r1], out=part[a, b])
        if need_dx:
            d_rows = np.zeros((r1 - r0 + tail, c_in), dtype=w.dtype)  # (rows + tail, C_in)
            for a in range(kh):
                for b in range(kw):
                    sh = _shift(a, b, wp, dilation)
                    # dX[sh:sh+rows] (rows, C_in) += dgrid (rows, C_out) @ w[a, b].T
                    _blas.gemm(dgrid[r0:r1], w[a, b], d_rows[sh:sh + r1 - r0], beta=1.0,
                               trans_b=True)
            d_grid = d_rows[:r1 - r0].reshape(-1, hp, wp, c_in)  # (n_s, Hp, Wp, C_in)
            dx[s] = d_grid[:, top:top + h, left:left + wd, :]  # the padding cropped off
        return part

    dw = sum_over_batch(images, n, work=gemm_work(2 * m * c_in * c_out * kh * kw),
                        blas=True)  # (kh, kw, C_in, C_out)
    return dx, dw
