"""Argument checks shared by every package: the ops, the layers, the optimisers, training, the CLI.

Every check raises at the public boundary with a message that names the argument, its value and
what is allowed, so that a learner never sees a bare IndexError from deep inside NumPy.

One integer check, :func:`check_int`, serves every whole-number argument: a value that is not an
int (a float, a bool, a string) raises :class:`IntTypeError`, which is both a ``TypeError`` and a
``ValueError`` (it is the wrong type *and* an unusable value), and an int out of range raises
``ValueError``; both messages read "`name` must be an int >= lo [and <= hi], got value".
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real

import numpy as np

Pair = tuple[int, int]
Padding2D = tuple[tuple[int, int], tuple[int, int]]

PADDING_STRINGS = ("valid", "same")
# Largest kernel, stride, dilation or padding accepted: 10**18 overflowed NumPy's C longs.
MAX_SIZE = 2**31 - 1
FLOAT_DTYPES = (np.float32, np.float64)


class IntTypeError(TypeError, ValueError):
    """A whole number was expected and something else came (a float, a bool, a string)."""


def is_int(v) -> bool:
    """True for Python and NumPy integers, False for bools and everything else.

    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    if type(v) is int:  # the common case, without the ABC check (~1 us each, ~100 per step)
        return True
    return isinstance(v, Integral) and not isinstance(v, bool)


def check_int(value, name: str, minimum: int | None = 1, maximum: int | None = None, *,
              unit: str | None = None) -> int:
    """``value`` as an ``int`` after checking it is a whole number in ``[minimum, maximum]``.

    ``None`` for a bound means unbounded on that side; ``unit`` is named in the message
    ("(threads)").

    >>> check_int(3, "epochs")
    3
    >>> check_int(0, "epochs")
    Traceback (most recent call last):
    ...
    ValueError: `epochs` must be an int >= 1, got 0
    >>> check_int(2.0, "seed", minimum=0)
    Traceback (most recent call last):
    ...
    juanji.validation.IntTypeError: `seed` must be an int >= 0, got 2.0
    >>> check_int(7, "label", 0, 5)
    Traceback (most recent call last):
    ...
    ValueError: `label` must be an int >= 0 and <= 5, got 7
    """
    ok_type = is_int(value)
    if ok_type and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
        return int(value)
    bounds = [f">= {minimum}"] if minimum is not None else []
    bounds += [f"<= {maximum}"] if maximum is not None else []
    allowed = "an int" + (" " + " and ".join(bounds) if bounds else "")
    message = f"`{name}` must be {allowed}{f' ({unit})' if unit else ''}, got {value!r}"
    raise (ValueError if ok_type else IntTypeError)(message)


def check_bool(value, name: str) -> bool:
    """``value`` must be True or False (not 0/1, not None).

    >>> check_bool(1, "use_bias")
    Traceback (most recent call last):
    ...
    TypeError: `use_bias` must be True or False, got 1
    """
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be True or False, got {value!r}")
    return value


class RealTypeError(TypeError, ValueError):
    """A real number was expected and something else came (a string, a bool, None)."""


def check_real(value, name: str, low: float = -math.inf, high: float = math.inf, *,
               high_open: bool = False) -> float:
    """``value`` as a finite ``float`` in ``[low, high]`` (or ``[low, high)``): the one check of
    every real-valued argument (optimiser rates, dropout, slopes, eps).

    Not a real number (bool included: ``lr=True`` is a typo, not 1.0) raises
    :class:`RealTypeError`, both a TypeError and a ValueError; NaN or +-inf, or a number out of
    range, raises ValueError.

    >>> check_real(0.5, "p", 0, 1, high_open=True)
    0.5
    >>> check_real(-0.5, "lr", 0)
    Traceback (most recent call last):
    ...
    ValueError: `lr` must be >= 0, got -0.5
    >>> check_real("0.1", "lr")
    Traceback (most recent call last):
    ...
    juanji.validation.RealTypeError: `lr` must be a real number, got '0.1' (str)
    """
    bracket = ")" if high_open else "]"
    if math.isinf(low) and math.isinf(high):
        allowed = ""
    elif math.isinf(high):
        allowed = f">= {low}"
    elif math.isinf(low):
        allowed = f"<= {high}" if not high_open else f"< {high}"
    else:
        allowed = f"in [{low}, {high}{bracket}"
    if not isinstance(value, Real) or isinstance(value, bool):
        raise RealTypeError(f"`{name}` must be a real number{' ' + allowed if allowed else ''}, "
                            f"got {value!r} ({type(value).__name__})")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"`{name}` must be a finite number{' ' + allowed if allowed else ''}, "
                         f"got {value!r}")
    if not (low <= out <= high) or (high_open and out == high):
        what = "be" if allowed.startswith((">", "<")) else "be a number"
        raise ValueError(f"`{name}` must {what} {allowed}, got {value!r}")
    return out


def pair(value, name: str, *, minimum: int = 1) -> Pair:
    """Normalise an int-or-pair argument to ``(h, w)``, each an int >= ``minimum``.

    >>> pair(3, "kernel_size")
    (3, 3)
    >>> pair((2, 1), "stride")
    (2, 1)
    """
    if is_int(value):
        out = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        out = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"`{name}` must be an int or a pair of ints (h, w), got {value!r}")
    if out[0] < minimum or out[1] < minimum:
        raise ValueError(f"`{name}` must be >= {minimum} in both dimensions, got {value!r}")
    if out[0] > MAX_SIZE or out[1] > MAX_SIZE:  # NumPy's strides and shapes are C longs
        raise ValueError(f"`{name}` must be <= {MAX_SIZE} (2**31 - 1) in both dimensions, got "
                         f"{value!r}")
    return out


