"""flatten / un-flatten: PyTorch's flatten order in channels-last, round trips, refusals."""

import numpy as np
import pytest
import torch

from juanji.functional import flatten_backward, flatten_forward, relu_forward
from tests.helpers import assert_close, assert_grad_matches_fd

SHAPES = [(1, 1), (3, 7), (2, 5, 5, 16), (1, 3, 4, 2), (2, 3, 4), (2, 1, 2, 3, 2)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_torch_flatten_and_its_gradient(shape, dtype):
    rng = np.random.default_rng(len(shape))
    x = rng.normal(size=shape).astype(dtype)
    features = int(np.prod(shape[1:]))
    dy = rng.normal(size=(shape[0], features)).astype(dtype)

    y, cache = flatten_forward(x)
    dx = flatten_backward(dy, cache)

    xt = torch.tensor(x, requires_grad=True)
    yt = torch.flatten(xt, start_dim=1)  # on the NHWC array as stored, the same C order
    (yt * torch.tensor(dy)).sum().backward()
    assert y.shape == (shape[0], features) and y.dtype == dtype
    assert dx.shape == shape and dx.dtype == dtype
    assert_close(y, yt.detach().numpy(), dtype, "y")
    assert_close(dx, xt.grad.numpy(), dtype, "dx")


def test_course_unflatten_400_to_5x5x16():
    # The course's step 2: the gradient of the 400 FC inputs goes back to POOL2's 5x5x16 map,
    # each entry to the pixel and channel it was read from.
    x = np.arange(2 * 5 * 5 * 16, dtype=np.float64).reshape(2, 5, 5, 16)
    y, cache = flatten_forward(x)
    assert y.shape == (2, 400)
    assert y[1, (2 * 5 + 3) * 16 + 7] == x[1, 2, 3, 7]  # channels-last: c varies fastest
    dx = flatten_backward(2 * y, cache)
    assert dx.shape == (2, 5, 5, 16)
    np.testing.assert_array_equal(dx, 2 * x)


def test_finite_differences():
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=(2, 2, 3, 2)), rng.normal(size=(2, 12))
    _, cache = flatten_forward(x)
    assert_grad_matches_fd(flatten_backward(dy, cache), lambda v: flatten_forward(v)[0], x, dy)


def test_zero_size_feature_axis_still_flattens():
    y, cache = flatten_forward(np.zeros((3, 0, 4)))
    assert y.shape == (3, 0)
    assert flatten_backward(np.zeros((3, 0)), cache).shape == (3, 0, 4)


@pytest.mark.parametrize("x,exc,match", [
    (np.ones(5), ValueError,
     r"`x` must have at least 2 dimensions \(N, ...\), a batch axis first, got shape \(5,\)"),
    (np.array(1.0), ValueError, r"`x` must have at least 2 dimensions .* got shape \(\)"),
    (np.ones((2, 3), dtype=np.int32), TypeError,
     r"`x` must have dtype float32 or float64, got int32"),
    ([[1.0]], TypeError, r"`x` must be a numpy.ndarray, got list"),
])
def test_bad_x_is_refused(x, exc, match):
    with pytest.raises(exc, match=match):
        flatten_forward(x)


def test_bad_backward_inputs_are_refused():
    _, cache = flatten_forward(np.ones((2, 5, 5, 16)))
    with pytest.raises(ValueError, match=r"`dy` of flatten_backward must have the forward output's "
                                         r"shape \(2, 400\), got \(2, 5, 5, 16\)"):
        flatten_backward(np.ones((2, 5, 5, 16)), cache)
    _, other = relu_forward(np.ones((2, 400)))
    with pytest.raises(TypeError, match=r"`cache` of flatten_backward must be the cache returned "
                                        r"by flatten_forward \(FlattenCache\), got ReluCache"):
        flatten_backward(np.ones((2, 400)), other)
