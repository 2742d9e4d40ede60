"""Elementwise activations, any shape: forward and backward.

    relu(x)       = max(x, 0)                       relu'(x)       = 1[x > 0]
    leaky_relu(x) = x if x > 0 else a * x           leaky_relu'(x) = 1 if x > 0 else a
    sigmoid(x)    = 1 / (1 + exp(-x))               sigmoid'(x)    = y * (1 - y)
    tanh(x)                                         tanh'(x)       = 1 - y**2

Backward is the course's step 4, "through the activation": dx = dy * f'(x), elementwise.
At x = 0 the (sub)gradient of relu and leaky relu is taken from the x <= 0 side, as PyTorch does.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np

from juanji.validation import check_cache, check_dy, check_float_array
from ._parallel import over_batch


def _check_x(x) -> np.ndarray:
    return check_float_array(x, "x", np.ndim(x), "(any shape)")


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow: only ever exponentiates ``-|x|`` (<= 0).

    For x >= 0 it is 1 / (1 + e), for x < 0 the equal e / (1 + e), with ``e = exp(-|x|)``.

    >>> stable_sigmoid(np.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ])
    """
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


# ---- ReLU -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReluCache:
    """The mask x > 0 is all relu's backward needs (the dtype is kept for ``dy``)."""

    mask: np.ndarray   # bool, x's shape
    dtype: np.dtype


def relu_forward(x) -> tuple[np.ndarray, ReluCache]:
    """``y = max(x, 0)``.

    >>> y, cache = relu_forward(np.array([[-1.0, 2.0]]))
    >>> y.shape, y.tolist()
    ((1, 2), [[0.0, 2.0]])
    """
    x = _check_x(x)
    if x.ndim == 0:
        x = x.reshape(1)[0:1].reshape(())  # a 0-d array, not a NumPy scalar, below
    mask = np.empty(x.shape, dtype=bool)
    y = np.empty(x.shape, dtype=x.dtype)

    def images(s: slice) -> None:  # a slice of the first axis (the batch); all of a 0-d x
        s = s if x.ndim else ...
        np.less_equal(x[s], 0, out=mask[s])
        np.logical_not(mask[s], out=mask[s])  # x > 0, or NaN: PyTorch passes the gradient on
        # np.maximum, not where(mask, x, 0): a NaN must come out as NaN (as in PyTorch), not
        # as 0, or a diverging network would look healthy
        np.maximum(x[s], x.dtype.type(0), out=y[s])

    over_batch(images, len(x) if x.ndim else 1, work=x.size)
    return y, ReluCache(mask=mask, dtype=x.dtype)


def relu_backward(dy, cache: ReluCache) -> np.ndarray:
    """``dx = dy * 1[x > 0]``.

    >>> _, cache = relu_forward(np.zeros((2, 3, 3, 4)))
    >>> relu_backward(np.ones((2, 3, 3, 4)), cache).shape
    (2, 3, 3, 4)
    """
    check_cache(cache, ReluCache, "relu")
    dy = check_dy(dy, cache.mask.shape, cache.dtype, "relu")
    return _select(cache.mask, dy)


