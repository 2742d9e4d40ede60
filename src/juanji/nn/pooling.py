"""Pooling layers: MaxPool2D, AvgPool2D (thin wrappers of :mod:`juanji.functional.pool`) and
GlobalAvgPool2D. Pooling has hyperparameters only, no learnable parameters, and keeps the number
of channels.
"""

from __future__ import annotations

import numpy as np

from juanji.validation import check_float_array, check_padding_arg, pair, resolve_padding
from juanji.functional.pool import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from juanji.functional.sizes import output_size

from juanji.validation import check_bool

from .base import Layer, Window, image_shape, register


class _Pool2D(Layer):
    """What max and average pooling share: the window arguments and the output shape."""

    def __init__(self, kernel_size, *, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        check_padding_arg(padding)
        self.padding = padding
        self.ceil_mode = check_bool(ceil_mode, "ceil_mode")

    def output_shape(self, input_shape):
        h, w, c = image_shape(input_shape, type(self).__name__)
        pad_h, pad_w = resolve_padding(self.padding, (h, w), self.kernel_size, self.stride, (1, 1))
        for (lo, hi), k in zip((pad_h, pad_w), self.kernel_size):
            if max(lo, hi) > k // 2:  # the op refuses it; say so at build, not at the first batch
                raise ValueError(f"`padding` {self.padding!r} must be at most half of "
                                 f"`kernel_size` {self.kernel_size} on every side, as in PyTorch")
        ho = output_size(h, self.kernel_size[0], stride=self.stride[0], padding=pad_h,
                         ceil_mode=self.ceil_mode)
        wo = output_size(w, self.kernel_size[1], stride=self.stride[1], padding=pad_w,
                         ceil_mode=self.ceil_mode)
        return (ho, wo, c)

    def window(self) -> Window:
        """Kernel, stride (dilation 1) and the padding resolved for the built input shape (the
        extra cells ``ceil_mode`` may hang over the edge are not padding)."""
        if self.in_shape is None:
            raise RuntimeError(f"{type(self).__name__}.window() needs a built layer")
        pad = resolve_padding(self.padding, self.in_shape[:2], self.kernel_size, self.stride,
                              (1, 1))
        return Window(self.kernel_size, self.stride, (1, 1), pad)

    def hyperparameters(self):
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "ceil_mode": self.ceil_mode}


@register
class MaxPool2D(_Pool2D):
    """Max pooling: each output is the largest value in its window, per channel.

    Backward sends each output's gradient to the cell that held the window's maximum (the first
    one on a tie, as PyTorch; :mod:`juanji.course` follows the course's rule instead).

    Args:
        kernel_size: ``f`` or ``(kh, kw)``, the window's height and width.
        stride: ``s`` or ``(sh, sw)``; default ``kernel_size`` (windows side by side, no
            overlap).
        padding: an int, ``(ph, pw)``, ``((top, bottom), (left, right))``, ``"valid"`` or
            ``"same"``; at most half the window on every side, as in PyTorch.
        ceil_mode: round the output size up instead of down, so a last partial window that
            starts inside the (padded) input counts (default False, the course's floor).

    Shape:
        - Input: ``(N, H, W, C)`` (NHWC).
        - Output: ``(N, Ho, Wo, C)``, the same channels, each pooled on its own, with per axis
          ``Ho = floor((H + p_top + p_bottom - kh) / s) + 1`` (``ceil`` with ``ceil_mode``),
          the course's ``floor((n - f + 2p) / s) + 1``.
        - No parameters: pooling has hyperparameters only.

    >>> MaxPool2D(2).output_shape((28, 28, 8))      # the course's POOL1
    (14, 14, 8)
    """

    def forward(self, x):
        y, self._cache = max_pool2d_forward(x, self.kernel_size, stride=self.stride,
                                            padding=self.padding, ceil_mode=self.ceil_mode)
        return y

    def backward(self, dy):
        return max_pool2d_backward(dy, self._need_cache())


@register
class AvgPool2D(_Pool2D):
    """Average pooling: each output is the mean of its window, per channel.

    Backward spreads each output's gradient equally over its window: ``dy / (kh*kw)`` per cell
    (divided by the cells that are not padding when ``count_include_pad=False``).

    Args:
        kernel_size: ``f`` or ``(kh, kw)``, the window's height and width.
        stride: ``s`` or ``(sh, sw)``; default ``kernel_size`` (windows side by side, no
            overlap).
        padding: an int, ``(ph, pw)``, ``((top, bottom), (left, right))``, ``"valid"`` or
            ``"same"``; at most half the window on every side, as in PyTorch.
        ceil_mode: round the output size up instead of down, so a last partial window that
            starts inside the (padded) input counts (default False, the course's floor).
        count_include_pad: whether padded zeros count in the mean's denominator (default True,
            PyTorch's flag).

    Shape:
        - Input: ``(N, H, W, C)`` (NHWC).
        - Output: ``(N, Ho, Wo, C)``, the same channels, each pooled on its own, with per axis
          ``Ho = floor((H + p_top + p_bottom - kh) / s) + 1`` (``ceil`` with ``ceil_mode``),
          the course's ``floor((n - f + 2p) / s) + 1``.
        - No parameters: pooling has hyperparameters only.

    >>> AvgPool2D(3, stride=2, padding=1).output_shape((7, 7, 4))
    (4, 4, 4)
    """

    def __init__(self, kernel_size, *, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
        self.count_include_pad = check_bool(count_include_pad, "count_include_pad")

    def forward(self, x):
        y, self._cache = avg_pool2d_forward(x, self.kernel_size, stride=self.stride,
                                            padding=self.padding, ceil_mode=self.ceil_mode,
                                            count_include_pad=self.count_include_pad)
        return y

    def backward(self, dy):
        return avg_pool2d_backward(dy, self._need_cache())

    def hyperparameters(self):
        return {**super().hyperparameters(), "count_include_pad": self.count_include_pad}


@register
class GlobalAvgPool2D(Layer):
    """Mean over H and W of each channel: one number per channel.

    Backward spreads each channel's gradient equally over its H*W positions:
    ``dx[n, i, j, c] = dy[n, c] / (H*W)``. Takes no arguments and has no parameters.

    Shape:
        - Input: ``(N, H, W, C)``.
        - Output: ``(N, C)``.

    >>> GlobalAvgPool2D().output_shape((7, 7, 64))
    (64,)
    """

    def output_shape(self, input_shape):
        _, _, c = image_shape(input_shape, "GlobalAvgPool2D")
        return (c,)

    def forward(self, x):
        x = check_float_array(x, "x", 4, "(N, H, W, C)")
        self._cache = x.shape
        return x.mean(axis=(1, 2))  # (N, C)

    def backward(self, dy):
        n, h, w, c = self._need_cache()
        if dy.shape != (n, c):
            raise ValueError(f"`dy` must have the forward output's shape {(n, c)}, got {dy.shape}")
        dx = dy[:, None, None, :] / (h * w)  # (N, 1, 1, C)
        return np.broadcast_to(dx, (n, h, w, c)).copy()  # (N, H, W, C)