def check_padding_arg(padding) -> None:
    """Refuse a padding argument that has none of the accepted forms (before sizes are known)."""
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS:
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {set(PADDING_STRINGS)} "
                f"(`padding`)"
            )
        return
    _explicit_padding(padding)


def _explicit_padding(padding) -> Padding2D:
    """int | (ph, pw) | ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    bad = (
        "`padding` must be an int, a pair (ph, pw), ((top, bottom), (left, right)), "
        f"'valid' or 'same'; got {padding!r}"
    )
    if is_int(padding):
        p = int(padding)
        out = ((p, p), (p, p))
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        if all(is_int(v) for v in padding):
            ph, pw = (int(v) for v in padding)
            out = ((ph, ph), (pw, pw))
        elif all(
            isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(u) for u in v)
            for v in padding
        ):
            (t, b), (left, r) = padding
            out = ((int(t), int(b)), (int(left), int(r)))
        else:
            raise TypeError(bad)
    else:
        raise TypeError(bad)
    if min(out[0] + out[1]) < 0:
        raise ValueError(f"`padding` must be >= 0 everywhere, got {padding!r}")
    if max(out[0] + out[1]) > MAX_SIZE:
        raise ValueError(f"`padding` must be <= {MAX_SIZE} (2**31 - 1) everywhere, got "
                         f"{padding!r}")
    return out


def same_padding_1d(n: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow/Keras 'same' padding along one axis: output ``ceil(n / s)``, extra pixel after.

    total = max((ceil(n/s) - 1) * s + d*(f-1) + 1 - n, 0); before = total // 2; after = the rest.

    >>> same_padding_1d(5, 2, 2)   # out 3 = ceil(5/2): windows 0-1, 2-3, 4-(pad)
    (0, 1)
    >>> same_padding_1d(28, 5, 1)
    (2, 2)
    """
    out = -(-n // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, hw: Pair, kernel: Pair, stride: Pair, dilation: Pair) -> Padding2D:
    """Any accepted padding form -> explicit ``((top, bottom), (left, right))`` for input ``hw``.

    >>> resolve_padding("same", (28, 28), (5, 5), (1, 1), (1, 1))
    ((2, 2), (2, 2))
    >>> resolve_padding((1, 0), (8, 8), (3, 3), (1, 1), (1, 1))
    ((1, 1), (0, 0))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            return (
                same_padding_1d(hw[0], kernel[0], stride[0], dilation[0]),
                same_padding_1d(hw[1], kernel[1], stride[1], dilation[1]),
            )
        raise ValueError(
            f"Invalid padding string {padding!r}, should be one of {set(PADDING_STRINGS)} "
                f"(`padding`)"
        )
    return _explicit_padding(padding)


def check_float_array(x, name: str, ndim: int, layout: str) -> np.ndarray:
    """Return ``x`` as an ndarray after checking it is float32/float64 with ``ndim`` dimensions."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"`{name}` must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype.type not in FLOAT_DTYPES:
        raise TypeError(
            f"`{name}` must have dtype float32 or float64, got {x.dtype}; "
            f"convert with {name}.astype(np.float32)"
        )
    if x.ndim != ndim:
        raise ValueError(f"`{name}` must have {ndim} dimensions {layout}, got shape {x.shape}")
    return x


def check_same_dtype(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    if a.dtype != b.dtype:
        raise TypeError(
            f"`{b_name}` dtype {b.dtype} must equal `{a_name}` dtype {a.dtype}; cast one of them"
        )


def check_dy(dy, expected_shape: tuple, dtype, op: str) -> np.ndarray:
    """The upstream gradient of a backward must be an array in the forward output's shape."""
    if not isinstance(dy, np.ndarray):
        raise TypeError(f"`dy` of {op}_backward must be a numpy.ndarray, got {type(dy).__name__}")
    if tuple(dy.shape) != tuple(expected_shape):
        raise ValueError(
            f"`dy` of {op}_backward must have the forward output's shape {tuple(expected_shape)}, "
            f"got {tuple(dy.shape)}"
        )
    return dy.astype(dtype, copy=False)


def check_cache(cache, cls: type, op: str):
    """A backward accepts only the cache its own forward returned."""
    if not isinstance(cache, cls):
        got = type(cache).__name__
        raise TypeError(
            f"`cache` of {op}_backward must be the cache returned by {op}_forward "
            f"({cls.__name__}), got {got}"
        )
    return cache


def env_positive_int(name: str, unit: str) -> int | None:
    """The whole number >= 1 in environment variable ``name``; None when it is unset or empty.

    >>> env_positive_int("JUANJI_SURELY_UNSET", "threads") is None
    True
    """
    text = os.environ.get(name)
    if not text:
        return None
    try:
        return check_int(int(text), name, unit=unit)
    except ValueError:
        raise ValueError(f"environment variable `{name}` must be a whole number of {unit} >= 1, "
                         f"got {text!r}") from None
