"""`safe_load`: read the pickled dicts of CIFAR's "python" release without running foreign code.

A pickle is a small program: its GLOBAL / STACK_GLOBAL instructions import any callable by name
and REDUCE calls it, so ``pickle.load`` on a file from the internet can run ``os.system``.
`RestrictedUnpickler.find_class` is the single door through which a pickle reaches a callable;
it admits exactly what CIFAR's batches need and refuses everything else *before* anything is
called, with an error naming the refused global.

What a CIFAR batch holds: a dict of ``bytes``/``str`` keys, lists of ints and of byte strings
(built by pickle opcodes, no global needed), and one NumPy uint8 array. Rebuilding that array
needs these globals, each replaced by a checked stand-in (no NumPy object is handed to the
pickle itself, so its BUILD opcodes never reach NumPy's own ``__setstate__``):

- ``numpy.core.multiarray._reconstruct`` (``numpy._core...`` in NumPy 2): only as
  ``_reconstruct(numpy.ndarray, (0,), b"b")``; it gives a placeholder whose one BUILD takes
  ``(1, shape, dtype, is_fortran, data)`` with exactly ``prod(shape) * itemsize`` bytes of data
  (so an array is never larger than the file);
- ``numpy.ndarray``: a marker only ``_reconstruct`` accepts (calling it is refused);
- ``numpy.dtype``: number codes only (``u1``, ``i8``, ``f4``...; no objects, strings or
  structured dtypes), and its BUILD only with the state NumPy writes for that code (byte order
  aside);
- ``numpy._core.numeric._frombuffer`` (protocol 5 pickles of NumPy >= 1.16): bytes -> array;
- ``_codecs.encode(text, "latin1")``: how Python 3 writes bytes in protocol 2; latin-1 only.

After loading, the placeholders inside dicts and lists are replaced by their arrays; one that
never got its data, or that sits in a tuple, set or dict key, is refused.

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
    from numpy._core import numeric as _numeric
except ImportError:  # NumPy 1.x
    from numpy.core import numeric as _numeric


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asks for something a CIFAR batch never contains; nothing of it was run."""


class _NdarrayClass:
    """What the pickle gets for ``numpy.ndarray``: a marker `_reconstruct` accepts, never the
    class itself, so ``numpy.ndarray(shape, dtype)`` called by REDUCE cannot allocate a claimed
    shape (a 110-byte pickle asked for 200000 x 3072 bytes)."""

    __slots__ = ()
    __name__ = "ndarray"

    def __call__(self, *args, **kwargs):
        raise UnsafePickleError("refused a direct call of numpy.ndarray(...): a pickled array "
                                "is rebuilt only through _reconstruct and __setstate__")

    def __setstate__(self, state):
        raise UnsafePickleError("refused a BUILD on numpy.ndarray itself")


_NDARRAY = _NdarrayClass()

# What a CIFAR pickle's arrays may hold: uint8 images, integer labels; floats pass too, so the
# reader can say "'data' must be uint8, got float32". Never objects, structured or sub-arrays.
ALLOWED_KINDS = "biuf"
MAX_NDIM = 32


class _PickledDtype:
    """What ``numpy.dtype(spec)`` gives the pickle: a plain number dtype, held here until the
    end of loading. Its ``__setstate__`` (the BUILD a pickled dtype carries) accepts only the
    state NumPy itself writes for that dtype, with the byte order the only free choice, so a
    BUILD cannot turn ``u1`` into something else that still compares equal to ``uint8``."""

    __slots__ = ("dtype", "built")

    def __init__(self, dtype: np.dtype):
        self.dtype, self.built = dtype, False

    def __setstate__(self, state):
        order = state[1] if isinstance(state, tuple) and len(state) > 1 else None
        if self.built or order not in ("<", ">", "|", "="):
            raise UnsafePickleError(f"refused a BUILD of numpy.dtype({self.dtype.str!r}) with "
                                    f"state {_short(state)}")
        want = self.dtype.newbyteorder(order) if order in "<>" else self.dtype
        if tuple(state) != want.__reduce__()[2]:
            raise UnsafePickleError(
                f"refused a BUILD of numpy.dtype({self.dtype.str!r}) with state "
                f"{_short(state)}: only NumPy's own {want.__reduce__()[2]} (any byte order) "
                f"is accepted; a changed dtype is not CIFAR data")
        self.dtype, self.built = want, True


class _PickledArray:
    """What ``_reconstruct`` / ``_frombuffer`` give the pickle: an array to be, replaced by the
    real one (`RestrictedUnpickler.load`) once the whole pickle is read. Its ``__setstate__``
    (the pickle's BUILD) takes ``(version, shape, dtype, is_fortran, raw_bytes)`` once, with a
    plain integer dtype and exactly ``prod(shape) * itemsize`` bytes of data: an array is never
    larger than the bytes the file holds for it."""

    __slots__ = ("array",)

    def __init__(self, array=None):
        self.array = array

    def __setstate__(self, state):
        if self.array is not None:
            raise UnsafePickleError("refused a second BUILD of a pickled array (a changed "
                                    "shape or dtype is not CIFAR data)")
        if not isinstance(state, tuple) or len(state) not in (4, 5) \
                or (len(state) == 5 and state[0] != 1):
            raise UnsafePickleError(f"refused numpy array state {_short(state)}: expected "
                                    f"(1, shape, dtype, is_fortran, bytes)")
        shape, dtype, fortran, raw = state[-4:]
        dtype = _resolve_dtype(dtype)
        if isinstance(raw, str):  # a Python 2 byte string read with encoding="latin1"
            raw = raw.encode("latin1")
        shape = _check_shape(shape)
        if not isinstance(fortran, bool) or not isinstance(raw, bytes):
            raise UnsafePickleError(f"refused numpy array state: is_fortran must be a bool and "
                                    f"the data bytes, got {type(fortran).__name__} and "
                                    f"{type(raw).__name__}")
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise UnsafePickleError(f"refused numpy array state: shape {shape} of {dtype} needs "
                                    f"{math.prod(shape) * dtype.itemsize} bytes, the pickle "
                                    f"holds {len(raw)}")
        flat = np.frombuffer(raw, dtype=dtype).copy()  # (prod(shape),), writable
        self.array = flat.reshape(shape, order="F" if fortran else "C")  # shape


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_shape(shape) -> tuple:
    if not isinstance(shape, tuple) or len(shape) > MAX_NDIM \
            or not all(type(d) is int and d >= 0 for d in shape):
        raise UnsafePickleError(f"refused numpy array shape {_short(shape)}: a tuple of at most "
                                f"{MAX_NDIM} ints >= 0")
    return shape


