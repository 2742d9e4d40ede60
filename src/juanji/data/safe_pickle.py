"""`safe_load`: read the pickled dicts of CIFAR's "python" release without running foreign code.

A pickle is a small program: its GLOBAL / STACK_GLOBAL instructions import any callable by name
and REDUCE calls it, so ``pickle.load`` on a file from the internet can run ``os.system``.
`RestrictedUnpickler.find_class` is the single door through which a pickle reaches a callable;
it admits exactly what CIFAR's batches need and refuses everything else *before* anything is
called, with an error naming the refused global.

What a CIFAR batch holds: a dict of ``bytes``/``str`` keys, lists of ints and of byte strings
(built by pickle opcodes, no global needed), and one NumPy uint8 array. Rebuilding that array
needs these globals, each replaced by a checked wrapper:

- ``numpy.core.multiarray._reconstruct`` (``numpy._core...`` in NumPy 2): only as
  ``_reconstruct(numpy.ndarray, (0,), b"b")``, the empty array pickle fills with ``__setstate__``;
- ``numpy.ndarray`` (the class passed to it) and ``numpy.dtype`` (no object dtypes);
- ``numpy._core.numeric._frombuffer`` (protocol 5 pickles of NumPy >= 1.16): bytes -> array;
- ``_codecs.encode(text, "latin1")``: how Python 3 writes bytes in protocol 2; latin-1 only.

The official files are Python 2 pickles: ``encoding="latin1"`` turns their byte strings into
``str`` (keys ``"data"``, ``"labels"``) and leaves array bytes intact, as NumPy recommends.

>>> import io, pickle, numpy as np
>>> blob = pickle.dumps({"data": np.arange(6, dtype=np.uint8).reshape(2, 3), "labels": [0, 1]}, 4)
>>> d = safe_loads(blob)
>>> d["data"].shape, d["data"].dtype, d["labels"]
((2, 3), dtype('uint8'), [0, 1])
>>> try:
...     safe_loads(b"cos\\nsystem\\n(S'echo hi'\\ntR.")   # os.system("echo hi")
... except UnsafePickleError as err:
...     print(str(err)[:47])
<bytes>: refused to load the global 'os.system'
"""

from __future__ import annotations

import io
import math
import os
import pickle
import pickletools
from pathlib import Path

import numpy as np

try:  # NumPy 2 moved the implementation to numpy._core; numpy.core still works with a warning
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # NumPy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asks for something a CIFAR batch never contains; nothing of it was run."""


class _NdarrayClass:
    """What the pickle gets for ``numpy.ndarray``: a marker `_reconstruct` accepts, never the
    class itself, so ``numpy.ndarray(shape, dtype)`` called by REDUCE cannot allocate a claimed
    shape (a 110-byte pickle asked for 200000 x 3072 bytes)."""

    __name__ = "ndarray"

    def __call__(self, *args, **kwargs):
        raise UnsafePickleError("refused a direct call of numpy.ndarray(...): a pickled array "
                                "is rebuilt only through _reconstruct and __setstate__")


_NDARRAY = _NdarrayClass()


def _reconstruct(subtype, shape, dtype):
    """``ndarray._reconstruct`` for the one call a pickled array makes: an empty (0,) array."""
    if subtype is not _NDARRAY or tuple(shape) != (0,):
        raise UnsafePickleError(
            f"refused numpy _reconstruct({getattr(subtype, '__name__', subtype)!r}, {shape!r}): "
            f"a pickled array starts as _reconstruct(numpy.ndarray, (0,), ...)")
    return _multiarray._reconstruct(np.ndarray, shape, dtype)


def _dtype(spec, align=False, copy=True):
    """``numpy.dtype`` for plain numeric codes only (an object dtype would hold Python objects)."""
    if not isinstance(spec, (str, bytes)):
        raise UnsafePickleError(f"refused numpy.dtype({spec!r}): only a type code such as 'u1'")
    dt = np.dtype(spec.decode("latin1") if isinstance(spec, bytes) else spec, bool(align),
                  bool(copy))
    if dt.hasobject:
        raise UnsafePickleError(f"refused numpy.dtype({spec!r}): object arrays are not data")
    return dt


