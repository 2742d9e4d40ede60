"""Stride-1 convolution without a column matrix: GEMMs on shifted rows of the padded input.

Flatten the padded input to rows, ``X = x_pad.reshape(N*Hp*Wp, C_in)``, and give every output
pixel the flat index of its window's top-left cell, ``p = n*Hp*Wp + i*Wp + j``. With stride 1 the
cell (a, b) of that window is row ``p + a*d*Wp + b*d`` of X, so for each kernel offset the rows
read by all windows are ONE contiguous block of X, shifted by ``shift(a, b) = a*d*Wp + b*d``.
Forward is one GEMM per kernel offset on those blocks:

    Y[p] = sum_{a, b} X[p + shift(a, b)] @ w[a, b]          Y (N*Hp*Wp, C_out)

Backward works a kernel ROW at a time. The kw cells of a window row sit side by side in X; copy
them next to each other once, the *row-wide* rows ``Xw[p] = [X[p], X[p+d], ..., X[p+(kw-1)*d]]``
(kw*C_in wide), and each kernel row is one GEMM with an inner or outer dimension kw*C_in:

    dw[a] = Xw[a*d*Wp : a*d*Wp + L].T @ dY                  (kw*C_in, C_out)
    dXw[a*d*Wp : a*d*Wp + L] += dY @ w[a].T                 (L, kw*C_in), then
    dX[q] = sum_b dXw[q - b*d, block b]                     the kw blocks folded back

Y is computed on the whole padded grid; the rows with i >= Ho or j >= Wo are thrown away (forward)
or given a zero gradient (backward), about (Hp*Wp) / (Ho*Wo) - 1 extra work (6 % for 64x64 'same'
3x3). No im2col and no scatter: the GEMMs accumulate in place with BLAS's ``beta = 1``
(:mod:`juanji.functional._blas`, NumPy's own BLAS). Xw and dXw exist a block of images at a time
(``BLOCK_BYTES``), so they cost no more memory than a block; the cache keeps the padded rows.

Measured on two threads, the benchmark's 64x32x32x32 -> 64 3x3 conv: backward 36.5 ms per offset
(inner dimension C_in = 32), 30 ms per kernel row (96); the forward stays per offset, 16.5 ms
instead of 19.4 ms row-wide (there the copy's memory traffic outweighs the wider GEMMs). Against
im2col, tinyvgg's 32x64x64x32 -> 32 forward takes 28.6 ms instead of 84 ms (im2col 35 ms + GEMM
48 ms, one thread). Used by :mod:`juanji.functional.conv` for stride 1, groups 1, at least
``MIN_CHANNELS`` input channels and little padding overhead, when NumPy's BLAS exposes its gemm;
otherwise every conv takes the im2col path (same results up to rounding).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _blas
from ._parallel import blocks, gemm_work, over_batch, sum_over_batch
from .windows import embed

MIN_CHANNELS = 16   # fewer input channels: the GEMMs are too thin to beat im2col
MAX_GRID_RATIO = 1.5  # padded grid cells per output pixel beyond which the waste is too large
BLOCK_BYTES = 2 * 2**20  # Xw per block of images, about one core's L2 (0.25-8 MiB measured alike)
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


def _row_wide(xrows: np.ndarray, r0: int, r1: int, kh: int, kw: int, wp: int,
              dilation: tuple) -> np.ndarray:
    """Xw for grid rows [r0, r1) and the (kh-1)*d*Wp rows the lower kernel rows read after them:
    (r1 - r0 + (kh-1)*d*Wp, kw*C), row p = [X[r0+p], X[r0+p+d], ..., X[r0+p+(kw-1)*d]]."""
    c = xrows.shape[1]
    length = r1 - r0 + (kh - 1) * dilation[0] * wp
    sr, sc = xrows.strides
    view = as_strided(xrows[r0:], shape=(length, kw, c), strides=(sr, dilation[1] * sr, sc),
                      writeable=False)  # (length, kw, C): overlapping windows of X, no copy
    xw = np.empty((length, kw, c), dtype=xrows.dtype)  # (length, kw, C)
    np.copyto(xw, view)  # the one copy
    return xw.reshape(length, kw * c)  # (length, kw*C), free


def forward(xrows: np.ndarray, w: np.ndarray, bias, padded_shape: tuple, out_hw: tuple,
            dilation: tuple) -> np.ndarray:
    """y (N, Ho, Wo, C_out) from the padded rows (N*Hp*Wp + tail, C_in), bias added.

    One GEMM per kernel offset straight on the shifted rows of X (no row-wide copy: measured
    16.5 vs 19.4 ms on two threads, where the copy's memory traffic outweighs the wider GEMMs).
    """
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
                sh = a * dilation[0] * wp + b * dilation[1]
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

    Both split the batch over threads (one BLAS thread each), and each slice works a block of
    images at a time (dw and dx of a block while its dY is in cache): dw sums the blocks'
    partial dw (a small output with a long inner dimension, which OpenBLAS's own threads split
    badly); dx gives each block its own row-wide gradient, whose rows past the block are zero
    (they come from grid cells outside the output, where dY is 0) and are dropped.
    """
    n, hp, wp, c_in = padded_shape
    kh, kw, _, c_out = w.shape
    (top, _), (left, _) = padding
    h, wd = in_hw
    g = hp * wp  # grid rows per image
    m = n * g
    step, d = dilation[0] * wp, dilation[1]
    lead = (kw - 1) * d  # dXw rows before the block: dX[q] reads dXw[q - b*d]
    dgrid = np.empty((m, c_out), dtype=w.dtype)  # (N*Hp*Wp, C_out): dy, zero off the output
    w_rows = np.ascontiguousarray(w).reshape(kh, kw * c_in, c_out)  # (kh, kw*C_in, C_out)
    dx = np.empty((n, h, wd, c_in), dtype=w.dtype) if need_dx else None  # (N, H, W, C_in)

    def images(s: slice) -> np.ndarray:  # dw of images s; their dx into dx[s]
        r0, r1 = s.start * g, s.stop * g
        embed(dgrid[r0:r1].reshape(-1, hp, wp, c_out), dy[s], 0, 0)  # (n_s, Hp, Wp, C_out)
        part = np.empty(w_rows.shape, dtype=w.dtype)  # (kh, kw*C_in, C_out)
        for block in blocks(s, g * kw * c_in * w.itemsize, BLOCK_BYTES):  # images
            b0, b1 = block.start * g, block.stop * g  # their grid rows
            rows = b1 - b0
            xw = _row_wide(xrows, b0, b1, kh, kw, wp, dilation)  # (rows + tail, kw*C_in)
            for a in range(kh):
                # dw[a] (+)= Xw[a*step : a*step + rows].T (kw*C_in, rows) @ dY (rows, C_out)
                _blas.gemm(xw[a * step:a * step + rows], dgrid[b0:b1], part[a],
                           beta=0.0 if b0 == r0 else 1.0, trans_a=True)
            if need_dx:
                _dx_block(dgrid[b0:b1], w_rows, dx[block], hp, wp, step, d, lead,
                          top, left)
        return part

    dw = sum_over_batch(images, n, work=gemm_work(2 * m * c_in * c_out * kh * kw),
                        blas=True)  # (kh, kw*C_in, C_out)
    return dx, dw.reshape(w.shape)  # (kh, kw*C_in, C_out) -> (kh, kw, C_in, C_out)


def _dx_block(dgrid: np.ndarray, w_rows: np.ndarray, dx: np.ndarray, hp: int, wp: int,
              step: int, d: int, lead: int, top: int, left: int) -> None:
    """dx of one block of images, (n_b, H, W, C_in), from its dY on the grid (n_b*Hp*Wp, C_out)."""
    kh, kwc, _ = w_rows.shape
    n_b, h, wd, c_in = dx.shape
    kw = kwc // c_in
    rows = len(dgrid)
    dxw = np.empty((lead + rows + (kh - 1) * step, kwc), dtype=dgrid.dtype)  # row-wide dX
    dxw[:lead] = 0
    dxw[lead + rows:] = 0
    for a in range(kh):
        # dXw[a*step : a*step + rows] (+)= dY (rows, C_out) @ w[a].T (C_out, kw*C_in)
        _blas.gemm(dgrid, w_rows[a], dxw[lead + a * step:lead + a * step + rows],
                   beta=0.0 if a == 0 else 1.0, trans_b=True)
    # dX[q] = sum_b dXw[q - b*d, block b], cropped to the real cells as it is folded
    for b in range(kw):
        grid_b = dxw[lead - b * d:lead - b * d + rows].reshape(n_b, hp, wp, kwc)  # (n_b,Hp,Wp,.)
        cells = grid_b[:, top:top + h, left:left + wd, b * c_in:(b + 1) * c_in]  # (n_b,H,W,C_in)
        if b == 0:
            dx[...] = cells
        else:
            dx += cells
