"""The pools as compiled loops (numba): one pass over the data where NumPy makes several.

:mod:`juanji.functional.pool` calls these when the backend is ``"numba"`` (:mod:`juanji.backend`);
they compute exactly what its NumPy path computes, on the same geometry (``PoolGeometry``)::

    max forward    y[n, i, j, c] = max of the window's real cells, arg = the winner's offset
                   a*kw + b (uint8 for windows up to 256 cells); ties: the first in row-major
                   order; a NaN wins and a later NaN replaces it; a window whose real cells are
                   all -inf points at its first real cell (padding never wins)
    max backward   dx[n, i*s_h + a - top, j*s_w + b - left, c] += dy[n, i, j, c] at the winner
    avg forward    y = (sum of the window's real cells) / divisor[i, j]  (padding adds 0)
    avg backward   every real cell of the window += dy / divisor[i, j]

Loops run over the real cells of each window only (padding is never materialised), the inner
loop over the channels (contiguous in NHWC, so it vectorises). Forward runs in parallel over the
N*Ho output rows; backward over output rows when the windows tile the input (every input cell
written exactly once, no zero fill), else over images (overlapping windows add into the same
cells, so one image belongs to one thread).

Threads: numba's ``workqueue`` layer, set before the first parallel call. Its default, OpenMP
when found, collides with PyTorch's OpenMP in one process (measured: a 2x2 pool 30 ms instead of
1.3 ms). The workqueue layer may not be entered from two Python threads at once, so calls are
serialised by a lock; the thread count follows juanji's (``juanji.functional.set_num_threads``,
``JUANJI_NUM_THREADS``). Kernels are compiled on first use and cached on disk (``cache=True``):
a new process loads them instead of compiling again.
"""

from __future__ import annotations

import os
import threading

import numba
import numpy as np

from ._parallel import get_num_threads

if numba.config.THREADING_LAYER == "default":  # an explicit NUMBA_THREADING_LAYER is respected
    numba.config.THREADING_LAYER = "workqueue"

_lock = threading.Lock()  # the workqueue layer is not thread-safe: one parallel call at a time


def _new_lock_after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # a fork while another thread held the lock must not deadlock


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)
_jit = numba.njit(parallel=True, cache=True, nogil=True)


def run(kernel, *args) -> None:
    """Call a compiled kernel on juanji's thread count, one call at a time in the process."""
    with _lock:
        numba.set_num_threads(max(1, min(get_num_threads(), numba.config.NUMBA_NUM_THREADS)))
        kernel(*args)


@_jit
def max_forward(x, y, arg, kh, kw, sh, sw, top, left):  # pragma: no cover (compiled)
    """x (N, H, W, C) -> y, arg (N, Ho, Wo, C), both written whole."""
    _, h, w, c = x.shape
    n, ho, wo, _ = y.shape
    for row in numba.prange(n * ho):
        img, i = row // ho, row % ho
        r0 = i * sh - top  # input row of the window's first row (negative: in the padding)
        a0, a1 = max(0, -r0), min(kh, h - r0)  # the window's real rows
        for j in range(wo):
            c0 = j * sw - left
            b0, b1 = max(0, -c0), min(kw, w - c0)
            best = y[img, i, j]  # (C,) views written in place
            won = arg[img, i, j]
            first = a0 * kw + b0
            for ch in range(c):
                best[ch] = -np.inf
                won[ch] = first
            for a in range(a0, a1):
                for b in range(b0, b1):
                    k = a * kw + b
                    src = x[img, r0 + a, c0 + b]  # (C,)
                    for ch in range(c):
                        v = src[ch]
                        if v > best[ch] or v != v:  # strictly greater, or NaN (a later NaN wins)
                            best[ch] = v
                            won[ch] = k


@_jit
def max_backward_tiled(dy, arg, dx, kh, kw):  # pragma: no cover (compiled)
    """Windows tile dx exactly (stride = kernel, no padding): every cell written once."""
    n, ho, wo, c = dy.shape
    for row in numba.prange(n * ho):
        img, i = row // ho, row % ho
        for a in range(kh):
            for j in range(wo):
                g = dy[img, i, j]
                won = arg[img, i, j]
                for b in range(kw):
                    k = a * kw + b
                    dst = dx[img, i * kh + a, j * kw + b]
                    for ch in range(c):
                        dst[ch] = g[ch] if won[ch] == k else 0.0


