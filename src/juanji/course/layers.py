"""The assignment's layer functions on juanji's fast ops, with the course's caches.

Layouts are the course's and juanji's: images ``A_prev`` (m, n_H_prev, n_W_prev, n_C_prev),
kernels ``W`` (f, f, n_C_prev, n_C), bias ``b`` (1, 1, 1, n_C). Caches are the course's tuples
(``(A_prev, W, b, hparameters)`` and ``(A_prev, hparameters)``), so a learner's backward can
take this module's cache and the other way round.

Output size (floor, as in the course): ``n_H = floor((n_H_prev + 2*pad - f) / stride) + 1``.
"""
from __future__ import annotations

import numpy as np

from ..functional import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    conv2d_backward,
    conv2d_forward,
    max_pool2d_forward,
)

MODES = ("max", "average")


def _hparam(hparameters, key: str) -> int:
    if not isinstance(hparameters, dict) or key not in hparameters:
        raise ValueError(f"`hparameters` must be a dict with key {key!r}, got {hparameters!r}")
    return hparameters[key]


def _mode(mode) -> str:
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}, got {mode!r}")
    return mode


def _as_float(a, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimensions, got shape {a.shape}")
    return a.astype(np.float64) if a.dtype not in (np.float32, np.float64) else a


def conv_forward(A_prev, W, b, hparameters):
    """The convolution's forward pass, as in the course.

    ``Z[i, h, w, c] = sum(a_prev_pad[i, h*s : h*s+f, w*s : w*s+f, :] * W[..., c]) + b[..., c]``

    Args:
        A_prev: (m, n_H_prev, n_W_prev, n_C_prev).
        W: (f, f, n_C_prev, n_C).
        b: (1, 1, 1, n_C).
        hparameters: ``{"stride": s, "pad": p}``.

    Returns:
        Z (m, n_H, n_W, n_C) with ``n_H = floor((n_H_prev + 2p - f) / s) + 1``, and the cache
        ``(A_prev, W, b, hparameters)``.
    """
    A_prev = _as_float(A_prev, "A_prev", 4)
    W = _as_float(W, "W", 4).astype(A_prev.dtype, copy=False)
    b = _as_float(b, "b", 4).astype(A_prev.dtype, copy=False)
    stride, pad = _hparam(hparameters, "stride"), _hparam(hparameters, "pad")
    Z, _ = conv2d_forward(A_prev, W, b.reshape(-1), stride=stride, padding=pad)  # (m, n_H, n_W, n_C)
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache):
    """The convolution's backward pass, as in the course.

    ``dA_prev += W[..., c] * dZ[i, h, w, c]`` over every window (overlaps add up), then the
    padded border is cut off; ``dW[..., c] += a_slice * dZ[i, h, w, c]`` summed over images and
    positions; ``db[..., c] = sum over i, h, w of dZ[i, h, w, c]``.

    Args:
        dZ: (m, n_H, n_W, n_C).
        cache: ``(A_prev, W, b, hparameters)`` from :func:`conv_forward`.

    Returns:
        dA_prev (m, n_H_prev, n_W_prev, n_C_prev), dW (f, f, n_C_prev, n_C), db (1, 1, 1, n_C).
    """
    A_prev, W, b, hparameters = cache
    stride, pad = _hparam(hparameters, "stride"), _hparam(hparameters, "pad")
    _, jcache = conv2d_forward(A_prev, W, b.reshape(-1), stride=stride, padding=pad)
    dZ = np.asarray(dZ, dtype=A_prev.dtype)
    dA_prev, dW, db = conv2d_backward(dZ, jcache)
    return dA_prev, dW, db.reshape(1, 1, 1, -1)  # db (1, 1, 1, n_C)


def pool_forward(A_prev, hparameters, mode="max"):
    """The pooling layer's forward pass, as in the course (no padding, floor output size).

    Args:
        A_prev: (m, n_H_prev, n_W_prev, n_C).
        hparameters: ``{"f": f, "stride": s}``.
        mode: ``"max"`` or ``"average"``.

    Returns:
        A (m, floor((n_H_prev - f) / s) + 1, floor((n_W_prev - f) / s) + 1, n_C), each channel
        pooled on its own, and the cache ``(A_prev, hparameters)``.
    """
    A_prev = _as_float(A_prev, "A_prev", 4)
    f, stride = _hparam(hparameters, "f"), _hparam(hparameters, "stride")
    op = max_pool2d_forward if _mode(mode) == "max" else avg_pool2d_forward
    A, _ = op(A_prev, f, stride=stride)  # (m, n_H, n_W, n_C)
    return A, (A_prev, hparameters)


def pool_backward(dA, cache, mode="max"):
    """The pooling layer's backward pass, as in the course.

    Max: ``dA_prev[i, window, c] += create_mask_from_window(window) * dA[i, h, w, c]``. **The
    course's tie rule differs from PyTorch's**: with several equal maxima in a window the course's
    mask ``x == max(x)`` marks every tied cell, so each receives the whole gradient; PyTorch (and
    :func:`juanji.functional.pool.max_pool2d_backward`) gives it to the first maximum only. This function
    follows the course. Average: ``dA_prev[i, window, c] += dA[i, h, w, c] / (f * f)``.

    Args:
        dA: (m, n_H, n_W, n_C).
        cache: ``(A_prev, hparameters)`` from :func:`pool_forward`.
        mode: ``"max"`` or ``"average"``.

    Returns:
        dA_prev, the shape of ``A_prev``.
    """
    A_prev, hparameters = cache
    f, stride = _hparam(hparameters, "f"), _hparam(hparameters, "stride")
    dA = np.asarray(dA, dtype=A_prev.dtype)
    if _mode(mode) == "average":
        _, jcache = avg_pool2d_forward(A_prev, f, stride=stride)
        return avg_pool2d_backward(dA, jcache)
    A, _ = max_pool2d_forward(A_prev, f, stride=stride)  # (m, n_H, n_W, n_C)
    m, n_H, n_W, n_C = A.shape
    dA_prev = np.zeros_like(A_prev)
    for a in range(f):  # one offset of the window at a time, every window at once
        for c in range(f):
            rows = slice(a, a + (n_H - 1) * stride + 1, stride)
            cols = slice(c, c + (n_W - 1) * stride + 1, stride)
            cell = A_prev[:, rows, cols, :]  # (m, n_H, n_W, n_C): this offset of every window
            dA_prev[:, rows, cols, :] += np.where(cell == A, dA, 0.0)  # every tied max gets it
    return dA_prev
