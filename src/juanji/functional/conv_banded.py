"""Convolution as one GEMM per pass against a banded weight matrix: for few input channels.

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
2.2 -> 1.5 ms, second conv 3.3 -> 1.6 ms.

Wider rows are cut into tiles of T output columns. Every tile reads the same
pattern of T_in = (T-1)*s_w + (kw-1)*d_w + 1 input columns, so one band B (kh*T_in*C_in, T*C_out)
serves all of them, and X gets one row per (image, output row, tile):

    X[(n, i, t)] = x_pad[n, i*s_h + a*d_h, t*T*s_w + (0 .. T_in-1), :] for a = 0..kh-1
    y = X @ B                           (N*Ho*tiles, T*C_out) = y (N, Ho, tiles*T, C_out)

with T_in / kw times im2col's multiply-adds (see tile_width for the choice of T). When T does
not divide Wo, the last tile's columns past Wo read zero padding added on the right and are
dropped from y (backward gives them a zero dy). Backward is the same three GEMMs, dX's tiles
added back a group of non-overlapping tiles at a time. T = Wo is the one band per row above (and
T = 1 would be im2col itself). Measured, two threads, fwd + bwd, each in the tiles tile_width
now picks: LeNet-5's first conv on 96x96 images 34.3 ms with im2col, 15.3 ms in tiles of 4, its
second 67.4 -> 39.2 ms (tiles of 4); tinyvgg's first conv (64x64x3 -> 32) 14.2 -> 10.7 ms
(tiles of 2); on 28x28 LeNet-5's convs take tiles too (the first 2.83 -> 2.07 ms with tiles of
7, the second 4.03 -> 2.74 ms with tiles of 5). Used by :mod:`juanji.functional.conv` when
:func:`tile_width` finds a band or tile (groups 1, few input channels); otherwise im2col or the
shifted-rows conv apply. Same numbers up to float rounding.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._parallel import gemm_work, over_batch, sum_over_batch
from .memory import get_memory_budget

# How a band is chosen (tile_width): every tile width T from MIN_TILE on is a candidate (T = Wo:
# one band for the whole row), and so is im2col. Each costs its multiply-adds per output pixel
# (kh*T_in*C_in*C_out, times ceil(Wo / T) * T / Wo for the columns computed past Wo; im2col's are
# kh*kw*C_in*C_out) divided by how fast a GEMM of its shape runs, n / (n + HALF_N) *
# k / (k + HALF_K) of its best for n output columns and inner dimension k, plus CUT_COST per
# output value when T does not divide Wo; the cheapest wins. A cut tile costs more than its extra
# columns (y is cropped and dy padded: one more pass over each), so widths that divide Wo win.
# The constants are fitted to timings of every width on LeNet-5-, course-, SIGNS- and
# tinyvgg-sized convs (benchmarks/NOTES.md records the sweeps and the models they replaced).
HALF_K, HALF_N = 8, 48  # the GEMM runs at half its best speed with this inner dimension / columns
CUT_COST = 8  # per output value of a cut tile: y cropped, dy padded, in multiply-adds
MAX_WASTE = 8  # T_in / kw: beyond this the band is mostly zeros whatever the shape
MAX_BAND_BYTES = 2 * 2**20  # B (kh*T_in*C_in, T*C_out) larger than this: mostly zeros too
MIN_TILE = 2  # a tile of 1 column is im2col with another copy
MAX_TILE_CHANNELS = 16  # tiles only below this many input channels (measured territory; with
                        # more, im2col's inner dimension is wide and stride 1 runs shifted)


def tile_in(tile: int, kw: int, stride_w: int, dilation_w: int) -> int:
    """Input columns a tile of ``tile`` output columns reads: (T-1)*s + (kw-1)*d + 1."""
    return (tile - 1) * stride_w + (kw - 1) * dilation_w + 1


def _cost(k: int, n: int, macs: float) -> float:
    """Relative time of ``macs`` multiply-adds in a GEMM with inner dimension k and n output
    columns: their number over the GEMM's speed, ``n / (n + HALF_N) * k / (k + HALF_K)`` of
    its best."""
    return macs * (n + HALF_N) / n * (k + HALF_K) / k


def tile_width(x_shape: tuple, w_shape: tuple, padded_hw: tuple, out_hw: tuple, stride_w: int,
               dilation_w: int, groups: int, itemsize: int) -> int | None:
    """Output columns per band: Wo (one band for the whole row), T < Wo (the row in
    ceil(Wo / T) tiles sharing one band; when T does not divide Wo the last tile computes
    columns past Wo, which are dropped), or None when im2col (or the shifted conv) should run.

    >>> tile_width((64, 28, 28, 1), (5, 5, 1, 6), (32, 32), (28, 28), 1, 1, 1, 4)  # LeNet's C1
    7
    >>> tile_width((64, 14, 14, 6), (5, 5, 6, 16), (14, 14), (10, 10), 1, 1, 1, 4)  # its C2
    5
    >>> tile_width((32, 64, 64, 32), (3, 3, 32, 32), (66, 66), (64, 64), 1, 1, 1, 4) is None
    True
    """
    return _tile_width(x_shape, w_shape, padded_hw, out_hw, stride_w, dilation_w, groups, itemsize,
                       get_memory_budget(), MAX_BAND_BYTES)


@functools.lru_cache(maxsize=256)  # a model asks the same questions every step (10-30 us each)
def _tile_width(x_shape: tuple, w_shape: tuple, padded_hw: tuple, out_hw: tuple, stride_w: int,
                dilation_w: int, groups: int, itemsize: int, budget: int,
                max_band_bytes: int) -> int | None:
    n, _, _, c_in = x_shape
    kh, kw, _, c_out = w_shape
    wp, (ho, wo) = padded_hw[1], out_hw
    if groups != 1 or n * ho * wo == 0 or c_out == 0:
        return None
    candidates = [(wo, wp)]  # one band for the whole row: it reads the whole padded row
    if c_in < MAX_TILE_CHANNELS:
        t = MIN_TILE
        while t < wo and tile_in(t, kw, stride_w, dilation_w) <= MAX_WASTE * kw:
            candidates.append((t, tile_in(t, kw, stride_w, dilation_w)))
            t += 1
    # costs per output pixel; im2col: kh*kw*C_in multiply-adds for each of the C_out values
    best, best_cost = None, _cost(kh * kw * c_in, c_out, kh * kw * c_in * c_out)
    for t, t_in in candidates:
        tiles = -(-wo // t)
        band_bytes = kh * t_in * c_in * t * c_out * itemsize
        rows_bytes = n * ho * tiles * kh * t_in * c_in * itemsize
        if (t_in > MAX_WASTE * kw or band_bytes > max_band_bytes
                or rows_bytes > budget):
            continue
        k = kh * t_in * c_in  # a band row: kh rows of T_in input columns
        # the multiply-adds of the columns past Wo count too, and so does their crop
        cost = _cost(k, t * c_out, k * c_out * tiles * t / wo)
        if tiles * t != wo:
            cost += CUT_COST * c_out
        if cost < best_cost:
            best, best_cost = t, cost
    return best


def row_windows(xp: np.ndarray, kh: int, stride_h: int, dilation_h: int, ho: int,
                ones: bool = False, tile: tuple | None = None) -> np.ndarray:
    """X: the kh padded rows each output row reads, side by side: (N, Hp, Wp, C) -> (N*Ho, K),
    K = kh*Wp*C; with ``ones`` a last column of 1s, (N*Ho, K + 1), for the bias (see band).

    With ``tile = (T, T_in, step)`` each output row is cut into tiles of T columns, tile t reading
    the T_in input columns from t*step on (step = T*s_w): one row of X per (n, i, t),
    (N*Ho*tiles, kh*T_in*C [+ 1]).
    """
    xp = np.ascontiguousarray(xp)  # (N, Hp, Wp, C): a row's Wp*C values must be one run
    n, hp, wp, c = xp.shape
    _, t_in, step = (1, wp, 0) if tile is None else tile
    tiles = 1 if tile is None else (wp - t_in) // step + 1  # = Wo / T
    k = kh * t_in * c
    # strides from the shapes: NumPy may report any stride for an axis of length 1
    item = xp.itemsize
    row, image = wp * c * item, hp * wp * c * item
    view = as_strided(xp, shape=(n, ho, tiles, kh, t_in * c),  # (N, Ho, tiles, kh, T_in*C)
                      strides=(image, row * stride_h, step * c * item, row * dilation_h, item),
                      writeable=False)  # a view: no copy yet
    out = np.empty((n * ho * tiles, k + ones), dtype=xp.dtype)  # (N*Ho*tiles, K [+ 1])
    width = (k + ones) * item  # bytes per row of out
    dst = as_strided(out, shape=(n, ho, tiles, kh, t_in * c),  # out[:, :K] the same way
                     strides=(ho * tiles * width, tiles * width, width, t_in * c * item, item))
    over_batch(lambda s: np.copyto(dst[s], view[s]), n, work=n * ho * tiles * k)  # the one copy
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
               stride_h: int, dilation_h: int, tile: tuple | None = None) -> np.ndarray:
    """dx_pad (N, Hp, Wp, C_in): dX = dy @ B.T, block a of output row i (tile t) added to padded
    row i*s_h + a*d_h (from column t*step on).

    Tiles overlap where T_in > step: tiles t, t + g, t + 2g, ... (g = ceil(T_in / step)) do
    not, so each such group is one strided add.
    """
    n, hp, wp, c_in = padded_shape
    _, t_in, step = (1, wp, wp) if tile is None else tile
    tiles = dy_rows.shape[0] // (n * ho)  # = Wo / T
    b_mat = b_mat[:kh * t_in * c_in]  # (K, T*C_out): the bias row takes no part in dx
    dxp = np.zeros((n, hp, wp * c_in), dtype=dy_rows.dtype)  # (N, Hp, Wp*C_in)
    dy3 = dy_rows.reshape(n, ho * tiles, -1)  # (N, Ho*tiles, T*C_out), free
    groups = -(-t_in // step)  # tiles apart that never overlap
    item = dxp.itemsize

    def images(s: slice) -> None:
        # (n_s*Ho*tiles, T*C_out) @ (T*C_out, kh*T_in*C_in) -> (.., kh*T_in*C_in); .T a view
        d_rows = dy3[s].reshape(-1, dy3.shape[2]) @ b_mat.T
        d5 = d_rows.reshape(-1, ho, tiles, kh, t_in * c_in)  # (n_s, Ho, tiles, kh, T_in*C_in)
        for a in range(kh):
            for r in range(min(groups, tiles)):
                # padded rows i*s_h + a*d_h, columns from (r + g*u)*step on: (n_s, Ho, .., T_in*C)
                start = dxp[s, a * dilation_h:, r * step * c_in:]
                dst = as_strided(start, shape=(len(d5), ho, len(range(r, tiles, groups)),
                                                t_in * c_in),
                                 strides=(hp * wp * c_in * item, stride_h * wp * c_in * item,
                                          groups * step * c_in * item, item))
                dst += d5[:, :, r::groups, a, :]

    over_batch(images, n, work=gemm_work(dy_rows.size * b_mat.shape[0]), blas=True)
    return dxp.reshape(n, hp, wp, c_in)  # (N, Hp, Wp, C_in), free
