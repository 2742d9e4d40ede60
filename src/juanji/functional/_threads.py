"""NumPy's BLAS on one thread inside juanji's ops: juanji's own threads split the work instead.

juanji runs a large step on several cores by splitting its batch over threads
(:mod:`juanji.functional._parallel`), each slice's matrix products on one BLAS thread. Letting
OpenBLAS also thread a product costs twice: its threads keep spinning for up to ~0.1 s after
the call, so the next step's juanji threads find the cores busy, and (on 2 loaded cores)
(6400, 150) @ (150, 16) took 10.8 ms on two BLAS threads and 0.65 ms on one. Measured on the
quiet 2-core machine, a 64x32x32x32 -> 64 conv forward + backward: median 122 ms with the
forward's products on OpenBLAS's two threads and the backward split by juanji, 84 ms with both
split by juanji on one BLAS thread each.

The switch uses ``threadpoolctl`` when it is installed (about 5 us per switch; the BLAS's
thread count is restored afterwards, for the user's own NumPy code) and is a no-op without it:
NumPy alone computes the same numbers, only the thread count differs.

>>> with one_blas_thread():
...     (np.ones((10, 10), np.float32) @ np.ones((10, 10), np.float32)).shape
(10, 10)
"""

from __future__ import annotations

import contextlib

import numpy as np  # noqa: F401  (used by the doctest)

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
def one_blas_thread():
    """Run the body with NumPy's BLAS on one thread; its thread count is restored afterwards."""
    blas = _controller()
    if blas is None or blas.num_threads == 1:
        yield
        return
    before = blas.num_threads
    blas.set_num_threads(1)
    try:
        yield
    finally:
        blas.set_num_threads(before)
