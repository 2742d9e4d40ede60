"""The plain-loop reference: convolution and pooling written the way the course writes them.

This module is the oracle the fast ops in :mod:`juanji.functional` are tested against, and the
text a learner reads. It is slow on purpose: Python loops over examples ``i``, output rows ``h``,
output columns ``w`` and channels ``c``, one window at a time, so every line is one equation::

    conv forward     Z[i, h, w, c]  = sum(a_slice_prev * W[..., c]) + b[c]      conv_single_step
    conv backward    dA_prev[window] += W[..., c] * dZ[i, h, w, c]
                     dW[..., c]      += a_slice_prev * dZ[i, h, w, c]
                     db[c]           += dZ[i, h, w, c]
    max pool         A[i, h, w, c]  = max(window);   dA_prev[window] += mask * dA[i, h, w, c]
    average pool     A[i, h, w, c]  = mean(window);  dA_prev[window] += dA[i, h, w, c] / (f*f)

The names are the course's: ``A_prev`` the input, ``W`` the kernels, ``Z`` / ``A`` the output,
``vert_start:vert_end`` and ``horiz_start:horiz_end`` the window. Where windows overlap
(stride < window) the ``+=`` is what sums the gradients an input cell receives from every window.

The signatures and semantics are those of the fast ops (docs/design.md): channels-last inputs
(N, H, W, C), kernels (kh, kw, C_in // groups, C_out), any padding form, dilation, groups,
ceil_mode and PyTorch's divisor for average pooling. Only the shared argument checks and the
output-size formula are imported, never the fast ops, so the oracle is not the fast code checking
itself. Imported only by tests, benchmarks and the explainers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import (
    Padding2D,
    Pair,
    is_int,
    check_cache,
    check_dy,
    check_float_array,
    check_padding_arg,
    check_same_dtype,
    pair,
    resolve_padding,
)
from .functional.sizes import output_size

TIE_RULES = ("first", "all")


# ---------------------------------------------------------------------------------------------
# The course's helpers
# ---------------------------------------------------------------------------------------------

def zero_pad(X, pad) -> np.ndarray:
    """Pad the height and width of every image in ``X`` with zeros.

    Args:
        X: images (m, n_H, n_W, n_C).
        pad: an int ``p`` (the course: ``p`` rows/columns of zeros on every side), or
            ``((top, bottom), (left, right))``.

    Returns:
        X_pad (m, n_H + top + bottom, n_W + left + right, n_C), same dtype; channels and
        examples are not padded.

    >>> x = np.ones((4, 3, 3, 2))
    >>> x_pad = zero_pad(x, 2)
    >>> x_pad.shape, float(x_pad[0, 0, 0, 0]), float(x_pad[0, 2, 2, 0])
    ((4, 7, 7, 2), 0.0, 1.0)
    """
    X = check_float_array(X, "X", 4, "(m, n_H, n_W, n_C)")
    (top, bottom), (left, right) = _check_pad(pad)
    return np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)),
                  mode="constant", constant_values=0)  # (m, n_H + t + b, n_W + l + r, n_C)


def conv_single_step(a_slice_prev, W, b) -> np.floating:
    """One step of a convolution: one filter on one window.

    ``Z = sum(a_slice_prev * W) + b``: the element-wise product of the window and the kernel,
    summed to a single number, plus the filter's bias.

    Args:
        a_slice_prev: the input window (f_H, f_W, n_C_prev).
        W: one filter's weights, the same shape.
        b: the filter's bias, a scalar or an array with one element (the course's (1, 1, 1)).

    Returns:
        Z, a scalar in the window's dtype.

    >>> Z = conv_single_step(np.ones((2, 2, 3)), np.full((2, 2, 3), 0.5), np.array([[[1.0]]]))
    >>> float(Z)                          # 12 products of 0.5, plus the bias 1
    7.0
    """
    a_slice_prev = np.asarray(a_slice_prev)
    W = np.asarray(W)
    if a_slice_prev.shape != W.shape:
        raise ValueError(f"`a_slice_prev` shape {a_slice_prev.shape} must equal `W` shape "
                         f"{W.shape}: one filter covers exactly one window")
    b = np.asarray(b)
    if b.size != 1:
        raise ValueError(f"`b` must be a single bias (a scalar or size-1 array), "
                         f"got shape {b.shape}")
    s = a_slice_prev * W  # (f_H, f_W, n_C_prev), element-wise
    Z = np.sum(s)
    return Z + b.astype(Z.dtype).item()  # the bias is added once per window, not per element


def create_mask_from_window(x) -> np.ndarray:
    """The course's max-pool mask: True where ``x`` holds its maximum.

    ``mask = (x == max(x))``; with ties every tied cell is True (the course's rule, used by
    ``max_pool2d_backward(..., ties="all")``).

    >>> create_mask_from_window(np.array([[1.0, 3.0], [4.0, 2.0]]))
    array([[False, False],
           [ True, False]])
    """
    x = np.asarray(x)
    return x == np.max(x)


def distribute_value(dz, shape) -> np.ndarray:
    """Spread one average-pool gradient evenly over a window.

    ``a[i, j] = dz / (n_H * n_W)`` for every cell of a (n_H, n_W) window: each cell contributed
    1/(n_H*n_W) of the mean, so each gets that share of its gradient.

    >>> distribute_value(2.0, (2, 2))
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    (n_H, n_W) = pair(tuple(shape), "shape")
    average = dz / (n_H * n_W)
    return np.full((n_H, n_W), average)  # (n_H, n_W), in dz's dtype


