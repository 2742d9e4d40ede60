"""Shared test helpers: finite differences in float64 and comparisons against PyTorch."""

from __future__ import annotations

import numpy as np

from juanji.interop import images_to_nchw, images_to_nhwc, kernel_from_framework, kernel_to_framework

# Tolerances the issue fixes: float64 to 1e-10 relative, float32 to 1e-4.
RTOL = {np.float64: 1e-10, np.float32: 1e-4}
ATOL = {np.float64: 1e-12, np.float32: 1e-5}


def assert_close(actual, expected, dtype=np.float64, what=""):
    """Compare with the tolerance of ``dtype`` (relative, plus a small absolute floor)."""
    dtype = np.dtype(dtype).type
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected),
                               rtol=RTOL[dtype], atol=ATOL[dtype], err_msg=what)


def numerical_grad(f, x: np.ndarray, dy: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of ``sum(f(x) * dy)`` w.r.t. ``x`` (float64, x is restored).

    d/dx_i sum(f(x) * dy) ~= (sum(f(x + e_i) * dy) - sum(f(x - e_i) * dy)) / (2 eps)
    """
    assert x.dtype == np.float64
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)  # views into x and g
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = np.sum(f(x) * dy)
        flat[i] = old - eps
        minus = np.sum(f(x) * dy)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return g


def assert_grad_matches_fd(analytic, f, x, dy, what="", rtol=1e-6, atol=1e-7):
    """Finite differences are accurate to ~1e-7 at eps=1e-6 in float64, not to 1e-10."""
    np.testing.assert_allclose(analytic, numerical_grad(f, x, dy), rtol=rtol, atol=atol,
                               err_msg=what)


def nhwc_to_torch(x: np.ndarray):
    """(N, H, W, C) numpy -> (N, C, H, W) torch tensor with requires_grad (juanji.interop's
    layout rule)."""
    import torch
    return torch.tensor(images_to_nchw(x), requires_grad=True)  # (N, C, H, W)


def torch_to_nhwc(t) -> np.ndarray:
    """(N, C, H, W) torch tensor -> (N, H, W, C) numpy."""
    return images_to_nhwc(t.detach().numpy())  # (N, H, W, C)


def hwio_to_torch(w: np.ndarray):
    """Kernel (kh, kw, C_in/g, C_out) -> torch's (C_out, C_in/g, kh, kw), requires_grad."""
    import torch
    return torch.tensor(kernel_to_framework(w).copy(), requires_grad=True)  # (Co, Ci/g, kh, kw)


def torch_to_hwio(t) -> np.ndarray:
    """torch (C_out, C_in/g, kh, kw) -> (kh, kw, C_in/g, C_out)."""
    return kernel_from_framework(t.detach().numpy())  # (kh, kw, Ci/g, Co)
