"""A learnable array and its gradient: what layers own and optimisers update."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A learnable array with its gradient.

    Attributes:
        data: the values, updated in place by optimisers.
        grad: d(loss)/d(data), same shape and dtype; zeros until a backward writes it.
        name: the layer-local name (``"weight"``, ``"bias"``, ``"gamma"``, ...).

    >>> p = Parameter(np.ones((2, 3), dtype=np.float32), "weight")
    >>> p.grad.shape, p.size
    ((2, 3), 6)
    """

    __slots__ = ("data", "grad", "name")

    def __init__(self, data: np.ndarray, name: str):
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name

    @property
    def size(self) -> int:
        return int(self.data.size)

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"
