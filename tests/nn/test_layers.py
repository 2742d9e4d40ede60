"""Every layer: backward by finite differences (float64), output_shape against the real forward,
constructor messages and the config round trip."""

import json

import numpy as np
import pytest

from juanji.nn import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
    layer_from_config,
)
from tests.helpers import assert_grad_matches_fd


def _input(shape, seed, *, tie_free=False, away_from_zero=False):
    rng = np.random.default_rng(seed)
    if tie_free:  # distinct values 0.1 apart: a finite-difference step cannot reorder them
        n = int(np.prod(shape))
        return (rng.permutation(n).reshape(shape) * 0.1 - n * 0.05).astype(np.float64)
    x = rng.standard_normal(shape)
    if away_from_zero:  # keep clear of ReLU's kink
        x = np.sign(x) * (np.abs(x) + 0.1)
    return x


# (layer factory, input shape without batch, input options)
FD_CASES = [
    (lambda: Conv2D(3, 3), (5, 5, 2), {}),
    (lambda: Conv2D(4, (2, 3), stride=2, padding=1, init="glorot"), (5, 6, 2), {}),
    (lambda: Conv2D(4, 3, padding="same", dilation=2, groups=2), (6, 5, 2), {}),
    (lambda: Conv2D(2, 2, use_bias=False), (3, 3, 1), {}),
    (lambda: Dense(3), (4,), {}),
    (lambda: Dense(2, use_bias=False, init="glorot"), (5,), {}),
    (lambda: Flatten(), (2, 3, 2), {}),
    (lambda: MaxPool2D(2), (4, 4, 2), {"tie_free": True}),
    (lambda: MaxPool2D(3, stride=2, padding=1), (5, 5, 2), {"tie_free": True}),
    (lambda: MaxPool2D(2, ceil_mode=True), (5, 5, 1), {"tie_free": True}),
    (lambda: AvgPool2D(2), (4, 4, 2), {}),
    (lambda: AvgPool2D(3, stride=2, padding=1, count_include_pad=False), (5, 5, 2), {}),
    (lambda: GlobalAvgPool2D(), (3, 4, 2), {}),
    (lambda: ReLU(), (3, 3, 2), {"away_from_zero": True}),
    (lambda: LeakyReLU(0.2), (6,), {"away_from_zero": True}),
    (lambda: Sigmoid(), (3, 3, 2), {}),
    (lambda: Tanh(), (5,), {}),
    (lambda: BatchNorm2D(), (3, 3, 2), {}),
]


@pytest.mark.parametrize("make, shape, opts", FD_CASES)
@pytest.mark.usefixtures("each_backend")  # the pools run on both backends
def test_backward_matches_finite_differences(make, shape, opts):
    layer = make()
    out_shape = layer.build(shape, np.random.default_rng(1), np.float64)
    for p in layer.parameters():  # non-trivial gamma/beta/bias so their gradients are exercised
        p.data[...] = np.random.default_rng(2).standard_normal(p.data.shape)
    x = _input((2, *shape), 3, **opts)
    dy = np.random.default_rng(4).standard_normal((2, *out_shape))
    layer.forward(x)
    dx = layer.backward(dy)
    assert_grad_matches_fd(dx, layer.forward, x, dy, what=f"{layer!r} dx")
    for p in layer.parameters():
        assert_grad_matches_fd(p.grad.copy(), lambda _: layer.forward(x), p.data, dy,
                               what=f"{layer!r} d{p.name}")


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_dropout_backward_matches_finite_differences(mode):
    layer = Dropout(0.4)
    layer.build((3, 3, 2), np.random.default_rng(0), np.float64)
    getattr(layer, mode)()
    state = layer.rng.bit_generator.state

    def f(x):  # the same mask on every call
        layer.rng.bit_generator.state = state
        return layer.forward(x)

    x = _input((2, 3, 3, 2), 0)
    dy = _input((2, 3, 3, 2), 1)
    f(x)
    dx = layer.backward(dy)
    assert_grad_matches_fd(dx, f, x, dy, what=f"Dropout {mode}")


