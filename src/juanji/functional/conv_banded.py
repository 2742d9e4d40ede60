"""Convolution as one GEMM per pass against a banded weight matrix: for narrow images, few channels.

Flatten each padded image row to one vector of Wp*C_in values. Output row i of image n reads the
kh input rows ``i*s_h + a*d_h`` (a = 0..kh-1); concatenated they are one row of

    X = rows(x_pad)                                              (N*Ho, kh*Wp*C_in)

(a window view over H alone: kh/s_h times the input, where im2col's columns are kh*kw/(s_h*s_w)
times it). Every output pixel (i, j, o) is a dot product of that row with a weight vector that is
zero except where the window of column j sits, so all of them form one banded matrix

    B[(a, j*s_w + b*d_w, c), (j, o)] = w[a, b, c, o]             (kh*Wp*C_in, Wo*C_out)

and the whole convolution, forward and backward, is three plain GEMMs:

    y  = X @ B                          (N*Ho, Wo*C_out) = y (N, Ho, Wo, C_out), no reshuffle
    dB = X.T @ dy,   dw[a, b, c, o] = sum_j dB[(a, j*s_w + b*d_w, c), (j, o)]   (the band's cells)
    dX = dy @ B.T,   dx_pad row i*s_h + a*d_h += dX's block a of row i          (kh adds)

B is (Wp / kw) times larger than w's taps need, so these GEMMs do Wp/kw times the multiply-adds
of im2col's; for LeNet-5 (Wp/kw = 6.4 and 2.8) that is cheaper than im2col's strided copies and its
GEMMs with only 6 or 16 columns: measured one thread, batch 64, fwd + bwd, first conv (no dx)
2.2 -> 1.5 ms, second conv 3.3 -> 1.6 ms. Used by :mod:`juanji.functional.conv` when
:func:`usable` says so (groups 1, narrow padded rows, few channels); otherwise im2col or the
shifted-rows conv apply. Same numbers up to float rounding.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._parallel import gemm_work, over_batch, sum_over_batch
from .memory import get_memory_budget

# Wp / kw: how many times im2col's multiply-adds the banded GEMMs do, at most.
MAX_WASTE = 8
# Columns of B (Wo*C_out) and rows (kh*Wp*C_in): beyond these B is mostly zeros that cost time.
MAX_BAND_BYTES = 2 * 2**20


def usable(x_shape: tuple, w_shape: tuple, padded_hw: tuple, out_hw: tuple, groups: int,
           itemsize: int) -> bool:
    """Whether the banded GEMMs apply and are expected to beat im2col for this shape.

    >>> usable((64, 28, 28, 1), (5, 5, 1, 6), (32, 32), (28, 28), 1, 4)    # LeNet-5's C1
    True
    >>> usable((32, 64, 64, 32), (3, 3, 32, 32), (66, 66), (64, 64), 1, 4)  # wide: 22x the work
    False
    """
    n, _, _, c_in = x_shape
    kh, kw, _, c_out = w_shape
    wp, (ho, wo) = padded_hw[1], out_hw
    if groups != 1 or n * ho * wo == 0 or c_out == 0:
        return False
    band_bytes = kh * wp * c_in * wo * c_out * itemsize
    rows_bytes = n * ho * kh * wp * c_in * itemsize
    return (wp <= MAX_WASTE * kw and band_bytes <= MAX_BAND_BYTES
            and rows_bytes <= get_memory_budget())


def row_windows(xp: np.ndarray, kh: int, stride_h: int, dilation_h: int, ho: int,
                ones: bool = False) -> np.ndarray:
    """X: the kh padded rows each output row reads, side by side: (N, Hp, Wp, C) -> (N*Ho, K),
    K = kh*Wp*C; with ``ones`` a last column of 1s, (N*Ho, K + 1), for the bias (see band)."""
    xp = np.ascontiguousarray(xp)  # (N, Hp, Wp, C): a row's Wp*C values must be one run
    n, hp, wp, c = xp.shape
    k = kh * wp * c
    # strides from the shapes: NumPy may report any stride for an axis of length 1
    item = xp.itemsize
    row, image = wp * c * item, hp * wp * c * item
    view = as_strided(xp, shape=(n, ho, kh, wp * c),  # (N, Ho, kh, Wp*C), a view
                      strides=(image, row * stride_h, row * dilation_h, item), writeable=False)
    out = np.empty((n * ho, k + ones), dtype=xp.dtype)  # (N*Ho, K [+ 1])
    width = (k + ones) * item  # bytes per row of out
    dst = as_strided(out, shape=(n, ho, kh, wp * c),  # out[:, :K] as (N, Ho, kh, Wp*C), a view
                     strides=(ho * width, width, wp * c * item, item))
    over_batch(lambda s: np.copyto(dst[s], view[s]), n, work=n * ho * k)  # the one copy
    if ones:
        out[:, k] = 1
    return out


def band(w: np.ndarray, wp: int, wo: int, stride_w: int, dilation_w: int,
         bias: np.ndarray | None = None) -> np.ndarray:
    """B (K, Wo*C_out), K = kh*Wp*C_in: column block j holds the kernel where window j sits, else
    0. With ``bias`` (C_out,) a last row of b tiled Wo times, (K + 1, Wo*C_out): against X's
    column of 1s it adds the bias inside the GEMM, and dB's last row is then db, summed by it."""
    kh, kw, c_in, c_out = w.shape
    k = kh * wp * c_in
    b_mat = np.zeros((k + (bias is not None), wo * c_out), dtype=w.dtype)  # (K [+ 1], Wo*C_out)
    b6 = b_mat[:k].reshape(kh, wp, c_in, wo, c_out)  # (kh, Wp, C_in, Wo, C_out), a view
    j = np.arange(wo)
    for b in range(kw):
        # the window of column j reads padded column j*s + b*d: (Wo, kh, C_in, C_out) cells
        b6[:, j * stride_w + b * dilation_w, :, j, :] = w[:, b]
    if bias is not None:
        b_mat[k] = np.tile(bias, wo)  # (Wo*C_out,)
    return b_mat