@_jit
def max_backward(dy, arg, dx, kw, sh, sw, top, left):  # pragma: no cover (compiled)
    """Any geometry: dx zeroed, then each dy added at its winner; one image per thread."""
    n, ho, wo, c = dy.shape
    for img in numba.prange(n):
        dx[img] = 0.0
        for i in range(ho):
            for j in range(wo):
                g = dy[img, i, j]
                won = arg[img, i, j]
                for ch in range(c):
                    k = won[ch]
                    dx[img, i * sh + k // kw - top, j * sw + k % kw - left, ch] += g[ch]


@_jit
def avg_forward(x, y, divisor, kh, kw, sh, sw, top, left):  # pragma: no cover (compiled)
    """x (N, H, W, C) -> y (N, Ho, Wo, C); divisor (Ho, Wo) in x's dtype."""
    _, h, w, c = x.shape
    n, ho, wo, _ = y.shape
    for row in numba.prange(n * ho):
        img, i = row // ho, row % ho
        r0 = i * sh - top
        a0, a1 = max(0, -r0), min(kh, h - r0)
        for j in range(wo):
            c0 = j * sw - left
            b0, b1 = max(0, -c0), min(kw, w - c0)
            total = y[img, i, j]  # (C,)
            for ch in range(c):
                total[ch] = 0.0
            for a in range(a0, a1):
                for b in range(b0, b1):
                    src = x[img, r0 + a, c0 + b]
                    for ch in range(c):
                        total[ch] += src[ch]
            d = divisor[i, j]
            for ch in range(c):
                total[ch] /= d


@_jit
def avg_backward_tiled(dy, divisor, dx, kh, kw):  # pragma: no cover (compiled)
    """Windows tile dx exactly: every cell gets its window's dy / divisor, written once."""
    n, ho, wo, c = dy.shape
    for row in numba.prange(n * ho):
        img, i = row // ho, row % ho
        for a in range(kh):
            for j in range(wo):
                g = dy[img, i, j]
                d = divisor[i, j]
                for b in range(kw):
                    dst = dx[img, i * kh + a, j * kw + b]
                    for ch in range(c):
                        dst[ch] = g[ch] / d


@_jit
def avg_backward(dy, divisor, dx, kh, kw, sh, sw, top, left):  # pragma: no cover (compiled)
    """Any geometry: dx zeroed, then dy / divisor added to every real cell of each window."""
    n, ho, wo, c = dy.shape
    _, h, w, _ = dx.shape
    for img in numba.prange(n):
        dx[img] = 0.0
        for i in range(ho):
            r0 = i * sh - top
            a0, a1 = max(0, -r0), min(kh, h - r0)
            for j in range(wo):
                c0 = j * sw - left
                b0, b1 = max(0, -c0), min(kw, w - c0)
                g = dy[img, i, j]
                d = divisor[i, j]
                for a in range(a0, a1):
                    for b in range(b0, b1):
                        dst = dx[img, r0 + a, c0 + b]
                        for ch in range(c):
                            dst[ch] += g[ch] / d


def warm_up(dtypes=(np.float32, np.float64)) -> None:
    """Compile every kernel for these dtypes now (or load them from the disk cache), so that the
    first real call, or a child process, pays nothing: a cold compile takes seconds per kernel."""
    for dtype in dtypes:
        x = np.zeros((1, 4, 4, 1), dtype)
        y = np.empty((1, 2, 2, 1), dtype)
        arg = np.empty((1, 2, 2, 1), np.uint8)
        div = np.ones((2, 2), dtype)
        dx = np.empty_like(x)
        run(max_forward, x, y, arg, 2, 2, 2, 2, 0, 0)
        run(max_backward_tiled, y, arg, dx, 2, 2)
        run(max_backward, y, arg, dx, 2, 2, 2, 0, 0)
        run(avg_forward, x, y, div, 2, 2, 2, 2, 0, 0)
        run(avg_backward_tiled, y, div, dx, 2, 2)
        run(avg_backward, y, div, dx, 2, 2, 2, 2, 0, 0)
