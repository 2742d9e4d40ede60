"""Softmax, log-softmax and the two classification losses, written to stay finite.

Softmax cross-entropy over K classes, labels t[n] in [0, K)::

    log_softmax(z)[k] = (z[k] - m) - log(sum_j exp(z[j] - m)),   m = max_j z[j]
    loss              = -(1/N) sum_n log_softmax(z[n])[t[n]]
    dloss/dz[n]       = (softmax(z[n]) - onehot(t[n])) / N

Subtracting the row max m changes nothing mathematically (it cancels) but keeps every exponent
<= 0, so logits of 1e4 neither overflow nor turn into inf - inf = nan.

Binary cross-entropy on a logit z with label y in {0, 1}, in its stable form::

    loss        = (1/N) sum_n max(z, 0) - z*y + log(1 + exp(-|z|))
    dloss/dz[n] = (sigmoid(z[n]) - y[n]) / N

Both forwards return the loss as a Python float and keep dloss/dz in the cache; the backward scales
it by the upstream ``dloss`` (1.0 when the loss is the end of the graph).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np

from juanji.validation import check_cache, check_float_array
from .activations import stable_sigmoid


def _check_logits_last_axis(logits) -> np.ndarray:
    logits = check_float_array(logits, "logits", np.ndim(logits), "(..., K)")
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(
            f"`logits` must have at least one class on its last axis (..., K), K >= 1, "
            f"got shape {logits.shape}"
        )
    return logits


def log_softmax(logits) -> np.ndarray:
    """``log(softmax(logits))`` over the last axis, stable for any finite logits.

    >>> log_softmax(np.zeros((2, 4))).shape
    (2, 4)
    >>> bool(np.isfinite(log_softmax(np.array([[1e4, -1e4]]))).all())
    True
    """
    logits = _check_logits_last_axis(logits)
    z = logits - logits.max(axis=-1, keepdims=True)  # (..., K), every entry <= 0, the max is 0
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # (..., K)


def softmax(logits) -> np.ndarray:
    """``exp(z) / sum(exp(z))`` over the last axis, after subtracting the row max.

    >>> p = softmax(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    >>> p.shape, p.sum(axis=1).round(12).tolist()
    ((2, 3), [1.0, 1.0])
    """
    logits = _check_logits_last_axis(logits)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))  # (..., K), in (0, 1]
    return e / e.sum(axis=-1, keepdims=True)  # (..., K)


def _check_dloss(dloss, op: str) -> float:
    """The upstream gradient of a scalar loss is a scalar."""
    if isinstance(dloss, np.ndarray) and dloss.shape == () and dloss.dtype.kind in "fiu":
        return float(dloss)
    if isinstance(dloss, Real) and not isinstance(dloss, bool):
        return float(dloss)
    shape = getattr(dloss, "shape", None)
    got = f"an array of shape {shape}" if shape is not None else repr(dloss)
    raise TypeError(
        f"`dloss` of {op}_backward must be a real scalar (the loss is a scalar, usually 1.0), "
        f"got {got}"
    )


# ---- Softmax cross-entropy ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SoftmaxCrossEntropyCache:
    """dloss/dlogits for dloss = 1: ``(softmax(logits) - onehot(labels)) / N``."""

    dlogits: np.ndarray  # (N, K), the logits' dtype


def _check_class_labels(labels, n: int, k: int) -> np.ndarray:
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"`labels` must be a numpy.ndarray, got {type(labels).__name__}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(
            f"`labels` must have an integer dtype (class indices), got {labels.dtype}; "
            f"convert with labels.astype(np.int64)"
        )
    if labels.shape != (n,):
        raise ValueError(
            f"`labels` must have shape (N,) = ({n},) to match `logits` (N, K), got {labels.shape}"
        )
    bad = (labels < 0) | (labels >= k)
    if bad.any():
        raise ValueError(
            f"`labels` must be class indices in [0, {k}) for K={k} classes, "
            f"got {labels[bad][0]} at position {int(np.flatnonzero(bad)[0])}"
        )
    return labels


def softmax_cross_entropy_forward(logits, labels) -> tuple[float, SoftmaxCrossEntropyCache]:
    """Mean over the batch of ``-log softmax(logits)[label]``.

    Args:
        logits: (N, K) float32/float64 scores, one row per example.
        labels: (N,) integer class indices in [0, K).

    Returns:
        The loss as a Python float, and the cache for the backward.

    >>> loss, cache = softmax_cross_entropy_forward(np.zeros((2, 10)), np.array([3, 7]))
    >>> round(loss, 6) == round(float(np.log(10)), 6), cache.dlogits.shape   # uniform guess: log K
    (True, (2, 10))
    """
    logits = check_float_array(logits, "logits", 2, "(N, K)")
    n, k = logits.shape
    if n < 1 or k < 1:
        raise ValueError(f"`logits` must have N >= 1 rows and K >= 1 classes, got shape {(n, k)}")
    labels = _check_class_labels(labels, n, k)
    logp = log_softmax(logits)  # (N, K)
    rows = np.arange(n)
    loss = -logp[rows, labels].mean()
    dlogits = np.exp(logp)  # (N, K), softmax from the stable log
    dlogits[rows, labels] -= 1
    dlogits /= n
    return float(loss), SoftmaxCrossEntropyCache(dlogits=dlogits)


def softmax_cross_entropy_backward(dloss, cache: SoftmaxCrossEntropyCache) -> np.ndarray:
    """``dlogits = dloss * (softmax(logits) - onehot(labels)) / N``.

    >>> _, cache = softmax_cross_entropy_forward(np.zeros((2, 10)), np.array([3, 7]))
    >>> softmax_cross_entropy_backward(1.0, cache).shape
    (2, 10)
    """
    check_cache(cache, SoftmaxCrossEntropyCache, "softmax_cross_entropy")
    scale = _check_dloss(dloss, "softmax_cross_entropy")
    return cache.dlogits * cache.dlogits.dtype.type(scale)  # (N, K)


# ---- Sigmoid binary cross-entropy -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SigmoidBinaryCrossEntropyCache:
    """dloss/dlogits for dloss = 1: ``(sigmoid(logits) - labels) / N``, in the logits' shape."""

    dlogits: np.ndarray  # (N,) or (N, 1)


def _check_binary_labels(labels, n: int, dtype) -> np.ndarray:
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"`labels` must be a numpy.ndarray, got {type(labels).__name__}")
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"`labels` must have a bool, integer or float dtype, got {labels.dtype}")
    if labels.shape not in ((n,), (n, 1)):
        raise ValueError(
            f"`labels` must have shape ({n},) or ({n}, 1) to match `logits`, got {labels.shape}"
        )
    bad = (labels != 0) & (labels != 1)
    if bad.any():
        raise ValueError(
            f"`labels` must be 0 or 1, got {labels.reshape(-1)[bad.reshape(-1)][0]} "
            f"at position {int(np.flatnonzero(bad)[0])}"
        )
    return labels.astype(dtype)


