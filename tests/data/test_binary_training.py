"""fit/evaluate pick the loss from the model's output width: one logit -> sigmoid BCE (Happy
House), K >= 2 -> softmax cross-entropy; checked against the functional losses directly."""

import numpy as np
import pytest

from juanji.data import Dataset, Normalizer
from juanji.functional.losses import (sigmoid_binary_cross_entropy_backward,
                                      sigmoid_binary_cross_entropy_forward,
                                      softmax_cross_entropy_forward)
from juanji.models import build_model
from juanji.optim import SGD
from juanji.train import evaluate, fit, num_classes_of, predict_proba
from tests.helpers import assert_close


def toy(n=40, seed=0):
    """Class 1 bright, class 0 dark: separable, so a binary model must reach 100%."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = (rng.integers(0, 90, (n, 8, 8, 1)) + 150 * y[:, None, None, None]).astype(np.uint8)
    return Dataset(x, y, ("not happy", "happy"), "toy")


def test_evaluate_uses_sigmoid_bce_and_the_sign_of_the_logit():
    data = toy()
    norm = Normalizer.fit(data)
    model = build_model("digits", data.input_shape, 2, seed=1, binary=True)
    assert model.output_shape == (1,) and num_classes_of(model) == 2
    logits = model.forward(norm(data.x))  # (N, 1)
    r = evaluate(model, data, norm, batch_size=7)
    assert r.loss == pytest.approx(sigmoid_binary_cross_entropy_forward(logits, data.y)[0],
                                   rel=1e-5)
    pred = (logits[:, 0] > 0).astype(int)
    assert r.confusion.shape == (2, 2)
    assert r.confusion.tolist() == [[int(((data.y == i) & (pred == j)).sum()) for j in (0, 1)]
                                    for i in (0, 1)]


def test_one_full_batch_step_is_the_sigmoid_bce_gradient_step():
    data = toy(n=16)
    norm = Normalizer.fit(data)
    a = build_model("digits", data.input_shape, 2, seed=2, binary=True)
    b = build_model("digits", data.input_shape, 2, seed=2, binary=True)
    fit(a, data, epochs=1, batch_size=16, optimizer=SGD(a.parameters(), lr=0.1), seed=0,
        normalizer=norm, progress=False)
    b.train()
    logits = b.forward(norm(data.x))  # one batch of everything: the order does not matter
    _, cache = sigmoid_binary_cross_entropy_forward(logits, data.y)
    b.backward(sigmoid_binary_cross_entropy_backward(1.0, cache))
    SGD(b.parameters(), lr=0.1).step()
    for k, v in a.state_dict().items():
        assert_close(v, b.state_dict()[k], np.float32, what=k)


def test_binary_model_learns_the_toy_set():
    data = toy()
    norm = Normalizer.fit(data)
    model = build_model("digits", data.input_shape, 2, seed=0, binary=True)
    before = evaluate(model, data, norm).loss
    hist = fit(model, data, epochs=8, batch_size=8, optimizer=SGD(model.parameters(), lr=0.05),
               seed=0, normalizer=norm, progress=False)
    after = evaluate(model, data, norm)
    assert after.loss < before and after.accuracy == 1.0
    assert 0.0 <= hist.epochs[-1].train_accuracy <= 1.0


def test_two_logits_still_use_softmax_cross_entropy():
    data = toy()
    norm = Normalizer.fit(data)
    model = build_model("digits", data.input_shape, 2, seed=1)
    logits = model.forward(norm(data.x))  # (N, 2)
    assert evaluate(model, data, norm).loss == pytest.approx(
        softmax_cross_entropy_forward(logits, data.y)[0], rel=1e-5)


def test_predict_proba_gives_two_columns_for_one_logit():
    data = toy(n=6)
    norm = Normalizer.fit(data)
    model = build_model("digits", data.input_shape, 2, seed=1, binary=True)
    p = predict_proba(model, norm(data.x))
    z = model.forward(norm(data.x))[:, 0].astype(np.float64)
    assert p.shape == (6, 2)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    soft = build_model("digits", data.input_shape, 3, seed=1)
    assert predict_proba(soft, norm(data.x)).shape == (6, 3)