def _first_max_mask(x) -> np.ndarray:
    """True at one cell only: the winner of PyTorch's row-major scan of the window.

    A cell takes the win only if it is strictly greater than the best so far, so on a tie the
    FIRST maximum keeps it; a NaN always takes it (so the last NaN wins, as in PyTorch).
    """
    flat = x.ravel()  # row-major window order
    best = 0
    for k in range(1, flat.size):
        if flat[k] > flat[best] or np.isnan(flat[k]):
            best = k
    mask = np.zeros(x.shape, dtype=bool)
    mask[np.unravel_index(best, x.shape)] = True
    return mask


# ---------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConvReferenceCache:
    """The course's cache ``(A_prev, W, b, hparameters)``, with the padding already resolved."""

    A_prev: np.ndarray       # (m, n_H_prev, n_W_prev, n_C_prev)
    W: np.ndarray            # (f_H, f_W, n_C_prev // groups, n_C)
    bias_shape: tuple | None  # b's shape, so db comes back in it; None when there was no bias
    stride: Pair
    pad: Padding2D           # ((top, bottom), (left, right))
    dilation: Pair
    groups: int
    out_shape: tuple         # (m, n_H, n_W, n_C)


def conv2d_forward(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Convolution forward, one window and one filter at a time.

    With ``A_prev_pad`` the zero-padded input and ``g`` the group of output channel ``c``:

        Z[i, h, w, c] = sum_{p, q, k} A_prev_pad[i, h*s_h + p*d_h, w*s_w + q*d_w, g*C_g + k]
                                      * W[p, q, k, c]  + b[c]

    where ``C_g = C_in // groups``; each output channel sees only its group's input channels.

    Args:
        x: A_prev (N, H, W, C_in), float32 or float64.
        w: W (kh, kw, C_in // groups, C_out), same dtype.
        b: bias (C_out,) or (1, 1, 1, C_out), same dtype, or None.
        stride, dilation: int or (h, w).
        padding: int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'.
        groups: C_in and C_out must both be divisible by it.

    Returns:
        Z (N, Ho, Wo, C_out) in x's dtype, with Ho, Wo from ``output_size``; and the cache.

    >>> Z, cache = conv2d_forward(np.ones((2, 5, 5, 3)), np.ones((3, 3, 3, 4)), padding=1)
    >>> Z.shape, float(Z[0, 2, 2, 0]), float(Z[0, 0, 0, 0])   # 3*3*3 ones inside, a 2*2*3 corner
    ((2, 5, 5, 4), 27.0, 12.0)
    """
    A_prev, W, b = _check_conv_args(x, w, b, groups)
    (m, n_H_prev, n_W_prev, _) = A_prev.shape
    (f_H, f_W, n_C_group, n_C) = W.shape
    s_h, s_w = pair(stride, "stride")
    dil_h, dil_w = pair(dilation, "dilation")
    check_padding_arg(padding)
    pad = resolve_padding(padding, (n_H_prev, n_W_prev), (f_H, f_W), (s_h, s_w), (dil_h, dil_w))
    n_H = output_size(n_H_prev, f_H, stride=s_h, padding=pad[0], dilation=dil_h)
    n_W = output_size(n_W_prev, f_W, stride=s_w, padding=pad[1], dilation=dil_w)
    bias = np.zeros(n_C, dtype=A_prev.dtype) if b is None else b.reshape(n_C)  # (n_C,)

    A_prev_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    # From here on `w` is the course's output-column index; the kernels are `W`.
    for i in range(m):                                  # every example
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):                            # every output row
            vert_start = h * s_h
            vert_end = vert_start + dil_h * (f_H - 1) + 1
            for w in range(n_W):                        # every output column
                horiz_start = w * s_w
                horiz_end = horiz_start + dil_w * (f_W - 1) + 1
                for c in range(n_C):                    # every filter
                    k = _group_channels(c, n_C, groups, n_C_group)
                    a_slice_prev = a_prev_pad[vert_start:vert_end:dil_h,
                                              horiz_start:horiz_end:dil_w, k]  # (f_H, f_W, C_g)
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], bias[c])
    cache = ConvReferenceCache(A_prev=A_prev, W=W, bias_shape=None if b is None else b.shape,
                               stride=(s_h, s_w), pad=pad, dilation=(dil_h, dil_w),
                               groups=groups, out_shape=Z.shape)
    return Z, cache


def conv2d_backward(dy, cache: ConvReferenceCache):
    """Convolution backward: every output pixel sends its gradient back to what made it.

    Output pixel (i, h, w, c) was made from one window of the input, the whole filter c and the
    bias b[c], so, summed over every output pixel:

        dA_prev_pad[i, window, k] += W[:, :, :, c] * dZ[i, h, w, c]
        dW[:, :, :, c]            += a_slice_prev * dZ[i, h, w, c]
        db[c]                     += dZ[i, h, w, c]

    and dA_prev is dA_prev_pad with the padding cropped off.

    Args:
        dy: dZ (N, Ho, Wo, C_out), the forward output's shape.
        cache: from :func:`conv2d_forward`.

    Returns:
        ``(dx, dw, db)``: (N, H, W, C_in), (kh, kw, C_in // groups, C_out), and db in b's shape
        ((C_out,) or (1, 1, 1, C_out)), or None when the forward had no bias.

    >>> Z, cache = conv2d_forward(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)), np.zeros(1))
    >>> dx, dw, db = conv2d_backward(np.ones(Z.shape), cache)
    >>> dx[0, :, :, 0]                    # how many windows each input pixel lies in
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> dw.shape, db                      # db: the sum of dZ over the 4 output pixels
    ((2, 2, 1, 1), array([4.]))
    """
    check_cache(cache, ConvReferenceCache, "conv2d")
    dZ = check_dy(dy, cache.out_shape, cache.A_prev.dtype, "conv2d")
    A_prev, W = cache.A_prev, cache.W
    (m, n_H_prev, n_W_prev, _) = A_prev.shape
    (f_H, f_W, n_C_group, n_C) = W.shape
    (_, n_H, n_W, _) = dZ.shape
    (s_h, s_w), (dil_h, dil_w) = cache.stride, cache.dilation
    (top, _), (left, _) = cache.pad

    A_prev_pad = zero_pad(A_prev, cache.pad)
    dA_prev_pad = np.zeros_like(A_prev_pad)
    dW = np.zeros_like(W)
    db = np.zeros(n_C, dtype=A_prev.dtype)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]  # a view: writing to it writes dA_prev_pad
        for h in range(n_H):
            vert_start = h * s_h
            vert_end = vert_start + dil_h * (f_H - 1) + 1
            for w in range(n_W):
                horiz_start = w * s_w
                horiz_end = horiz_start + dil_w * (f_W - 1) + 1
                for c in range(n_C):
                    k = _group_channels(c, n_C, groups=cache.groups, n_C_group=n_C_group)
                    window = (slice(vert_start, vert_end, dil_h),
                              slice(horiz_start, horiz_end, dil_w), k)
                    a_slice_prev = a_prev_pad[window]  # (f_H, f_W, C_g)
                    da_prev_pad[window] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice_prev * dZ[i, h, w, c]
                    db[c] += dZ[i, h, w, c]
    dA_prev = dA_prev_pad[:, top:top + n_H_prev, left:left + n_W_prev, :]  # (m, H, W, C_in)
    db = None if cache.bias_shape is None else db.reshape(cache.bias_shape)  # b's shape
    return dA_prev, dW, db


def _check_conv_args(x, w, b, groups):
    A_prev = check_float_array(x, "x", 4, "(N, H, W, C_in)")
    W = check_float_array(w, "w", 4, "(kh, kw, C_in // groups, C_out)")
    check_same_dtype(A_prev, "x", W, "w")
    if not is_int(groups):
        raise TypeError(f"`groups` must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"`groups` must be >= 1, got {groups!r}")
    n_C_prev, (n_C_group, n_C) = A_prev.shape[3], W.shape[2:]
    if n_C_prev % groups:
        raise ValueError(f"`in_channels` (={n_C_prev}) must be divisible by `groups` (={groups})")
    if n_C % groups:
        raise ValueError(f"`out_channels` (={n_C}) must be divisible by `groups` (={groups})")
    if n_C_group != n_C_prev // groups:
        raise ValueError(
            f"`w` must have C_in // groups = {n_C_prev} // {groups} = {n_C_prev // groups} "
            f"input channels (axis 2), got shape {W.shape}"
        )
    if b is not None:
        if not isinstance(b, np.ndarray):
            raise TypeError(f"`b` must be a numpy.ndarray or None, got {type(b).__name__}")
        if b.shape not in ((n_C,), (1, 1, 1, n_C)):
            raise ValueError(f"`b` must be an array of shape ({n_C},) or (1, 1, 1, {n_C}) "
                             f"to match `w` {W.shape}, got {b.shape}")
        b = check_float_array(b, "b", b.ndim, "(C_out,) or (1, 1, 1, C_out)")
        check_same_dtype(A_prev, "x", b, "b")
    return A_prev, W, b


def _group_channels(c: int, n_C: int, groups: int, n_C_group: int) -> slice:
    """The input channels output channel ``c`` reads: those of its group ``c // (n_C / groups)``."""
    g = c // (n_C // groups)
    return slice(g * n_C_group, (g + 1) * n_C_group)


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MaxPoolReferenceCache:
    """The course's cache ``(A_prev, hparameters)``: backward rebuilds each window's mask."""

    A_prev: np.ndarray  # (m, n_H_prev, n_W_prev, n_C)
    kernel: Pair
    stride: Pair
    pad: Padding2D
    out_shape: tuple    # (m, n_H, n_W, n_C)


@dataclass(frozen=True, slots=True)
class AvgPoolReferenceCache:
    """Average pooling's backward needs only the input's shape and dtype, not its values."""

    in_shape: tuple     # (m, n_H_prev, n_W_prev, n_C)
    dtype: np.dtype
    kernel: Pair
    stride: Pair
    pad: Padding2D
    count_include_pad: bool
    out_shape: tuple    # (m, n_H, n_W, n_C)


def max_pool2d_forward(x, kernel_size, *, stride=None, padding=0, ceil_mode=False):
    """Max pooling forward: each output is the largest value in its window; nothing is learned.

        A[i, h, w, c] = max over the window's input cells of A_prev[i, ., ., c]

    The window of output (h, w) starts at row ``h*s_h - top`` and column ``w*s_w - left`` of the
    input; its padding cells are never taken (as if they held -inf), and with ``ceil_mode`` the
    part of the last window beyond the input is ignored.

    Args:
        x: A_prev (N, H, W, C), float32 or float64.
        kernel_size: f, int or (f_h, f_w).
        stride: int or pair; None means ``kernel_size`` (non-overlapping windows).
        padding: int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'.
        ceil_mode: round the output size up (PyTorch's rule, see ``output_size``).

    Returns:
        A (N, Ho, Wo, C) in x's dtype; and the cache.

    >>> A, cache = max_pool2d_forward(np.arange(16.0).reshape(1, 4, 4, 1), 2)
    >>> A.shape, A[0, :, :, 0].tolist()
    ((1, 2, 2, 1), [[5.0, 7.0], [13.0, 15.0]])
    """
    A_prev = check_float_array(x, "x", 4, "(N, H, W, C)")
    f, s, pad, (n_H, n_W) = _check_pool_args(A_prev, kernel_size, stride, padding, ceil_mode)
    (m, n_H_prev, n_W_prev, n_C) = A_prev.shape
    (top, _), (left, _) = pad

    A = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            rows = _inside(h * s[0] - top, f[0], 0, n_H_prev)   # window rows inside the input
            for w in range(n_W):
                cols = _inside(w * s[1] - left, f[1], 0, n_W_prev)
                for c in range(n_C):
                    a_prev_slice = A_prev[i, rows, cols, c]  # (<= f_h, <= f_w)
                    A[i, h, w, c] = np.max(a_prev_slice)
    cache = MaxPoolReferenceCache(A_prev=A_prev, kernel=f, stride=s, pad=pad, out_shape=A.shape)
    return A, cache


def max_pool2d_backward(dy, cache: MaxPoolReferenceCache, *, ties: str = "first"):
    """Max pooling backward: the whole gradient of an output goes to the cell that was the max.

        dA_prev[i, window, c] += mask(window) * dA[i, h, w, c]

    Every other cell of the window gets 0; where windows overlap, a cell sums what each window
    sends it.

    Args:
        dy: dA (N, Ho, Wo, C), the forward output's shape.
        cache: from :func:`max_pool2d_forward`.
        ties: which cells of a window with several equal maxima receive the gradient.
            ``"first"`` (default, PyTorch's rule and what the fast op does): only the first
            maximum in row-major window order. ``"all"`` (the course's
            ``create_mask_from_window``, ``x == max(x)``): every tied cell receives the whole
            gradient, so the window sends out more than it received (and a window holding a
            NaN sends nothing, as NaN == NaN is False).

    Returns:
        dA_prev (N, H, W, C).

    >>> A, cache = max_pool2d_forward(np.array([[1.0, 2.0], [2.0, 0.0]]).reshape(1, 2, 2, 1), 2)
    >>> max_pool2d_backward(np.ones(A.shape), cache)[0, :, :, 0].tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    >>> max_pool2d_backward(np.ones(A.shape), cache, ties="all")[0, :, :, 0].tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    check_cache(cache, MaxPoolReferenceCache, "max_pool2d")
    dA = check_dy(dy, cache.out_shape, cache.A_prev.dtype, "max_pool2d")
    if ties == "first":
        make_mask = _first_max_mask
    elif ties == "all":
        make_mask = create_mask_from_window
    else:
        raise ValueError(f"`ties` must be one of {TIE_RULES}, got {ties!r}")
    A_prev = cache.A_prev
    (m, n_H_prev, n_W_prev, n_C) = A_prev.shape
    (_, n_H, n_W, _) = dA.shape
    f, s = cache.kernel, cache.stride
    (top, _), (left, _) = cache.pad

    dA_prev = np.zeros_like(A_prev)
    for i in range(m):
        for h in range(n_H):
            rows = _inside(h * s[0] - top, f[0], 0, n_H_prev)
            for w in range(n_W):
                cols = _inside(w * s[1] - left, f[1], 0, n_W_prev)
                for c in range(n_C):
                    a_prev_slice = A_prev[i, rows, cols, c]
                    mask = make_mask(a_prev_slice)  # (<= f_h, <= f_w) of bool
                    dA_prev[i, rows, cols, c] += mask * dA[i, h, w, c]
    return dA_prev


def avg_pool2d_forward(x, kernel_size, *, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True):
    """Average pooling forward: each output is the mean of its window.

        A[i, h, w, c] = sum of the window's cells of A_prev_pad[i, ., ., c] / divisor

    with ``A_prev_pad`` the zero-padded input. The divisor is PyTorch's: with
    ``count_include_pad=True`` the window's cells inside the padded input (padding counts, the
    ``ceil_mode`` overhang beyond it does not); with ``False`` only its real input cells. Without
    padding or ceil_mode it is the course's ``f_h * f_w``.

    Args:
        x: A_prev (N, H, W, C), float32 or float64.
        kernel_size, stride, padding, ceil_mode: as :func:`max_pool2d_forward`.
        count_include_pad: whether padding cells count in the divisor (True, PyTorch's default).

    Returns:
        A (N, Ho, Wo, C) in x's dtype; and the cache.

    >>> A, cache = avg_pool2d_forward(np.arange(16.0).reshape(1, 4, 4, 1), 2)
    >>> A.shape, A[0, :, :, 0].tolist()
    ((1, 2, 2, 1), [[2.5, 4.5], [10.5, 12.5]])
    """
    A_prev = check_float_array(x, "x", 4, "(N, H, W, C)")
    f, s, pad, (n_H, n_W) = _check_pool_args(A_prev, kernel_size, stride, padding, ceil_mode)
    if not isinstance(count_include_pad, bool):
        raise TypeError(f"`count_include_pad` must be True or False, got {count_include_pad!r}")
    (m, _, _, n_C) = A_prev.shape

    A_prev_pad = zero_pad(A_prev, pad)
    A = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            rows = _counted(h * s[0], f[0], pad[0], A_prev.shape[1], count_include_pad)
            for w in range(n_W):
                cols = _counted(w * s[1], f[1], pad[1], A_prev.shape[2], count_include_pad)
                for c in range(n_C):
                    a_prev_slice = A_prev_pad[i, rows, cols, c]  # the cells the divisor counts
                    A[i, h, w, c] = np.mean(a_prev_slice)
    cache = AvgPoolReferenceCache(in_shape=A_prev.shape, dtype=A_prev.dtype, kernel=f, stride=s,
                                  pad=pad, count_include_pad=count_include_pad,
                                  out_shape=A.shape)
    return A, cache


def avg_pool2d_backward(dy, cache: AvgPoolReferenceCache):
    """Average pooling backward: each output's gradient is split equally over its window.

        dA_prev_pad[i, window, c] += distribute_value(dA[i, h, w, c], window shape)

    i.e. ``dz / divisor`` to every counted cell (the course's ``dz / (f*f)``); the share that
    padding cells receive is cropped away with the padding. Where windows overlap, a cell sums
    what each window sends it.

    Args:
        dy: dA (N, Ho, Wo, C), the forward output's shape.
        cache: from :func:`avg_pool2d_forward`.

    Returns:
        dA_prev (N, H, W, C).

    >>> A, cache = avg_pool2d_forward(np.ones((1, 4, 4, 1)), 2)
    >>> dA_prev = avg_pool2d_backward(np.full(A.shape, 4.0), cache)
    >>> dA_prev.shape, float(dA_prev.max()), float(dA_prev.min())   # 4 / (2*2) everywhere
    ((1, 4, 4, 1), 1.0, 1.0)
    """
    check_cache(cache, AvgPoolReferenceCache, "avg_pool2d")
    dA = check_dy(dy, cache.out_shape, cache.dtype, "avg_pool2d")
    (m, n_H_prev, n_W_prev, n_C) = cache.in_shape
    (_, n_H, n_W, _) = dA.shape
    f, s, pad = cache.kernel, cache.stride, cache.pad
    (top, bottom), (left, right) = pad

    dA_prev_pad = np.zeros((m, n_H_prev + top + bottom, n_W_prev + left + right, n_C),
                           dtype=cache.dtype)
    for i in range(m):
        for h in range(n_H):
            rows = _counted(h * s[0], f[0], pad[0], n_H_prev, cache.count_include_pad)
            for w in range(n_W):
                cols = _counted(w * s[1], f[1], pad[1], n_W_prev, cache.count_include_pad)
                shape = (rows.stop - rows.start, cols.stop - cols.start)
                for c in range(n_C):
                    da = dA[i, h, w, c]
                    dA_prev_pad[i, rows, cols, c] += distribute_value(da, shape)
    return dA_prev_pad[:, top:top + n_H_prev, left:left + n_W_prev, :]  # (m, H, W, C)


def _check_pool_args(A_prev, kernel_size, stride, padding, ceil_mode):
    """Validate the pooling hyperparameters; return (f, s, pad, (n_H, n_W))."""
    f = pair(kernel_size, "kernel_size")
    s = f if stride is None else pair(stride, "stride")
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"`ceil_mode` must be True or False, got {ceil_mode!r}")
    check_padding_arg(padding)
    (_, n_H_prev, n_W_prev, _) = A_prev.shape
    pad = resolve_padding(padding, (n_H_prev, n_W_prev), f, s, (1, 1))
    out = []
    for axis, n, f_a, s_a, (before, after) in (("height", n_H_prev, f[0], s[0], pad[0]),
                                               ("width", n_W_prev, f[1], s[1], pad[1])):
        n_out = output_size(n, f_a, stride=s_a, padding=(before, after), ceil_mode=ceil_mode)
        # A window of padding only has no input cell to take the max of (or, excluding padding,
        # to average): refuse it, as PyTorch does by requiring padding <= kernel_size // 2.
        if before >= f_a or (n_out - 1) * s_a >= before + n:
            raise ValueError(
                f"`padding` {padding!r} leaves a pooling window entirely in the {axis} padding "
                f"(input {n}, kernel_size {f_a}, stride {s_a}, padding ({before}, {after})); "
                "every window must hold at least one input cell"
            )
        out.append(n_out)
    return f, s, pad, tuple(out)


def _inside(start: int, size: int, lo: int, hi: int) -> slice:
    """The part of the window ``[start, start + size)`` that lies in ``[lo, hi)``."""
    return slice(max(start, lo), min(start + size, hi))


def _counted(start: int, f: int, pad_1d: tuple, n: int, count_include_pad: bool) -> slice:
    """The cells (padded coordinates) of a window that average pooling divides by.

    Padding counts only if ``count_include_pad``; the ceil_mode overhang beyond the padded
    input never does.
    """
    before, after = pad_1d
    if count_include_pad:
        return _inside(start, f, 0, before + n + after)
    return _inside(start, f, before, before + n)


def _check_pad(pad) -> Padding2D:
    """zero_pad's ``pad``: an int >= 0, or ((top, bottom), (left, right)) of ints >= 0."""
    if is_int(pad):
        sides = ((pad, pad), (pad, pad))
    elif isinstance(pad, (tuple, list)) and len(pad) == 2 and all(
            isinstance(p, (tuple, list)) and len(p) == 2 and all(is_int(v) for v in p)
            for p in pad):
        sides = pad
    else:
        raise TypeError(f"`pad` must be an int or ((top, bottom), (left, right)), got {pad!r}")
    (top, bottom), (left, right) = ((int(t), int(b)) for t, b in sides)
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"`pad` must be >= 0 everywhere, got {pad!r}")
    return (top, bottom), (left, right)
