"""Built-in architectures: ``build_model(name, input_shape, num_classes)`` -> a built Sequential.

Each adapts to the input shape and the number of classes K; the last layer gives K logits (or one
logit for ``binary=True`` with K == 2: sigmoid + binary cross-entropy). An input too small for an
architecture's windows is refused with the layer that does not fit.

>>> sorted(MODELS)
['course', 'digits', 'lenet5', 'signs', 'tinyvgg']
>>> build_model("digits", (8, 8, 1), 10).output_shape
(10,)
"""

from __future__ import annotations

import numpy as np

from .nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from .validation import check_int
from .nn.sequential import LayerShapeError

MODELS = {
    "lenet5": "LeNet-5 with ReLU and max pooling: conv 5x5 x6, pool, conv 5x5 x16, pool, "
              "FC 120, FC 84, K (first conv 'same' below 32x32, so 28x28 works as the classic)",
    "course": "the course's table network: conv 5x5 x8, pool 2, conv 5x5 x16, pool 2, "
              "FC 120, FC 84, K (ReLU after each conv and hidden FC)",
    "signs": "the course's SIGNS net: conv 4x4 x8 same, max 8x8/8, conv 2x2 x16 same, "
             "max 4x4/4, FC K",
    "tinyvgg": "two VGG blocks (conv3x3-relu-conv3x3-relu-max2) of 32 then 64 filters, FC K",
    "digits": "small default for 8x8 digits: conv3x3 x16, pool, conv3x3 x32, pool, FC 64, FC K",
}


def _lenet5(input_shape, k):
    # Classic LeNet-5 took 32x32 inputs; MNIST-sized 28x28 inputs were padded to 32. 'same'
    # padding on the first conv does the same job: 28 -> 28 -> 14 -> 10 -> 5, as 32 -> 28 would.
    first_padding = "same" if min(input_shape[:2]) < 32 else 0
    return [Conv2D(6, 5, padding=first_padding), ReLU(), MaxPool2D(2),
            Conv2D(16, 5), ReLU(), MaxPool2D(2), Flatten(),
            Dense(120), ReLU(), Dense(84), ReLU(), Dense(k)]


def _course(input_shape, k):
    return [Conv2D(8, 5), ReLU(), MaxPool2D(2), Conv2D(16, 5), ReLU(), MaxPool2D(2), Flatten(),
            Dense(120), ReLU(), Dense(84), ReLU(), Dense(k)]


def _signs(input_shape, k):
    return [Conv2D(8, 4, padding="same"), ReLU(), MaxPool2D(8, stride=8, padding="same"),
            Conv2D(16, 2, padding="same"), ReLU(), MaxPool2D(4, stride=4, padding="same"),
            Flatten(), Dense(k)]


def _tinyvgg(input_shape, k):
    layers = []
    for filters in (32, 64):
        layers += [Conv2D(filters, 3, padding="same"), ReLU(),
                   Conv2D(filters, 3, padding="same"), ReLU(), MaxPool2D(2)]
    return layers + [Flatten(), Dense(k)]


def _digits(input_shape, k):
    return [Conv2D(16, 3, padding="same"), ReLU(), MaxPool2D(2),
            Conv2D(32, 3, padding="same"), ReLU(), MaxPool2D(2), Flatten(),
            Dense(64), ReLU(), Dense(k)]


_BUILDERS = {"lenet5": _lenet5, "course": _course, "signs": _signs, "tinyvgg": _tinyvgg,
             "digits": _digits}


def build_model(name: str, input_shape, num_classes: int, *, seed: int = 0, dtype=np.float32,
                binary: bool = False) -> Sequential:
    """Build the architecture ``name`` for ``input_shape`` (H, W, C) and ``num_classes`` K.

    Args:
        name: one of :data:`MODELS`.
        input_shape: one example's shape, channels-last, e.g. ``(28, 28, 1)``.
        num_classes: K >= 2; the output is ``(N, K)`` logits.
        seed, dtype: passed to :class:`~juanji.nn.sequential.Sequential`.
        binary: with K == 2, end in a single logit ``(N, 1)`` for sigmoid + binary cross-entropy.

    >>> build_model("lenet5", (28, 28, 1), 10).output_shape
    (10,)
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3):
        raise ValueError(f"`input_shape` must be (H, W, C), got {input_shape!r}")
    k = check_int(num_classes, "num_classes")
    if k < 2:
        raise ValueError(f"`num_classes` must be >= 2, got {num_classes!r}")
    if not isinstance(binary, bool):
        raise TypeError(f"`binary` must be True or False, got {binary!r}")
    if binary and k != 2:
        raise ValueError(f"`binary=True` needs `num_classes` == 2, got {num_classes!r}")
    layers = _BUILDERS[name](tuple(input_shape), 1 if binary else k)
    try:
        return Sequential(layers, tuple(input_shape), seed=seed, dtype=dtype)
    except LayerShapeError as err:
        raise ValueError(f"`input_shape` {tuple(input_shape)} is too small or does not fit model "
                         f"{name!r}: {err}") from err