def test_parameter_shapes_dtypes_and_zero_bias():
    conv = Conv2D(6, 5, groups=1)
    conv.build((32, 32, 3), np.random.default_rng(0))
    assert conv.params["weight"].data.shape == (5, 5, 3, 6)
    assert conv.params["weight"].data.dtype == np.float32
    assert not conv.params["bias"].data.any()
    grouped = Conv2D(4, 3, groups=2)
    grouped.build((8, 8, 6), np.random.default_rng(0), np.float64)
    assert grouped.params["weight"].data.shape == (3, 3, 3, 4)
    assert grouped.params["weight"].data.dtype == np.float64
    assert Dense(5, use_bias=False).parameters() == []  # nothing before build
    dense = Dense(5, use_bias=False)
    dense.build((7,), np.random.default_rng(0))
    assert [p.name for p in dense.parameters()] == ["weight"]


def test_backward_overwrites_gradients():
    layer = Dense(3)
    layer.build((4,), np.random.default_rng(0), np.float64)
    x = np.ones((2, 4))
    dy = np.ones((2, 3))
    layer.forward(x)
    layer.backward(dy)
    first = layer.params["weight"].grad.copy()
    layer.backward(dy)
    np.testing.assert_array_equal(layer.params["weight"].grad, first)


# --- output_shape equals the real forward's shape --------------------------------------------
SHAPE_LAYERS = [
    lambda: Conv2D(3, 3),
    lambda: Conv2D(2, (3, 2), stride=(2, 1), padding=(1, 0)),
    lambda: Conv2D(4, 3, stride=2, padding="same"),
    lambda: Conv2D(2, 2, dilation=2, padding="valid"),
    lambda: Conv2D(4, 3, groups=2, padding=((0, 1), (2, 0))),
    lambda: MaxPool2D(2),
    lambda: MaxPool2D(3, stride=2, padding=1),
    lambda: MaxPool2D(2, stride=1, ceil_mode=True),
    lambda: MaxPool2D(3, stride=2, ceil_mode=True),
    lambda: MaxPool2D(4, stride=4, padding="same"),
    lambda: AvgPool2D(2, stride=3, ceil_mode=True, count_include_pad=False),
    lambda: AvgPool2D(3, padding="same", stride=2),
    lambda: GlobalAvgPool2D(),
    lambda: Flatten(),
    lambda: ReLU(),
    lambda: BatchNorm2D(),
    lambda: Dropout(0.5),
]


@pytest.mark.parametrize("make", SHAPE_LAYERS)
@pytest.mark.parametrize("hw", [(4, 4), (5, 7), (8, 6), (9, 9)])
@pytest.mark.usefixtures("each_backend")  # the pools run on both backends
def test_output_shape_equals_forward_shape(make, hw):
    layer = make()
    in_shape = (*hw, 2)
    predicted = layer.build(in_shape, np.random.default_rng(0))
    assert predicted == layer.output_shape(in_shape)
    y = layer.forward(np.random.default_rng(0).standard_normal((3, *in_shape)).astype(np.float32))
    assert y.shape == (3, *predicted)
    assert y.dtype == np.float32


