"""``C = op(A) @ op(B) + beta * C`` in place, on the BLAS that NumPy itself uses.

NumPy's matmul always overwrites its output; accumulating a product into an existing array
(``beta = 1``) needs BLAS's gemm directly. NumPy's wheels ship OpenBLAS with the CBLAS symbols
exported (``scipy_cblas_sgemm64_`` in recent wheels); this module finds NumPy's BLAS library,
calls its row-major ``cblas_?gemm`` through ctypes on C-ordered arrays, and reports
``available() == False`` when no such library is found (then callers take a pure-NumPy path).

Calling NumPy's own BLAS, not a second copy (SciPy ships its own OpenBLAS), matters with two
threads: two OpenBLAS thread pools whose idle threads spin after each call fought for the two
cores (a conv backward took 394 ms instead of 136 ms on a loaded 2-core machine).

>>> a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
>>> c = np.ones((2, 4), np.float32)
>>> if available(np.float32):
...     gemm(a, b, c, beta=1.0)
... else:
...     c += a @ b
>>> c.tolist()[0]
[4.0, 4.0, 4.0, 4.0]
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_UNSET = object()
_funcs = _UNSET  # {dtype: (ctypes function, ctypes scalar type, int type)} once looked up
_lock = threading.Lock()  # the first lookup may come from several of juanji's threads at once


def _candidates() -> list[str]:
    """NumPy's bundled BLAS libraries (wheels put them in numpy.libs next to the package)."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    found = []
    for pattern in ("numpy.libs/*openblas*.so*", "numpy/.dylibs/*openblas*.dylib"):
        found += sorted(glob.glob(os.path.join(root, pattern)))
    return found


def _lookup() -> dict:
    if _funcs is _UNSET:
        with _lock:
            if _funcs is _UNSET:
                _find()
    return _funcs


def _find() -> None:
    """Set ``_funcs`` from the first candidate library that exports the gemms (else ``{}``)."""
    global _funcs
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, int_t in (("scipy_cblas_", "64_", ctypes.c_int64),
                                      ("cblas_", "64_", ctypes.c_int64),
                                      ("scipy_cblas_", "", ctypes.c_int32)):
            try:
                fs = {np.dtype(np.float32): (getattr(lib, f"{prefix}sgemm{suffix}"),
                                             ctypes.c_float),
                      np.dtype(np.float64): (getattr(lib, f"{prefix}dgemm{suffix}"),
                                             ctypes.c_double)}
            except AttributeError:
                continue
            for f, real in fs.values():
                f.restype = None
                f.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, int_t, int_t, int_t,
                              real, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t, real,
                              ctypes.c_void_p, int_t]
            _funcs = {dt: (f, real) for dt, (f, real) in fs.items()}
            return
    _funcs = {}


def available(dtype) -> bool:
    """Whether :func:`gemm` can run for arrays of ``dtype``."""
    return np.dtype(dtype) in _lookup()


def _ld(x: np.ndarray, name: str) -> int:
    """Leading dimension of a row-major matrix: its row stride in elements (unit column stride)."""
    if x.ndim != 2 or x.strides[1] != x.itemsize or x.strides[0] % x.itemsize or \
            (x.shape[0] > 1 and x.strides[0] < x.shape[1] * x.itemsize):
        raise ValueError(f"`{name}` must be a row-major 2-D array with unit column stride, got "
                         f"shape {x.shape} strides {x.strides}")
    return max(x.strides[0] // x.itemsize, x.shape[1], 1)


def gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray, *, beta: float = 1.0,
         trans_a: bool = False, trans_b: bool = False) -> None:
    """``c = op(a) @ op(b) + beta * c`` in place; op is a transpose when ``trans_*``.

    a, b, c: row-major 2-D views of c's dtype (rows of a C-ordered array are fine);
    op(a) (M, K), op(b) (K, N), c (M, N). With ``beta = 0`` c's old values are ignored.
    """
    f, real = _lookup()[c.dtype]
    if a.dtype != c.dtype or b.dtype != c.dtype:
        raise TypeError(f"`a`, `b` and `c` must share a dtype, got {a.dtype}, {b.dtype}, "
                        f"{c.dtype}")
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if (a.shape[1] if trans_a else a.shape[0]) != m or \
            (b.shape[1] if trans_b else b.shape[0]) != k or \
            (b.shape[0] if trans_b else b.shape[1]) != n:
        raise ValueError(f"shapes do not fit: op(a) from {a.shape}, op(b) from {b.shape}, "
                         f"c {c.shape}")
    if m == 0 or n == 0:
        return
    f(_ROW_MAJOR, _TRANS if trans_a else _NO_TRANS, _TRANS if trans_b else _NO_TRANS,
      m, n, k, real(1.0), a.ctypes.data, _ld(a, "a"), b.ctypes.data, _ld(b, "b"), real(beta),
      c.ctypes.data, _ld(c, "c"))
