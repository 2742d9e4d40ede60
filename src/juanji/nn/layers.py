"""Layers with weights, and the reshaping layer between them: Conv2D, Dense, Flatten.

Each is parameters plus one call into :mod:`juanji.functional`; the output shape comes from
:func:`juanji.functional.sizes.output_size`, the one formula.
"""

from __future__ import annotations

import numpy as np

from juanji.functional.conv import conv2d_backward, conv2d_forward
from juanji.functional.linear import linear_backward, linear_forward
from juanji.functional.shape import flatten_backward, flatten_forward
from juanji.functional.sizes import output_size

from juanji.validation import check_bool, check_int, check_padding_arg, pair, resolve_padding

from .base import Layer, Window, image_shape, register
from .init import check_init, initialise
from .parameter import Parameter


@register
class Conv2D(Layer):
    """2-D convolution, channels-last, with ``filters`` output channels.

    Each output number is a weighted sum of one ``kh x kw x C_in/groups`` window of the input
    plus the filter's bias; the same filter slides over every position (parameter sharing).

    Args:
        filters: C_out, the number of filters (output channels); divisible by ``groups``.
        kernel_size: ``f`` or ``(kh, kw)``, the window's height and width.
        stride: ``s`` or ``(sh, sw)``, the step between two windows (default 1).
        padding: zeros added around H and W before the windows slide: an int ``p``, a pair
            ``(ph, pw)``, ``((top, bottom), (left, right))``, ``"valid"`` (0) or ``"same"``
            (output ``ceil(H / s)``, as TensorFlow; the odd extra pixel goes after).
        dilation: ``d`` or ``(dh, dw)``, the gap between the kernel's taps (default 1).
        groups: split the input channels into this many groups, each convolved with its own
            ``filters / groups`` filters; C_in must be divisible by it (default 1).
        use_bias: add a learnable bias per filter (default True).
        init: initial weights, ``"he"`` (default, for ReLU) or ``"glorot"``
            (:mod:`juanji.nn.init`); the bias starts at zero.

    Shape:
        - Input: ``(N, H, W, C_in)`` (NHWC, channels last).
        - Output: ``(N, Ho, Wo, filters)`` with, per axis,
          ``Ho = floor((H + p_top + p_bottom - d*(kh - 1) - 1) / s) + 1``,
          which for ``d = 1`` and ``p`` on both sides is the course's
          ``floor((n - f + 2p) / s) + 1``.
        - ``weight``: ``(kh, kw, C_in/groups, filters)``; ``bias``: ``(filters,)``; in all
          ``(kh*kw*C_in/groups + 1) * filters`` values.

    >>> layer = Conv2D(8, 5)
    >>> layer.build((32, 32, 3), np.random.default_rng(0))     # the course's CONV1
    (28, 28, 8)
    >>> sum(p.size for p in layer.parameters())                 # (5*5*3 + 1) * 8
    608
    """

    def __init__(self, filters, kernel_size, *, stride=1, padding=0, dilation=1, groups=1,
                 use_bias=True, init="he"):
        super().__init__()
        self.filters = check_int(filters, "filters")
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        check_padding_arg(padding)
        self.padding = padding
        self.groups = check_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(
                f"`filters` (={self.filters}) must be divisible by `groups` (={self.groups})"
            )
        self.use_bias = check_bool(use_bias, "use_bias")
        self.init = check_init(init)

    def window(self) -> Window:
        """Kernel, stride, dilation and the padding resolved for the built input shape."""
        if self.in_shape is None:
            raise RuntimeError("Conv2D.window() needs a built layer")
        pad = resolve_padding(self.padding, self.in_shape[:2], self.kernel_size, self.stride,
                              self.dilation)
        return Window(self.kernel_size, self.stride, self.dilation, pad)

    def inputs_per_output(self) -> int:
        """``kh * kw * C_in / groups``: the numbers one output is a weighted sum of."""
        kh, kw = self.kernel_size
        return kh * kw * self.in_shape[2] // self.groups

    def output_shape(self, input_shape):
        h, w, c = image_shape(input_shape, "Conv2D")
        if c % self.groups:
            raise ValueError(
                f"input channels C_in (={c}) must be divisible by `groups` (={self.groups})"
            )
        pad_h, pad_w = resolve_padding(self.padding, (h, w), self.kernel_size, self.stride,
                                       self.dilation)
        ho = output_size(h, self.kernel_size[0], stride=self.stride[0], padding=pad_h,
                         dilation=self.dilation[0])
        wo = output_size(w, self.kernel_size[1], stride=self.stride[1], padding=pad_w,
                         dilation=self.dilation[1])
        return (ho, wo, self.filters)

    def values_created(self, input_shape):
        kh, kw = self.kernel_size  # weight (kh, kw, C_in/g, C_out), bias (C_out,)
        return kh * kw * (int(input_shape[2]) // self.groups) * self.filters \
            + self.filters * self.use_bias

    def _create(self, input_shape, rng, dtype):
        kh, kw = self.kernel_size
        shape = (kh, kw, input_shape[2] // self.groups, self.filters)  # (kh, kw, C_in/g, C_out)
        self.params = {"weight": Parameter(initialise(self.init, shape, rng, dtype), "weight")}
        if self.use_bias:
            self.params["bias"] = Parameter(np.zeros(self.filters, dtype=dtype), "bias")

    def forward(self, x):
        b = self.params["bias"].data if self.use_bias else None
        y, self._cache = conv2d_forward(x, self.params["weight"].data, b, stride=self.stride,
                                        padding=self.padding, dilation=self.dilation,
                                        groups=self.groups)
        return y

    def backward(self, dy):
        return self._backward(dy, need_dx=True)

    def backward_params_only(self, dy):
        self._backward(dy, need_dx=False)  # dw, db only: a model's first conv skips dx

    def _backward(self, dy, need_dx):
        dx, dw, db = conv2d_backward(dy, self._need_cache(), need_dx=need_dx)
        self.params["weight"].grad[...] = dw
        if self.use_bias:
            self.params["bias"].grad[...] = db
        return dx

    def hyperparameters(self):
        return {"filters": self.filters, "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "dilation": self.dilation, "groups": self.groups,
                "use_bias": self.use_bias, "init": self.init}


@register
class Dense(Layer):
    """Fully connected layer ``y = x @ W + b`` with ``units`` outputs.

    Every output reads every input (no sharing, no sparsity): the layer that holds most of a
    small CNN's parameters.

    Args:
        units: D_out, the number of outputs.
        use_bias: add a learnable bias per output (default True).
        init: initial weights, ``"he"`` (default) or ``"glorot"`` (:mod:`juanji.nn.init`);
            the bias starts at zero.

    Shape:
        - Input: ``(N, D_in)``; put :class:`Flatten` before it after a conv or pool.
        - Output: ``(N, units)``.
        - ``weight``: ``(D_in, units)`` (inputs by outputs, so ``x @ W``; PyTorch stores the
          transpose); ``bias``: ``(units,)``; in all ``D_in * units + units`` values.

    >>> layer = Dense(120)
    >>> layer.build((400,), np.random.default_rng(0))          # the course's FC3
    (120,)
    >>> sum(p.size for p in layer.parameters())                 # 400*120 + 120
    48120
    """

    def __init__(self, units, *, use_bias=True, init="he"):
        super().__init__()
        self.units = check_int(units, "units")
        self.use_bias = check_bool(use_bias, "use_bias")
        self.init = check_init(init)

    def inputs_per_output(self) -> int:
        """``D_in``: every output reads every input."""
        return int(self.in_shape[0])

    def output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects a flat input shape (D,), got {input_shape}; put Flatten() before it"
            )
        return (self.units,)

    def values_created(self, input_shape):
        return int(input_shape[0]) * self.units + self.units * self.use_bias  # weight, bias

    def _create(self, input_shape, rng, dtype):
        shape = (input_shape[0], self.units)  # (D_in, D_out)
        self.params = {"weight": Parameter(initialise(self.init, shape, rng, dtype), "weight")}
        if self.use_bias:
            self.params["bias"] = Parameter(np.zeros(self.units, dtype=dtype), "bias")

    def forward(self, x):
        b = self.params["bias"].data if self.use_bias else None
        w = self.params["weight"].data
        y, self._cache = linear_forward(x, w, b)
        return y

    def backward(self, dy):
        cache = self._need_cache()
        dx, dw, db = linear_backward(dy, cache)
        self.params["weight"].grad[...] = dw
        if self.use_bias:
            self.params["bias"].grad[...] = db
        return dx

    def hyperparameters(self):
        return {"units": self.units, "use_bias": self.use_bias, "init": self.init}


@register
class Flatten(Layer):
    """Unroll each example into one vector, in row-major (H, W, C) order.

    Backward reshapes the gradient back to the input's shape (the course's "un-flatten").

    Takes no arguments and has no parameters.

    Shape:
        - Input: ``(N, H, W, C)`` (or any ``(N, *dims)``).
        - Output: ``(N, H*W*C)``, the product of the example's dimensions, channels varying
          fastest (PyTorch's NCHW flatten orders them differently, see
          ``docs/from-juanji-to-pytorch.md``).

    >>> Flatten().output_shape((5, 5, 16))
    (400,)
    """

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x):
        y, self._cache = flatten_forward(x)
        return y

    def backward(self, dy):
        return flatten_backward(dy, self._need_cache())
