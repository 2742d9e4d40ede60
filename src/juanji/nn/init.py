"""Initial weights: He normal and Glorot uniform, with the fans they are scaled by.

Fans of a weight array (the number of inputs feeding one output, and of outputs one input feeds):

    dense kernel (D_in, D_out):              fan_in = D_in,              fan_out = D_out
    conv kernel (kh, kw, C_in/groups, C_out): fan_in = kh*kw*C_in/groups, fan_out = kh*kw*C_out

He normal (for ReLU networks):   w ~ N(0, std^2),       std   = sqrt(2 / fan_in)
Glorot uniform (tanh/sigmoid):   w ~ U(-limit, limit),  limit = sqrt(6 / (fan_in + fan_out))

Biases start at zero. Values are drawn in float64 from the given Generator, then cast, so the
same seed gives the same weights in float32 and float64 (up to rounding).
"""

from __future__ import annotations

import math

import numpy as np

INITS = ("he", "glorot")


def fans(shape: tuple) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a dense (D_in, D_out) or conv (kh, kw, C_in/g, C_out) kernel.

    >>> fans((400, 120))
    (400, 120)
    >>> fans((5, 5, 3, 8))        # CONV1 of the course network: 5*5*3 = 75 inputs per output
    (75, 200)
    """
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    if len(shape) == 4:
        kh, kw, c_in_per_group, c_out = shape
        return int(kh * kw * c_in_per_group), int(kh * kw * c_out)
    raise ValueError(f"`shape` must be (D_in, D_out) or (kh, kw, C_in/groups, C_out), got {shape}")


def he_normal(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He normal: ``N(0, std^2)`` with ``std = sqrt(2 / fan_in)``.

    >>> he_normal((5, 5, 3, 8), np.random.default_rng(0)).shape
    (5, 5, 3, 8)
    """
    fan_in, _ = fans(shape)
    std = math.sqrt(2.0 / fan_in)
    return (rng.standard_normal(shape) * std).astype(dtype)


def glorot_uniform(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Glorot (Xavier) uniform: ``U(-limit, limit)`` with ``limit = sqrt(6 / (fan_in + fan_out))``.

    >>> glorot_uniform((400, 120), np.random.default_rng(0)).dtype
    dtype('float32')
    """
    fan_in, fan_out = fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def initialise(name: str, shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Draw a weight array with the initialiser called ``name`` (``'he'`` or ``'glorot'``)."""
    if name == "he":
        return he_normal(shape, rng, dtype)
    elif name == "glorot":
        return glorot_uniform(shape, rng, dtype)
    else:
        raise ValueError(f"`init` must be one of {INITS}, got {name!r}")


def check_init(name) -> str:
    """Refuse an unknown initialiser name at construction time."""
    if name not in INITS:
        raise ValueError(f"`init` must be one of {INITS}, got {name!r}")
    return name
