"""The head rule (one logit = two classes through a sigmoid; K logits = softmax) and
Sequential.kept_state, the one owner of 'look without changing the model'."""

import numpy as np
import pytest

from juanji.models import build_model
from juanji.nn import head


def test_one_logit_is_two_classes_through_a_sigmoid():
    z = np.array([[0.0], [3.0], [-2.0]])  # (B, 1)
    assert head.num_classes(1) == 2 and head.is_binary(1) and not head.is_binary(2)
    np.testing.assert_allclose(head.probabilities(z)[:, 0], 1 / (1 + np.exp(-z[:, 0])))
    assert head.predictions(z).tolist() == [0, 1, 0]
    assert head.score_gradient(z, 0)[:, 0].tolist() == [-1.0, -1.0, -1.0]
    loss, cache = head.loss_forward(z, np.array([0, 1, 0]))
    np.testing.assert_allclose(loss, np.mean(np.log1p(np.exp([0.0, -3.0, -2.0]))))
    assert head.loss_backward(cache).shape == (3, 1)


def test_k_logits_are_softmax_classes():
    z = np.array([[1.0, 2.0, 0.5]])  # (1, 3)
    assert head.num_classes(3) == 3
    p = head.probabilities(z)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum())
    assert head.predictions(z).tolist() == [1]
    assert head.score_gradient(z, 2).tolist() == [[0.0, 0.0, 1.0]]
    loss, cache = head.loss_forward(z, np.array([1]))
    np.testing.assert_allclose(loss, -np.log(p[0, 1]))
    np.testing.assert_allclose(head.loss_backward(cache), p - [[0, 1, 0]])


def test_kept_state_puts_back_modes_grads_and_caches():
    model = build_model("digits", (8, 8, 1), 10, seed=0)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype(np.float32)
    model.train()
    model.forward(x)
    before_caches = [layer.last_cache for layer in model.layers]
    for p in model.parameters():
        p.grad[...] = 7.0
    with model.kept_state():
        assert not model.training and not any(layer.training for layer in model.layers)
        model.backward(np.ones(model.forward(x[:1]).shape, np.float32))  # (1, 10)
        assert any(np.any(p.grad != 7.0) for p in model.parameters())
    assert model.training and all(layer.training for layer in model.layers)
    assert all(np.all(p.grad == 7.0) for p in model.parameters())
    assert all(a is b for a, b in zip(before_caches, (layer.last_cache for layer in model.layers)))
    assert model.num_classes == 10


def test_kept_state_restores_after_an_error_and_refuses_a_bad_mode():
    model = build_model("digits", (8, 8, 1), 10).train()
    with pytest.raises(RuntimeError):
        with model.kept_state():
            raise RuntimeError("boom")
    assert model.training
    with pytest.raises(ValueError, match=r"`mode` must be 'eval' or 'train', got 'test'"):
        with model.kept_state(mode="test"):
            pass
