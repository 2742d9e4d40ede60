"""relu, leaky relu, sigmoid, tanh: values and gradients vs PyTorch, finite differences, edges."""

import warnings

import numpy as np
import pytest
import torch

from juanji.functional import (
    leaky_relu_backward, leaky_relu_forward, linear_forward, relu_backward, relu_forward,
    sigmoid_backward, sigmoid_forward, tanh_backward, tanh_forward,
)
from tests.helpers import assert_close, assert_grad_matches_fd

TF = torch.nn.functional

# name -> (forward with its arguments bound, backward, the torch function)
OPS = {
    "relu": (relu_forward, relu_backward, torch.relu),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward, TF.leaky_relu),
    "leaky_relu_0.2": (lambda x: leaky_relu_forward(x, 0.2), leaky_relu_backward,
                       lambda t: TF.leaky_relu(t, 0.2)),
    "leaky_relu_-0.5": (lambda x: leaky_relu_forward(x, negative_slope=-0.5), leaky_relu_backward,
                        lambda t: TF.leaky_relu(t, -0.5)),
    "sigmoid": (sigmoid_forward, sigmoid_backward, torch.sigmoid),
    "tanh": (tanh_forward, tanh_backward, torch.tanh),
}
SHAPES = [(), (5,), (3, 4), (2, 3, 3, 4)]


def _check_against_torch(name, x, dy):
    forward, backward, torch_fn = OPS[name]
    dtype = x.dtype.type
    y, cache = forward(x)
    dx = backward(dy, cache)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch_fn(xt)
    (yt * torch.tensor(dy)).sum().backward()
    assert isinstance(y, np.ndarray) and isinstance(dx, np.ndarray)
    assert y.shape == x.shape and dx.shape == x.shape
    assert y.dtype == dtype and dx.dtype == dtype
    assert_close(y, yt.detach().numpy(), dtype, f"{name} y")
    assert_close(dx, xt.grad.numpy(), dtype, f"{name} dx")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(OPS))
def test_matches_torch(name, shape, dtype):
    rng = np.random.default_rng(len(shape))
    x = np.asarray(3 * rng.normal(size=shape), dtype=dtype)  # asarray: shape () gives a scalar
    dy = np.asarray(rng.normal(size=shape), dtype=dtype)
    _check_against_torch(name, x, dy)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(OPS))
def test_zero_and_extreme_inputs_match_torch_without_warnings(name, dtype):
    # x = 0 is where relu's subgradient is a convention (PyTorch: the x <= 0 side);
    # +-1e4 is where a naive sigmoid overflows exp(-x).
    x = np.array([-1e4, -800.0, -50.0, -1.0, -0.0, 0.0, 1.0, 50.0, 800.0, 1e4], dtype=dtype)
    dy = np.linspace(-2, 2, x.size).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning fails the test
        _check_against_torch(name, x, dy)
    y, _ = OPS[name][0](x)
    assert np.isfinite(y).all()


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("shape", [(4,), (2, 2, 3, 2)])
def test_finite_differences(name, shape):
    forward, backward, _ = OPS[name]
    rng = np.random.default_rng(3)
    x = rng.normal(size=shape)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from relu's kink, where the derivative jumps
    dy = rng.normal(size=shape)
    _, cache = forward(x)
    assert_grad_matches_fd(backward(dy, cache), lambda v: forward(v)[0], x, dy, name)


def test_sigmoid_saturates_exactly():
    y, _ = sigmoid_forward(np.array([-1e4, 1e4], dtype=np.float32))
    assert y.tolist() == [0.0, 1.0]


def test_caches_hold_only_what_backward_needs():
    x = np.array([-1.0, 2.0])
    assert set(relu_forward(x)[1].__slots__) == {"mask", "dtype"}  # the mask, not also y
    assert set(leaky_relu_forward(x)[1].__slots__) == {"mask", "negative_slope", "dtype"}
    assert set(sigmoid_forward(x)[1].__slots__) == {"y"}
    assert set(tanh_forward(x)[1].__slots__) == {"y"}


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("x,exc,match", [
    (np.array([1, 2]), TypeError, r"`x` must have dtype float32 or float64, got int64"),
    (np.array([True]), TypeError, r"`x` must have dtype float32 or float64, got bool"),
    ([1.0, 2.0], TypeError, r"`x` must be a numpy.ndarray, got list"),
    (1.0, TypeError, r"`x` must be a numpy.ndarray, got float"),
])
def test_bad_x_is_refused(name, x, exc, match):
    with pytest.raises(exc, match=match):
        OPS[name][0](x)


@pytest.mark.parametrize("slope,exc,match", [
    ("0.1", TypeError, r"`negative_slope` must be a real number, got '0.1'"),
    (True, TypeError, r"`negative_slope` must be a real number, got True"),
    (None, TypeError, r"`negative_slope` must be a real number, got None"),
    (float("inf"), ValueError, r"`negative_slope` must be finite, got inf"),
    (float("nan"), ValueError, r"`negative_slope` must be finite, got nan"),
])
def test_bad_negative_slope_is_refused(slope, exc, match):
    with pytest.raises(exc, match=match):
        leaky_relu_forward(np.ones(3), slope)


@pytest.mark.parametrize("name", list(OPS))
def test_bad_backward_inputs_are_refused(name):
    forward, backward, _ = OPS[name]
    op = name.split("_0")[0].split("_-")[0]  # "leaky_relu_0.2" -> "leaky_relu"
    _, cache = forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"`dy` of {op}_backward must have the forward output's "
                                         r"shape \(2, 3\), got \(3, 2\)"):
        backward(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match=rf"`dy` of {op}_backward must be a numpy.ndarray"):
        backward(1.0, cache)
    _, other = linear_forward(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(TypeError, match=rf"`cache` of {op}_backward must be the cache returned by "
                                        rf"{op}_forward \(\w+Cache\), got LinearCache"):
        backward(np.ones((2, 3)), other)


def test_leaky_relu_zero_slope_at_infinity_is_torchs_nan_without_a_warning():
    """-inf * 0 is NaN (PyTorch's answer too); +inf passes; neither warns (a hypothesis draw
    once made NumPy report the discarded +inf * 0)."""
    x = np.array([np.inf, -np.inf, 2.0, -2.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, _ = leaky_relu_forward(x, negative_slope=0.0)
    want = TF.leaky_relu(torch.from_numpy(x), 0.0).numpy()
    np.testing.assert_array_equal(y, want)  # NaN where both are NaN