def _frombuffer(buf, dtype, shape, order):
    """NumPy's protocol-5 array rebuild, checked: bytes of exactly the declared size."""
    if not isinstance(buf, (bytes, bytearray, pickle.PickleBuffer)) \
            or not isinstance(dtype, np.dtype) or dtype.hasobject or order not in ("C", "F"):
        raise UnsafePickleError("refused numpy _frombuffer with unexpected arguments")
    shape = tuple(shape)
    if not all(isinstance(d, int) and d >= 0 for d in shape) \
            or math.prod(shape) * dtype.itemsize != memoryview(buf).nbytes:
        raise UnsafePickleError(f"refused numpy _frombuffer: shape {shape} of {dtype} does not "
                                f"match the {memoryview(buf).nbytes} bytes given")
    return _numeric._frombuffer(buf, dtype, shape, order)


def _latin1_encode(text, encoding="latin1"):
    """``_codecs.encode`` as Python 3 uses it for bytes in protocol 2: latin-1 text -> bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"refused _codecs.encode(..., {encoding!r}): only latin1 text")
    return text.encode("latin1")


# (module, name) -> the callable handed to the pickle. Nothing else is ever imported.
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("_codecs", "encode"): _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """A `pickle.Unpickler` whose `find_class` admits only `ALLOWED`.

    ``persistent_load`` keeps the base class's behaviour (it refuses persistent ids).
    """

    def __init__(self, file, *, source: str = "<pickle>"):
        super().__init__(file, encoding="latin1")
        self.source = source

    def find_class(self, module, name):
        target = ALLOWED.get((module, name))
        if target is None:
            raise UnsafePickleError(
                f"{self.source}: refused to load the global '{module}.{name}': this file asks "
                f"to import and possibly call it, and a CIFAR batch only needs NumPy arrays, "
                f"dicts, lists, bytes, strings and numbers. The file is not a genuine CIFAR "
                f"batch (or is damaged); nothing in it was run")
        return target


def safe_loads(data: bytes, source: str = "<bytes>"):
    """Unpickle ``data`` with `RestrictedUnpickler`; ``source`` names it in errors."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"`data` must be bytes, got {type(data).__name__}")
    return _load(io.BytesIO(data), source)


def safe_load(path):
    """Unpickle the file at ``path`` with `RestrictedUnpickler`.

    Raises:
        UnsafePickleError (an `pickle.UnpicklingError`) for a refused global; ValueError naming
        the path for a file that is not a (complete) pickle at all.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike, got {type(path).__name__}")
    # Read the bytes first: unpickling straight from a file lets a length field claiming 1 TiB
    # make the file's read(n) allocate n bytes; from memory, a claim is bounded by the file.
    data = Path(path).read_bytes()
    return _load(io.BytesIO(data), str(Path(path)))


def _load(f, source: str):
    try:
        # Walk the opcodes first (pure Python, reading from memory): every length-prefixed
        # argument must be present. The C unpickler allocates a claimed length (up to 2**64)
        # *before* reading it, so a 10-byte file claiming 8 GiB would allocate 8 GiB.
        size = len(f.getbuffer())
        for op, arg, _ in pickletools.genops(f):
            # The C unpickler's memo is an array indexed by PUT's argument: LONG_BINPUT 680825748
            # in a 6 KB file allocated 5 GB. A real pickle numbers its memo 0, 1, 2, ...
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT") and int(arg) > size:
                raise pickle.UnpicklingError(f"memo index {arg} of {op.name} exceeds the "
                                             f"{size}-byte pickle")
        f.seek(0)
        return RestrictedUnpickler(f, source=source).load()
    except UnsafePickleError as err:
        if not str(err).startswith(source):
            raise UnsafePickleError(f"{source}: {err}") from None
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
            AttributeError, OverflowError, MemoryError, RuntimeError, SystemError) as err:
        # (RuntimeError/SystemError: NumPy's ndarray.__setstate__ on some damaged states says
        # "Internal error, get_clear_loop not set" and returns without an exception; atheris)
        # Whatever a damaged stream makes the (restricted) machine trip over.
        raise ValueError(f"{source}: not a readable pickle (truncated, damaged or another "
                         f"format): {type(err).__name__}: {err}") from None
