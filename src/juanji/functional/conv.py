"""2-D convolution (cross-correlation, as in every deep-learning library): forward and backward.

Shapes (channels-last):  x (N, H, W, C_in),  w (kh, kw, C_in // groups, C_out),
b (C_out,) or (1, 1, 1, C_out),  y (N, Ho, Wo, C_out); Ho, Wo from ``sizes.output_size``.

With groups == 1, s the stride, d the dilation and x_pad the padded input:

    y[n, i, j, o] = b[o] + sum_{a, b, c} x_pad[n, i*s + a*d, j*s + b*d, c] * w[a, b, c, o]

With groups == G the channels split into G blocks; output block g reads input block g only
(depthwise: G == C_in). The sum is one matrix product (im2col): the windows of x_pad, one row per
output pixel, form the column matrix ``cols`` (N*Ho*Wo, kh*kw*C_in), and ``y = cols @ w``.
Two other formulations of the same sum take the shapes they suit better, picked per call:
:mod:`~juanji.functional.conv_shifted` (stride 1, many channels: one GEMM per kernel offset on
shifted rows, no columns) and :mod:`~juanji.functional.conv_banded` (few input channels: one
GEMM against a banded weight matrix, for a whole output row or a tile of it).

Backward, for dy = dL/dy (N, Ho, Wo, C_out); every parameter collects the sum of its partial
derivatives over every output it touched:

    db = sum over n, i, j of dy                         (C_out,)
    dw = cols.T @ dy                                    (kh*kw*C_in, C_out)
    dcols = dy @ w.T                                    (N*Ho*Wo, kh*kw*C_in)
    dx = every window cell of dcols added back where it was read, the padding cropped off

Speed and memory: dcols is never built whole; for each kernel offset (a, b) its block
``dy @ w[a, b].T`` (N*Ho*Wo, C_in) is computed into one reused buffer and added straight into
dx, so the backward allocates no (N*Ho*Wo, kh*kw*C_in) array. When the column matrix of the whole
batch would exceed the memory budget (``juanji.functional.memory``), the batch is processed in
chunks of images: the cache then keeps the padded input and backward rebuilds each chunk's
columns. Large steps split the batch over threads (``_parallel``), each product on one BLAS
thread (``_threads``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from juanji.validation import (
    Padding2D, Pair, check_cache, check_dy, check_float_array, check_same_dtype, pair,
    resolve_padding,
)
from . import conv_banded, conv_shifted, conv_winograd
from ._parallel import gemm_work, over_batch, sum_over_batch
from .memory import batch_chunk
from juanji.validation import check_int

from .sizes import output_size
from .windows import pad_nhwc, unpad_nhwc, window_view


@dataclass(frozen=True, slots=True)
class Conv2dCache:
    """What :func:`conv2d_backward` needs: the column matrix (for dw), w (for dx), the geometry."""

    cols: np.ndarray | None  # (N*Ho*Wo, kh*kw*C_in), one window per row (a view of x when 1x1,
                             # stride 1, no padding: like torch, x must not change before
                             # backward); None when the batch was chunked (see xp)
    xp: np.ndarray | None   # (N, Hp, Wp, C_in) padded input, kept instead of cols when the
                            # batch was processed in chunks to stay under the memory budget
    chunk: int              # images per chunk (N when the whole batch fits the budget)
    w: np.ndarray           # (kh, kw, C_in // groups, C_out)
    padded_shape: tuple     # (N, Hp, Wp, C_in); banded in tiles, Wp includes any extra right
                            # columns the last tile reads
    in_hw: Pair             # (H, W), to crop the padding off dx
    padding: Padding2D      # ((top, bottom), (left, right))
    stride: Pair
    dilation: Pair
    groups: int
    b_shape: tuple | None   # db comes back in b's shape; None when there was no bias
    out_shape: tuple        # (N, Ho, Wo, C_out)
    rows: np.ndarray | None = None  # (N*Hp*Wp + tail, C_in) padded rows when the conv ran
                                    # shifted (conv_shifted: stride 1, no columns); else None
    band: np.ndarray | None = None  # (kh*T_in*C_in, T*C_out) banded weights when the conv ran
                                    # banded (conv_banded); cols then holds its row windows
                                    # (N*Ho*tiles, kh*T_in*C_in); else None
    tile: tuple | None = None  # (T, T_in, step) when banded in tiles, None for one band per row
    wino: conv_winograd.WinogradCache | None = None  # when the conv ran as Winograd F(4x4, 3x3)


def conv2d_forward(x, w, b=None, *, stride=1, padding=0, dilation=1,
                   groups=1) -> tuple[np.ndarray, Conv2dCache]:
    """Convolve ``x`` with ``w``: ``y[n,i,j,o] = b[o] + sum_{a,b,c} x_pad[n, i*s+a*d, j*s+b*d, c]
    * w[a,b,c,o]`` (per group).

    Args:
        x: input (N, H, W, C_in), float32 or float64.
        w: kernels (kh, kw, C_in // groups, C_out), same dtype as ``x``.
        b: bias (C_out,) or (1, 1, 1, C_out), same dtype, or None for no bias.
        stride, dilation: int or (h, w) pair, each >= 1.
        padding: int, (ph, pw), ((top, bottom), (left, right)), ``'valid'`` or ``'same'``
            (TensorFlow/Keras: output ``ceil(n / s)`` with any stride, the odd pixel after).
        groups: output-channel block g is computed from input-channel block g only.

    Returns:
        y (N, Ho, Wo, C_out) in ``x``'s dtype, and the cache for :func:`conv2d_backward`.

    >>> x = np.zeros((2, 32, 32, 3), np.float32); w = np.zeros((5, 5, 3, 8), np.float32)
    >>> y, cache = conv2d_forward(x, w, np.zeros(8, np.float32))     # the course's CONV1
    >>> y.shape, y.dtype
    ((2, 28, 28, 8), dtype('float32'))
    >>> conv2d_forward(x, w, stride=2, padding="same")[0].shape     # ceil(32 / 2) = 16
    (2, 16, 16, 8)
    >>> dw_kernel = np.zeros((3, 3, 1, 3), np.float32)              # depthwise: groups == C_in
    >>> conv2d_forward(x, dw_kernel, padding=1, groups=3)[0].shape
    (2, 32, 32, 3)
    """
    x = check_float_array(x, "x", 4, "(N, H, W, C_in)")
    w = check_float_array(w, "w", 4, "(kh, kw, C_in // groups, C_out)")
    check_same_dtype(x, "x", w, "w")
    groups = check_int(groups, "groups")
    n, h, wd, c_in = x.shape
    kh, kw, c_in_g, c_out = w.shape
    kernel = pair((kh, kw), "kernel_size")
    _check_channels(c_in, c_in_g, c_out, groups, x.shape, w.shape)
    if b is not None:
        _check_bias(b, c_out, x)
    stride = pair(stride, "stride")
    dilation = pair(dilation, "dilation")
    pad = resolve_padding(padding, (h, wd), kernel, stride, dilation)
    ho = output_size(h, kh, stride=stride[0], padding=pad[0], dilation=dilation[0])
    wo = output_size(wd, kw, stride=stride[1], padding=pad[1], dilation=dilation[1])

    (pt, pb), (pl, pr) = pad
    padded_shape = (n, h + pt + pb, wd + pl + pr, c_in)  # (N, Hp, Wp, C_in)
    if conv_winograd.usable(x.shape, w.shape, (ho, wo), stride, dilation, groups, x.dtype):
        y, wino = conv_winograd.forward(x, w, b, pad, (ho, wo))  # (N, Ho, Wo, C_out)
        return y, Conv2dCache(cols=None, xp=None, chunk=n, w=w, padded_shape=padded_shape,
                              in_hw=(h, wd), padding=pad, stride=stride, dilation=dilation,
                              groups=groups, b_shape=None if b is None else b.shape,
                              out_shape=y.shape, wino=wino)
    if conv_shifted.usable(x.shape, w.shape, padded_shape[1:3], (ho, wo), stride, groups,
                           x.dtype):
        rows = conv_shifted.padded_rows(x, pad, w.shape, dilation)  # (N*Hp*Wp + tail, C_in)
        y = conv_shifted.forward(rows, w, b, padded_shape, (ho, wo), dilation)  # (N,Ho,Wo,C_out)
        return y, Conv2dCache(cols=None, xp=None, chunk=n, w=w, padded_shape=padded_shape,
                              in_hw=(h, wd), padding=pad, stride=stride, dilation=dilation,
                              groups=groups, b_shape=None if b is None else b.shape,
                              out_shape=y.shape, rows=rows)
    t = conv_banded.tile_width(x.shape, w.shape, padded_shape[1:3], (ho, wo), stride[1],
                               dilation[1], groups, x.dtype.itemsize)
    if t is not None:  # banded: one band per output row, or per tile of t output columns
        return _banded_forward(x, w, b, pad, (ho, wo), t, stride, dilation)
    xp = pad_nhwc(x, pad)  # (N, Hp, Wp, C_in)
    geo = (kernel, stride, dilation, (ho, wo))
    chunk = batch_chunk(n, ho * wo * kh * kw * c_in * x.dtype.itemsize, "conv2d")
    if chunk >= n:
        cols = _im2col(xp, *geo)  # (N*Ho*Wo, kh*kw*C_in)
        y = _cols_times_w(cols, w, groups)  # (N*Ho*Wo, C_out)
    else:  # over the memory budget: `chunk` images at a time, columns rebuilt in backward
        cols = None
        y = np.empty((n * ho * wo, c_out), dtype=x.dtype)  # (N*Ho*Wo, C_out)
        for s in range(0, n, chunk):
            rows = slice(s * ho * wo, min(s + chunk, n) * ho * wo)
            cols_s = _im2col(xp[s:s + chunk], *geo)  # (chunk*Ho*Wo, kh*kw*C_in)
            y[rows] = _cols_times_w(cols_s, w, groups)  # (chunk*Ho*Wo, C_out)
    if b is not None:
        _add_bias(y.reshape(n * ho, wo * c_out), b.reshape(c_out))  # in place, y is our own
    y = y.reshape(n, ho, wo, c_out)  # (N, Ho, Wo, C_out), free: y is contiguous
    cache = Conv2dCache(cols=cols, xp=None if cols is not None else xp, chunk=chunk, w=w,
                        padded_shape=xp.shape, in_hw=(h, wd), padding=pad,
                        stride=stride, dilation=dilation, groups=groups,
                        b_shape=None if b is None else b.shape, out_shape=y.shape)
    return y, cache


def _banded_forward(x, w, b, pad: Padding2D, out_hw: Pair, t: int, stride: Pair,
                    dilation: Pair) -> tuple[np.ndarray, Conv2dCache]:
    """conv2d_forward by :mod:`~juanji.functional.conv_banded`, tiles of ``t`` output columns
    (``t == Wo``: one band per row). When t does not divide Wo the input gets the extra right
    padding the last tile reads, and the output columns past Wo are dropped."""
    n, h, wd, _ = x.shape
    kh, kw, _, c_out = w.shape
    (ho, wo), (pt, pb), (pl, pr) = out_hw, *pad
    tiles = -(-wo // t)
    if tiles == 1:
        tile, t_in, x_pad = None, wd + pl + pr, pad
    else:
        t_in = conv_banded.tile_in(t, kw, stride[1], dilation[1])
        tile = (t, t_in, t * stride[1])
        reach = (tiles * t - 1) * stride[1] + (kw - 1) * dilation[1] + 1  # columns read
        x_pad = ((pt, pb), (pl, pr + max(reach - (wd + pl + pr), 0)))
    xp = pad_nhwc(x, x_pad)  # (N, Hp, Wp [+ extra], C_in)
    bias = None if b is None else b.reshape(c_out)
    # (N*Ho*tiles, kh*T_in*C_in [+ 1]): with a bias, a column of 1s meeting the bias row
    xrows = conv_banded.row_windows(xp, kh, stride[0], dilation[0], ho, ones=b is not None,
                                    tile=tile)
    band = conv_banded.band(w, t_in, t, stride[1], dilation[1], bias)
    y = conv_banded.forward(xrows, band)  # (N*Ho*tiles, T*C_out), bias included
    y = y.reshape(n, ho, tiles * t, c_out)  # (N, Ho, tiles*T, C_out), free
    if tiles * t > wo:
        y = np.ascontiguousarray(y[:, :, :wo])  # (N, Ho, Wo, C_out): the extra columns dropped
    return y, Conv2dCache(cols=xrows, xp=None, chunk=n, w=w, padded_shape=xp.shape,
                          in_hw=(h, wd), padding=pad, stride=stride, dilation=dilation,
                          groups=1, b_shape=None if b is None else b.shape, out_shape=y.shape,
                          band=band, tile=tile)


def conv2d_backward(dy, cache: Conv2dCache, *, need_dx: bool = True):
    """Gradients of :func:`conv2d_forward`.

    Args:
        dy: upstream gradient (N, Ho, Wo, C_out).
        cache: from :func:`conv2d_forward`.
        need_dx: False skips dx (returned as None), e.g. for a model's first layer.

    Returns:
        ``(dx, dw, db)``: (N, H, W, C_in), (kh, kw, C_in // groups, C_out), and db in b's shape
        ((C_out,) or (1, 1, 1, C_out)), or None when there was no bias.

    >>> y, cache = conv2d_forward(np.ones((2, 7, 7, 3)), np.ones((3, 3, 3, 4)), stride=2)
    >>> dx, dw, db = conv2d_backward(np.ones_like(y), cache)
    >>> dx.shape, dw.shape, db is None
    ((2, 7, 7, 3), (3, 3, 3, 4), True)
    """
    check_cache(cache, Conv2dCache, "conv2d")
    w = cache.w
    dy = check_dy(dy, cache.out_shape, w.dtype, "conv2d")
    kh, kw, _, c_out = w.shape
    n, ho, wo, _ = cache.out_shape
    dy2 = dy.reshape(n * ho * wo, c_out)  # (N*Ho*Wo, C_out)

    if not isinstance(need_dx, (bool, np.bool_)):
        raise TypeError(f"`need_dx` must be True or False, got {need_dx!r}")
    if cache.band is not None:  # banded: three GEMMs against the band matrix (db from the first)
        t, t_in, _ = (wo, cache.padded_shape[2], None) if cache.tile is None else cache.tile
        tiles = -(-wo // t)
        if tiles * t > wo:  # the last tile's columns past Wo: a zero gradient
            dy_p = np.empty((n, ho, tiles * t, c_out), dtype=dy.dtype)  # (N, Ho, tiles*T, C_out)
            dy_p[:, :, :wo] = dy
            dy_p[:, :, wo:] = 0  # only the cut columns: one write of the rest, not two
            dy = dy_p
        dy_rows = dy.reshape(n * ho * tiles, t * c_out)  # (N*Ho*tiles, T*C_out)
        dw, db = conv_banded.weight_grad(cache.cols, dy_rows, w.shape, t_in, cache.stride[1],
                                         cache.dilation[1])
        db = None if db is None else db.reshape(cache.b_shape)
        if not need_dx:
            return None, dw, db
        dxp = conv_banded.input_grad(dy_rows, cache.band, cache.padded_shape, kh, ho,
                                     cache.stride[0], cache.dilation[0], cache.tile)
        return unpad_nhwc(dxp, cache.padding, cache.in_hw), dw, db  # (N, H, W, C_in)
    db = None if cache.b_shape is None else _sum_rows(dy, c_out).reshape(cache.b_shape)
    if cache.wino is not None:  # Winograd F(4x4, 3x3): the adjoint transforms
        dx, dw = conv_winograd.backward(dy, cache.wino, need_dx)
        return dx, dw, db  # dx (N, H, W, C_in) or None
    if cache.rows is not None:  # shifted rows: one GEMM per kernel offset, no columns
        dx, dw = conv_shifted.backward(dy, cache.rows, w, cache.padded_shape, cache.dilation,
                                       need_dx, cache.padding, cache.in_hw)
        return dx, dw, db  # dx (N, H, W, C_in) or None
    dxp = np.zeros(cache.padded_shape, dtype=w.dtype) if need_dx else None  # (N, Hp, Wp, C_in)
    if cache.cols is not None:  # the whole batch at once
        dw = _cols_t_times_dy(cache.cols, dy2, w.shape, cache.groups)  # (kh, kw, C_in/G, C_out)
        if need_dx:
            _add_dx(dxp, dy, w, cache.stride, cache.dilation, cache.groups)
    else:  # chunked: rebuild each chunk's columns from the padded input
        geo = ((kh, kw), cache.stride, cache.dilation, (ho, wo))
        dw = np.zeros(w.shape, dtype=w.dtype)  # (kh, kw, C_in/G, C_out)
        for s in range(0, n, cache.chunk):
            e = min(s + cache.chunk, n)
            cols = _im2col(cache.xp[s:e], *geo)  # (chunk*Ho*Wo, kh*kw*C_in)
            dw += _cols_t_times_dy(cols, dy2[s * ho * wo:e * ho * wo], w.shape, cache.groups)
            if need_dx:
                _add_dx(dxp[s:e], dy[s:e], w, cache.stride, cache.dilation, cache.groups)
    if not need_dx:
        return None, dw, db
    dx = unpad_nhwc(dxp, cache.padding, cache.in_hw)  # (N, H, W, C_in)
    return dx, dw, db


def _add_bias(y_rows: np.ndarray, b: np.ndarray) -> None:
    """``y += b`` over image rows: y_rows (N*Ho, Wo*C_out), b (C_out,) tiled Wo times.

    A broadcast add whose inner loop is C_out long (6 in LeNet-5) runs a short loop per pixel;
    tiling b along one image row makes the inner loop Wo*C_out long: LeNet-5's first conv,
    (50176, 6) += (6,), 0.09-0.14 ms instead of 0.37-0.43 ms (one thread).
    """
    reps = y_rows.shape[1] // max(b.size, 1)
    y_rows += np.tile(b, reps)  # (Wo*C_out,) broadcast over the N*Ho rows


def _sum_rows(dy: np.ndarray, c_out: int) -> np.ndarray:
    """db = dy summed over N, Ho, Wo: (N, Ho, Wo, C_out) -> (C_out,).

    Summed first over N*Ho rows of Wo*C_out values, then over Wo: ``dy2.sum(axis=0)`` on
    (M, C_out) runs one C_out-long inner loop per pixel, measured 1.07 ms instead of 0.20 ms on
    LeNet-5's first conv ((50176, 6), one thread).
    """
    n, ho, wo, _ = dy.shape
    rows = dy.reshape(n * ho, wo * c_out)  # (N*Ho, Wo*C_out)
    per_column = rows.sum(axis=0).reshape(wo, c_out)  # (Wo*C_out,) -> (Wo, C_out)
    return per_column.sum(axis=0)  # (C_out,)


# The three matrix products, per group. Measured (N=64, 32x32x32, 3x3, float32, 2 threads):
# a BLAS GEMM per group is fastest for groups == 1 (one GEMM, no copies) and for blocks of several
# channels (groups=2: fwd 51 ms vs 430 ms for an einsum over groups); for a pure depthwise conv
# (one input and one output channel per group) the einsum over groups wins (fwd 14 ms vs 190 ms
# for 32 one-column GEMMs), so that case alone takes the einsum (and, for dcols, a broadcast
# product: each cell is one dy value times one weight).

def _im2col(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair,
            out_hw: Pair) -> np.ndarray:
    """The column matrix of a padded input: one window per row, (N*Ho*Wo, kh*kw*C_in).

    The one copy of the forward; a free view for 1x1 kernels with stride 1 and no padding.
    With one input channel the matrix is built tap-major, (kh*kw, M) then transposed (a view,
    which BLAS reads as it is): each kernel offset is one copy of Wo-long rows, where the window
    view's copy moves single floats (LeNet-5's first conv: 0.5 ms instead of 1.7 ms).
    """
    n, c = xp.shape[0], xp.shape[3]
    (ho, wo), (kh, kw) = out_hw, kernel
    win = window_view(xp, kernel, stride, dilation, out_hw)  # (N, Ho, Wo, kh, kw, C_in), a view
    if kh * kw == 1 and stride == (1, 1) and xp.flags.c_contiguous:
        return win.reshape(n * ho * wo, c)  # (N*Ho*Wo, C_in): a view of x, no copy
    if c == 1 and kh * kw > 1:
        cols_t = np.empty((kh, kw, n, ho, wo), dtype=xp.dtype)  # (kh, kw, N, Ho, Wo)

        def taps(s: slice) -> None:
            for a in range(kh):
                for b in range(kw):
                    cols_t[a, b, s] = win[s, :, :, a, b, 0]  # (n_s, Ho, Wo)

        over_batch(taps, n, work=cols_t.size)
        return cols_t.reshape(kh * kw, n * ho * wo).T  # (N*Ho*Wo, kh*kw), Fortran-ordered view
    cols = np.empty((n, ho, wo, kh, kw, c), dtype=xp.dtype)  # (N, Ho, Wo, kh, kw, C_in)
    over_batch(lambda s: np.copyto(cols[s], win[s]), n, work=cols.size)
    return cols.reshape(n * ho * wo, kh * kw * c)  # (N*Ho*Wo, kh*kw*C_in), free


def _is_depthwise(w_shape: tuple, groups: int) -> bool:
    """One input and one output channel per group: every product is over the kh*kw taps only."""
    return groups > 1 and w_shape[2] == 1 and w_shape[3] == groups


def _group_cols(cols: np.ndarray, g: int, groups: int, taps: int) -> np.ndarray:
    """The columns of group g, (M, kh*kw*C_in) -> (M, kh*kw*C_in/G); a view when groups == 1."""
    if groups == 1:
        return cols  # as it is: reshaping a tap-major (Fortran-ordered) cols would copy it
    m, per_group = cols.shape[0], cols.shape[1] // (taps * groups)  # sizes, not -1: M may be 0
    blocks = cols.reshape(m, taps, groups, per_group)  # (M, kh*kw, G, C_in/G)
    return blocks[:, :, g, :].reshape(m, taps * per_group)  # (M, kh*kw*C_in/G)


def _cols_times_w(cols: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
    """y = cols @ w per group: (M, kh*kw*C_in) -> (M, C_out)."""
    kh, kw, c_in_g, c_out = w.shape
    m, taps = cols.shape[0], kh * kw
    if _is_depthwise(w.shape, groups):
        # y[m, g] = sum_k cols[m, k, g] * w[k, g]
        return np.einsum("mkg,kg->mg", cols.reshape(m, taps, groups),  # (M, kh*kw, G)
                         w.reshape(taps, groups))  # (kh*kw, G) -> (M, G = C_out)
    w2 = w.reshape(taps * c_in_g, c_out)  # (kh*kw*C_in/G, C_out), free
    c_out_g = c_out // groups
    y = np.empty((m, c_out), dtype=cols.dtype)
    if groups == 1 and not cols.flags.c_contiguous:  # tap-major columns (one input channel)
        _tap_major_times_w(cols, w2, y)
        return y

    def rows(s: slice) -> None:
        for g in range(groups):
            og = slice(g * c_out_g, (g + 1) * c_out_g)
            # (rows, kh*kw*C_in/G) @ (kh*kw*C_in/G, C_out/G) -> (rows, C_out/G), into y's block
            np.matmul(_group_cols(cols[s], g, groups, taps), w2[:, og], out=y[s, og])

    over_batch(rows, m, work=gemm_work(m * taps * c_in_g * c_out), blas=True)
    return y


# Rows of tap-major columns per product in _tap_major_times_w: about 512 KiB of columns.
TAP_MAJOR_CHUNK_BYTES = 512 * 2**10


def _tap_major_times_w(cols: np.ndarray, w2: np.ndarray, y: np.ndarray) -> None:
    """``y = cols @ w2`` for tap-major columns (a transposed view), a block of rows at a time.

    The whole product reads a (kh*kw, M) array that does not stay in cache; blocks of ~512 KiB
    of columns do: LeNet-5's first conv, (50176, 25) @ (25, 6), 0.46 ms instead of 0.90 ms (one
    thread). Each row of y is the same dot products either way.
    """
    m, k = cols.shape
    rows = max(1, TAP_MAJOR_CHUNK_BYTES // (k * cols.itemsize))

    def blocks(s: slice) -> None:
        for r in range(s.start, s.stop, rows):
            e = min(r + rows, s.stop)
            # (rows, kh*kw) @ (kh*kw, C_out) -> (rows, C_out), into y's block
            np.matmul(cols[r:e], w2, out=y[r:e])

    over_batch(blocks, m, work=gemm_work(m * k * w2.shape[1]), blas=True)


def _cols_t_times_dy(cols: np.ndarray, dy2: np.ndarray, w_shape: tuple,
                     groups: int) -> np.ndarray:
    """dw = cols.T @ dy per group: (M, kh*kw*C_in), (M, C_out) -> (kh, kw, C_in/G, C_out)."""
    kh, kw, c_in_g, c_out = w_shape
    m, taps = cols.shape[0], kh * kw
    if _is_depthwise(w_shape, groups):
        # dw[k, g] = sum_m cols[m, k, g] * dy[m, g]
        dw = np.einsum("mkg,mg->kg", cols.reshape(m, taps, groups), dy2)  # (kh*kw, G)
        return dw.reshape(w_shape)  # (kh, kw, 1, C_out)
    c_out_g = c_out // groups

    def rows(s: slice) -> np.ndarray:  # dw summed over the column rows s
        part = np.empty((taps * c_in_g, c_out), dtype=cols.dtype)  # (kh*kw*C_in/G, C_out)
        for g in range(groups):
            og = slice(g * c_out_g, (g + 1) * c_out_g)
            # (kh*kw*C_in/G, rows) @ (rows, C_out/G) -> (kh*kw*C_in/G, C_out/G); .T is a view
            np.matmul(_group_cols(cols[s], g, groups, taps).T, dy2[s, og], out=part[:, og])
        return part

    # a small output with a long inner dimension M: the rows split over threads, each slice's
    # partial dw added in slice order
    dw2 = sum_over_batch(rows, m, work=gemm_work(m * taps * c_in_g * c_out), blas=True)
    return dw2.reshape(w_shape)  # (kh, kw, C_in/G, C_out), free


def _add_dx(dxp: np.ndarray, dy: np.ndarray, w: np.ndarray, stride: Pair, dilation: Pair,
            groups: int) -> None:
    """dxp += the adjoint of the window view of dcols = dy @ w.T, the batch split over threads
    (each slice of images adds into its own images of dxp)."""
    n, c_out = dy.shape[0], dy.shape[3]

    def images(s: slice) -> None:
        _add_dx_images(dxp[s], dy[s], w, stride, dilation, groups)

    over_batch(images, n, work=gemm_work(dy.size * w.size // c_out), blas=True)


def _add_dx_images(dxp: np.ndarray, dy: np.ndarray, w: np.ndarray, stride: Pair,
                   dilation: Pair, groups: int) -> None:
    """:func:`_add_dx` for one slice of images, one kernel offset at a time.

    For offset (a, b) the block ``dy @ w[a, b].T`` (M, C_in) is what every window sends back
    from that cell; it lands on ``dxp[:, a*d_h + i*s_h, b*d_w + j*s_w, :]``. Computing it into one
    reused (M, C_in) buffer and adding it at once keeps the working set small: measured 39 ms
    instead of 93 ms for the whole (M, kh*kw*C_in) dcols then add-back (N=64, 32x32x32 -> 64,
    3x3, float32, one thread), and no 75 MB array.
    """
    kh, kw, c_in_g, c_out = w.shape
    n, ho, wo, _ = dy.shape
    c_in = dxp.shape[3]
    dy2 = dy.reshape(n * ho * wo, c_out)  # (M, C_out)
    w3 = w.reshape(kh * kw, c_in_g, c_out)  # (kh*kw, C_in/G, C_out), free
    if groups == 1:
        _add_dx_stacked(dxp, dy2, w3, (kh, kw), (n, ho, wo), stride, dilation)
        return
    block = np.empty((n, ho, wo, c_in), dtype=dy.dtype)  # (N, Ho, Wo, C_in), reused per offset
    block2 = block.reshape(n * ho * wo, c_in)  # (M, C_in), a view
    depthwise = _is_depthwise(w.shape, groups)
    c_out_g = c_out // groups
    (sh, sw), (dh, dw) = stride, dilation
    for a in range(kh):
        for b in range(kw):
            k = a * kw + b
            if depthwise:  # block[m, g] = dy[m, g] * w[k, g]
                np.multiply(dy2, w3[k, 0], out=block2)  # (M, G) * (G,) -> (M, G)
            else:
                for g in range(groups):
                    ig = slice(g * c_in_g, (g + 1) * c_in_g)
                    og = slice(g * c_out_g, (g + 1) * c_out_g)
                    # (M, C_out/G) @ (C_out/G, C_in/G) -> (M, C_in/G); .T is a view
                    np.matmul(dy2[:, og], w3[k, :, og].T, out=block2[:, ig])
            rows = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
            cols = slice(b * dw, b * dw + sw * (wo - 1) + 1, sw)
            dxp[:, rows, cols, :] += block  # (N, Ho, Wo, C_in) onto the cells it read


# Offsets whose dx blocks are computed by one stacked product: as many as fit this many bytes.
STACKED_DX_BYTES = 8 * 2**20


def _add_dx_stacked(dxp: np.ndarray, dy2: np.ndarray, w3: np.ndarray, kernel: Pair,
                    nhw: tuple, stride: Pair, dilation: Pair) -> None:
    """:func:`_add_dx` for groups == 1: the blocks of several kernel offsets in one matmul.

    ``np.matmul(dy2, w3[k0:k1].transpose(0, 2, 1))`` computes (k1 - k0, M, C_in) at once, as
    many offsets as fit in ``STACKED_DX_BYTES`` (at least one): with few channels a product per
    offset is dominated by its call overhead (LeNet-5's second conv, 25 offsets of
    (6400, 16) @ (16, 6): 1.8 ms per offset call, 0.9 ms stacked), while large layers keep one
    offset at a time and their small working set.
    """
    (kh, kw), (n, ho, wo) = kernel, nhw
    m, c_out = dy2.shape
    c_in = w3.shape[1]
    taps = kh * kw
    per = max(1, min(taps, STACKED_DX_BYTES // max(m * c_in * dy2.itemsize, 1)))
    w_t = np.ascontiguousarray(w3.transpose(0, 2, 1))  # (kh*kw, C_out, C_in): BLAS-ready
    blocks = np.empty((per, m, c_in), dtype=dy2.dtype)  # (offsets, M, C_in), reused
    (sh, sw), (dh, dw) = stride, dilation
    for k0 in range(0, taps, per):
        k1 = min(k0 + per, taps)
        out = blocks[:k1 - k0]  # (k1 - k0, M, C_in)
        np.matmul(dy2, w_t[k0:k1], out=out)  # (M, C_out) @ (k, C_out, C_in) -> (k, M, C_in)
        for k in range(k0, k1):
            a, b = divmod(k, kw)
            rows = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
            cols = slice(b * dw, b * dw + sw * (wo - 1) + 1, sw)
            # (N, Ho, Wo, C_in) onto the cells it read
            dxp[:, rows, cols, :] += out[k - k0].reshape(n, ho, wo, c_in)


def _check_channels(c_in: int, c_in_g: int, c_out: int, groups: int, x_shape, w_shape) -> None:
    if c_in == 0:  # (the cost model of the conv's methods divided by it)
        raise ValueError(f"`x` must have at least one channel (C_in >= 1), got shape "
                         f"{tuple(x_shape)}")
    if c_in % groups:
        raise ValueError(f"`in_channels` (={c_in}) must be divisible by `groups` (={groups})")
    if c_out % groups:
        raise ValueError(f"`out_channels` (={c_out}) must be divisible by `groups` (={groups})")
    if c_in_g * groups != c_in:
        raise ValueError(
            f"`x` has C_in={c_in} channels (shape {tuple(x_shape)}) but `w` (shape "
            f"{tuple(w_shape)}) expects C_in/groups * groups = {c_in_g} * {groups} = "
            f"{c_in_g * groups}; w must be (kh, kw, C_in // groups, C_out)"
        )


def _check_bias(b, c_out: int, x: np.ndarray) -> None:
    # ndim from b itself: check_float_array refuses non-arrays and integer dtypes; shape below
    check_float_array(b, "b", np.ndim(b), "(C_out,) or (1, 1, 1, C_out)")
    check_same_dtype(x, "x", b, "b")
    if b.shape not in ((c_out,), (1, 1, 1, c_out)):
        raise ValueError(
            f"`b` must have shape (C_out,) = ({c_out},) or (1, 1, 1, {c_out}) to match `w`, "
            f"got {b.shape}"
        )
