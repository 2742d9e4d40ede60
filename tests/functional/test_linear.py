"""linear_forward/backward: values and gradients vs PyTorch, finite differences, refusals."""

import numpy as np
import pytest
import torch

from juanji.functional import linear_backward, linear_forward, relu_forward
from tests.helpers import assert_close, assert_grad_matches_fd

SHAPES = [(1, 1, 1), (1, 5, 3), (4, 3, 7), (6, 16, 10), (3, 400, 120)]  # last: the course's FC3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("n,d_in,d_out", SHAPES)
def test_matches_torch(n, d_in, d_out, use_bias, dtype):
    rng = np.random.default_rng(n * 100 + d_in + d_out)
    x = rng.normal(size=(n, d_in)).astype(dtype)
    w = rng.normal(size=(d_in, d_out)).astype(dtype)
    b = rng.normal(size=d_out).astype(dtype) if use_bias else None
    dy = rng.normal(size=(n, d_out)).astype(dtype)

    y, cache = linear_forward(x, w, b)
    dx, dw, db = linear_backward(dy, cache)

    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if use_bias else None
    yt = torch.nn.functional.linear(xt, wt.T, bt)  # torch keeps weights as (D_out, D_in)
    (yt * torch.tensor(dy)).sum().backward()

    assert y.shape == (n, d_out) and y.dtype == dtype
    assert dx.dtype == dw.dtype == dtype
    assert_close(y, yt.detach().numpy(), dtype, "y")
    assert_close(dx, xt.grad.numpy(), dtype, "dx")
    assert_close(dw, wt.grad.numpy(), dtype, "dw")
    if use_bias:
        assert db.shape == (d_out,) and db.dtype == dtype
        assert_close(db, bt.grad.numpy(), dtype, "db")
    else:
        assert db is None


@pytest.mark.parametrize("n,d_in,d_out", [(1, 3, 2), (4, 5, 3)])
def test_finite_differences_for_x_w_and_b_separately(n, d_in, d_out):
    rng = np.random.default_rng(7)
    x, w = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out))
    b, dy = rng.normal(size=d_out), rng.normal(size=(n, d_out))
    _, cache = linear_forward(x, w, b)
    dx, dw, db = linear_backward(dy, cache)
    assert_grad_matches_fd(dx, lambda v: linear_forward(v, w, b)[0], x, dy, "dx")
    assert_grad_matches_fd(dw, lambda v: linear_forward(x, v, b)[0], w, dy, "dw")
    assert_grad_matches_fd(db, lambda v: linear_forward(x, w, v)[0], b, dy, "db")


def test_cache_holds_only_what_backward_needs():
    x, w = np.ones((2, 3)), np.ones((3, 4))
    _, cache = linear_forward(x, w, np.zeros(4))
    assert set(cache.__slots__) == {"x", "w", "has_bias", "out_shape"}
    with pytest.raises(AttributeError):
        cache.x = x  # frozen


@pytest.mark.parametrize("x,w,b,exc,match", [
    (np.ones((2, 3, 1)), np.ones((3, 4)), None, ValueError,
     r"`x` must have 2 dimensions \(N, D_in\), got shape \(2, 3, 1\)"),
    (np.ones(3), np.ones((3, 4)), None, ValueError, r"`x` must have 2 dimensions"),
    (np.ones((2, 3), dtype=np.int64), np.ones((3, 4)), None, TypeError,
     r"`x` must have dtype float32 or float64, got int64"),
    ([[1.0, 2.0, 3.0]], np.ones((3, 4)), None, TypeError, r"`x` must be a numpy.ndarray, got list"),
    (np.ones((2, 3)), np.ones(3), None, ValueError,
     r"`w` must have 2 dimensions \(D_in, D_out\), got shape \(3,\)"),
    (np.ones((2, 3)), np.ones((4, 3)), None, ValueError,
     r"`x` has D_in=3 features .* but `w` expects D_in=4 \(shape \(4, 3\)\)"),
    (np.ones((2, 3)), np.ones((3, 4), dtype=np.float32), None, TypeError,
     r"`w` dtype float32 must equal `x` dtype float64"),
    (np.ones((2, 3)), np.ones((3, 4)), np.ones(5), ValueError,
     r"`b` must have shape \(D_out,\) = \(4,\) to match `w` \(3, 4\), got \(5,\)"),
    (np.ones((2, 3)), np.ones((3, 4)), np.ones((1, 4)), ValueError,
     r"`b` must have 1 dimensions \(D_out,\), got shape \(1, 4\)"),
    (np.ones((2, 3)), np.ones((3, 4)), np.ones(4, dtype=np.float32), TypeError,
     r"`b` dtype float32 must equal `x` dtype float64"),
])
def test_bad_forward_inputs_are_refused(x, w, b, exc, match):
    with pytest.raises(exc, match=match):
        linear_forward(x, w, b)


def test_bad_backward_inputs_are_refused():
    _, cache = linear_forward(np.ones((2, 3)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"`dy` of linear_backward must have the forward output's "
                                         r"shape \(2, 4\), got \(4, 2\)"):
        linear_backward(np.ones((4, 2)), cache)
    with pytest.raises(TypeError,
                       match=r"`dy` of linear_backward must be a numpy.ndarray, got list"):
        linear_backward([[1.0] * 4] * 2, cache)
    _, relu_cache = relu_forward(np.ones((2, 4)))
    with pytest.raises(TypeError, match=r"`cache` of linear_backward must be the cache returned by "
                                        r"linear_forward \(LinearCache\), got ReluCache"):
        linear_backward(np.ones((2, 4)), relu_cache)
