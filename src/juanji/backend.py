"""Which code runs juanji's hot loops: compiled kernels (numba) or pure vectorised NumPy::

    "numba"   the pooling ops (forward and backward) run as compiled loops, one pass over the
              data, parallel over image rows; the default when numba can be imported
    "numpy"   everything in vectorised NumPy (several strided passes per pool); always there

Both backends compute the same numbers (the pools: bit for bit, except the sign of a zero
average) and are tested against the same oracle, :mod:`juanji.reference` (plain loops, never the
fast path). Choose with the environment variable ``JUANJI_BACKEND=numpy|numba`` (read once, at
import) or :func:`set_backend` at any time.

>>> old = set_backend("numpy")
>>> get_backend()
'numpy'
>>> _ = set_backend(old)
>>> set_backend("cuda")
Traceback (most recent call last):
...
ValueError: `backend` must be one of 'numpy', 'numba', got 'cuda'
"""

from __future__ import annotations

import importlib.util
import os

BACKENDS = ("numpy", "numba")
ENV_VAR = "JUANJI_BACKEND"


def numba_available() -> bool:
    """Whether numba can be imported (looked up without importing it: numba takes ~0.5 s)."""
    return importlib.util.find_spec("numba") is not None


def _check_name(name, source: str) -> str:
    if not isinstance(name, str) or name.strip().lower() not in BACKENDS:
        allowed = ", ".join(repr(b) for b in BACKENDS)
        raise ValueError(f"{source} must be one of {allowed}, got {name!r}")
    name = name.strip().lower()
    if name == "numba" and not numba_available():
        raise ValueError(f"{source} is 'numba' but numba is not installed; "
                         "`pip install numba` or choose 'numpy'")
    return name


def _from_env() -> str:
    value = os.environ.get(ENV_VAR)
    if value is None or value.strip() == "":
        return "numba" if numba_available() else "numpy"
    return _check_name(value, f"the environment variable {ENV_VAR}")


_backend = _from_env()


def get_backend() -> str:
    """The backend in use: ``'numba'`` or ``'numpy'``."""
    return _backend


def set_backend(name: str) -> str:
    """Run juanji's hot loops on ``name`` (``'numpy'`` or ``'numba'``); returns the previous one.

    Raises ValueError for any other name, and for ``'numba'`` when numba is not installed.
    """
    global _backend
    name = _check_name(name, "`backend`")
    old, _backend = _backend, name
    return old
