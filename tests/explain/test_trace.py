"""trace(): every activation, cache and gradient of one pass, checked against a PyTorch twin."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from juanji.explain.trace import trace
from juanji.nn import (
    AvgPool2D, BatchNorm2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential, Tanh,
)
from tests.helpers import assert_close, hwio_to_torch, nhwc_to_torch, torch_to_hwio, torch_to_nhwc


def small_model(k=5, seed=0):
    """Every layer kind the explainer page draws: conv (padded, strided), both pools, dense."""
    layers = [Conv2D(3, 3, padding=1), ReLU(), MaxPool2D(2), Conv2D(4, 2, stride=1), Tanh(),
              AvgPool2D(2, stride=1), Flatten(), Dropout(0.5), Dense(k)]
    model = Sequential(layers, (6, 6, 2), seed=seed, dtype=np.float64)
    for layer in model.layers:  # non-zero biases, so a wrong bias gradient cannot hide
        if "bias" in layer.params:
            layer.params["bias"].data[...] = np.random.default_rng(1).normal(
                size=layer.params["bias"].data.shape)
    return model


def torch_twin(model, x, label):
    """The same network in torch (NCHW), returning activations (NHWC), their grads, param grads."""
    acts = [nhwc_to_torch(x)]
    params = []
    for layer in model.layers:
        a = acts[-1]
        kind = type(layer).__name__
        if kind == "Conv2D":
            w = hwio_to_torch(layer.params["weight"].data)
            b = torch.tensor(layer.params["bias"].data, requires_grad=True)
            params.append((w, b))
            (t, bo), (le, r) = ((layer.padding,) * 2,) * 2
            out = F.conv2d(F.pad(a, (le, r, t, bo)), w, b, stride=layer.stride)
        elif kind == "Dense":
            w = torch.tensor(layer.params["weight"].data, requires_grad=True)
            b = torch.tensor(layer.params["bias"].data, requires_grad=True)
            params.append((w, b))
            out = a @ w + b  # (1, K)
        elif kind == "ReLU":
            out = torch.relu(a)
        elif kind == "Tanh":
            out = torch.tanh(a)
        elif kind == "MaxPool2D":
            out = F.max_pool2d(a, layer.kernel_size, layer.stride)
        elif kind == "AvgPool2D":
            out = F.avg_pool2d(a, layer.kernel_size, layer.stride)
        elif kind == "Flatten":
            out = a.permute(0, 2, 3, 1).reshape(1, -1)  # NHWC order, as juanji flattens
        elif kind == "Dropout":
            out = a  # eval mode: the identity
        else:
            raise AssertionError(kind)
        out.retain_grad()
        acts.append(out)
    loss = F.cross_entropy(acts[-1], torch.tensor([label]))
    loss.backward()
    as_np = [torch_to_nhwc(a) if a.ndim == 4 else a.detach().numpy() for a in acts]
    grads = [torch_to_nhwc(a.grad) if a.ndim == 4 else a.grad.numpy() for a in acts[1:]]
    pgrads = [(torch_to_hwio(w.grad) if w.ndim == 4 else w.grad.numpy(), b.grad.numpy())
              for w, b in params]
    return as_np, grads, pgrads, loss.item()


@pytest.mark.parametrize("label", [None, 0, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_trace_matches_torch(label, seed):
    model = small_model(seed=seed)
    x = np.random.default_rng(seed + 10).normal(size=(1, 6, 6, 2))
    t = trace(model, x, label)
    want_label = int(np.argmax(t.logits)) if label is None else label
    assert t.label == want_label
    assert t.predicted == int(np.argmax(t.probs))
    acts, act_grads, param_grads, loss = torch_twin(model, x, want_label)
    assert_close(t.loss, loss, what="loss")
    assert_close(t.probs, torch.softmax(torch.tensor(acts[-1][0]), 0).numpy(), what="probs")
    p = iter(param_grads)
    for i, lt in enumerate(t.layers):
        assert lt.index == i and lt.kind == type(model.layers[i]).__name__
        assert_close(lt.x, acts[i], what=f"layer {i} input")
        assert_close(lt.y, acts[i + 1], what=f"layer {i} output")
        assert_close(lt.dy, act_grads[i], what=f"layer {i} dL/dy")
        if i > 0:
            assert_close(lt.dx, act_grads[i - 1], what=f"layer {i} dL/dx")
            assert lt.dx is t.layers[i - 1].dy  # the gradient chain is one chain
        if lt.grads:
            dw, db = next(p)
            assert_close(lt.grads["weight"], dw, what=f"layer {i} dW")
            assert_close(lt.grads["bias"], db, what=f"layer {i} db")
            assert_close(lt.params["weight"], model.layers[i].params["weight"].data)


def test_trace_keeps_caches_and_saliency():
    model = small_model()
    x = np.random.default_rng(3).normal(size=(1, 6, 6, 2))
    t = trace(model, x, 1)
    pool = t.layers[2]
    assert pool.cache.argmax.shape == pool.y.shape  # the routing mask the page draws
    # the max-pool output is the input cell its argmax names
    kh, kw = pool.layer.kernel_size
    a, b = np.divmod(pool.cache.argmax.astype(int), kw)  # (1, 3, 3, 3) each
    i, j = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    rows, cols = i[None, :, :, None] * 2 + a, j[None, :, :, None] * 2 + b
    picked = np.take_along_axis(pool.x.reshape(1, 36, 3), (rows * 6 + cols).reshape(1, 9, 3),
                                axis=1).reshape(pool.y.shape)  # (1, 3, 3, 3)
    np.testing.assert_array_equal(picked, pool.y)
    assert t.dx.shape == x.shape and np.abs(t.dx).sum() > 0


def test_trace_restores_the_model():
    model = small_model()
    model.train()
    model.layers[3].eval()  # a mixed mode must come back as it was, layer by layer
    for i, p in enumerate(model.parameters()):
        p.grad[...] = i + 0.5
    before = [p.grad.copy() for p in model.parameters()]
    x = np.random.default_rng(4).normal(size=(1, 6, 6, 2))
    model.forward(x)
    caches = [layer._cache for layer in model.layers]
    t = trace(model, x)
    assert t.layers[7].cache == "eval"  # dropout ran in eval mode inside the trace
    assert model.training and not model.layers[3].training
    assert all(layer.training for j, layer in enumerate(model.layers) if j != 3)
    for p, g in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.grad, g)
    assert all(layer._cache is c for layer, c in zip(model.layers, caches))


def test_trace_of_a_batchnorm_model_uses_running_statistics():
    model = Sequential([Conv2D(2, 3), BatchNorm2D(), ReLU(), Flatten(), Dense(3)], (4, 4, 1),
                       dtype=np.float64)
    model.layers[1].buffers["running_mean"][...] = [0.3, -0.2]
    running = model.layers[1].buffers["running_mean"].copy()
    x = np.random.default_rng(5).normal(size=(1, 4, 4, 1))
    t = trace(model, x, 2)
    np.testing.assert_array_equal(model.layers[1].buffers["running_mean"], running)
    z = t.layers[0].y
    var = model.layers[1].buffers["running_var"]
    assert_close(t.layers[1].y, (z - running) / np.sqrt(var + 1e-5))


def test_trace_single_logit_model():
    model = Sequential([Flatten(), Dense(1)], (2, 2, 1), dtype=np.float64)
    x = np.random.default_rng(6).normal(size=(1, 2, 2, 1))
    t = trace(model, x, 1)
    p = 1 / (1 + np.exp(-t.logits[0]))
    assert_close(t.probs, [p])
    assert_close(t.loss, -np.log(p))
    assert_close(t.layers[-1].dy, [[p - 1]])


@pytest.mark.parametrize("x, err, match", [
    ([[0.0]], TypeError, r"`x` must be a numpy.ndarray, got list"),
    (np.zeros((1, 6, 6, 2), np.int64), TypeError, r"`x` must be a normalised float.*int64"),
    (np.zeros((2, 6, 6, 2)), ValueError, r"`x` must be one input of shape \(1, 6, 6, 2\).*"
                                         r"\(2, 6, 6, 2\)"),
    (np.zeros((6, 6, 2)), ValueError, r"`x` must be one input of shape"),
])
def test_trace_refuses_bad_inputs(x, err, match):
    with pytest.raises(err, match=match):
        trace(small_model(), x)


@pytest.mark.parametrize("label", [-1, 5, 2.0, True])
def test_trace_refuses_bad_labels(label):
    with pytest.raises(ValueError, match=r"`label` must be a class index in \[0, 5\)"):
        trace(small_model(), np.zeros((1, 6, 6, 2)), label)


def test_trace_refuses_non_models():
    with pytest.raises(TypeError, match=r"`model` must be a juanji.nn.Sequential, got int"):
        trace(3, np.zeros((1, 6, 6, 2)))
    conv_only = Sequential([Conv2D(1, 3)], (4, 4, 1))
    with pytest.raises(ValueError, match=r"`model` must end in a flat \(K,\) output"):
        trace(conv_only, np.zeros((1, 4, 4, 1), np.float32))
