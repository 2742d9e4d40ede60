"""Property tests of the layers: any constructor arguments and input shape either build a layer
whose forward/backward shapes equal ``output_shape`` with finite gradients, or are refused with a
ValueError/TypeError naming the argument (``Sequential`` adds the layer index).

The values behind the layers are the functional ops, checked against PyTorch in
``test_properties_ops.py``; here the layer plumbing is under test: shape inference, parameter
creation, caches, train/eval, and config round trips.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from juanji.nn import (
    AvgPool2D, BatchNorm2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LeakyReLU,
    MaxPool2D, ReLU, Sequential, Sigmoid, Tanh,
)
from juanji.nn.base import layer_from_config

from .support import assert_clear_refusal, count, prop_settings

SMALL = st.integers(0, 4)
ARG = st.one_of(SMALL, st.tuples(SMALL, SMALL), st.sampled_from(["same", "valid", "full", None,
                                                                  1.5, True, -1]))


@st.composite
def layers(draw):
    kind = draw(st.sampled_from(["Conv2D", "MaxPool2D", "AvgPool2D", "Dense", "Flatten",
                                 "GlobalAvgPool2D", "ReLU", "LeakyReLU", "Sigmoid", "Tanh",
                                 "Dropout", "BatchNorm2D"]))
    if kind == "Conv2D":
        return lambda: Conv2D(draw(st.integers(0, 4)), draw(ARG), stride=draw(ARG),
                              padding=draw(ARG), dilation=draw(ARG),
                              groups=draw(st.integers(0, 3)))
    if kind in ("MaxPool2D", "AvgPool2D"):
        cls = MaxPool2D if kind == "MaxPool2D" else AvgPool2D
        return lambda: cls(draw(ARG), stride=draw(st.one_of(st.none(), ARG)), padding=draw(ARG),
                           ceil_mode=draw(st.sampled_from([True, False, 1, None])))
    if kind == "Dense":
        return lambda: Dense(draw(st.one_of(SMALL, st.sampled_from([2.0, "3", None]))))
    if kind == "LeakyReLU":
        return lambda: LeakyReLU(draw(st.one_of(st.floats(-1, 1), st.sampled_from(
            [float("nan"), "0.1"]))))
    if kind == "Dropout":
        return lambda: Dropout(draw(st.one_of(st.floats(-0.5, 1.5), st.sampled_from([None]))))
    if kind == "BatchNorm2D":
        return lambda: BatchNorm2D(momentum=draw(st.floats(-0.5, 1.5)),
                                   eps=draw(st.one_of(st.floats(-1e-3, 1e-2), st.just(0.0))))
    return {"Flatten": Flatten, "GlobalAvgPool2D": GlobalAvgPool2D, "ReLU": ReLU,
            "Sigmoid": Sigmoid, "Tanh": Tanh}[kind]


@given(make=layers(), shape=st.one_of(
    st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 3)),
    st.tuples(st.integers(1, 6))), n=st.integers(1, 3), dtype=st.sampled_from(
    [np.float32, np.float64]), seed=st.integers(0, 1000))
@prop_settings()
def test_a_layer_builds_and_runs_consistently_or_is_refused_by_name(make, shape, n, dtype, seed):
    count("layers: examples")
    try:
        layer = make()
    except (ValueError, TypeError) as e:
        assert_clear_refusal(e)
        count("layers: refused at construction")
        return
    try:
        model = Sequential([layer], shape, seed=seed, dtype=dtype)
    except (ValueError, TypeError) as e:
        assert "layer 0" in str(e)
        count("layers: refused at build")
        return
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, *shape)).astype(dtype)
    try:
        y = model.forward(x)
    except ValueError as e:  # batch statistics of a single value per channel
        assert "more than 1 value per channel" in str(e) and isinstance(layer, BatchNorm2D)
        return
    assert y.shape == (n, *model.output_shape) and y.dtype == dtype
    assert np.isfinite(y).all()
    dx = model.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == dtype
    for name, p in model.named_parameters():
        assert p.grad.shape == p.data.shape and np.isfinite(p.grad).all(), name
    again = layer_from_config(layer.config())  # the config rebuilds the same layer
    assert again.config() == layer.config()
    model.eval()
    assert model.forward(x).shape == y.shape
    count("layers: built and ran")