def _resolve_dtype(dtype) -> np.dtype:
    if not isinstance(dtype, _PickledDtype):
        raise UnsafePickleError(f"refused numpy array dtype {_short(dtype)}: only a "
                                f"numpy.dtype made by the pickle")
    return dtype.dtype


def _reconstruct(subtype, shape, dtype):
    """``ndarray._reconstruct`` for the one call a pickled array makes: an empty (0,) array,
    filled by the BUILD that follows (see `_PickledArray`)."""
    if subtype is not _NDARRAY or tuple(shape) != (0,):
        raise UnsafePickleError(
            f"refused numpy _reconstruct({getattr(subtype, '__name__', subtype)!r}, {shape!r}): "
            f"a pickled array starts as _reconstruct(numpy.ndarray, (0,), ...)")
    return _PickledArray()


def _dtype(spec, align=False, copy=True):
    """``numpy.dtype`` for plain number codes only (an object dtype would hold Python objects,
    and a CIFAR batch holds uint8 images and integer labels)."""
    if not isinstance(spec, (str, bytes)) or len(spec) > 8:
        raise UnsafePickleError(f"refused numpy.dtype({_short(spec)}): only a type code such "
                                f"as 'u1'")
    try:
        dt = np.dtype(spec.decode("latin1") if isinstance(spec, bytes) else spec)
    except TypeError:
        raise UnsafePickleError(f"refused numpy.dtype({spec!r}): not a type code") from None
    if dt.hasobject:
        raise UnsafePickleError(f"refused numpy.dtype({spec!r}): object arrays are not data")
    if dt.kind not in ALLOWED_KINDS or dt.fields is not None or dt.subdtype is not None:
        raise UnsafePickleError(f"refused numpy.dtype({spec!r}): a CIFAR pickle holds only "
                                f"arrays of numbers (uint8 images, integer labels)")
    return _PickledDtype(dt)


def _frombuffer(buf, dtype, shape, order):
    """NumPy's protocol-5 array rebuild, checked: bytes of exactly the declared size."""
    if not isinstance(buf, (bytes, bytearray, pickle.PickleBuffer)) \
            or not isinstance(dtype, _PickledDtype) or order not in ("C", "F"):
        raise UnsafePickleError("refused numpy _frombuffer with unexpected arguments")
    dtype = dtype.dtype
    shape = _check_shape(tuple(shape) if isinstance(shape, list) else shape)
    if math.prod(shape) * dtype.itemsize != memoryview(buf).nbytes:
        raise UnsafePickleError(f"refused numpy _frombuffer: shape {shape} of {dtype} does not "
                                f"match the {memoryview(buf).nbytes} bytes given")
    return _PickledArray(_numeric._frombuffer(buf, dtype, shape, order).copy())


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

    def load(self):
        """The unpickled object, with every pickled array replaced by its real NumPy array."""
        return _finish(super().load())


def _finish(root):
    """Replace the `_PickledArray` placeholders inside ``root`` (dicts and lists, walked without
    recursion: a pickle may nest 100 000 lists) by their arrays and `_PickledDtype` by dtypes.
    An array never given its state, or one inside a tuple, set or dict key, is refused."""
    def real(obj, where):
        if isinstance(obj, _PickledArray):
            if obj.array is None or where != "value":
                raise UnsafePickleError("refused a pickled array " + (
                    f"used as a {where}" if where != "value" else "without its data (no BUILD)"))
            return obj.array
        if isinstance(obj, _PickledDtype):
            return obj.dtype
        return obj

    root = real(root, "value")
    stack, seen = [root], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            for key, value in obj.items():
                real(key, "dict key")
                obj[key] = real(value, "value")
                stack.append(obj[key])
        elif isinstance(obj, list):
            for i, value in enumerate(obj):
                obj[i] = real(value, "value")
                stack.append(obj[i])
        elif isinstance(obj, (tuple, set, frozenset)):
            for value in obj:
                real(value, "member of a tuple or set")
                stack.append(value)
    return root


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
            AttributeError, OverflowError, MemoryError, RuntimeError, SystemError,
            RecursionError) as err:
        # (RuntimeError/SystemError: NumPy's ndarray.__setstate__ on some damaged states says
        # "Internal error, get_clear_loop not set" and returns without an exception; atheris)
        # Whatever a damaged stream makes the (restricted) machine trip over.
        raise ValueError(f"{source}: not a readable pickle (truncated, damaged or another "
                         f"format): {type(err).__name__}: {err}") from None
