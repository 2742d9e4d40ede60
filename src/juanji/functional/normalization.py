"""Batch normalisation over the channels of an (N, H, W, C) feature map: forward and backward.

Each channel c is normalised over its m = N*H*W values, then scaled and shifted:

    x_hat = (x - mean) / sqrt(var + eps)          y = gamma * x_hat + beta

Two modes, chosen by whether ``mean``/``var`` are passed:

- training (``mean=None, var=None``): mean and var are the batch's own statistics per channel,
  with the *biased* variance ``var = mean((x - mean)**2)`` (divide by m). They depend on x, so the
  backward carries their gradient too. The layer updates its running statistics from
  ``cache.mean`` and ``cache.var``; PyTorch's ``running_var`` uses the *unbiased* variance, so the
  layer must multiply ``cache.var`` by ``m / (m - 1)`` (``cache.count`` is m) before mixing it in.
- eval (``mean`` and ``var`` given, the running statistics): they are constants, and the layer is
  an affine map per channel.

Backward (sums over n, h, w; ``inv_std = 1 / sqrt(var + eps)``):

    dbeta  = sum dy
    dgamma = sum dy * x_hat
    dx     = gamma * inv_std * dy                                                  (eval)
    dx     = gamma * inv_std / m * (m * dy - sum dy - x_hat * sum(dy * x_hat))     (training)

The training formula is the compact form of the chain rule through x_hat, mean and var: the two
subtracted terms remove the parts of dy that the batch mean and variance would absorb.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np

from juanji.validation import check_cache, check_dy, check_float_array, check_same_dtype

_AXES = (0, 1, 2)  # N, H, W: every axis but the channel


@dataclass(frozen=True, slots=True)
class BatchNorm2dCache:
    """What the backward needs, plus the statistics the layer reads in training mode."""

    x_hat: np.ndarray      # (N, H, W, C), the normalised input
    gamma: np.ndarray      # (C,)
    inv_std: np.ndarray    # (C,), 1 / sqrt(var + eps)
    mean: np.ndarray       # (C,), the mean used (the batch's in training mode)
    var: np.ndarray        # (C,), the variance used (biased, the batch's, in training mode)
    batch_stats: bool      # True: training mode, mean and var came from x

    @property
    def count(self) -> int:
        """m = N*H*W, the number of values each channel's statistics were taken over."""
        n, h, w, _ = self.x_hat.shape
        return n * h * w


def _check_channel_vector(v, name: str, x: np.ndarray) -> np.ndarray:
    v = check_float_array(v, name, 1, "(C,)")
    check_same_dtype(x, "x", v, name)
    if v.shape[0] != x.shape[3]:
        raise ValueError(
            f"`{name}` must have shape (C,) = ({x.shape[3]},) for `x` of shape {x.shape}, "
            f"got {v.shape}"
        )
    return v


def batch_norm2d_forward(x, gamma, beta, *, eps=1e-5, mean=None,
                         var=None) -> tuple[np.ndarray, BatchNorm2dCache]:
    """Normalise each channel, then ``y = gamma * x_hat + beta``.

    Args:
        x: (N, H, W, C) float32/float64.
        gamma, beta: (C,) scale and shift, ``x``'s dtype.
        eps: > 0, added to the variance.
        mean, var: both None (training: batch statistics) or both (C,) arrays (eval: constants).

    Returns:
        y (N, H, W, C) and the cache; in training mode ``cache.mean``/``cache.var`` are the batch
        statistics (biased variance) for the layer's running averages.

    >>> x = np.random.default_rng(0).normal(size=(8, 4, 4, 3))
    >>> y, cache = batch_norm2d_forward(x, np.ones(3), np.zeros(3))
    >>> y.shape, cache.mean.shape, cache.var.shape, cache.count
    ((8, 4, 4, 3), (3,), (3,), 128)
    """
    x = check_float_array(x, "x", 4, "(N, H, W, C)")
    gamma = _check_channel_vector(gamma, "gamma", x)
    beta = _check_channel_vector(beta, "beta", x)
    if not isinstance(eps, Real) or isinstance(eps, bool):
        raise TypeError(f"`eps` must be a real number > 0, got {eps!r}")
    if not eps > 0:  # also refuses nan
        raise ValueError(f"`eps` must be a real number > 0, got {eps!r}")
    if mean is None and var is None:
        m = x.shape[0] * x.shape[1] * x.shape[2]
        if m < 2:
            raise ValueError(
                f"batch statistics need more than 1 value per channel, but `x` of shape {x.shape} "
                f"has N*H*W = {m}; pass `mean` and `var` (eval mode) or use a bigger batch"
            )
        mean = x.mean(axis=_AXES)  # (C,)
        centred = x - mean  # (N, H, W, C)
        var = (centred * centred).mean(axis=_AXES)  # (C,), biased: divided by m
        batch_stats = True
    elif mean is not None and var is not None:
        mean = _check_channel_vector(mean, "mean", x)
        var = _check_channel_vector(var, "var", x)
        if (var < 0).any():
            raise ValueError(f"`var` must be >= 0 in every channel, got {var}")
        centred = x - mean  # (N, H, W, C)
        batch_stats = False
    else:
        raise ValueError(
            "`mean` and `var` must be given together (eval mode) or both be None (training mode), "
            f"got mean={'None' if mean is None else 'an array'}, "
            f"var={'None' if var is None else 'an array'}"
        )
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))  # (C,)
    x_hat = centred * inv_std  # (N, H, W, C)
    y = gamma * x_hat + beta  # (N, H, W, C)
    cache = BatchNorm2dCache(x_hat=x_hat, gamma=gamma, inv_std=inv_std, mean=mean, var=var,
                             batch_stats=batch_stats)
    return y, cache


def batch_norm2d_backward(dy, cache: BatchNorm2dCache):
    """Gradients w.r.t. x, gamma and beta (see the module docstring for the formulas).

    >>> x = np.random.default_rng(0).normal(size=(2, 3, 3, 4))
    >>> _, cache = batch_norm2d_forward(x, np.ones(4), np.zeros(4))
    >>> dx, dgamma, dbeta = batch_norm2d_backward(np.ones_like(x), cache)
    >>> dx.shape, dgamma.shape, dbeta.shape
    ((2, 3, 3, 4), (4,), (4,))
    """
    check_cache(cache, BatchNorm2dCache, "batch_norm2d")
    x_hat = cache.x_hat
    dy = check_dy(dy, x_hat.shape, x_hat.dtype, "batch_norm2d")
    dbeta = dy.sum(axis=_AXES)  # (C,)
    dgamma = (dy * x_hat).sum(axis=_AXES)  # (C,)
    scale = cache.gamma * cache.inv_std  # (C,)
    if cache.batch_stats:
        m = cache.count
        dx = (scale / m) * (m * dy - dbeta - x_hat * dgamma)  # (N, H, W, C)
    else:
        dx = scale * dy  # (N, H, W, C); mean and var were constants
    return dx, dgamma, dbeta
