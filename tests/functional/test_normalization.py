"""batch_norm2d: both modes vs torch.nn.functional.batch_norm, finite differences, refusals."""

import numpy as np
import pytest
import torch

from juanji.functional import batch_norm2d_backward, batch_norm2d_forward, relu_forward
from tests.helpers import assert_close, assert_grad_matches_fd, nhwc_to_torch, torch_to_nhwc

SHAPES = [(2, 1, 1, 3), (1, 2, 2, 1), (2, 3, 3, 4), (3, 5, 4, 2), (4, 1, 3, 5)]
DTYPES = [np.float64, np.float32]


def _inputs(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    c = shape[3]
    x = (3 * rng.normal(size=shape) + rng.normal(size=c)).astype(dtype)  # channel offsets
    gamma = rng.normal(size=c).astype(dtype)
    beta = rng.normal(size=c).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    return x, gamma, beta, dy


def _torch_batch_norm(x, gamma, beta, dy, *, eps, mean=None, var=None):
    xt = nhwc_to_torch(x)  # (N, C, H, W)
    gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    training = mean is None
    yt = torch.nn.functional.batch_norm(
        xt, None if training else torch.tensor(mean), None if training else torch.tensor(var),
        gt, bt, training=training, eps=eps)
    (yt * nhwc_to_torch(dy)).sum().backward()
    return torch_to_nhwc(yt), torch_to_nhwc(xt.grad), gt.grad.numpy(), bt.grad.numpy()


def _assert_all_close(ours, theirs, dtype):
    for name, a, b in zip(("y", "dx", "dgamma", "dbeta"), ours, theirs):
        assert a.dtype == dtype, name
        assert_close(a, b, dtype, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
@pytest.mark.parametrize("shape", SHAPES)
def test_training_mode_matches_torch(shape, eps, dtype):
    x, gamma, beta, dy = _inputs(shape, dtype, seed=sum(shape))
    y, cache = batch_norm2d_forward(x, gamma, beta, eps=eps)
    dx, dgamma, dbeta = batch_norm2d_backward(dy, cache)
    assert y.shape == dx.shape == shape and dgamma.shape == dbeta.shape == (shape[3],)
    _assert_all_close((y, dx, dgamma, dbeta), _torch_batch_norm(x, gamma, beta, dy, eps=eps),
                      dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_eval_mode_matches_torch(shape, dtype):
    x, gamma, beta, dy = _inputs(shape, dtype, seed=sum(shape) + 1)
    rng = np.random.default_rng(5)
    mean = rng.normal(size=shape[3]).astype(dtype)
    var = rng.uniform(0.0, 3.0, size=shape[3]).astype(dtype)
    var[0] = 0.0  # a dead channel: eps alone keeps it finite
    y, cache = batch_norm2d_forward(x, gamma, beta, eps=1e-3, mean=mean, var=var)
    dx, dgamma, dbeta = batch_norm2d_backward(dy, cache)
    assert cache.mean is mean and cache.var is var
    _assert_all_close((y, dx, dgamma, dbeta),
                      _torch_batch_norm(x, gamma, beta, dy, eps=1e-3, mean=mean, var=var), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_statistics_are_biased_and_the_layer_rule_gives_torch_running_var(dtype):
    x, gamma, beta, _ = _inputs((3, 2, 2, 4), dtype, seed=9)
    _, cache = batch_norm2d_forward(x, gamma, beta)
    m = cache.count
    assert m == 12
    flat = x.reshape(-1, 4).astype(np.float64)  # (N*H*W, C)
    assert_close(cache.mean, flat.mean(axis=0), dtype, "mean")
    assert_close(cache.var, flat.var(axis=0, ddof=0), dtype, "biased var")
    # What BatchNorm2D must do: torch's running_var takes the unbiased variance m/(m-1) * var.
    running_mean, running_var = torch.zeros(4, dtype=torch.float64), torch.ones(4,
                                                                               dtype=torch.float64)
    torch.nn.functional.batch_norm(nhwc_to_torch(x.astype(np.float64)), running_mean, running_var,
                                   training=True, momentum=1.0)  # momentum 1: replace by batch's
    assert_close(cache.mean, running_mean.numpy(), dtype, "running_mean")
    assert_close(cache.var * m / (m - 1), running_var.numpy(), dtype, "running_var")


@pytest.mark.parametrize("mode", ["training", "eval"])
@pytest.mark.parametrize("shape", [(2, 2, 2, 2), (3, 1, 2, 1)])
def test_finite_differences_for_x_gamma_and_beta_separately(mode, shape):
    x, gamma, beta, dy = _inputs(shape, np.float64, seed=4)
    stats = {} if mode == "training" else dict(mean=np.array([0.3, -0.2])[:shape[3]],
                                                var=np.array([1.5, 0.4])[:shape[3]])
    _, cache = batch_norm2d_forward(x, gamma, beta, **stats)
    dx, dgamma, dbeta = batch_norm2d_backward(dy, cache)

    def bn(x_, g_, b_):
        return batch_norm2d_forward(x_, g_, b_, **stats)[0]

    assert_grad_matches_fd(dx, lambda v: bn(v, gamma, beta), x, dy, "dx")
    assert_grad_matches_fd(dgamma, lambda v: bn(x, v, beta), gamma, dy, "dgamma")
    assert_grad_matches_fd(dbeta, lambda v: bn(x, gamma, v), beta, dy, "dbeta")


def test_training_output_is_normalised_per_channel():
    x, _, _, _ = _inputs((4, 3, 3, 2), np.float64, seed=0)
    y, _ = batch_norm2d_forward(x, np.ones(2), np.zeros(2), eps=1e-12)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1, rtol=1e-9)


X, C3 = np.ones((2, 2, 2, 3)), np.ones(3)


@pytest.mark.parametrize("args,kwargs,exc,match", [
    ((np.ones((2, 2, 3)), C3, C3), {}, ValueError,
     r"`x` must have 4 dimensions \(N, H, W, C\), got shape \(2, 2, 3\)"),
    ((X.astype(np.int64), C3, C3), {}, TypeError,
     r"`x` must have dtype float32 or float64, got int64"),
    ((X, np.ones(4), C3), {}, ValueError,
     r"`gamma` must have shape \(C,\) = \(3,\) for `x` of shape \(2, 2, 2, 3\), got \(4,\)"),
    ((X, C3, np.ones((3, 1))), {}, ValueError,
     r"`beta` must have 1 dimensions \(C,\), got shape \(3, 1\)"),
    ((X, C3, C3.astype(np.float32)), {}, TypeError,
     r"`beta` dtype float32 must equal `x` dtype float64"),
    ((X, C3, C3), dict(eps=0.0), ValueError, r"`eps` must be a real number > 0, got 0.0"),
    ((X, C3, C3), dict(eps=-1e-5), ValueError, r"`eps` must be a real number > 0, got -1e-05"),
    ((X, C3, C3), dict(eps=float("nan")), ValueError, r"`eps` must be a real number > 0, got nan"),
    ((X, C3, C3), dict(eps="1e-5"), TypeError, r"`eps` must be a real number > 0, got '1e-5'"),
    ((X, C3, C3), dict(eps=True), TypeError, r"`eps` must be a real number > 0, got True"),
    ((X, C3, C3), dict(mean=C3), ValueError,
     r"`mean` and `var` must be given together \(eval mode\) or both be None \(training mode\), "
     r"got mean=an array, var=None"),
    ((X, C3, C3), dict(var=C3), ValueError, r"got mean=None, var=an array"),
    ((X, C3, C3), dict(mean=np.ones(2), var=C3), ValueError,
     r"`mean` must have shape \(C,\) = \(3,\) .* got \(2,\)"),
    ((X, C3, C3), dict(mean=C3, var=C3.astype(np.float32)), TypeError,
     r"`var` dtype float32 must equal `x` dtype float64"),
    ((X, C3, C3), dict(mean=C3, var=np.array([1.0, -0.5, 1.0])), ValueError,
     r"`var` must be >= 0 in every channel, got \[ 1.  -0.5  1. \]"),
    ((np.ones((1, 1, 1, 3)), C3, C3), {}, ValueError,
     r"batch statistics need more than 1 value per channel, but `x` of shape \(1, 1, 1, 3\) "
     r"has N\*H\*W = 1; pass `mean` and `var` \(eval mode\)"),
])
def test_bad_forward_inputs_are_refused(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        batch_norm2d_forward(*args, **kwargs)


def test_a_single_value_per_channel_is_fine_in_eval_mode():
    y, _ = batch_norm2d_forward(np.full((1, 1, 1, 3), 2.0), C3, C3, mean=C3, var=C3, eps=1.0)
    np.testing.assert_allclose(y, 1 + 1 / np.sqrt(2))


def test_bad_backward_inputs_are_refused():
    _, cache = batch_norm2d_forward(X, C3, C3)
    with pytest.raises(ValueError, match=r"`dy` of batch_norm2d_backward must have the forward "
                                         r"output's shape \(2, 2, 2, 3\), got \(2, 2, 3\)"):
        batch_norm2d_backward(np.ones((2, 2, 3)), cache)
    _, other = relu_forward(X)
    with pytest.raises(TypeError, match=r"`cache` of batch_norm2d_backward must be the cache "
                                        r"returned by batch_norm2d_forward \(BatchNorm2dCache\), "
                                        r"got ReluCache"):
        batch_norm2d_backward(X, other)
