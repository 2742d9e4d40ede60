"""BatchNorm2D: per-channel normalisation with a learnable scale and shift (torch.nn.BatchNorm2d).

    y = gamma * (x - mean) / sqrt(var + eps) + beta          statistics over (N, H, W), per channel

Train mode normalises with the batch statistics (biased variance) and updates the running ones:

    running_mean = (1 - momentum) * running_mean + momentum * batch_mean
    running_var  = (1 - momentum) * running_var  + momentum * batch_var * m / (m - 1)

(m = N*H*W values per channel; the running variance uses the unbiased estimate, as PyTorch).
Eval mode normalises with the running statistics, which are buffers: saved in ``state_dict``,
never updated by an optimiser.
"""

from __future__ import annotations

import numpy as np

from juanji.functional.normalization import batch_norm2d_backward, batch_norm2d_forward

from juanji.validation import check_real

from .base import Layer, image_shape, register
from .parameter import Parameter


@register
class BatchNorm2D(Layer):
    """Batch normalisation over (N, H, W) for each channel of ``(N, H, W, C)``:
    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``.

    Args:
        momentum: weight of the new batch in the running statistics, in [0, 1] (default 0.1,
            PyTorch's): ``running = (1 - momentum) * running + momentum * batch``.
        eps: added to the variance before the square root, > 0 (default 1e-5).

    Shape:
        - Input: ``(N, H, W, C)``; train mode needs ``N*H*W > 1``.
        - Output: ``(N, H, W, C)``.
        - Parameters ``gamma`` (C,) = 1 and ``beta`` (C,) = 0; buffers ``running_mean``
          (C,) = 0 and ``running_var`` (C,) = 1: ``4 * C`` values.

    >>> bn = BatchNorm2D()
    >>> bn.build((8, 8, 4), np.random.default_rng(0))
    (8, 8, 4)
    >>> [p.name for p in bn.parameters()], sorted(bn.buffers)
    (['gamma', 'beta'], ['running_mean', 'running_var'])
    """

    def __init__(self, momentum=0.1, eps=1e-5):
        super().__init__()
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0)
        self.eps = check_real(eps, "eps", 0.0, float("inf"))
        if self.eps == 0.0:
            raise ValueError(f"`eps` must be > 0, got {eps!r}")

    def output_shape(self, input_shape):
        return tuple(image_shape(input_shape, "BatchNorm2D"))

    def values_created(self, input_shape):
        return 4 * int(input_shape[2])  # gamma, beta, running mean and variance

    def _create(self, input_shape, rng, dtype):
        c = input_shape[2]
        self.params = {"gamma": Parameter(np.ones(c, dtype=dtype), "gamma"),
                       "beta": Parameter(np.zeros(c, dtype=dtype), "beta")}
        self.buffers = {"running_mean": np.zeros(c, dtype=dtype),
                        "running_var": np.ones(c, dtype=dtype)}

    def forward(self, x):
        gamma, beta = self.params["gamma"].data, self.params["beta"].data
        if not self.training:
            y, self._cache = batch_norm2d_forward(x, gamma, beta, eps=self.eps,
                                                  mean=self.buffers["running_mean"],
                                                  var=self.buffers["running_var"])
            return y
        m = x.shape[0] * x.shape[1] * x.shape[2]
        if m < 2:
            raise ValueError(
                f"BatchNorm2D in train mode needs more than 1 value per channel, got input shape "
                f"{x.shape}; use a larger batch or eval()"
            )
        y, self._cache = batch_norm2d_forward(x, gamma, beta, eps=self.eps)
        k = self.momentum
        # In place, so anything holding these arrays (a loaded state_dict) sees the update.
        self.buffers["running_mean"] *= 1 - k
        self.buffers["running_mean"] += k * self._cache.mean
        self.buffers["running_var"] *= 1 - k
        self.buffers["running_var"] += k * self._cache.var * (m / (m - 1))
        return y

    def backward(self, dy):
        dx, dgamma, dbeta = batch_norm2d_backward(dy, self._need_cache())
        self.params["gamma"].grad[...] = dgamma
        self.params["beta"].grad[...] = dbeta
        return dx

    def hyperparameters(self):
        return {"momentum": self.momentum, "eps": self.eps}