def sigmoid_binary_cross_entropy_forward(
    logits, labels
) -> tuple[float, SigmoidBinaryCrossEntropyCache]:
    """Mean binary cross-entropy of ``sigmoid(logits)`` against labels in {0, 1}, stable form.

    Args:
        logits: (N,) or (N, 1) float32/float64, one score per example.
        labels: (N,) or (N, 1), values 0 or 1 (bool, integer or float dtype).

    >>> loss, cache = sigmoid_binary_cross_entropy_forward(np.zeros((4, 1)), np.array([0, 1, 1, 0]))
    >>> round(loss, 6) == round(float(np.log(2)), 6), cache.dlogits.shape
    (True, (4, 1))
    """
    logits = check_float_array(logits, "logits", np.ndim(logits), "(N,) or (N, 1)")
    if not (logits.ndim == 1 or (logits.ndim == 2 and logits.shape[1] == 1)) or logits.size < 1:
        raise ValueError(f"`logits` must have shape (N,) or (N, 1), N >= 1, got {logits.shape}")
    n = logits.shape[0]
    y = _check_binary_labels(labels, n, logits.dtype).reshape(logits.shape)  # logits' shape
    z = logits
    losses = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))  # exp of <= 0: no overflow
    dlogits = (stable_sigmoid(z) - y) / logits.dtype.type(n)
    return float(losses.mean()), SigmoidBinaryCrossEntropyCache(dlogits=dlogits)


def sigmoid_binary_cross_entropy_backward(
    dloss, cache: SigmoidBinaryCrossEntropyCache
) -> np.ndarray:
    """``dlogits = dloss * (sigmoid(logits) - labels) / N``, in the logits' shape.

    >>> _, cache = sigmoid_binary_cross_entropy_forward(np.zeros(3), np.array([0, 1, 1]))
    >>> sigmoid_binary_cross_entropy_backward(1.0, cache).shape
    (3,)
    """
    check_cache(cache, SigmoidBinaryCrossEntropyCache, "sigmoid_binary_cross_entropy")
    scale = _check_dloss(dloss, "sigmoid_binary_cross_entropy")
    return cache.dlogits * cache.dlogits.dtype.type(scale)
