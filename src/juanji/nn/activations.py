"""Elementwise activation layers: ReLU, LeakyReLU, Sigmoid, Tanh. No parameters; the shape is
unchanged; backward multiplies by the local derivative (see :mod:`juanji.functional.activations`).
"""

from __future__ import annotations

from juanji.functional.activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)

from juanji.validation import check_real

from .base import Layer, register


class _Elementwise(Layer):
    """Shape-preserving layer: ``output_shape(s) == s``."""

    def output_shape(self, input_shape):
        return tuple(input_shape)


@register
class ReLU(_Elementwise):
    """``max(x, 0)``, elementwise; backward passes ``dy`` where ``x > 0`` and 0 elsewhere.

    Takes no arguments and has no parameters.

    Shape:
        - Input: ``(N, *)``, any shape.
        - Output: ``(N, *)``, the input's shape.

    >>> ReLU().output_shape((28, 28, 8))
    (28, 28, 8)
    """

    def forward(self, x):
        y, self._cache = relu_forward(x)
        return y

    def backward(self, dy):
        return relu_backward(dy, self._need_cache())


@register
class LeakyReLU(_Elementwise):
    """``x`` where ``x > 0`` else ``negative_slope * x``, elementwise.

    Args:
        negative_slope: the slope for negative inputs, in [0, 1] (default 0.01).

    Shape:
        - Input: ``(N, *)``, any shape.
        - Output: ``(N, *)``, the input's shape.

    >>> import numpy as np
    >>> LeakyReLU(0.1).forward(np.array([[-2.0, 3.0]]))
    array([[-0.2,  3. ]])
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_real(negative_slope, "negative_slope", 0.0, 1.0)

    def forward(self, x):
        y, self._cache = leaky_relu_forward(x, self.negative_slope)
        return y

    def backward(self, dy):
        return leaky_relu_backward(dy, self._need_cache())

    def hyperparameters(self):
        return {"negative_slope": self.negative_slope}


@register
class Sigmoid(_Elementwise):
    """``1 / (1 + exp(-x))``, elementwise; backward multiplies by ``y * (1 - y)``.

    Takes no arguments and has no parameters.

    Shape:
        - Input: ``(N, *)``, any shape.
        - Output: ``(N, *)``, the input's shape.
    """

    def forward(self, x):
        y, self._cache = sigmoid_forward(x)
        return y

    def backward(self, dy):
        return sigmoid_backward(dy, self._need_cache())


@register
class Tanh(_Elementwise):
    """``tanh(x)``, elementwise; backward multiplies by ``1 - y**2``.

    Takes no arguments and has no parameters.

    Shape:
        - Input: ``(N, *)``, any shape.
        - Output: ``(N, *)``, the input's shape.
    """

    def forward(self, x):
        y, self._cache = tanh_forward(x)
        return y

    def backward(self, dy):
        return tanh_backward(dy, self._need_cache())
