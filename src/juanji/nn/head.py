"""The model's head: how the last layer's outputs become probabilities, a prediction and a loss.

The one owner of the binary-vs-K-classes rule, used by training, ``Sequential.predict``, the
tracer and the plots:

- one output unit (a single logit ``z``, e.g. Happy House): two classes, ``P(1) = sigmoid(z)``,
  predicted class ``[z > 0]``, loss = sigmoid binary cross-entropy;
- ``K >= 2`` units: K classes, ``softmax(z)``, ``argmax z``, loss = softmax cross-entropy.

>>> z = np.array([[2.0], [-1.0]])                     # (B, 1): one logit each
>>> num_classes(1), predictions(z).tolist()
(2, [1, 0])
>>> predictions(np.array([[0.1, 3.0, -2.0]])).tolist()
[1]
"""

from __future__ import annotations

import numpy as np

from juanji.functional.activations import sigmoid_forward
from juanji.functional.losses import (
    SigmoidBinaryCrossEntropyCache,
    sigmoid_binary_cross_entropy_backward,
    sigmoid_binary_cross_entropy_forward,
    softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)

__all__ = ["is_binary", "loss_backward", "loss_forward", "num_classes", "predicted",
           "predictions", "probabilities", "score_gradient"]


def is_binary(width: int) -> bool:
    """True for a single-logit (sigmoid) head of output width 1."""
    return int(width) == 1


def num_classes(width: int) -> int:
    """K, the classes a head of output width ``width`` tells apart (2 for a single logit)."""
    return 2 if is_binary(width) else int(width)


def probabilities(logits: np.ndarray) -> np.ndarray:
    """(B, K) softmax(logits); for (B, 1) logits, (B, 1) sigmoid(z) = P(class 1)."""
    if is_binary(logits.shape[1]):
        return sigmoid_forward(logits)[0]  # (B, 1)
    return softmax(logits)  # (B, K)


def predictions(logits: np.ndarray) -> np.ndarray:
    """(B,) int64 predicted classes: ``[z > 0]`` for one logit, ``argmax`` for K."""
    if is_binary(logits.shape[1]):
        return (logits[:, 0] > 0).astype(np.int64)  # (B,)
    return logits.argmax(axis=1)  # (B,)


def predicted(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, probabilities)``, each (B,): the predicted class and its probability
    (for one logit, ``1 - sigmoid(z)`` when class 0 is predicted).

    >>> predicted(np.array([[0.0, 2.0], [3.0, 1.0]]))[0].tolist()
    [1, 0]
    >>> [round(float(p), 3) for p in predicted(np.array([[-2.0], [2.0]]))[1]]
    [0.881, 0.881]
    """
    classes = predictions(logits)  # (B,)
    probs = probabilities(logits)  # (B, K) or (B, 1)
    if is_binary(logits.shape[1]):
        return classes, np.where(classes == 1, probs[:, 0], 1.0 - probs[:, 0])  # (B,)
    return classes, probs[np.arange(len(classes)), classes]  # (B,)


def loss_forward(logits: np.ndarray, labels: np.ndarray):
    """``(loss, cache)``: sigmoid BCE for (B, 1) logits, softmax CE for (B, K)."""
    if is_binary(logits.shape[1]):
        return sigmoid_binary_cross_entropy_forward(logits, labels)
    return softmax_cross_entropy_forward(logits, labels)


def loss_backward(cache) -> np.ndarray:
    """dL/dlogits for dL = 1, through whichever loss made ``cache``."""
    if isinstance(cache, SigmoidBinaryCrossEntropyCache):
        return sigmoid_binary_cross_entropy_backward(1.0, cache)
    return softmax_cross_entropy_backward(1.0, cache)


def score_gradient(logits: np.ndarray, label: int) -> np.ndarray:
    """d score[label] / d logits, logits' shape: a one-hot at ``label`` for K logits; for one
    logit z the score of class 1 is z and of class 0 is -z, so +1 or -1."""
    d = np.zeros_like(logits)  # (B, K)
    if is_binary(logits.shape[1]):
        d[:, 0] = 1.0 if label == 1 else -1.0
    else:
        d[:, label] = 1.0
    return d
