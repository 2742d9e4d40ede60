"""The classic mistakes, each computed from the right answer so the grader can recognise it.

Each function returns what a learner's function outputs when it makes that one mistake, on the
same inputs; the grader compares the learner's output against each to name the misconception.
They are written with small loops (the cases are a few pixels wide).
"""
from __future__ import annotations

import numpy as np

from .layers import conv_forward, pool_forward


def _windows(n_H: int, n_W: int, stride: int, f: int):
    for h in range(n_H):
        for w in range(n_W):
            yield h, w, slice(h * stride, h * stride + f), slice(w * stride, w * stride + f)


def conv_forward_no_bias(A_prev, W, b, hp):
    Z, _ = conv_forward(A_prev, W, np.zeros_like(b), hp)
    return Z


def conv_forward_bias_of_channel_0(A_prev, W, b, hp):
    Z, _ = conv_forward(A_prev, W, np.zeros_like(b), hp)
    return Z + b[..., :1]  # every channel got filter 0's bias


def conv_forward_all_biases(A_prev, W, b, hp):
    Z, _ = conv_forward(A_prev, W, np.zeros_like(b), hp)
    return Z + np.sum(b)  # every channel got the sum of all biases


def conv_forward_stride_ignored(A_prev, W, b, hp):
    Z, _ = conv_forward(A_prev, W, b, {"stride": 1, "pad": hp["pad"]})
    n_H, n_W = _floor_size(A_prev.shape[1], W.shape[0], hp), _floor_size(A_prev.shape[2], W.shape[0], hp)
    return Z[:, :n_H, :n_W, :]  # the windows started at h, not h * stride


def _floor_size(n: int, f: int, hp) -> int:
    return (n + 2 * hp["pad"] - f) // hp["stride"] + 1


def ceil_size(n: int, f: int, pad: int, stride: int) -> int:
    return -(-(n + 2 * pad - f) // stride) + 1


def conv_backward_overwrite(dZ, cache, which: str):
    """dA_prev or dW written with ``=`` instead of ``+=``: the last window to touch a cell wins."""
    A_prev, W, b, hp = cache
    s, p = hp["stride"], hp["pad"]
    f = W.shape[0]
    A_pad = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    dA_pad = np.zeros_like(A_pad)
    dW = np.zeros_like(W)
    m, n_H, n_W, n_C = dZ.shape
    for i in range(m):
        for h, w, rows, cols in _windows(n_H, n_W, s, f):
            for c in range(n_C):
                if which == "dA_prev":
                    dA_pad[i, rows, cols, :] = W[..., c] * dZ[i, h, w, c]
                else:
                    dA_pad[i, rows, cols, :] += W[..., c] * dZ[i, h, w, c]
                if which == "dW":
                    dW[..., c] = A_pad[i, rows, cols, :] * dZ[i, h, w, c]
                else:
                    dW[..., c] += A_pad[i, rows, cols, :] * dZ[i, h, w, c]
    return (dA_pad[:, p:p + A_prev.shape[1], p:p + A_prev.shape[2], :] if which == "dA_prev"
            else dW)


def pool_forward_channels_mixed(A_prev, hp, mode):
    """Each window pooled over all channels at once (``a_prev_slice[..., :]``)."""
    f, s = hp["f"], hp["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H, n_W = (n_H_prev - f) // s + 1, (n_W_prev - f) // s + 1
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h, w, rows, cols in _windows(n_H, n_W, s, f):
            window = A_prev[i, rows, cols, :]
            A[i, h, w, :] = np.max(window) if mode == "max" else np.mean(window)
    return A


def pool_forward_not_divided(A_prev, hp):
    A, _ = pool_forward(A_prev, hp, mode="average")
    return A * hp["f"] * hp["f"]


def pool_forward_stride_ignored(A_prev, hp, mode):
    A, _ = pool_forward(A_prev, {"f": hp["f"], "stride": 1}, mode=mode)
    n_H = (A_prev.shape[1] - hp["f"]) // hp["stride"] + 1
    n_W = (A_prev.shape[2] - hp["f"]) // hp["stride"] + 1
    return A[:, :n_H, :n_W, :]


def pool_backward_variant(dA, cache, mode: str, variant: str):
    """``variant``: 'overwrite' (= instead of +=), 'first' (PyTorch's first-max rule),
    'not_divided' (average without / (f*f)), 'channels_mixed' (mask over all channels)."""
    A_prev, hp = cache
    f, s = hp["f"], hp["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros_like(A_prev)
    for i in range(m):
        for h, w, rows, cols in _windows(n_H, n_W, s, f):
            for c in range(n_C):
                window = A_prev[i, rows, cols, c]
                if mode == "max":
                    if variant == "first":
                        mask = np.zeros(window.shape, bool)
                        mask[np.unravel_index(np.argmax(window), window.shape)] = True
                    elif variant == "channels_mixed":
                        mask = window == np.max(A_prev[i, rows, cols, :])
                    else:
                        mask = window == np.max(window)
                    g = mask * dA[i, h, w, c]
                else:
                    g = np.full((f, f), dA[i, h, w, c] / (1 if variant == "not_divided" else f * f))
                if variant == "overwrite":
                    dA_prev[i, rows, cols, c] = g
                else:
                    dA_prev[i, rows, cols, c] += g
    return dA_prev