# --- construction errors -----------------------------------------------------------------------
@pytest.mark.parametrize("make, exc, match", [
    (lambda: Conv2D(0, 3), ValueError, r"`filters` must be an int >= 1, got 0"),
    (lambda: Conv2D(2.5, 3), ValueError, r"`filters` must be an int >= 1, got 2.5"),
    (lambda: Conv2D(4, 0), ValueError, r"`kernel_size` must be >= 1"),
    (lambda: Conv2D(4, 3, stride="2"), TypeError, r"`stride` must be an int or a pair"),
    (lambda: Conv2D(4, 3, padding="full"), ValueError, r"Invalid padding string 'full'"),
    (lambda: Conv2D(4, 3, groups=3), ValueError,
     r"`filters` \(=4\) must be divisible by `groups` \(=3\)"),
    (lambda: Conv2D(4, 3, use_bias=1), TypeError,
     r"`use_bias` must be True or False, got 1"),
    (lambda: Conv2D(4, 3, init="xavier"), ValueError,
     r"`init` must be one of \('he', 'glorot'\), got 'xavier'"),
    (lambda: Dense(-1), ValueError, r"`units` must be an int >= 1, got -1"),
    (lambda: MaxPool2D(2, stride=0), ValueError, r"`stride` must be >= 1"),
    (lambda: AvgPool2D(2, count_include_pad="yes"), TypeError,
     r"`count_include_pad` must be True or False"),
    (lambda: LeakyReLU(-0.1), ValueError,
     r"`negative_slope` must be a number in \[0.0, 1.0\], got -0.1"),
    (lambda: Dropout(1.0), ValueError, r"`p` must be a number in \[0.0, 1.0\), got 1.0"),
    (lambda: BatchNorm2D(momentum=2), ValueError,
     r"`momentum` must be a number in \[0.0, 1.0\], got 2"),
    (lambda: BatchNorm2D(eps=0), ValueError, r"`eps` must be > 0, got 0"),
])
def test_constructor_messages(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize("layer, shape, match", [
    (Conv2D(4, 3), (10,),
     r"Conv2D expects an image input shape \(H, W, C\), got \(10,\)"),
    (Conv2D(4, 3, groups=2), (8, 8, 3),
     r"input channels C_in \(=3\) must be divisible by `groups` \(=2\)"),
    (Conv2D(4, 7), (5, 5, 1), r"`kernel_size` 7 .* larger than the padded input 5"),
    (Dense(4), (5, 5, 16),
     r"Dense expects a flat input shape \(D,\), got \(5, 5, 16\); put Flatten\(\)"),
    (MaxPool2D(2), (8,), r"MaxPool2D expects an image input shape"),
    (BatchNorm2D(), (8,), r"BatchNorm2D expects an image input shape"),
])
def test_output_shape_refuses_shapes_that_do_not_fit(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer.output_shape(shape)


def test_backward_before_forward_is_refused():
    layer = ReLU()
    with pytest.raises(RuntimeError, match="ReLU.backward called before forward"):
        layer.backward(np.ones((1, 2)))


# --- config round trip -------------------------------------------------------------------------
CONFIG_LAYERS = [
    Conv2D(8, (3, 5), stride=2, padding=((1, 0), (2, 2)), dilation=(1, 2), groups=2,
           use_bias=False, init="glorot"),
    Conv2D(4, 3, padding="same"),
    Dense(10, use_bias=False, init="glorot"),
    MaxPool2D(3, stride=2, padding=1, ceil_mode=True),
    AvgPool2D((2, 3), count_include_pad=False),
    GlobalAvgPool2D(), Flatten(), ReLU(), LeakyReLU(0.3), Sigmoid(), Tanh(), Dropout(0.25),
    BatchNorm2D(momentum=0.2, eps=1e-3),
]


@pytest.mark.parametrize("layer", CONFIG_LAYERS, ids=lambda layer: type(layer).__name__)
def test_config_round_trip_through_json(layer):
    cfg = layer.config()
    rebuilt = layer_from_config(json.loads(json.dumps(cfg)))
    assert type(rebuilt) is type(layer)
    assert rebuilt.config() == cfg
    assert cfg["type"] == type(layer).__name__


def test_layer_from_config_refuses_unknown_type():
    with pytest.raises(ValueError, match=r"unknown layer type 'Conv3D'; known types: \[.*'Conv2D'"):
        layer_from_config({"type": "Conv3D", "filters": 2})
    with pytest.raises(ValueError, match=r"a layer config must be a dict with a 'type' key"):
        layer_from_config({"filters": 2})
