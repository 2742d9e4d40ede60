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
    """``max(x, 0)``.

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
    """``x`` where ``x > 0`` else ``negative_slope * x``."""

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
    """``1 / (1 + exp(-x))``."""

    def forward(self, x):
        y, self._cache = sigmoid_forward(x)
        return y

    def backward(self, dy):
        return sigmoid_backward(dy, self._need_cache())


@register
class Tanh(_Elementwise):
    """``tanh(x)``."""

    def forward(self, x):
        y, self._cache = tanh_forward(x)
        return y

    def backward(self, dy):
        return tanh_backward(dy, self._need_cache())
