"""Dropout: in train mode zero each unit with probability ``p`` and scale the kept ones by
``1 / (1 - p)`` (inverted dropout, so eval mode is the identity).

The layer draws its masks from its own Generator, seeded at build from the model's Generator, so
the same model seed gives the same masks; ``rng.bit_generator.state`` saves and restores it.
"""

from __future__ import annotations

import numpy as np

from juanji.functional.dropout import dropout_backward, dropout_forward

from juanji.validation import check_real

from .base import Layer, register


@register
class Dropout(Layer):
    """Inverted dropout: in train mode zero each value with probability ``p`` and scale the
    kept ones by ``1 / (1 - p)``; in eval mode the identity.

    Args:
        p: the probability of dropping a value, in [0, 1).

    Shape:
        - Input: ``(N, *)``, any shape.
        - Output: ``(N, *)``, the input's shape.
        - No parameters; the masks come from the layer's own Generator, seeded at build.

    >>> layer = Dropout(0.5)
    >>> layer.build((120,), np.random.default_rng(0))
    (120,)
    >>> x = np.ones((4, 120), dtype=np.float32)
    >>> bool((layer.eval().forward(x) == x).all())      # identity in eval mode
    True
    """

    def __init__(self, p):
        super().__init__()
        self.p = check_real(p, "p", 0.0, 1.0, high_open=True)
        self.rng: np.random.Generator | None = None

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def _create(self, input_shape, rng, dtype):
        # One draw from the model's Generator seeds this layer's own stream.
        self.rng = np.random.default_rng(int(rng.integers(2**63)))

    def forward(self, x):
        if not self.training:
            self._cache = "eval"
            return x
        if self.rng is None:
            raise RuntimeError("Dropout has no random generator yet: build it (or its model) first")
        y, self._cache = dropout_forward(x, self.p, self.rng)
        return y

    def backward(self, dy):
        cache = self._need_cache()
        if isinstance(cache, str):  # the forward was in eval mode: the identity
            return dy
        return dropout_backward(dy, cache)

    def hyperparameters(self):
        return {"p": self.p}
