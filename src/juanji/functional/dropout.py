"""Inverted dropout: forward and backward.

Each unit is kept with probability 1 - p and zeroed otherwise; the kept ones are scaled by
1 / (1 - p) so that the expected output equals the input:

    keep ~ Bernoulli(1 - p)        y = x * keep / (1 - p)        dx = dy * keep / (1 - p)

Scaling during training (rather than at test time) means the eval-mode layer is simply the
identity. The mask is drawn from the caller's ``numpy.random.Generator`` so runs are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np

from juanji.validation import check_cache, check_dy, check_float_array


@dataclass(frozen=True, slots=True)
class DropoutCache:
    """The keep-mask and the scale: backward must drop exactly the units the forward dropped."""

    keep: np.ndarray   # bool, x's shape; True where the unit was kept
    scale: float       # 1 / (1 - p)
    dtype: np.dtype


def dropout_forward(x, p, rng) -> tuple[np.ndarray, DropoutCache]:
    """Zero each unit with probability ``p``, scale the rest by ``1 / (1 - p)``.

    Args:
        x: any shape, float32/float64.
        p: drop probability in [0, 1); p = 0 is the identity.
        rng: a ``numpy.random.Generator``, e.g. ``np.random.default_rng(0)``.

    >>> y, cache = dropout_forward(np.ones((4, 6, 6, 8)), 0.5, np.random.default_rng(0))
    >>> y.shape, sorted(set(y.ravel().tolist()))
    ((4, 6, 6, 8), [0.0, 2.0])
    """
    x = check_float_array(x, "x", np.ndim(x), "(any shape)")
    if not isinstance(p, Real) or isinstance(p, bool):
        raise TypeError(f"`p` must be a real number in [0, 1), got {p!r}")
    if not 0 <= p < 1:
        raise ValueError(f"`p` must be in [0, 1) (the probability of dropping a unit), got {p!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"`rng` must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    keep = rng.random(x.shape) >= p  # P(u >= p) = 1 - p for u ~ U[0, 1)
    scale = 1.0 / (1.0 - float(p))
    y = np.where(keep, x * x.dtype.type(scale), 0).astype(x.dtype, copy=False)
    return y, DropoutCache(keep=keep, scale=scale, dtype=x.dtype)


def dropout_backward(dy, cache: DropoutCache) -> np.ndarray:
    """``dx = dy * keep / (1 - p)``, with the forward's mask.

    >>> _, cache = dropout_forward(np.ones((2, 3)), 0.0, np.random.default_rng(0))
    >>> dropout_backward(np.ones((2, 3)), cache).shape
    (2, 3)
    """
    check_cache(cache, DropoutCache, "dropout")
    dy = check_dy(dy, cache.keep.shape, cache.dtype, "dropout")
    return np.where(cache.keep, dy * cache.dtype.type(cache.scale), 0).astype(cache.dtype,
                                                                                copy=False)
