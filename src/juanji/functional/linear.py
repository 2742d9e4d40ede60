"""The fully connected (dense) layer: forward and backward.

    y = x @ w + b                      x (N, D_in), w (D_in, D_out), b (D_out,), y (N, D_out)

Backward, for the upstream gradient dy = dL/dy (N, D_out):

    dx = dy @ w.T                      (N, D_in)
    dw = x.T @ dy                      (D_in, D_out)   summed over the batch
    db = sum_n dy[n]                   (D_out,)        summed over the batch

Each weight w[i, j] touched every example's y[:, j], so its gradient is the sum over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from juanji.validation import check_cache, check_dy, check_float_array, check_same_dtype
from ._threads import one_blas_thread


@dataclass(frozen=True, slots=True)
class LinearCache:
    """What :func:`linear_backward` needs: the input (for dw) and the weights (for dx)."""

    x: np.ndarray          # (N, D_in)
    w: np.ndarray          # (D_in, D_out)
    has_bias: bool         # db is None when the forward had no bias
    out_shape: tuple       # (N, D_out)


def linear_forward(x, w, b=None) -> tuple[np.ndarray, LinearCache]:
    """Dense layer ``y = x @ w + b``.

    Args:
        x: input (N, D_in), float32 or float64.
        w: weights (D_in, D_out), same dtype as ``x``.
        b: bias (D_out,), same dtype, or None for no bias.

    Returns:
        y (N, D_out) in ``x``'s dtype, and the cache for :func:`linear_backward`.

    >>> x = np.ones((4, 400)); w = np.zeros((400, 120)); b = np.ones(120)   # the course's FC3
    >>> y, cache = linear_forward(x, w, b)
    >>> y.shape
    (4, 120)
    """
    x = check_float_array(x, "x", 2, "(N, D_in)")
    w = check_float_array(w, "w", 2, "(D_in, D_out)")
    check_same_dtype(x, "x", w, "w")
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"`x` has D_in={x.shape[1]} features (shape {x.shape}) but `w` expects "
            f"D_in={w.shape[0]} (shape {w.shape}); w must be (D_in, D_out)"
        )
    with one_blas_thread():  # dense layers are small products (juanji._threads)
        y = x @ w  # (N, D_in) @ (D_in, D_out) -> (N, D_out)
    if b is not None:
        b = check_float_array(b, "b", 1, "(D_out,)")
        check_same_dtype(x, "x", b, "b")
        if b.shape[0] != w.shape[1]:
            raise ValueError(
                f"`b` must have shape (D_out,) = ({w.shape[1]},) to match `w` {w.shape}, "
                f"got {b.shape}"
            )
        y = y + b  # (N, D_out), b broadcast over the batch
    return y, LinearCache(x=x, w=w, has_bias=b is not None, out_shape=y.shape)


def linear_backward(dy, cache: LinearCache):
    """Gradients of the dense layer.

    Args:
        dy: upstream gradient (N, D_out).
        cache: from :func:`linear_forward`.

    Returns:
        ``(dx, dw, db)``: (N, D_in), (D_in, D_out), (D_out,) or None when there was no bias.

    >>> y, cache = linear_forward(np.ones((4, 3)), np.ones((3, 2)))
    >>> dx, dw, db = linear_backward(np.ones((4, 2)), cache)
    >>> dx.shape, dw.shape, db is None
    ((4, 3), (3, 2), True)
    """
    check_cache(cache, LinearCache, "linear")
    dy = check_dy(dy, cache.out_shape, cache.x.dtype, "linear")
    with one_blas_thread():
        dx = dy @ cache.w.T  # (N, D_out) @ (D_out, D_in) -> (N, D_in)
        dw = cache.x.T @ dy  # (D_in, N) @ (N, D_out) -> (D_in, D_out)
    db = dy.sum(axis=0) if cache.has_bias else None  # (D_out,)
    return dx, dw, db
