"""One input through a model, every number kept: the shared record behind the explainers.

``trace(model, x, label)`` runs a ``Sequential`` in eval mode over one normalised input and keeps,
for every layer ``l`` (``a_0 = x``, ``a_{l+1} = layer_l(a_l)``):

    inputs a_l, outputs a_{l+1}, the layer's own cache,
    dL/da_{l+1} (the gradient flowing into the layer's output) and dL/da_l (what it sends back),
    dL/dθ for each of its parameters θ,

where ``L = -log softmax(logits)[label]`` (softmax cross-entropy of the chosen class; with a
single-logit model, sigmoid binary cross-entropy with ``label`` in {0, 1}). The gradients come from
the layers' own ``backward``, so they are the numbers ``juanji.functional`` computes, not a second
implementation. The model is left as it was found: its train/eval mode, every ``Parameter.grad``
and every layer's cache are restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from juanji.nn import head

__all__ = ["LayerTrace", "Trace", "trace"]


@dataclass(frozen=True)
class LayerTrace:
    """What one layer saw and sent, forward and backward (every array has the batch axis, N=1).

    Attributes:
        index: position in ``model.layers``.
        layer: the layer object itself (hyperparameters: ``kernel_size``, ``stride``, ...).
        kind: its type name, ``"Conv2D"``, ``"ReLU"``, ``"MaxPool2D"``, ...
        x: the input activation a_l, e.g. (1, H, W, C).
        y: the output activation a_{l+1}, e.g. (1, Ho, Wo, C_out).
        cache: what the layer's forward kept for its backward (e.g. ``MaxPool2dCache.argmax``).
        params: ``{name: copy of Parameter.data}``, e.g. ``{"weight": (kh, kw, C_in, C_out)}``.
        dy: dL/dy, the gradient flowing into the output, y's shape.
        dx: dL/dx, what the layer's backward sends to the previous layer, x's shape.
        grads: ``{name: dL/dθ}``, each the shape of its parameter.
    """

    index: int
    layer: object
    kind: str
    x: np.ndarray
    y: np.ndarray
    cache: object
    params: dict
    dy: np.ndarray
    dx: np.ndarray
    grads: dict


@dataclass(frozen=True)
class Trace:
    """A whole forward and backward pass for one input.

    Attributes:
        x: the input (1, H, W, C) in the model's dtype.
        layers: one :class:`LayerTrace` per layer, in order.
        logits: (K,) the last layer's output.
        probs: (K,) softmax(logits); for a single-logit model (1,) sigmoid(logit), P(class 1).
        predicted: the predicted class index.
        label: the class whose loss was differentiated.
        loss: L for ``label``.
    """

    x: np.ndarray
    layers: tuple
    logits: np.ndarray
    probs: np.ndarray
    predicted: int
    label: int
    loss: float

    @property
    def dx(self) -> np.ndarray:
        """dL/dx for the input image (1, H, W, C): the saliency before taking magnitudes."""
        return self.layers[0].dx


def _check_input(model, x) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"`x` must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"`x` must be a normalised float array, got dtype {x.dtype}")
    want = (1, *model.input_shape)
    if x.shape != want:
        raise ValueError(f"`x` must be one input of shape {want} for this model, got {x.shape}")
    return x.astype(model.dtype, copy=False)


def _check_label(label, k: int, predicted: int) -> int:
    if label is None:
        return predicted
    n_classes = head.num_classes(k)  # a single-logit model still has two classes
    if not isinstance(label, Integral) or isinstance(label, bool) or not 0 <= label < n_classes:
        raise ValueError(f"`label` must be a class index in [0, {n_classes}) or None (the "
                         f"predicted class), got {label!r}")
    return int(label)


def trace(model, x: np.ndarray, label: int | None = None) -> Trace:
    """Run ``model`` (eval mode) over ``x`` and back from the loss of ``label``; keep everything.

    Args:
        model: a built ``juanji.nn.Sequential`` with a flat (K,) output.
        x: one normalised input (1, H, W, C) (or the model's input shape with a batch axis of 1).
        label: the class whose loss ``-log p[label]`` is differentiated; None for the predicted
            class ("why did it say this?").

    Returns:
        A :class:`Trace`.

    >>> from juanji.models import build_model
    >>> model = build_model("digits", (8, 8, 1), 10)
    >>> t = trace(model, np.zeros((1, 8, 8, 1), np.float32), label=3)
    >>> t.layers[0].kind, t.layers[0].y.shape, t.layers[0].grads["weight"].shape
    ('Conv2D', (1, 8, 8, 16), (3, 3, 1, 16))
    >>> t.probs.shape, t.label, t.layers[2].dy.shape    # dL/d(output of the first max-pool)
    ((10,), 3, (1, 4, 4, 16))
    """
    if not hasattr(model, "layers") or not hasattr(model, "input_shape"):
        raise TypeError(f"`model` must be a juanji.nn.Sequential, got {type(model).__name__}")
    if len(model.output_shape) != 1:
        raise ValueError(f"`model` must end in a flat (K,) output, got {model.output_shape}")
    x = _check_input(model, x)

    # Everything a trace changes (modes, gradients, caches) is put back when it ends.
    with model.kept_state():
        acts, caches = [x], []
        for layer in model.layers:
            acts.append(layer.forward(acts[-1]))
            caches.append(layer.last_cache)
        logits = acts[-1][0]  # (K,)
        k = logits.shape[0]
        probs = head.probabilities(acts[-1])[0]  # (K,), or (1,) P(class 1) for one logit
        predicted = int(head.predictions(acts[-1])[0])
        label = _check_label(label, k, predicted)
        loss, loss_cache = head.loss_forward(acts[-1], np.array([label]))
        dy = head.loss_backward(loss_cache)  # (1, K)

        records = [None] * len(model.layers)
        for i in reversed(range(len(model.layers))):
            layer = model.layers[i]
            dx = layer.backward(dy)
            records[i] = LayerTrace(
                index=i, layer=layer, kind=type(layer).__name__, x=acts[i], y=acts[i + 1],
                cache=caches[i], params={n: p.data.copy() for n, p in layer.params.items()},
                dy=dy, dx=dx, grads={n: p.grad.copy() for n, p in layer.params.items()},
            )
            dy = dx
    return Trace(x=x, layers=tuple(records), logits=logits.copy(), probs=probs,
                 predicted=predicted, label=label, loss=float(loss))
