"""BatchNorm2D and Dropout in train and eval mode; BatchNorm against torch.nn.BatchNorm2d."""

import numpy as np
import pytest
import torch

from juanji.nn import BatchNorm2D, Dropout
from tests.helpers import assert_close, nhwc_to_torch, torch_to_nhwc


@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batchnorm_matches_torch_over_steps_then_eval(momentum):
    rng = np.random.default_rng(0)
    c = 3
    ours = BatchNorm2D(momentum=momentum, eps=1e-4)
    ours.build((4, 5, c), rng, np.float64)
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    ours.params["gamma"].data[...] = gamma
    ours.params["beta"].data[...] = beta
    ref = torch.nn.BatchNorm2d(c, momentum=momentum, eps=1e-4).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(gamma))
        ref.bias.copy_(torch.tensor(beta))

    for step in range(4):  # train mode: batch statistics, running stats updated
        x = rng.standard_normal((2, 4, 5, c)) * (step + 1) + step
        dy = rng.standard_normal((2, 4, 5, c))
        y = ours.forward(x)
        dx = ours.backward(dy)
        xt = nhwc_to_torch(x)
        yt = ref(xt)
        yt.backward(nhwc_to_torch(dy))
        assert_close(y, torch_to_nhwc(yt), what=f"y step {step}")
        assert_close(dx, torch_to_nhwc(xt.grad), what=f"dx step {step}")
        assert_close(ours.params["gamma"].grad, ref.weight.grad.numpy(), what="dgamma")
        assert_close(ours.params["beta"].grad, ref.bias.grad.numpy(), what="dbeta")
        ref.weight.grad = None
        ref.bias.grad = None
        assert_close(ours.buffers["running_mean"], ref.running_mean.numpy(), what="running_mean")
        assert_close(ours.buffers["running_var"], ref.running_var.numpy(), what="running_var")

    ours.eval()
    ref.eval()
    before = ours.buffers["running_mean"].copy()
    x = rng.standard_normal((3, 4, 5, c))
    dy = rng.standard_normal((3, 4, 5, c))
    y = ours.forward(x)
    dx = ours.backward(dy)
    xt = nhwc_to_torch(x)
    yt = ref(xt)
    yt.backward(nhwc_to_torch(dy))
    assert_close(y, torch_to_nhwc(yt), what="eval y")
    assert_close(dx, torch_to_nhwc(xt.grad), what="eval dx")
    np.testing.assert_array_equal(ours.buffers["running_mean"], before)  # eval does not update


def test_batchnorm_buffers_are_not_parameters():
    bn = BatchNorm2D()
    bn.build((2, 2, 4), np.random.default_rng(0))
    assert {p.name for p in bn.parameters()} == {"gamma", "beta"}
    np.testing.assert_array_equal(bn.buffers["running_var"], np.ones(4, dtype=np.float32))
    assert bn.buffers["running_mean"].dtype == np.float32


def test_batchnorm_train_mode_refuses_a_single_value_per_channel():
    bn = BatchNorm2D()
    bn.build((1, 1, 2), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"needs more than 1 value per channel"):
        bn.forward(np.ones((1, 1, 1, 2), dtype=np.float32))
    assert bn.eval().forward(np.ones((1, 1, 1, 2), dtype=np.float32)).shape == (1, 1, 1, 2)


def test_dropout_train_mode_drops_and_rescales():
    layer = Dropout(0.25)
    layer.build((1000,), np.random.default_rng(0), np.float64)
    x = np.ones((20, 1000))
    y = layer.forward(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01  # 20000 Bernoulli draws: sd ~ 0.003
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx != 0, kept)  # the gradient follows the same mask


def test_dropout_eval_mode_is_identity():
    layer = Dropout(0.9)
    layer.build((4, 4, 2), np.random.default_rng(0))
    layer.eval()
    x = np.random.default_rng(1).standard_normal((3, 4, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(layer.forward(x), x)
    dy = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dy), dy)


def test_dropout_masks_reproducible_from_the_build_seed():
    def masks(seed):
        layer = Dropout(0.5)
        layer.build((50,), np.random.default_rng(seed))
        x = np.ones((4, 50), dtype=np.float32)
        return [layer.forward(x) for _ in range(3)]

    a, b, c = masks(7), masks(7), masks(8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], a[1])  # a fresh mask on each call


def test_dropout_before_build_is_refused():
    with pytest.raises(RuntimeError, match="build it"):
        Dropout(0.5).forward(np.ones((1, 2), dtype=np.float32))
