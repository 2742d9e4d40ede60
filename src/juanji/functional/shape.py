"""Flatten and its backward, the course's "un-flatten".

Forward turns each example's feature map into one vector for the dense layers,
``(N, H, W, C) -> (N, H*W*C)``, in channels-last (C-order) order. Backward is step 2 of the course's
backward pass: reshape the gradient back to the pooling output's shape, e.g. 400 -> 5x5x16.
Nothing is computed, only the view changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from juanji.validation import check_cache, check_dy, check_float_array


@dataclass(frozen=True, slots=True)
class FlattenCache:
    """The input shape to reshape the gradient back to."""

    in_shape: tuple    # (N, ...)
    dtype: np.dtype

    @property
    def out_shape(self) -> tuple:
        return (self.in_shape[0], prod(self.in_shape[1:]))


def flatten_forward(x) -> tuple[np.ndarray, FlattenCache]:
    """``(N, d1, d2, ...) -> (N, d1*d2*...)``, keeping the batch axis.

    >>> y, cache = flatten_forward(np.zeros((2, 5, 5, 16)))   # the course's POOL2 output
    >>> y.shape
    (2, 400)
    """
    x = check_float_array(x, "x", np.ndim(x), "(N, ...)")
    if x.ndim < 2:
        raise ValueError(
            f"`x` must have at least 2 dimensions (N, ...), a batch axis first, got shape {x.shape}"
        )
    cache = FlattenCache(in_shape=x.shape, dtype=x.dtype)
    # an explicit size, not -1, so that a zero-size feature axis still reshapes
    return x.reshape(cache.out_shape), cache  # (N, prod(rest))


def flatten_backward(dy, cache: FlattenCache) -> np.ndarray:
    """Un-flatten: ``(N, d1*d2*...) -> (N, d1, d2, ...)``.

    >>> _, cache = flatten_forward(np.zeros((2, 5, 5, 16)))
    >>> flatten_backward(np.ones((2, 400)), cache).shape
    (2, 5, 5, 16)
    """
    check_cache(cache, FlattenCache, "flatten")
    dy = check_dy(dy, cache.out_shape, cache.dtype, "flatten")
    return dy.reshape(cache.in_shape)  # (N, ...), the forward's input shape
