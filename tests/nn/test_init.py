"""Initialisers: He normal std sqrt(2/fan_in), Glorot uniform limit sqrt(6/(fan_in+fan_out))."""

import math

import numpy as np
import pytest

from juanji.nn import Conv2D, Dense
from juanji.nn.init import fans, glorot_uniform, he_normal, initialise


@pytest.mark.parametrize("shape, expected", [
    ((400, 120), (400, 120)),
    ((5, 5, 3, 8), (75, 200)),
    ((3, 3, 2, 4), (18, 36)),  # a grouped conv's kernel holds C_in/groups channels
])
def test_fans(shape, expected):
    assert fans(shape) == expected


def test_fans_refuses_other_ranks():
    with pytest.raises(ValueError, match=r"`shape` must be \(D_in, D_out\) or"):
        fans((3, 4, 5))


@pytest.mark.parametrize("shape", [(500, 400), (5, 5, 16, 1000)])
def test_he_normal_statistics(shape):
    w = he_normal(shape, np.random.default_rng(0), np.float64)
    std = math.sqrt(2 / fans(shape)[0])
    assert w.shape == shape
    assert abs(w.std() / std - 1) < 0.01  # 200000+ draws: relative sd of the std ~ 0.0016
    assert abs(w.mean()) < 0.01 * std


@pytest.mark.parametrize("shape", [(500, 400), (5, 5, 16, 1000)])
def test_glorot_uniform_statistics(shape):
    w = glorot_uniform(shape, np.random.default_rng(0), np.float64)
    fan_in, fan_out = fans(shape)
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.999 * limit  # the draws fill the interval
    assert abs(w.std() / (limit / math.sqrt(3)) - 1) < 0.01  # uniform std = limit / sqrt(3)


def test_layers_use_the_initialiser_they_are_given():
    conv = Conv2D(64, 3, init="glorot")
    conv.build((16, 16, 32), np.random.default_rng(0))
    limit = math.sqrt(6 / (9 * 32 + 9 * 64))
    assert np.abs(conv.params["weight"].data).max() <= limit
    dense = Dense(300)
    dense.build((800,), np.random.default_rng(0))
    assert abs(dense.params["weight"].data.std() / math.sqrt(2 / 800) - 1) < 0.01
    grouped = Conv2D(200, 3, groups=4)
    grouped.build((8, 8, 400), np.random.default_rng(0))
    assert abs(grouped.params["weight"].data.std() / math.sqrt(2 / (9 * 100)) - 1) < 0.01


def test_unknown_initialiser():
    with pytest.raises(ValueError, match=r"`init` must be one of \('he', 'glorot'\), got 'zeros'"):
        initialise("zeros", (2, 2), np.random.default_rng(0))