def forward(xrows: np.ndarray, b_mat: np.ndarray) -> np.ndarray:
    """y rows = X @ B: (N*Ho, kh*Wp*C_in) @ (kh*Wp*C_in, Wo*C_out) -> (N*Ho, Wo*C_out)."""
    rows, k = xrows.shape
    y = np.empty((rows, b_mat.shape[1]), dtype=xrows.dtype)  # (N*Ho, Wo*C_out)

    def block(s: slice) -> None:
        np.matmul(xrows[s], b_mat, out=y[s])  # (rows_s, K) @ (K, Wo*C_out) -> (rows_s, Wo*C_out)

    over_batch(block, rows, work=gemm_work(rows * k * b_mat.shape[1]), blas=True)
    return y


def weight_grad(xrows: np.ndarray, dy_rows: np.ndarray, w_shape: tuple, wp: int,
                stride_w: int, dilation_w: int):
    """(dw, db): dw (kh, kw, C_in, C_out) the band's cells of dB = X.T @ dy summed over the
    columns j; db (C_out,) from dB's last row when X has its column of 1s, else None."""
    kh, kw, c_in, c_out = w_shape
    wo = dy_rows.shape[1] // c_out
    rows, k = xrows.shape

    def block(s: slice) -> np.ndarray:
        # (kh*Wp*C_in, rows_s) @ (rows_s, Wo*C_out) -> (kh*Wp*C_in, Wo*C_out); .T is a view
        return xrows[s].T @ dy_rows[s]

    d_band = sum_over_batch(block, rows, work=gemm_work(rows * k * dy_rows.shape[1]),
                            blas=True)
    k_w = kh * wp * c_in
    d6 = d_band[:k_w].reshape(kh, wp, c_in, wo, c_out)  # (kh, Wp, C_in, Wo, C_out), a view
    dw = np.empty(w_shape, dtype=dy_rows.dtype)  # (kh, kw, C_in, C_out)
    j = np.arange(wo)
    for b in range(kw):
        # every window j used w[:, b] at padded column j*s + b*d: sum those (Wo, kh, C_in, C_out)
        dw[:, b] = d6[:, j * stride_w + b * dilation_w, :, j, :].sum(axis=0)
    db = d_band[k_w].reshape(wo, c_out).sum(axis=0) if k > k_w else None  # (C_out,)
    return dw, db


def input_grad(dy_rows: np.ndarray, b_mat: np.ndarray, padded_shape: tuple, kh: int, ho: int,
               stride_h: int, dilation_h: int) -> np.ndarray:
    """dx_pad (N, Hp, Wp, C_in): dX = dy @ B.T, block a of output row i added to padded row
    i*s_h + a*d_h."""
    n, hp, wp, c_in = padded_shape
    b_mat = b_mat[:kh * wp * c_in]  # (K, Wo*C_out): the bias row takes no part in dx
    dxp = np.zeros((n, hp, wp * c_in), dtype=dy_rows.dtype)  # (N, Hp, Wp*C_in)
    dy3 = dy_rows.reshape(n, ho, -1)  # (N, Ho, Wo*C_out), free

    def images(s: slice) -> None:
        # (n_s*Ho, Wo*C_out) @ (Wo*C_out, kh*Wp*C_in) -> (n_s*Ho, kh*Wp*C_in); .T is a view
        d_rows = dy3[s].reshape(-1, dy3.shape[2]) @ b_mat.T
        d4 = d_rows.reshape(-1, ho, kh, wp * c_in)  # (n_s, Ho, kh, Wp*C_in), free
        for a in range(kh):
            rows = slice(a * dilation_h, a * dilation_h + stride_h * (ho - 1) + 1, stride_h)
            dxp[s, rows, :] += d4[:, :, a, :]  # (n_s, Ho, Wp*C_in) onto the rows they read

    over_batch(images, n, work=gemm_work(dy_rows.size * b_mat.shape[0]), blas=True)
    return dxp.reshape(n, hp, wp, c_in)  # (N, Hp, Wp, C_in), free