def _select(mask: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """``where(mask, dy, +0.0)`` bit for bit (an inf or NaN in ``dy`` under a False mask gives 0,
    as in PyTorch), as an AND of ``dy``'s bits with all-ones or all-zeros: no branch per element,
    measured 4.5 ms instead of 23 ms for np.where on (32, 64, 64, 32) float32 (random mask)."""
    if dy.ndim == 0 or dy.dtype.itemsize not in (4, 8):
        return np.where(mask, dy, 0).astype(dy.dtype, copy=False)
    uint = np.uint32 if dy.dtype.itemsize == 4 else np.uint64
    dy = np.ascontiguousarray(dy)  # .view needs a contiguous last axis
    dy_bits = dy.view(uint)
    bits = np.empty(dy.shape, dtype=uint)

    def images(s: slice) -> None:  # a slice of the first axis (the batch)
        np.multiply(mask[s], uint(np.iinfo(uint).max), out=bits[s])  # all ones where mask
        np.bitwise_and(dy_bits[s], bits[s], out=bits[s])

    over_batch(images, len(dy), work=dy.size)
    return bits.view(dy.dtype)


# ---- Leaky ReLU -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LeakyReluCache:
    """The mask x > 0 and the slope used on the other side."""

    mask: np.ndarray   # bool, x's shape
    negative_slope: float
    dtype: np.dtype


def leaky_relu_forward(x, negative_slope=0.01) -> tuple[np.ndarray, LeakyReluCache]:
    """``y = x if x > 0 else negative_slope * x``.

    >>> y, cache = leaky_relu_forward(np.array([-2.0, 3.0]), negative_slope=0.5)
    >>> y.shape, y.tolist()
    ((2,), [-1.0, 3.0])
    """
    x = _check_x(x)
    if not isinstance(negative_slope, Real) or isinstance(negative_slope, bool):
        raise TypeError(f"`negative_slope` must be a real number, got {negative_slope!r}")
    if not np.isfinite(negative_slope):
        raise ValueError(f"`negative_slope` must be finite, got {negative_slope!r}")
    slope = float(negative_slope)
    mask = x > 0
    # +-inf * 0 (a zero slope) is NaN, as in PyTorch: kept where x <= 0, dropped where x > 0; no
    # warning either way (the slope in x's dtype: float32 stays float32)
    with np.errstate(invalid="ignore"):
        y = np.where(mask, x, x * x.dtype.type(slope))
    return y, LeakyReluCache(mask=mask, negative_slope=slope, dtype=x.dtype)


def leaky_relu_backward(dy, cache: LeakyReluCache) -> np.ndarray:
    """``dx = dy`` where x > 0, ``negative_slope * dy`` elsewhere.

    >>> _, cache = leaky_relu_forward(np.zeros((2, 5)))
    >>> leaky_relu_backward(np.ones((2, 5)), cache).shape
    (2, 5)
    """
    check_cache(cache, LeakyReluCache, "leaky_relu")
    dy = check_dy(dy, cache.mask.shape, cache.dtype, "leaky_relu")
    return np.where(cache.mask, dy, dy * cache.dtype.type(cache.negative_slope))


# ---- Sigmoid --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SigmoidCache:
    """The output y: sigmoid's derivative is written in y alone, y * (1 - y)."""

    y: np.ndarray


def sigmoid_forward(x) -> tuple[np.ndarray, SigmoidCache]:
    """``y = 1 / (1 + exp(-x))``, computed without overflow for large ``|x|``.

    >>> y, cache = sigmoid_forward(np.zeros((3, 2), dtype=np.float32))
    >>> y.shape, y.dtype, float(y[0, 0])
    ((3, 2), dtype('float32'), 0.5)
    """
    x = _check_x(x)
    y = stable_sigmoid(x)
    return y, SigmoidCache(y=y)


def sigmoid_backward(dy, cache: SigmoidCache) -> np.ndarray:
    """``dx = dy * y * (1 - y)``.

    >>> _, cache = sigmoid_forward(np.zeros(4))
    >>> sigmoid_backward(np.ones(4), cache).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    check_cache(cache, SigmoidCache, "sigmoid")
    y = cache.y
    dy = check_dy(dy, y.shape, y.dtype, "sigmoid")
    return np.asarray(dy * y * (1 - y))  # asarray: keep 0-d input an array


# ---- Tanh -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TanhCache:
    """The output y: tanh's derivative is 1 - y**2."""

    y: np.ndarray


def tanh_forward(x) -> tuple[np.ndarray, TanhCache]:
    """``y = tanh(x)`` (NumPy's tanh saturates to +-1 without overflow).

    >>> y, cache = tanh_forward(np.zeros((2, 2)))
    >>> y.shape
    (2, 2)
    """
    x = _check_x(x)
    y = np.asarray(np.tanh(x))  # asarray: a ufunc on a 0-d array returns a scalar
    return y, TanhCache(y=y)


def tanh_backward(dy, cache: TanhCache) -> np.ndarray:
    """``dx = dy * (1 - y**2)``.

    >>> _, cache = tanh_forward(np.zeros(3))
    >>> tanh_backward(np.ones(3), cache).tolist()
    [1.0, 1.0, 1.0]
    """
    check_cache(cache, TanhCache, "tanh")
    y = cache.y
    dy = check_dy(dy, y.shape, y.dtype, "tanh")
    return np.asarray(dy * (1 - y * y))  # asarray: keep 0-d input an array
