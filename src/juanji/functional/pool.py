"""Max and average pooling, channels-last, as forward/backward pairs.

Every channel is pooled on its own; the window of output pixel (i, j) is

    window(i, j) = x_padded[n, i*s_h : i*s_h + k_h, j*s_w : j*s_w + k_w, c]

    max:  y[n, i, j, c] = max(window(i, j))
    avg:  y[n, i, j, c] = sum(window(i, j)) / divisor[i, j]

Backward only routes the gradient (pooling has no parameters):

    max:  the whole dy[n, i, j, c] goes to the one cell that won the max
    avg:  every cell of the window gets dy[n, i, j, c] / divisor[i, j]

and where windows overlap (stride < kernel) an input cell collects the sum of what every window
sends it. Both ops are built on the windowing primitive that convolution uses
(:mod:`juanji.functional.windows`), with a reshape fast path when the windows tile the input.
Output sizes come from :func:`juanji.functional.sizes.output_size`, as everywhere else.

Large windows (more than ``LARGE_WINDOW`` cells) take another path, since looping over the
kernel's cells costs ``O(output * kh * kw)`` (a 2000 x 2000 max pool took 31 s and 1.5 GB):

- average pooling, both ways, sums boxes through an integral image (cumulative sums in float64),
  ``O(input + output)``; infinities and NaN are counted separately in integer integral images,
  so ``inf + -inf`` is NaN exactly as in a plain sum;
- max pooling forward takes the max and first argmax of each window in one reduction over a
  copy of the windows, batch-chunked under the memory budget
  (:func:`juanji.functional.set_memory_budget`; one image's windows over the budget raise
  :class:`~juanji.functional.memory.MemoryBudgetError`); backward adds each ``dy`` at its
  winner with one ``np.bincount``, ``O(input + output)``.

Two implementations of each op compute the same numbers: the vectorised NumPy below (several
strided passes over the offset views) and, when the backend is ``"numba"``
(:mod:`juanji.backend`, the default when numba is installed), the compiled loops of
:mod:`juanji.functional.pool_numba` (one pass). Validation, geometry and caches are shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from juanji.backend import get_backend
from juanji.validation import (Pair, Padding2D, check_bool, check_cache, check_dy,
                               check_float_array, pair, resolve_padding)
from .memory import batch_chunk
from .sizes import output_size
from ._parallel import over_batch
from .windows import add_windows_back, pad_nhwc, unpad_nhwc, window_view

_NO_DILATION = (1, 1)
# Windows of more cells than this take the large-window path (see the module docstring); the
# common 2x2 and 3x3 windows never do.
LARGE_WINDOW = 256


@dataclass(frozen=True, slots=True)
class PoolGeometry:
    """Where every window sits; shared by both pools and kept in their caches.

    ``padding`` is what the input is padded with before windowing: the resolved padding plus, in
    ceil mode, the extra bottom/right cells the last window hangs over. ``real_padding`` is the
    resolved padding alone (the padded input PyTorch's divisor counts).
    """

    in_shape: tuple  # (N, H, W, C)
    out_shape: tuple  # (N, Ho, Wo, C)
    kernel: Pair
    stride: Pair
    real_padding: Padding2D  # ((top, bottom), (left, right)) as resolved from `padding`
    padding: Padding2D  # real_padding + ceil-mode extra cells after
    tiled: bool  # stride == kernel, no padding, sizes divisible: the reshape fast path applies

    @property
    def padded_shape(self) -> tuple:
        (t, b), (left, r) = self.padding
        n, h, w, c = self.in_shape
        return (n, h + t + b, w + left + r, c)


def _geometry(x: np.ndarray, kernel_size, stride, padding, ceil_mode) -> PoolGeometry:
    """Validate the arguments and work out where every window sits."""
    n, h, w, c = x.shape
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    ceil_mode = check_bool(ceil_mode, "ceil_mode")
    real = resolve_padding(padding, (h, w), kernel, stride, _NO_DILATION)
    for (lo, hi), k, axis in zip(real, kernel, ("height", "width")):
        if max(lo, hi) > k // 2:  # else a window could lie wholly in the padding
            raise ValueError(
                f"`padding` {padding!r} (resolved to {real}) must be at most half of "
                f"`kernel_size` {kernel} on every side (pad <= {k // 2} along the {axis}), as in "
                "PyTorch: 'pad should be at most half of effective kernel size'"
            )
    ho = output_size(h, kernel[0], stride=stride[0], padding=real[0], ceil_mode=ceil_mode)
    wo = output_size(w, kernel[1], stride=stride[1], padding=real[1], ceil_mode=ceil_mode)
    # ceil mode: the last window may hang past the padded input; pad those cells too.
    extra_h = max((ho - 1) * stride[0] + kernel[0] - (h + real[0][0] + real[0][1]), 0)
    extra_w = max((wo - 1) * stride[1] + kernel[1] - (w + real[1][0] + real[1][1]), 0)
    full = ((real[0][0], real[0][1] + extra_h), (real[1][0], real[1][1] + extra_w))
    tiled = (stride == kernel and full == ((0, 0), (0, 0))
             and h == ho * kernel[0] and w == wo * kernel[1])
    return PoolGeometry((n, h, w, c), (n, ho, wo, c), kernel, stride, real, full, tiled)


def _offset_views(x: np.ndarray, geo: PoolGeometry, fill: float) -> list[np.ndarray]:
    """One (N, Ho, Wo, C) view per kernel offset (a, b), in row-major window order."""
    n, ho, wo, c = geo.out_shape
    kh, kw = geo.kernel
    if geo.tiled:
        xr = x.reshape(n, ho, kh, wo, kw, c)  # (N, Ho, kh, Wo, kw, C), a view: no padding, no copy
        return [xr[:, :, a, :, b, :] for a in range(kh) for b in range(kw)]
    xp = pad_nhwc(x, geo.padding, fill)  # (N, Hp, Wp, C)
    win = window_view(xp, geo.kernel, geo.stride, _NO_DILATION, (ho, wo))  # (N, Ho, Wo, kh, kw, C)
    return [win[:, :, :, a, b, :] for a in range(kh) for b in range(kw)]


def _forward_args(x, kernel_size, stride, padding, ceil_mode):
    x = check_float_array(x, "x", 4, "(N, H, W, C)")
    return x, _geometry(x, kernel_size, stride, padding, ceil_mode)


def _windows_back(dwin: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Sum the windows' gradients (n, Ho, Wo, kh, kw, C) back onto the input: a (n, H, W, C) view
    with the padding (and ceil-mode extra cells) cropped off; n may be a slice of the batch."""
    _, h, w, _ = geo.in_shape
    _, hp, wp, c = geo.padded_shape
    dxp = add_windows_back(dwin, (len(dwin), hp, wp, c), geo.stride, _NO_DILATION)
    return unpad_nhwc(dxp, geo.padding, (h, w))  # (n, H, W, C)


# --------------------------------------------------------------------------------- max pooling

@dataclass(frozen=True, slots=True)
class MaxPool2dCache:
    """What max-pool backward needs: the winner of every window, and where the windows sit."""

    argmax: np.ndarray  # (N, Ho, Wo, C), the winner's offset a*kw + b inside its window
    geometry: PoolGeometry
    dtype: np.dtype

    @property
    def out_shape(self) -> tuple:
        return self.geometry.out_shape


def _first_real_offset(geo: PoolGeometry) -> np.ndarray:
    """(Ho, Wo): offset a*kw + b of the first real (unpadded) cell of every window."""
    _, ho, wo, _ = geo.out_shape
    (top, _), (left, _) = geo.padding
    a = np.maximum(top - np.arange(ho) * geo.stride[0], 0)  # (Ho,)
    b = np.maximum(left - np.arange(wo) * geo.stride[1], 0)  # (Wo,)
    return a[:, None] * geo.kernel[1] + b[None, :]  # (Ho, Wo)


def _max_and_argmax(views: list, best: np.ndarray, arg: np.ndarray) -> bool:
    """best = the max of the offset views, arg = the offset of the first maximum; in place.

    Returns whether a NaN came out (the caller then applies PyTorch's NaN rule).
    """
    if len(views) == 4:  # 2x2 windows: a tree of pairs, fewer passes than the loop below
        _max_and_argmax_2x2(views, best, arg)
        return bool(np.isnan(best).any())
    if len(views) == 1:
        best[...] = views[0]
        arg[...] = 0
    else:
        np.greater(views[1], views[0], out=arg)  # offsets 0 or 1: the comparison is the argmax
        np.maximum(views[0], views[1], out=best)
    for k in range(2, len(views)):
        v = views[k]
        gt = v > best  # strictly greater: on a tie the earlier (first) cell keeps the win
        np.maximum(best, v, out=best)  # np.maximum propagates NaN
        # arg = where(gt, k, arg), branch-free: ~30x faster than np.where on random masks
        arg += gt * (arg.dtype.type(k) - arg)
    return bool(np.isnan(best).any())


def _max_and_argmax_2x2(views: list, best: np.ndarray, arg: np.ndarray) -> None:
    """:func:`_max_and_argmax` for four views: the max of each row pair, then of the two.

    Offsets 0, 1 are the window's first row, 2, 3 its second; every comparison is strict, so a
    tie keeps the earlier (left, then upper) cell, the first maximum in row-major order.
    """
    right = views[1] > views[0]  # (n, Ho, Wo, C) bool: the top row's max is at offset 1
    lower_right = views[3] > views[2]
    top = np.maximum(views[0], views[1])
    np.maximum(views[2], views[3], out=best)  # bottom row's max, for now
    lower = best > top  # the bottom row wins
    np.maximum(top, best, out=best)
    # arg = 2 + lower_right where lower, else right: right + lower * (2 + lower_right - right)
    np.add(lower_right, 2, out=arg, dtype=arg.dtype)
    arg -= right
    arg *= lower
    arg += right


def max_pool2d_forward(x: np.ndarray, kernel_size, *, stride=None, padding=0,
                       ceil_mode: bool = False):
    """Max pooling: ``y[n, i, j, c] = max(window(i, j))`` over each channel separately.

    Args:
        x: (N, H, W, C) float32 or float64.
        kernel_size: window ``(kh, kw)``, an int or a pair.
        stride: step between windows, an int or a pair; defaults to ``kernel_size``.
        padding: int, ``(ph, pw)``, ``((top, bottom), (left, right))``, ``'valid'`` or ``'same'``
            (TensorFlow/Keras: output ``ceil(n / s)``, the odd extra pixel bottom/right); at most
            half the kernel on any side. Padded cells are ``-inf``: they never win.
        ceil_mode: round the output size up (PyTorch's rule), padding the cells the last window
            hangs over with ``-inf`` too.

    Returns:
        y (N, Ho, Wo, C) in x's dtype, Ho and Wo from ``output_size``, and the cache.

    Ties: the course's mask ``x == max(x)`` would send the gradient to *every* tied cell of a
    window; like PyTorch, juanji sends it to the FIRST maximum in row-major window order only, so
    the gradient of each output goes to exactly one input. Also as in PyTorch: a NaN in a window
    wins the max (the last NaN, if several, takes the gradient), and in a window whose real cells
    are all ``-inf`` the gradient goes to its first real cell, never to padding.

    >>> x = np.arange(2 * 5 * 5 * 3, dtype=np.float32).reshape(2, 5, 5, 3)
    >>> y, cache = max_pool2d_forward(x, 2)
    >>> y.shape, y.dtype
    ((2, 2, 2, 3), dtype('float32'))
    >>> max_pool2d_forward(x, 3, stride=2, padding=1)[0].shape
    (2, 3, 3, 3)
    >>> max_pool2d_forward(x, 2, ceil_mode=True)[0].shape
    (2, 3, 3, 3)
    >>> max_pool2d_backward(np.ones_like(y), cache).shape
    (2, 5, 5, 3)
    """
    x, geo = _forward_args(x, kernel_size, stride, padding, ceil_mode)
    if _large(geo):  # both backends: O(input + output) whatever the window's area
        y, arg = _max_large(x, geo)
        found_nan = ()
    else:
        y = np.empty(geo.out_shape, dtype=x.dtype)  # (N, Ho, Wo, C)
        cells = geo.kernel[0] * geo.kernel[1]
        arg = np.empty(geo.out_shape, dtype=np.min_scalar_type(cells - 1))  # (N, Ho, Wo, C)
        if get_backend() == "numba":
            from . import pool_numba
            pool_numba.run(pool_numba.max_forward, np.ascontiguousarray(x), y, arg,
                           *geo.kernel, *geo.stride, geo.padding[0][0], geo.padding[1][0])
            return y, MaxPool2dCache(arg, geo, x.dtype)
        views = _offset_views(x, geo, -np.inf)  # kh*kw views (N, Ho, Wo, C)
        found_nan = over_batch(lambda s: _max_and_argmax([v[s] for v in views], y[s], arg[s]),
                               geo.out_shape[0], work=x.size)
    if any(found_nan):  # PyTorch: a NaN wins, and a later NaN replaces an earlier one
        nan_out = np.isnan(y)
        for k, v in enumerate(views):
            arg = np.where(nan_out & np.isnan(v), arg.dtype.type(k), arg)
    (top, _), (left, _) = geo.padding
    if top or left:
        # a window of -inf ties with its -inf padding; PyTorch then picks the first real cell
        neg = y == -np.inf
        if neg.any():
            first = _first_real_offset(geo).astype(arg.dtype)  # (Ho, Wo)
            arg = np.where(neg, first[None, :, :, None], arg)
    return y, MaxPool2dCache(arg, geo, x.dtype)


def max_pool2d_backward(dy: np.ndarray, cache: MaxPool2dCache) -> np.ndarray:
    """Route each ``dy[n, i, j, c]`` to the input cell that won its window; sum where they overlap.

    Args:
        dy: (N, Ho, Wo, C), the gradient w.r.t. the forward's output.
        cache: the :class:`MaxPool2dCache` from :func:`max_pool2d_forward`.

    Returns:
        dx (N, H, W, C) in the forward input's dtype.

    >>> x = np.random.default_rng(0).standard_normal((1, 4, 4, 2))
    >>> y, cache = max_pool2d_forward(x, 3, stride=1)
    >>> dx = max_pool2d_backward(np.ones_like(y), cache)
    >>> dx.shape, float(dx.sum())   # every output sends its whole gradient to one cell
    ((1, 4, 4, 2), 8.0)
    """
    check_cache(cache, MaxPool2dCache, "max_pool2d")
    geo = cache.geometry
    dy = check_dy(dy, geo.out_shape, cache.dtype, "max_pool2d")
    n, ho, wo, c = geo.out_shape
    kh, kw = geo.kernel
    arg = cache.argmax
    if _large(geo):
        return _max_backward_large(dy, arg, geo)
    if get_backend() == "numba":
        from . import pool_numba
        dx = np.empty(geo.in_shape, dtype=dy.dtype)  # (N, H, W, C), written whole by the kernel
        dy = np.ascontiguousarray(dy)
        if geo.tiled:
            pool_numba.run(pool_numba.max_backward_tiled, dy, arg, dx, kh, kw)
        else:
            pool_numba.run(pool_numba.max_backward, dy, arg, dx, kw, *geo.stride,
                           geo.padding[0][0], geo.padding[1][0])
        return dx
    if geo.tiled:
        # Windows tile x: every input cell is offset (a, b) of exactly one window, so write the
        # gradient straight into its slice of dx, no zero-fill and no summing needed.
        dx = np.empty((n, ho, kh, wo, kw, c), dtype=dy.dtype)  # (N, Ho, kh, Wo, kw, C)

        def route(s: slice) -> None:
            won = np.empty(arg[s].shape, dtype=bool)  # (n_s, Ho, Wo, C), reused per offset
            for a in range(kh):
                for b in range(kw):
                    np.equal(arg[s], a * kw + b, out=won)
                    np.multiply(dy[s], won, out=dx[s, :, a, :, b, :])

        over_batch(route, n, work=dx.size)
        return dx.reshape(geo.in_shape)  # (N, H, W, C)
    offsets = np.arange(kh * kw, dtype=arg.dtype)[:, None]  # (kh*kw, 1)
    dx = np.empty(geo.in_shape, dtype=dy.dtype)  # (N, H, W, C)

    def route_overlapping(s: slice) -> None:
        # (n_s, Ho, Wo, kh*kw, C): dy where the offset won, else 0
        dwin = (arg[s, :, :, None, :] == offsets) * dy[s, :, :, None, :]
        dwin = dwin.reshape(-1, ho, wo, kh, kw, c)  # (n_s, Ho, Wo, kh, kw, C)
        dx[s] = _windows_back(dwin, geo)  # (n_s, H, W, C)

    over_batch(route_overlapping, n, work=dx.size)
    return dx


# ----------------------------------------------------------------------------- average pooling

@dataclass(frozen=True, slots=True)
class AvgPool2dCache:
    """What average-pool backward needs: every window's divisor and where the windows sit."""

    divisor: np.ndarray  # (Ho, Wo, 1) in x's dtype, or 0-d when every window has the same one
    geometry: PoolGeometry
    dtype: np.dtype

    @property
    def out_shape(self) -> tuple:
        return self.geometry.out_shape


def _cells_inside(out: int, kernel: int, stride: int, lo: int, hi: int) -> np.ndarray:
    """(out,): how many cells of each window [i*s, i*s + k) fall in [lo, hi) (padded coords)."""
    starts = np.arange(out) * stride
    return np.clip(starts + kernel, lo, hi) - np.clip(starts, lo, hi)


def _divisor(geo: PoolGeometry, count_include_pad: bool, dtype) -> np.ndarray:
    """PyTorch's divisor, (Ho, Wo, 1).

    count_include_pad=True: the cells of the window inside the padded input (padding counts, the
    ceil-mode overhang beyond it does not); False: only the real input cells.
    """
    _, h, w, _ = geo.in_shape
    _, ho, wo, _ = geo.out_shape
    (t, b), (left, r) = geo.real_padding
    if count_include_pad:
        rows = _cells_inside(ho, geo.kernel[0], geo.stride[0], 0, t + h + b)
        cols = _cells_inside(wo, geo.kernel[1], geo.stride[1], 0, left + w + r)
    else:
        rows = _cells_inside(ho, geo.kernel[0], geo.stride[0], t, t + h)
        cols = _cells_inside(wo, geo.kernel[1], geo.stride[1], left, left + w)
    return (rows[:, None] * cols[None, :]).astype(dtype)[:, :, None]  # (Ho, Wo, 1)


def avg_pool2d_forward(x: np.ndarray, kernel_size, *, stride=None, padding=0,
                       ceil_mode: bool = False, count_include_pad: bool = True):
    """Average pooling: ``y[n, i, j, c] = sum(window(i, j)) / divisor[i, j]``, per channel.

    Args:
        x: (N, H, W, C) float32 or float64.
        kernel_size, stride, padding, ceil_mode: as in :func:`max_pool2d_forward`; padded cells
            are 0.
        count_include_pad: the divisor counts the padding cells of the window (True; but never
            the ceil-mode cells beyond the padded input) or only its real input cells (False),
            exactly as PyTorch's ``avg_pool2d``.

    Returns:
        y (N, Ho, Wo, C) in x's dtype and the cache.

    >>> x = np.ones((2, 5, 5, 3))
    >>> y, cache = avg_pool2d_forward(x, 2, ceil_mode=True)
    >>> y.shape, float(y.min()), float(y.max())   # the overhanging cells are not counted
    ((2, 3, 3, 3), 1.0, 1.0)
    >>> avg_pool2d_backward(np.ones_like(y), cache).shape
    (2, 5, 5, 3)
    >>> y, _ = avg_pool2d_forward(x, 3, stride=1, padding=1)
    >>> y.shape, float(y[0, 0, 0, 0])             # corner: 4 ones / 9 cells (padding counts)
    ((2, 5, 5, 3), 0.4444444444444444)
    """
    count_include_pad = check_bool(count_include_pad, "count_include_pad")
    x, geo = _forward_args(x, kernel_size, stride, padding, ceil_mode)
    divisor = _divisor(geo, count_include_pad, x.dtype)  # (Ho, Wo, 1)
    if _large(geo):  # both backends: integral images, O(input + output)
        with np.errstate(invalid="ignore", over="ignore"):  # as below: inf - inf, float32 overflow
            sums = _box_sums(x, *_window_ranges(geo))  # (N, Ho, Wo, C) float64
            return (sums / divisor).astype(x.dtype), AvgPool2dCache(divisor, geo, x.dtype)
    total = np.empty(geo.out_shape, dtype=x.dtype)  # (N, Ho, Wo, C)
    if get_backend() == "numba":
        from . import pool_numba
        div2 = np.ascontiguousarray(divisor[:, :, 0])  # (Ho, Wo)
        pool_numba.run(pool_numba.avg_forward, np.ascontiguousarray(x), total, div2,
                       *geo.kernel, *geo.stride, geo.padding[0][0], geo.padding[1][0])
        return total, AvgPool2dCache(divisor, geo, x.dtype)
    if (divisor == divisor.flat[0]).all():
        divisor = divisor.reshape(-1)[0:1].reshape(())  # () : one number divides ~2x faster
    views = _offset_views(x, geo, 0.0)  # kh*kw views (N, Ho, Wo, C)

    def mean(s: slice) -> None:
        # inf + -inf is NaN and a float32 sum may overflow to inf, as in PyTorch, which does
        # not warn either (errstate is per thread: set inside the body)
        with np.errstate(invalid="ignore", over="ignore"):
            if len(views) == 1:
                total[s] = views[0][s]
            else:
                np.add(views[0][s], views[1][s], out=total[s])
            for v in views[2:]:
                total[s] += v[s]  # summing the offset views beats .sum(axis=(3, 4)) on the view
            total[s] /= divisor

    over_batch(mean, geo.out_shape[0], work=x.size)
    return total, AvgPool2dCache(divisor, geo, x.dtype)


def avg_pool2d_backward(dy: np.ndarray, cache: AvgPool2dCache) -> np.ndarray:
    """Split each ``dy[n, i, j, c]`` equally over its window (``dy / divisor`` per cell); sum where
    windows overlap.

    Args:
        dy: (N, Ho, Wo, C).
        cache: the :class:`AvgPool2dCache` from :func:`avg_pool2d_forward`.

    Returns:
        dx (N, H, W, C) in the forward input's dtype.

    >>> y, cache = avg_pool2d_forward(np.zeros((1, 4, 4, 1)), 2)
    >>> avg_pool2d_backward(np.ones_like(y), cache)[0, :, :, 0]   # each 2x2 window: 1/4 each
    array([[0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25]])
    """
    check_cache(cache, AvgPool2dCache, "avg_pool2d")
    geo = cache.geometry
    dy = check_dy(dy, geo.out_shape, cache.dtype, "avg_pool2d")
    n, ho, wo, c = geo.out_shape
    kh, kw = geo.kernel
    divisor = cache.divisor  # () or (Ho, Wo, 1)
    if _large(geo):
        with np.errstate(invalid="ignore", over="ignore"):
            g = dy.astype(np.float64) / divisor  # (N, Ho, Wo, C): what each window's cells get
            return _box_sums(g, *_covering_windows(geo)).astype(dy.dtype)  # (N, H, W, C)
    if get_backend() == "numba":
        from . import pool_numba
        div2 = np.ascontiguousarray(np.broadcast_to(divisor, (ho, wo, 1))[:, :, 0])  # (Ho, Wo)
        dx = np.empty(geo.in_shape, dtype=dy.dtype)  # (N, H, W, C), written whole by the kernel
        dy = np.ascontiguousarray(dy)
        if geo.tiled:
            pool_numba.run(pool_numba.avg_backward_tiled, dy, div2, dx, kh, kw)
        else:
            pool_numba.run(pool_numba.avg_backward, dy, div2, dx, kh, kw, *geo.stride,
                           geo.padding[0][0], geo.padding[1][0])
        return dx
    if geo.tiled:
        # every input cell lies in exactly one window: it receives dy / divisor, written at once
        dx = np.empty((n, ho, kh, wo, kw, c), dtype=dy.dtype)  # (N, Ho, kh, Wo, kw, C)
        div6 = divisor if divisor.ndim == 0 else divisor[:, None, :, None, :]  # (Ho, 1, Wo, 1, 1)

        def split(s: slice) -> None:
            np.divide(dy[s, :, None, :, None, :], div6, out=dx[s])  # (n_s, Ho, kh, Wo, kw, C)

        over_batch(split, n, work=dx.size)
        return dx.reshape(geo.in_shape)  # (N, H, W, C), free: dx is contiguous
    dx = np.empty(geo.in_shape, dtype=dy.dtype)  # (N, H, W, C)

    def split_overlapping(s: slice) -> None:
        g = dy[s] / divisor  # (n_s, Ho, Wo, C): what every cell of the window receives
        dwin = np.broadcast_to(g[:, :, :, None, None, :], (len(g), ho, wo, kh, kw, c))
        dx[s] = _windows_back(dwin, geo)  # (n_s, H, W, C)

    over_batch(split_overlapping, n, work=dx.size)
    return dx


# ------------------------------------------------------------------------------ large windows

def _large(geo: PoolGeometry) -> bool:
    return geo.kernel[0] * geo.kernel[1] > LARGE_WINDOW


def _max_large(x: np.ndarray, geo: PoolGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Max and first argmax (row-major; a NaN wins, the last NaN takes the gradient) of every
    window in one reduction each over a copy of the windows, batch-chunked under the budget."""
    n, ho, wo, c = geo.out_shape
    kh, kw = geo.kernel
    xp = pad_nhwc(x, geo.padding, -np.inf)  # (N, Hp, Wp, C)
    win = window_view(xp, geo.kernel, geo.stride, _NO_DILATION, (ho, wo))  # (N, Ho, Wo, kh, kw, C)
    y = np.empty(geo.out_shape, dtype=x.dtype)  # (N, Ho, Wo, C)
    arg = np.empty(geo.out_shape, dtype=np.min_scalar_type(kh * kw - 1))  # (N, Ho, Wo, C)
    step = batch_chunk(n, ho * wo * c * kh * kw * x.itemsize,
                       f"max pooling with a {kh}x{kw} window over {ho}x{wo} outputs")
    for lo in range(0, max(n, 1), step):
        s = slice(lo, lo + step)
        cells = win[s].transpose(0, 1, 2, 5, 3, 4)  # (n_s, Ho, Wo, C, kh, kw), a view
        # (n_s, Ho, Wo, C, kh*kw), a contiguous copy (argmax over a strided view is ~20x slower)
        cells = cells.copy().reshape(*cells.shape[:4], kh * kw)
        first = cells.argmax(axis=-1)  # (n_s, Ho, Wo, C): the first max, or the first NaN
        y[s] = np.take_along_axis(cells, first[..., None], axis=-1)[..., 0]  # (n_s, Ho, Wo, C)
        nan = np.isnan(y[s])
        if nan.any():  # PyTorch: the last NaN of the window takes the gradient
            last = kh * kw - 1 - np.isnan(cells[..., ::-1]).argmax(axis=-1)  # (n_s, Ho, Wo, C)
            first = np.where(nan, last, first)
        arg[s] = first
    return y, arg


def _max_backward_large(dy: np.ndarray, arg: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Add each ``dy`` at its window's winner, in input coordinates, with one bincount:
    O(input + output), whatever the window's size."""
    n, ho, wo, c = geo.out_shape
    _, h, w, _ = geo.in_shape
    (top, _), (left, _) = geo.padding
    a, b = np.divmod(arg.astype(np.int64), geo.kernel[1])  # (N, Ho, Wo, C) each
    rows = a + (np.arange(ho) * geo.stride[0] - top)[None, :, None, None]  # (N, Ho, Wo, C)
    cols = b + (np.arange(wo) * geo.stride[1] - left)[None, None, :, None]  # (N, Ho, Wo, C)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)  # winners are real cells
    batch = np.arange(n)[:, None, None, None]  # (N, 1, 1, 1)
    chan = np.arange(c)[None, None, None, :]  # (1, 1, 1, C)
    flat = ((batch * h + rows) * w + cols) * c + chan  # (N, Ho, Wo, C): index into (N, H, W, C)
    dx = np.bincount(flat[inside], weights=dy[inside].astype(np.float64), minlength=n * h * w * c)
    return dx.astype(dy.dtype).reshape(geo.in_shape)  # (N, H, W, C)


def _window_ranges(geo: PoolGeometry):
    """Rows [r0, r1) and columns [c0, c1) of the real input each window covers, (Ho,), (Wo,)."""
    _, h, w, _ = geo.in_shape
    _, ho, wo, _ = geo.out_shape
    (top, _), (left, _) = geo.padding
    starts_h = np.arange(ho) * geo.stride[0] - top
    starts_w = np.arange(wo) * geo.stride[1] - left
    return (np.clip(starts_h, 0, h), np.clip(starts_h + geo.kernel[0], 0, h),
            np.clip(starts_w, 0, w), np.clip(starts_w + geo.kernel[1], 0, w))


def _covering_windows(geo: PoolGeometry):
    """For each input row (column): the windows [i0, i1) that cover it, (H,), (W,)."""
    _, h, w, _ = geo.in_shape
    _, ho, wo, _ = geo.out_shape
    (top, _), (left, _) = geo.padding

    def ranges(size, out, k, s, pad):
        p = np.arange(size) + pad  # padded coordinate of every real row
        lo = np.maximum(-((k - 1 - p) // s), 0)  # ceil((p - k + 1) / s), at least 0
        hi = np.minimum(p // s + 1, out)  # floor(p / s) + 1, at most out
        return lo, np.maximum(hi, lo)

    r0, r1 = ranges(h, ho, geo.kernel[0], geo.stride[0], top)
    c0, c1 = ranges(w, wo, geo.kernel[1], geo.stride[1], left)
    return r0, r1, c0, c1


def _box_sums(v: np.ndarray, r0, r1, c0, c1) -> np.ndarray:
    """``out[n, i, j, c] = v[n, r0[i]:r1[i], c0[j]:c1[j], c].sum()`` through integral images,
    float64; +-inf and NaN counted apart so the result is what a plain sum gives.

    v: (N, A, B, C); r0, r1: (R,); c0, c1: (Q,). Returns (N, R, Q, C).
    """
    finite = np.isfinite(v)
    if finite.all():
        return _integral_box(v.astype(np.float64), r0, r1, c0, c1)
    out = _integral_box(np.where(finite, v, 0).astype(np.float64), r0, r1, c0, c1)
    pos = _integral_box((v == np.inf).astype(np.int64), r0, r1, c0, c1) > 0  # (N, R, Q, C)
    neg = _integral_box((v == -np.inf).astype(np.int64), r0, r1, c0, c1) > 0
    nan = _integral_box(np.isnan(v).astype(np.int64), r0, r1, c0, c1) > 0
    out[pos] = np.inf
    out[neg] = -np.inf
    out[nan | (pos & neg)] = np.nan
    return out


def _integral_box(v: np.ndarray, r0, r1, c0, c1) -> np.ndarray:
    """Box sums of v (N, A, B, C) over rows [r0, r1) x columns [c0, c1): (N, R, Q, C)."""
    n, a, b, c = v.shape
    table = np.zeros((n, a + 1, b + 1, c), dtype=v.dtype)  # (N, A+1, B+1, C), 0 row/column first
    np.cumsum(v, axis=1, out=table[:, 1:, 1:])
    np.cumsum(table[:, 1:, 1:], axis=2, out=table[:, 1:, 1:])
    lo, hi = table[:, r0], table[:, r1]  # (N, R, B+1, C) each
    return (hi[:, :, c1] - hi[:, :, c0]) - (lo[:, :, c1] - lo[:, :, c0])  # (N, R, Q, C)
