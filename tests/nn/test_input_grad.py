"""Training skips d(loss)/d(input): the parameters' gradients are the same as with it."""

from __future__ import annotations

import numpy as np
import pytest

from juanji import functional as jf
from juanji.models import build_model


@pytest.mark.parametrize("name, shape", [("lenet5", (28, 28, 1)), ("digits", (8, 8, 1)),
                                         ("tinyvgg", (16, 16, 3))])
def test_sequential_backward_without_input_grad(name, shape):
    model = build_model(name, shape, 10)
    x = np.random.default_rng(0).standard_normal((3, *shape), dtype=np.float32)
    dy = np.random.default_rng(1).standard_normal((3, 10), dtype=np.float32)
    model.forward(x)
    dx = model.backward(dy)
    assert dx.shape == x.shape
    full = [p.grad.copy() for p in model.parameters()]
    model.forward(x)
    assert model.backward(dy, input_grad=False) is None
    for got, want in zip((p.grad for p in model.parameters()), full):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_backward_need_dx(groups):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 6, 4))
    w = rng.standard_normal((3, 3, 4 // groups, 6))
    y, cache = jf.conv2d_forward(x, w, np.zeros(6), padding=1, groups=groups)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = jf.conv2d_backward(dy, cache)
    none, dw2, db2 = jf.conv2d_backward(dy, cache, need_dx=False)
    assert none is None and dx.shape == x.shape
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)
    with pytest.raises(TypeError, match=r"`need_dx` must be True or False, got 'no'"):
        jf.conv2d_backward(dy, cache, need_dx="no")
