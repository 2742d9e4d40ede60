"""softmax, log_softmax and both cross-entropies: vs PyTorch, finite differences, extreme logits."""

import warnings

import numpy as np
import pytest
import torch

from juanji.functional import (
    log_softmax, relu_forward, sigmoid_binary_cross_entropy_backward,
    sigmoid_binary_cross_entropy_forward, softmax, softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from tests.helpers import assert_close, assert_grad_matches_fd

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


# ---- softmax / log_softmax ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7,), (1, 1), (3, 5), (2, 3, 4)])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_softmax_and_log_softmax_match_torch(shape, scale, dtype):
    logits = (scale * np.random.default_rng(len(shape)).normal(size=shape)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow or inf - inf would warn
        p, logp = softmax(logits), log_softmax(logits)
    t = torch.tensor(logits)
    assert p.shape == logp.shape == shape and p.dtype == logp.dtype == dtype
    assert np.isfinite(logp).all()
    assert_close(p, torch.softmax(t, dim=-1).numpy(), dtype, "softmax")
    assert_close(logp, torch.log_softmax(t, dim=-1).numpy(), dtype, "log_softmax")


@pytest.mark.parametrize("fn", [softmax, log_softmax])
@pytest.mark.parametrize("logits,exc,match", [
    (np.array(1.0), ValueError, r"`logits` must have at least one class on its last axis .* "
                                r"got shape \(\)"),
    (np.ones((2, 0)), ValueError, r"K >= 1, got shape \(2, 0\)"),
    (np.ones((2, 3), dtype=np.int64), TypeError,
     r"`logits` must have dtype float32 or float64, got int64"),
    ([1.0, 2.0], TypeError, r"`logits` must be a numpy.ndarray, got list"),
])
def test_softmax_bad_logits_are_refused(fn, logits, exc, match):
    with pytest.raises(exc, match=match):
        fn(logits)


# ---- softmax cross-entropy ------------------------------------------------------------------

def _torch_cross_entropy(logits, labels, dloss):
    t = torch.tensor(logits, requires_grad=True)
    loss = TF.cross_entropy(t, torch.tensor(labels, dtype=torch.int64))  # mean over the batch
    (loss * dloss).backward()
    return loss.item(), t.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,k", [(1, 1), (1, 2), (4, 3), (8, 10), (5, 1)])
@pytest.mark.parametrize("dloss", [1.0, 2.5])
def test_cross_entropy_matches_torch(n, k, dloss, dtype):
    rng = np.random.default_rng(n * 10 + k)
    logits = (2 * rng.normal(size=(n, k))).astype(dtype)
    labels = rng.integers(0, k, size=n)
    loss, cache = softmax_cross_entropy_forward(logits, labels)
    dlogits = softmax_cross_entropy_backward(dloss, cache)
    loss_t, dlogits_t = _torch_cross_entropy(logits, labels, dloss)
    assert type(loss) is float
    assert dlogits.shape == (n, k) and dlogits.dtype == dtype
    assert_close(loss, loss_t, dtype, "loss")
    assert_close(dlogits, dlogits_t, dtype, "dlogits")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("big", [1e4, -1e4])
def test_cross_entropy_of_huge_logits_is_finite_and_equals_torch(big, dtype):
    # Row 0: the label holds the huge logit; row 1: another class does (loss ~ 2e4);
    # row 2: two huge logits tie; row 3: huge of both signs.
    logits = np.array([[big, 0.0, -3.0],
                       [0.0, big, 1.0],
                       [big, big, 0.0],
                       [big, -big, 0.0]], dtype=dtype)
    labels = np.array([0, 0, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, cache = softmax_cross_entropy_forward(logits, labels)
        dlogits = softmax_cross_entropy_backward(1.0, cache)
    loss_t, dlogits_t = _torch_cross_entropy(logits, labels, 1.0)
    assert np.isfinite(loss) and np.isfinite(dlogits).all()
    assert_close(loss, loss_t, dtype, "loss")
    assert_close(dlogits, dlogits_t, dtype, "dlogits")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 2, 10, 1000])
@pytest.mark.parametrize("value", [0.0, 7.5, -1e4])
def test_all_equal_logits_give_log_k(k, value, dtype):
    logits = np.full((3, k), value, dtype=dtype)
    loss, cache = softmax_cross_entropy_forward(logits, np.array([0, k - 1, k // 2]))
    np.testing.assert_allclose(loss, np.log(k), rtol=1e-6 if dtype is np.float32 else 1e-12,
                               atol=1e-12)
    dlogits = softmax_cross_entropy_backward(1.0, cache)
    np.testing.assert_allclose(dlogits.sum(axis=1), 0, atol=1e-6)  # softmax and onehot sum to 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_single_class_loss_and_gradient_are_exactly_zero(dtype):
    logits = np.array([[1e4], [-3.0], [0.0]], dtype=dtype)
    loss, cache = softmax_cross_entropy_forward(logits, np.zeros(3, dtype=np.int32))
    assert loss == 0.0
    assert (softmax_cross_entropy_backward(1.0, cache) == 0).all()


@pytest.mark.parametrize("n,k", [(1, 3), (3, 4)])
def test_cross_entropy_finite_differences(n, k):
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(n, k)), rng.integers(0, k, size=n)
    dloss = np.array(1.7)
    _, cache = softmax_cross_entropy_forward(logits, labels)
    assert_grad_matches_fd(softmax_cross_entropy_backward(dloss, cache),
                           lambda v: np.array(softmax_cross_entropy_forward(v, labels)[0]),
                           logits, dloss)


@pytest.mark.parametrize("logits,labels,exc,match", [
    (np.ones((2, 3, 1)), np.array([0, 1]), ValueError,
     r"`logits` must have 2 dimensions \(N, K\), got shape \(2, 3, 1\)"),
    (np.ones((2, 3), dtype=np.int64), np.array([0, 1]), TypeError,
     r"`logits` must have dtype float32 or float64, got int64"),
    (np.ones((0, 3)), np.array([], dtype=np.int64), ValueError,
     r"`logits` must have N >= 1 rows and K >= 1 classes, got shape \(0, 3\)"),
    (np.ones((2, 0)), np.array([0, 0]), ValueError, r"K >= 1 classes, got shape \(2, 0\)"),
    (np.ones((2, 3)), np.array([0.0, 1.0]), TypeError,
     r"`labels` must have an integer dtype \(class indices\), got float64"),
    (np.ones((2, 3)), np.array([True, False]), TypeError,
     r"`labels` must have an integer dtype \(class indices\), got bool"),
    (np.ones((2, 3)), [0, 1], TypeError, r"`labels` must be a numpy.ndarray, got list"),
    (np.ones((2, 3)), np.array([[0], [1]]), ValueError,
     r"`labels` must have shape \(N,\) = \(2,\) to match `logits` \(N, K\), got \(2, 1\)"),
    (np.ones((2, 3)), np.array([0, 1, 2]), ValueError, r"shape \(N,\) = \(2,\) .* got \(3,\)"),
    (np.ones((2, 3)), np.array([0, 3]), ValueError,
     r"`labels` must be class indices in \[0, 3\) for K=3 classes, got 3 at position 1"),
    (np.ones((2, 3)), np.array([-1, 0]), ValueError,
     r"`labels` must be class indices in \[0, 3\) .* got -1 at position 0"),
])
def test_cross_entropy_bad_inputs_are_refused(logits, labels, exc, match):
    with pytest.raises(exc, match=match):
        softmax_cross_entropy_forward(logits, labels)


# ---- sigmoid binary cross-entropy -----------------------------------------------------------

def _torch_bce(logits, labels, dloss):
    t = torch.tensor(logits, requires_grad=True)
    target = torch.tensor(np.asarray(labels, dtype=logits.dtype).reshape(logits.shape))
    loss = TF.binary_cross_entropy_with_logits(t, target)  # mean
    (loss * dloss).backward()
    return loss.item(), t.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("logits_shape,labels_shape", [((1,), (1,)), ((6,), (6,)),
                                                       ((6, 1), (6, 1)), ((6, 1), (6,)),
                                                       ((6,), (6, 1))])
@pytest.mark.parametrize("labels_dtype", [np.int64, np.float32, np.bool_])
def test_bce_matches_torch(logits_shape, labels_shape, labels_dtype, dtype):
    rng = np.random.default_rng(logits_shape[0])
    logits = (3 * rng.normal(size=logits_shape)).astype(dtype)
    labels = rng.integers(0, 2, size=labels_shape).astype(labels_dtype)
    loss, cache = sigmoid_binary_cross_entropy_forward(logits, labels)
    dlogits = sigmoid_binary_cross_entropy_backward(0.5, cache)
    loss_t, dlogits_t = _torch_bce(logits, labels, 0.5)
    assert type(loss) is float
    assert dlogits.shape == logits_shape and dlogits.dtype == dtype
    assert_close(loss, loss_t, dtype, "loss")
    assert_close(dlogits, dlogits_t, dtype, "dlogits")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_of_huge_logits_is_finite_and_equals_torch(dtype):
    logits = np.array([1e4, 1e4, -1e4, -1e4, 0.0], dtype=dtype)
    labels = np.array([1, 0, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, cache = sigmoid_binary_cross_entropy_forward(logits, labels)
        dlogits = sigmoid_binary_cross_entropy_backward(1.0, cache)
    loss_t, dlogits_t = _torch_bce(logits, labels, 1.0)
    assert np.isfinite(loss) and np.isfinite(dlogits).all()
    assert_close(loss, loss_t, dtype, "loss")  # (0 + 1e4 + 1e4 + 0 + log 2) / 5
    assert_close(dlogits, dlogits_t, dtype, "dlogits")


def test_bce_finite_differences():
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(size=(5, 1)), rng.integers(0, 2, size=5)
    dloss = np.array(-0.7)
    _, cache = sigmoid_binary_cross_entropy_forward(logits, labels)
    assert_grad_matches_fd(sigmoid_binary_cross_entropy_backward(dloss, cache),
                           lambda v: np.array(sigmoid_binary_cross_entropy_forward(v, labels)[0]),
                           logits, dloss)


@pytest.mark.parametrize("logits,labels,exc,match", [
    (np.ones((3, 2)), np.array([0, 1, 1]), ValueError,
     r"`logits` must have shape \(N,\) or \(N, 1\), N >= 1, got \(3, 2\)"),
    (np.ones((3, 1, 1)), np.array([0, 1, 1]), ValueError, r"got \(3, 1, 1\)"),
    (np.ones(0), np.array([], dtype=np.int64), ValueError, r"N >= 1, got \(0,\)"),
    (np.ones(3, dtype=np.int64), np.array([0, 1, 1]), TypeError,
     r"`logits` must have dtype float32 or float64, got int64"),
    (np.ones(3), np.array(["0", "1", "1"]), TypeError,
     r"`labels` must have a bool, integer or float dtype, got <U1"),
    (np.ones(3), [0, 1, 1], TypeError, r"`labels` must be a numpy.ndarray, got list"),
    (np.ones(3), np.array([0, 1]), ValueError,
     r"`labels` must have shape \(3,\) or \(3, 1\) to match `logits`, got \(2,\)"),
    (np.ones(3), np.array([0, 2, 1]), ValueError, r"`labels` must be 0 or 1, got 2 at position 1"),
    (np.ones(3), np.array([0.0, 1.0, 0.5]), ValueError,
     r"`labels` must be 0 or 1, got 0.5 at position 2"),
    (np.ones(3), np.array([0.0, np.nan, 1.0]), ValueError,
     r"`labels` must be 0 or 1, got nan at position 1"),
])
def test_bce_bad_inputs_are_refused(logits, labels, exc, match):
    with pytest.raises(exc, match=match):
        sigmoid_binary_cross_entropy_forward(logits, labels)


# ---- backward refusals, both losses ---------------------------------------------------------

LOSSES = {
    "softmax_cross_entropy": (
        lambda: softmax_cross_entropy_forward(np.ones((2, 3)), np.array([0, 1])),
        softmax_cross_entropy_backward),
    "sigmoid_binary_cross_entropy": (
        lambda: sigmoid_binary_cross_entropy_forward(np.ones(2), np.array([0, 1])),
        sigmoid_binary_cross_entropy_backward),
}


@pytest.mark.parametrize("op", list(LOSSES))
@pytest.mark.parametrize("dloss,got", [(np.ones(2), r"an array of shape \(2,\)"),
                                       ("1.0", "'1.0'"), (None, "None"), (True, "True")])
def test_backward_refuses_a_non_scalar_dloss(op, dloss, got):
    make, backward = LOSSES[op]
    _, cache = make()
    with pytest.raises(TypeError, match=rf"`dloss` of {op}_backward must be a real scalar "
                                        rf"\(the loss is a scalar, usually 1.0\), got {got}"):
        backward(dloss, cache)


@pytest.mark.parametrize("op", list(LOSSES))
def test_backward_accepts_scalar_kinds_and_refuses_a_foreign_cache(op):
    make, backward = LOSSES[op]
    _, cache = make()
    expected = backward(1.0, cache)
    for dloss in (1, np.float32(1.0), np.array(1.0)):
        np.testing.assert_array_equal(backward(dloss, cache), expected)
    _, other = relu_forward(np.ones((2, 3)))
    with pytest.raises(TypeError, match=rf"`cache` of {op}_backward must be the cache returned "
                                        rf"by {op}_forward \(\w+Cache\), got ReluCache"):
        backward(1.0, other)
