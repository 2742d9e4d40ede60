"""The one windowing primitive that convolution and both poolings are built on.

A window view exposes, for every output pixel (i, j), the input patch it reads:

    windows[n, i, j, a, b, c] = x_padded[n, i*s_h + a*d_h, j*s_w + b*d_w, c]

It is a strided *view* (no copy); the conv turns it into a column matrix with one reshape.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from juanji.validation import Pair, Padding2D
from ._parallel import over_batch
from .memory import MemoryBudgetError, get_memory_budget


def pad_nhwc(x: np.ndarray, padding: Padding2D, value: float = 0.0) -> np.ndarray:
    """Pad the H and W axes of ``x`` (N, H, W, C); returns ``x`` itself when there is no padding.

    The images are copied in slices over threads (``_parallel``), each slice filling its own
    borders; ``np.pad`` makes one pass to fill and one to copy, on one thread.
    """
    (t, b), (left, r) = padding
    if t == b == left == r == 0:
        return x
    n, h, w, c = x.shape
    nbytes = n * (h + t + b) * (w + left + r) * c * x.itemsize
    if nbytes > max(get_memory_budget(), 4 * x.nbytes):  # padding 1e5 asked for 298 GiB
        raise MemoryBudgetError(
            f"`padding` {padding} makes the padded input {n}x{h + t + b}x{w + left + r}x{c} "
            f"({nbytes / 2**20:.1f} MiB), more than 4 x the input and more than the memory "
            f"budget of {get_memory_budget() / 2**20:.1f} MiB (juanji.functional."
            f"set_memory_budget, JUANJI_MEMORY_BUDGET); use less padding")
    xp = np.empty((n, h + t + b, w + left + r, c), dtype=x.dtype)  # (N, Hp, Wp, C)
    over_batch(lambda s: embed(xp[s], x[s], t, left, value), n, work=xp.size)
    return xp


def embed(dst: np.ndarray, src: np.ndarray, top: int, left: int, value: float = 0.0) -> None:
    """dst (n, Hp, Wp, C) = src (n, H, W, C) placed at (top, left), ``value`` around it."""
    _, h, w, _ = src.shape
    dst[:, :top] = value
    dst[:, top + h:] = value
    dst[:, top:top + h, :left] = value
    dst[:, top:top + h, left + w:] = value
    dst[:, top:top + h, left:left + w] = src


def window_view(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair,
                out_hw: Pair) -> np.ndarray:
    """Read-only strided view of the windows of a padded input.

    Args:
        xp: padded input (N, Hp, Wp, C).
        kernel, stride, dilation: (h, w) pairs.
        out_hw: (Ho, Wo), from :func:`juanji.functional.sizes.output_size`.

    Returns:
        view (N, Ho, Wo, kh, kw, C) of ``xp``; no data is copied.
    """
    n, _, _, c = xp.shape
    sn, sh, sw, sc = xp.strides
    shape = (n, out_hw[0], out_hw[1], kernel[0], kernel[1], c)
    strides = (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc)
    return as_strided(xp, shape=shape, strides=strides, writeable=False)  # (N, Ho, Wo, kh, kw, C)


def add_windows_back(dwin: np.ndarray, padded_shape: tuple, stride: Pair,
                     dilation: Pair) -> np.ndarray:
    """The adjoint of :func:`window_view`: sum every window's gradient back into the padded input.

    Where windows overlap (stride < span) a pixel collects the sum of what each window sends it.
    Loops over the kh*kw kernel offsets only; each step is one vectorised strided add.

    Args:
        dwin: (N, Ho, Wo, kh, kw, C) gradient w.r.t. each window's cells.
        padded_shape: (N, Hp, Wp, C).

    Returns:
        dxp (N, Hp, Wp, C).
    """
    _, ho, wo, kh, kw, _ = dwin.shape
    dxp = np.zeros(padded_shape, dtype=dwin.dtype)
    sh, sw = stride
    dh, dw = dilation
    for a in range(kh):
        for b in range(kw):
            rows = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
            cols = slice(b * dw, b * dw + sw * (wo - 1) + 1, sw)
            dxp[:, rows, cols, :] += dwin[:, :, :, a, b, :]
    return dxp


def unpad_nhwc(xp: np.ndarray, padding: Padding2D, hw: Pair) -> np.ndarray:
    """Crop the padding back off: (N, Hp, Wp, C) -> (N, H, W, C)."""
    (t, _), (left, _) = padding
    return xp[:, t:t + hw[0], left:left + hw[1], :]
