"""Argument checks shared by every public op.

Every check raises at the public boundary with a message that names the argument, its value and
what is allowed, so that a learner never sees a bare IndexError from deep inside NumPy.
"""

from __future__ import annotations

import os
from numbers import Integral

import numpy as np

Pair = tuple[int, int]
Padding2D = tuple[tuple[int, int], tuple[int, int]]

PADDING_STRINGS = ("valid", "same")
FLOAT_DTYPES = (np.float32, np.float64)


def _is_int(v) -> bool:
    if type(v) is int:  # the common case, without the ABC check (~1 us each, ~100 per step)
        return True
    return isinstance(v, Integral) and not isinstance(v, bool)


def pair(value, name: str, *, minimum: int = 1) -> Pair:
    """Normalise an int-or-pair argument to ``(h, w)``, each an int >= ``minimum``.

    >>> pair(3, "kernel_size")
    (3, 3)
    >>> pair((2, 1), "stride")
    (2, 1)
    """
    if _is_int(value):
        out = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        out = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"`{name}` must be an int or a pair of ints (h, w), got {value!r}")
    if out[0] < minimum or out[1] < minimum:
        raise ValueError(f"`{name}` must be >= {minimum} in both dimensions, got {value!r}")
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
    if _is_int(padding):
        p = int(padding)
        out = ((p, p), (p, p))
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        if all(_is_int(v) for v in padding):
            ph, pw = (int(v) for v in padding)
            out = ((ph, ph), (pw, pw))
        elif all(
            isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(u) for u in v)
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
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"environment variable `{name}` must be a whole number of {unit} >= 1, "
                         f"got {text!r}")
    return value
