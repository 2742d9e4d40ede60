"""One BLAS thread for small matrix products.

A matrix product of a few million multiply-adds takes about 0.1 ms on one core, about what it
costs OpenBLAS to wake its other threads and wait for them; so products below
``SMALL_GEMM_MACS`` multiply-adds (2**22) run on one thread, as PyTorch runs small ops on one
thread, and larger ones keep the BLAS's own thread count. The threshold was 2**26 while the
machine was shared with other jobs (there, a product split over a busy core waits for it: on 2
loaded cores (6400, 150) @ (150, 16) took 0.65 ms on one thread and 10.8 ms on two); on the quiet
2-core machine the bars are about, 2**26 kept LeNet-5's banded conv GEMMs (43-48M multiply-adds)
on one core: its training step took 9.8-11.3 ms instead of 8.9-9.5 ms with 2**22.
``JUANJI_SMALL_GEMM_MACS`` in the environment overrides the threshold (0: never switch).

The switch uses ``threadpoolctl`` when it is installed (about 5 us per switch) and is a no-op
without it: NumPy alone still computes the same numbers, only the thread count differs.

>>> with gemm_threads(10 * 10 * 10):
...     (np.ones((10, 10), np.float32) @ np.ones((10, 10), np.float32)).shape
(10, 10)
"""

from __future__ import annotations

import contextlib
import os

import numpy as np  # noqa: F401  (used by the doctest)

SMALL_GEMM_MACS = int(os.environ.get("JUANJI_SMALL_GEMM_MACS", 1 << 22))  # ~4M multiply-adds
# Products with fewer output elements than this run on one thread whatever their length (a conv's
# dw, (kh*kw*C_in, C_out), summed over every pixel): OpenBLAS splits such a small output badly;
# on a loaded 2-core machine (64, 37k) @ (37k, 64) took 670 ms on two threads and 3.4 ms on one.
SMALL_OUTPUT = 1 << 16

_UNSET = object()
_blas = _UNSET  # the threadpoolctl controller of NumPy's BLAS, None when unavailable


def _controller():
    global _blas
    if _blas is _UNSET:
        try:
            from threadpoolctl import ThreadpoolController
            libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
            _blas = libs[0] if libs else None
        except Exception:  # any failure to find the BLAS leaves the thread count alone
            _blas = None
    return _blas


@contextlib.contextmanager
def gemm_threads(macs: int):
    """Run the body on one BLAS thread when a product of ``macs`` multiply-adds is small."""
    blas = _controller() if macs < SMALL_GEMM_MACS else None
    if blas is None:
        yield
        return
    before = blas.num_threads
    if before == 1:
        yield
        return
    blas.set_num_threads(1)
    try:
        yield
    finally:
        blas.set_num_threads(before)
