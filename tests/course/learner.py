"""Learner-style loop implementations of the course's functions, right or with ONE classic
mistake each (``mistake=...`` switches the single line a learner gets wrong)."""
import numpy as np


def zero_pad(X, pad, mistake=None):
    if mistake == "pad_all_axes":
        return np.pad(X, pad)  # pads the batch and channel axes too
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def conv_single_step(a_slice_prev, W, b, mistake=None):
    Z = np.sum(a_slice_prev * W)
    return Z if mistake == "no_bias" else Z + float(np.squeeze(b))


def conv_forward(A_prev, W, b, hparameters, mistake=None):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    s, pad = hparameters["stride"], hparameters["pad"]
    size = (lambda n: int(np.ceil((n + 2 * pad - f) / s)) + 1) if mistake == "ceil" else \
        (lambda n: (n + 2 * pad - f) // s + 1)
    n_H, n_W = size(n_H_prev), size(n_W_prev)
    Z = np.zeros((m, n_H, n_W, n_C))
    A_pad = zero_pad(A_prev, pad, "pad_all_axes" if mistake == "pad_all_axes" else None)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                vs, hs = (h, w) if mistake == "stride_ignored" else (h * s, w * s)
                for c in range(n_C):
                    a_slice = A_pad[i, vs:vs + f, hs:hs + f, :]
                    if mistake == "no_bias":
                        Z[i, h, w, c] = np.sum(a_slice * W[..., c])
                    elif mistake == "bias_channel_0":
                        Z[i, h, w, c] = conv_single_step(a_slice, W[..., c], b[..., 0])
                    else:
                        Z[i, h, w, c] = conv_single_step(a_slice, W[..., c], b[..., c])
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache, mistake=None):
    A_prev, W, b, hparameters = cache
    s, pad = hparameters["stride"], hparameters["pad"]
    f = W.shape[0]
    m, n_H, n_W, n_C = dZ.shape
    A_pad, dA_pad = zero_pad(A_prev, pad), zero_pad(np.zeros_like(A_prev), pad)
    dW, db = np.zeros_like(W), np.zeros((1, 1, 1, n_C))
    for i in range(m):
        if mistake == "db_per_image":
            db = np.zeros((1, 1, 1, n_C))
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * s, w * s
                    a_slice = A_pad[i, vs:vs + f, hs:hs + f, :]
                    if mistake == "dA_overwrite":
                        dA_pad[i, vs:vs + f, hs:hs + f, :] = W[..., c] * dZ[i, h, w, c]
                    else:
                        dA_pad[i, vs:vs + f, hs:hs + f, :] += W[..., c] * dZ[i, h, w, c]
                    if mistake == "dW_overwrite":
                        dW[..., c] = a_slice * dZ[i, h, w, c]
                    else:
                        dW[..., c] += a_slice * dZ[i, h, w, c]
                    if mistake == "db_not_summed":
                        db[..., c] = dZ[i, h, w, c]
                    else:
                        db[..., c] += dZ[i, h, w, c]
    if mistake == "border_kept" or pad == 0:
        return dA_pad, dW, db
    return dA_pad[:, pad:-pad, pad:-pad, :], dW, db


def pool_forward(A_prev, hparameters, mode="max", mistake=None):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, s = hparameters["f"], hparameters["stride"]
    if mistake == "ceil":
        n_H, n_W = (int(np.ceil((n - f) / s)) + 1 for n in (n_H_prev, n_W_prev))
    else:
        n_H, n_W = (int((n - f) / s) + 1 for n in (n_H_prev, n_W_prev))
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                vs, hs = (h, w) if mistake == "stride_ignored" else (h * s, w * s)
                for c in range(n_C):
                    if mistake == "channels_mixed":
                        window = A_prev[i, vs:vs + f, hs:hs + f, :]
                    else:
                        window = A_prev[i, vs:vs + f, hs:hs + f, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(window)
                    elif mistake == "not_divided":
                        A[i, h, w, c] = np.sum(window)
                    else:
                        A[i, h, w, c] = np.mean(window)
    return A, (A_prev, hparameters)


def create_mask_from_window(x, mistake=None):
    if mistake == "positive":
        return x > 0
    if mistake == "argmax":
        mask = np.zeros(x.shape, bool)
        mask[np.unravel_index(np.argmax(x), x.shape)] = True
        return mask
    return x == np.max(x)


def distribute_value(dz, shape, mistake=None):
    n_H, n_W = shape
    return np.ones(shape) * (dz / n_H if mistake == "divided_by_n_H" else dz / (n_H * n_W))


def pool_backward(dA, cache, mode="max", mistake=None):
    A_prev, hparameters = cache
    f, s = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                vs, hs = h * s, w * s
                for c in range(n_C):
                    if mode == "max":
                        if mistake == "channels_mixed":
                            window = A_prev[i, vs:vs + f, hs:hs + f, :]
                            mask = A_prev[i, vs:vs + f, hs:hs + f, c] == np.max(window)
                        else:
                            window = A_prev[i, vs:vs + f, hs:hs + f, c]
                            mask = create_mask_from_window(
                                window, "argmax" if mistake == "first_max" else None)
                        g = mask * dA[i, h, w, c]
                    elif mistake == "not_divided":
                        g = np.ones((f, f)) * dA[i, h, w, c]
                    else:
                        g = distribute_value(dA[i, h, w, c], (f, f))
                    if mistake == "overwrite":
                        dA_prev[i, vs:vs + f, hs:hs + f, c] = g
                    else:
                        dA_prev[i, vs:vs + f, hs:hs + f, c] += g
    return dA_prev
