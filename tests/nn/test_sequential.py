"""Sequential: forward/backward against the same network in torch, state_dict, config, messages."""

import json

import numpy as np
import pytest
import torch

from juanji.nn import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sequential,
    Tanh,
)
from tests.helpers import assert_close, nhwc_to_torch, torch_to_hwio, torch_to_nhwc


def small_layers():
    return [Conv2D(4, 3, padding=1), BatchNorm2D(), ReLU(), MaxPool2D(2),
            Conv2D(6, 3, stride=1, groups=2, init="glorot"), Tanh(), AvgPool2D(2, stride=1),
            Flatten(), Dense(5), LeakyReLU(0.1), Dropout(0.5), Dense(3)]


class NHWCFlatten(torch.nn.Module):
    """Flatten in our channels-last order, so Dense weights carry over unchanged."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)  # (N, H*W*C)


def torch_copy(model):
    """The same network in torch (float64) with our weights copied in."""
    mods = [
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 6, 3, groups=2), torch.nn.Tanh(),
        torch.nn.AvgPool2d(2, stride=1), NHWCFlatten(), torch.nn.Linear(2 * 2 * 6, 5),
        torch.nn.LeakyReLU(0.1), torch.nn.Dropout(0.5), torch.nn.Linear(5, 3),
    ]
    net = torch.nn.Sequential(*mods).double()
    with torch.no_grad():
        for ours, theirs in zip(model.layers, mods):
            if isinstance(ours, Conv2D):
                theirs.weight.copy_(torch.tensor(ours.params["weight"].data.transpose(3, 2, 0, 1)))
                theirs.bias.copy_(torch.tensor(ours.params["bias"].data))
            elif isinstance(ours, Dense):
                theirs.weight.copy_(torch.tensor(ours.params["weight"].data.T))  # (out, in)
                theirs.bias.copy_(torch.tensor(ours.params["bias"].data))
            elif isinstance(ours, BatchNorm2D):
                theirs.weight.copy_(torch.tensor(ours.params["gamma"].data))
                theirs.bias.copy_(torch.tensor(ours.params["beta"].data))
    return net, mods


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.usefixtures("each_backend")  # the pools run on both backends
def test_forward_backward_match_torch(mode):
    model = Sequential(small_layers(), (10, 10, 2), seed=3, dtype=np.float64)
    for _, p in model.named_parameters():  # make BatchNorm's gamma/beta and biases non-trivial
        if p.name != "weight":
            p.data[...] = np.random.default_rng(9).standard_normal(p.data.shape)
    net, mods = torch_copy(model)
    if mode == "eval":  # exercise running stats that differ from (0, 1)
        model.layers[1].buffers["running_mean"][...] = [0.1, -0.2, 0.3, 0.0]
        model.layers[1].buffers["running_var"][...] = [0.5, 2.0, 1.0, 1.5]
        mods[1].running_mean.copy_(torch.tensor(model.layers[1].buffers["running_mean"]))
        mods[1].running_var.copy_(torch.tensor(model.layers[1].buffers["running_var"]))
        model.eval()
        net.eval()
    else:  # dropout masks are drawn differently; compare the rest of the network
        model.layers[10].p = 0.0
        mods[10].p = 0.0
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 10, 10, 2))
    dy = rng.standard_normal((4, 3))
    y = model.forward(x)
    dx = model.backward(dy)
    xt = nhwc_to_torch(x)
    yt = net(xt)
    yt.backward(torch.tensor(dy))
    assert y.shape == (4, 3) and y.dtype == np.float64
    assert_close(y, yt.detach().numpy(), what="logits")
    assert_close(dx, torch_to_nhwc(xt.grad), what="dx")
    for ours, theirs in zip(model.layers, mods):
        if isinstance(ours, Conv2D):
            assert_close(ours.params["weight"].grad, torch_to_hwio(theirs.weight.grad), what="dw")
            assert_close(ours.params["bias"].grad, theirs.bias.grad.numpy(), what="db")
        elif isinstance(ours, Dense):
            assert_close(ours.params["weight"].grad, theirs.weight.grad.numpy().T, what="dW")
            assert_close(ours.params["bias"].grad, theirs.bias.grad.numpy(), what="db")
        elif isinstance(ours, BatchNorm2D):
            assert_close(ours.params["gamma"].grad, theirs.weight.grad.numpy(), what="dgamma")
            assert_close(ours.buffers["running_var"], theirs.running_var.numpy(), what="rv")


def test_same_seed_same_weights_other_seed_different():
    a = Sequential(small_layers(), (10, 10, 2), seed=1)
    b = Sequential(small_layers(), (10, 10, 2), seed=1)
    c = Sequential(small_layers(), (10, 10, 2), seed=2)
    for (ka, pa), (_, pb), (_, pc) in zip(a.named_parameters(), b.named_parameters(),
                                          c.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
        if ka.endswith("weight"):
            assert not np.array_equal(pa.data, pc.data)


def test_names_modes_and_dtype():
    model = Sequential(small_layers(), (10, 10, 2))
    names = [k for k, _ in model.named_parameters()]
    assert names[:4] == ["0.weight", "0.bias", "1.gamma", "1.beta"]
    assert names[-1] == "11.bias"
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert model.num_parameters == sum(p.size for p in model.parameters())
    model.eval()
    assert not any(layer.training for layer in model.layers)
    model.train()
    assert all(layer.training for layer in model.layers)
    y = model.forward(np.zeros((2, 10, 10, 2)))  # float64 input, float32 model: cast
    assert y.dtype == np.float32


def test_predict_returns_probabilities_in_eval_and_restores_mode():
    model = Sequential(small_layers(), (10, 10, 2), seed=0)
    x = np.random.default_rng(0).standard_normal((7, 10, 10, 2)).astype(np.float32)
    probs = model.predict(x, batch_size=3)
    assert probs.shape == (7, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert model.training  # restored
    model.eval()
    logits = model.forward(x)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs, expected / expected.sum(axis=1, keepdims=True), rtol=1e-5)


def test_predict_single_logit_uses_sigmoid():
    model = Sequential([Flatten(), Dense(1)], (2, 2, 1), seed=0)
    x = np.random.default_rng(0).standard_normal((5, 2, 2, 1)).astype(np.float32)
    probs = model.predict(x)
    logits = model.forward(x)
    assert probs.shape == (5, 1)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits)), rtol=1e-5)


def test_state_dict_round_trip_in_place():
    a = Sequential(small_layers(), (10, 10, 2), seed=1)
    a.forward(np.random.default_rng(0).standard_normal((4, 10, 10, 2)))  # moves running stats
    state = a.state_dict()
    assert "1.running_mean" in state and "1.running_var" in state and "0.weight" in state
    assert set(state) == {k for k, _ in a.named_parameters()} | {"1.running_mean", "1.running_var"}
    b = Sequential(small_layers(), (10, 10, 2), seed=2)
    kept = b.parameters()[0].data  # optimisers hold references: load must write in place
    b.load_state_dict(state)
    assert b.parameters()[0].data is kept
    for key, value in b.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    x = np.random.default_rng(5).standard_normal((3, 10, 10, 2)).astype(np.float32)
    np.testing.assert_array_equal(a.eval().forward(x), b.eval().forward(x))
    state["0.weight"][...] = 0  # a copy: changing it leaves the model alone
    assert a.layers[0].params["weight"].data.any()


def test_load_state_dict_messages():
    model = Sequential([Conv2D(2, 3), Flatten(), Dense(3)], (5, 5, 1))
    state = model.state_dict()
    missing = {k: v for k, v in state.items() if k != "2.bias"}
    with pytest.raises(ValueError, match=r"missing keys \['2.bias'\], unexpected keys \[\]"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected keys \['7.weight'\]"):
        model.load_state_dict({**state, "7.weight": np.zeros(1)})
    bad = {**state, "2.weight": np.zeros((10, 3))}
    with pytest.raises(ValueError, match=r"state_dict\['2.weight'\] has shape \(10, 3\) but the "
                                         r"model's '2.weight' has shape \(18, 3\)"):
        model.load_state_dict(bad)
    before = model.layers[0].params["weight"].data.copy()
    with pytest.raises(ValueError):
        model.load_state_dict({**bad, "0.weight": np.zeros_like(before)})
    np.testing.assert_array_equal(model.layers[0].params["weight"].data, before)  # untouched


def test_config_round_trip_rebuilds_the_same_model():
    model = Sequential(small_layers(), (10, 10, 2), seed=4, dtype=np.float64)
    cfg = json.loads(json.dumps(model.config()))
    rebuilt = Sequential.from_config(cfg)
    assert rebuilt.config() == model.config()
    assert rebuilt.dtype == np.float64 and rebuilt.input_shape == (10, 10, 2)
    for (ka, pa), (kb, pb) in zip(model.named_parameters(), rebuilt.named_parameters()):
        assert ka == kb
        np.testing.assert_array_equal(pa.data, pb.data)  # same seed, same initial weights
    with pytest.raises(ValueError, match=r"needs the key 'layers'"):
        Sequential.from_config({"input_shape": [10, 10, 2]})
    with pytest.raises(ValueError, match=r"unknown layer type 'Conv9D'"):
        Sequential.from_config({"input_shape": [10, 10, 2], "layers": [{"type": "Conv9D"}]})


def test_dropout_rng_state_save_and_restore():
    model = Sequential([Flatten(), Dropout(0.5), Dense(2)], (4, 4, 1), seed=0)
    x = np.ones((3, 4, 4, 1), dtype=np.float32)
    state = json.loads(json.dumps(model.rng_state()))
    assert list(state) == ["1"]
    first = model.forward(x)
    model.set_rng_state(state)
    np.testing.assert_array_equal(model.forward(x), first)


@pytest.mark.parametrize("layers, shape, match", [
    ([Conv2D(4, 5), Flatten(), Dense(2)], (4, 4, 1),
     r"layer 0 \(Conv2D\) cannot take input shape \(4, 4, 1\): `kernel_size` 5"),
    ([Conv2D(4, 3), Dense(2)], (6, 6, 1),
     r"layer 1 \(Dense\) cannot take input shape \(4, 4, 4\): Dense expects a flat input"),
    ([ReLU(), "relu"], (3,), r"`layers\[1\]` must be a juanji.nn Layer, got 'relu'"),
    ([], (3,), r"`layers` must hold at least one layer"),
    ([ReLU()], (0, 3), r"`input_shape` must be a non-empty tuple of positive ints"),
])
def test_build_messages(layers, shape, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Sequential(layers, shape)


def test_forward_refuses_the_wrong_input():
    model = Sequential([Conv2D(2, 3), Flatten(), Dense(2)], (5, 5, 1))
    with pytest.raises(ValueError, match=r"`x` must have shape \(N, 5, 5, 1\) for this model "
                                         r"\(input_shape \(5, 5, 1\)\), got \(2, 5, 5, 3\)"):
        model.forward(np.zeros((2, 5, 5, 3), dtype=np.float32))
    with pytest.raises(TypeError, match=r"`x` must be a float array, got dtype uint8"):
        model.forward(np.zeros((2, 5, 5, 1), dtype=np.uint8))
    with pytest.raises(TypeError, match=r"`dtype` must be float32 or float64, got int32"):
        Sequential([ReLU()], (3,), dtype=np.int32)


@pytest.mark.parametrize("pool", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                  dict(kernel_size=2, ceil_mode=True),
                                  dict(kernel_size=(2, 3), stride=(1, 2))])
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.usefixtures("each_backend")  # the pools run on both backends
def test_relu_then_max_pool_runs_reordered_with_the_same_numbers(pool, nan):
    from juanji.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU

    def build():
        return Sequential([Conv2D(4, 3), ReLU(), MaxPool2D(**pool), Flatten(), Dense(3)],
                          (9, 8, 2), seed=1, dtype=np.float64)

    fused, plain = build(), build()
    assert fused._order[:3] == [0, 2, 1]
    plain._order = list(range(len(plain.layers)))  # the layers in their written order
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((3, 9, 8, 2)), 1)  # rounded: ties inside windows
    x[0] = -np.abs(x[0])  # windows whose max is negative
    if nan:
        x[1, 4, 4, 0] = np.nan
    dy = rng.standard_normal((3, 3))
    out_f, out_p = fused.forward(x), plain.forward(x)
    np.testing.assert_array_equal(out_f, out_p)
    np.testing.assert_array_equal(fused.backward(dy), plain.backward(dy))
    for (name, pf), (_, pp) in zip(fused.named_parameters(), plain.named_parameters()):
        np.testing.assert_array_equal(pf.grad, pp.grad, err_msg=name)


@pytest.mark.parametrize("name, shape", [("lenet5", (28, 28, 1)), ("tinyvgg", (64, 64, 3)),
                                         ("course", (32, 32, 3)), ("signs", (64, 64, 3)),
                                         ("digits", (8, 8, 1))])
def test_values_created_counts_what_build_allocates(name, shape):
    from juanji.models import build_model
    from juanji.nn import BatchNorm2D, Dropout

    models = [build_model(name, shape, 10),
              Sequential([Conv2D(3, 3, groups=1), BatchNorm2D(), ReLU(), Dropout(0.5), Flatten(),
                          Dense(4, use_bias=False)], shape)]
    for model in models:
        in_shape, predicted = model.input_shape, 0
        for layer in model.layers:
            predicted += layer.values_created(in_shape)
            in_shape = layer.output_shape(in_shape)
        assert predicted == sum(v.size for v in model.state_dict().values())


def test_from_config_refuses_an_architecture_larger_than_allowed_before_building():
    model = Sequential([Conv2D(2, 3), Flatten(), Dense(3)], (6, 6, 1))
    config = model.config()
    n = sum(v.size for v in model.state_dict().values())  # 18 + 2 + 32 * 3 + 3 = 119
    assert Sequential.from_config(config, max_values=n).output_shape == (3,)
    config["layers"][0]["padding"] = 10_000  # a Dense 800 million inputs wide
    with pytest.raises(ValueError, match=r"would create at least [\d,]+ parameter values \(layer "
                                         r"2, Dense, on input \(800\d+,\)\), more than the 119 "
                                         r"allowed"):
        Sequential.from_config(config, max_values=n)


def test_an_nchw_batch_gets_the_transpose_to_use():
    from juanji.models import build_model
    model = build_model("digits", (8, 8, 1), 10)
    x = np.zeros((5, 1, 8, 8), np.float32)  # (N, C, H, W)
    for call in (model.forward, model.predict):
        with pytest.raises(ValueError, match=r"channels-first .*x\.transpose\(0, 2, 3, 1\)"):
            call(x)
    assert model.forward(x.transpose(0, 2, 3, 1)).shape == (5, 10)
