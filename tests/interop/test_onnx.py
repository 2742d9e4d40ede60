"""juanji <-> ONNX: onnxruntime agrees with juanji; juanji -> ONNX -> juanji is exact; files
written by PyTorch's own exporter load."""

import re
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from juanji.interop import from_onnx, to_onnx, to_torch
from juanji.interop.onnx import OPSET

from .conftest import all_models, batch, nchw, random_models

F32 = 2e-5


def same_hyperparameters(a, b):
    """Every layer's hyperparameters equal, padding compared as resolved ((t, b), (l, r))."""
    from juanji.interop._layout import conv_padding, layer_input_shapes, pool_padding
    from juanji.nn import AvgPool2D, Conv2D, MaxPool2D
    for la, lb, shape in zip(a.layers, b.layers, layer_input_shapes(b)):
        ca, cb = la.config(), lb.config()
        if isinstance(la, Conv2D):
            assert conv_padding(la, shape) == conv_padding(lb, shape)
        elif isinstance(la, (MaxPool2D, AvgPool2D)):
            assert pool_padding(la, shape) == pool_padding(lb, shape)
        ca.pop("padding", None), cb.pop("padding", None)
        assert ca == cb
    return len(a.layers) == len(b.layers)


def ort_run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": nchw(x)})[0]


@pytest.mark.parametrize("name,model", all_models().items())
def test_onnxruntime_matches_juanji_and_round_trip_is_exact(tmp_path, name, model):
    path = tmp_path / f"{name}.onnx"
    to_onnx(model, path)
    assert onnx.load(str(path)).opset_import[0].version == OPSET
    x = batch(model)
    ours = model.forward(x)
    diff = np.abs(ort_run(path, x) - ours).max()
    assert diff < F32 * max(1.0, np.abs(ours).max()), f"{name}: {diff}"
    back = from_onnx(path)
    assert back.input_shape == model.input_shape and back.dtype == model.dtype
    assert [type(l) for l in back.layers] == [type(l) for l in model.layers]
    for key, value in model.state_dict().items():
        assert np.array_equal(back.state_dict()[key], value), key
    assert np.array_equal(back.forward(x), ours)


@pytest.mark.parametrize("name,model", all_models(np.float64).items())
def test_float64_round_trip_is_bitwise(tmp_path, name, model):
    to_onnx(model, tmp_path / "m.onnx")
    back = from_onnx(tmp_path / "m.onnx")
    for key, value in model.state_dict().items():
        assert back.state_dict()[key].dtype == np.float64
        assert np.array_equal(back.state_dict()[key], value), key
    assert same_hyperparameters(back, model)
    x = batch(model)
    assert np.array_equal(back.forward(x), model.forward(x))


def test_trained_digits_same_predictions_in_onnxruntime(tmp_path, trained_digits):
    model, x, y = trained_digits
    to_onnx(model, tmp_path / "digits.onnx")
    ours, theirs = model.forward(x), ort_run(tmp_path / "digits.onnx", x)
    assert np.abs(ours - theirs).max() < 1e-4
    assert np.array_equal(ours.argmax(1), theirs.argmax(1))


def torch_onnx_export(net, x, path, **kw):
    """torch.onnx.export's TorchScript exporter (dynamo=False: the new one needs onnxscript,
    which juanji does not depend on), its deprecation and constant-folding notices silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)  # torch's own constant-folding notes
        torch.onnx.export(net, x, str(path), opset_version=OPSET, dynamo=False, **kw)


def torch_nets():
    """Nets written in PyTorch, pad modules and padding='same' with even kernels included (the
    exporter writes those as a Pad whose pads a subgraph of constants computes, and as
    auto_pad=SAME_UPPER)."""
    torch.manual_seed(0)
    digits = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    every = nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), nn.BatchNorm2d(6),
                          nn.LeakyReLU(0.1), nn.Conv2d(6, 6, 3, padding=2, dilation=2, groups=3),
                          nn.Tanh(), nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                          nn.MaxPool2d(2, 1, 1), nn.Sigmoid(), nn.Flatten(), nn.Dropout(0.3),
                          nn.Linear(6 * 4 * 4, 5))
    gap = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2, padding=1),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 2))
    with torch.no_grad():
        every[1].running_mean.uniform_(-1, 1)
        every[1].running_var.uniform_(0.5, 2)
    pads = nn.Sequential(nn.ZeroPad2d((0, 1, 1, 0)), nn.Conv2d(2, 4, 2), nn.ReLU(),
                         nn.Conv2d(4, 4, (2, 3), padding="same", dilation=(1, 2)),
                         nn.ConstantPad2d((1, 0, 0, 1), float("-inf")), nn.MaxPool2d(2),
                         nn.ZeroPad2d((1, 0, 1, 0)), nn.AvgPool2d(2, 1), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 3))
    return {"digits": (digits.eval(), (8, 8, 1)), "every": (every.eval(), (9, 10, 4)),
            "gap": (gap.eval(), (7, 9, 3)), "pads": (pads.eval(), (6, 6, 2))}


@pytest.mark.parametrize("name", ["digits", "every", "gap", "pads"])
def test_pytorch_exporter_files_load(tmp_path, name):
    net, (h, w, c) = torch_nets()[name]
    x = torch.randn(5, c, h, w, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "torch.onnx"
    torch_onnx_export(net, x, path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    back = from_onnx(path)
    with torch.no_grad():
        want = net(x).numpy()
    got = back.forward(np.ascontiguousarray(x.numpy().transpose(0, 2, 3, 1)))  # (N, H, W, C)
    assert np.abs(got - want).max() < 1e-5


def test_from_onnx_names_an_unsupported_operator(tmp_path):
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.GELU(), nn.Flatten(), nn.Linear(72, 2)).eval()
    torch_onnx_export(net, torch.zeros(1, 1, 8, 8), tmp_path / "g.onnx")
    with pytest.raises(ValueError, match="operator 'Gelu'|operator 'Erf'|operator 'Div'"):
        from_onnx(tmp_path / "g.onnx")


@pytest.mark.parametrize("name,model", random_models().items())
def test_to_torch_then_pytorch_exporter_gives_back_the_same_model(tmp_path, name, model):
    """juanji -> to_torch (ZeroPad2d / -inf pads for asymmetric padding) -> torch.onnx.export ->
    from_onnx: the same outputs; without BatchNorm (which the exporter folds into the conv
    before it) the same weights bit for bit and the same padding, resolved."""
    from juanji.nn import BatchNorm2D
    h, w, c = model.input_shape
    torch_onnx_export(to_torch(model).eval(), torch.zeros(1, c, h, w), tmp_path / "t.onnx",
                      input_names=["input"], dynamic_axes={"input": {0: "N"}})
    back = from_onnx(tmp_path / "t.onnx")
    x = batch(model)
    assert np.abs(back.forward(x) - model.forward(x)).max() < F32
    if not any(isinstance(layer, BatchNorm2D) for layer in model.layers):
        for key, value in model.state_dict().items():
            assert np.array_equal(back.state_dict()[key], value), key
        assert same_hyperparameters(back, model)


@pytest.mark.parametrize("pad,message", [
    (nn.ReflectionPad2d(1), "mode b'reflect' is not supported"),
    (nn.ConstantPad2d(1, 0.5), "a Pad of 0.5 before it is supported only"),
])
def test_from_onnx_refuses_a_pad_it_cannot_fold(tmp_path, pad, message):
    net = nn.Sequential(pad, nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 8 * 8, 2)).eval()
    torch_onnx_export(net, torch.zeros(1, 1, 8, 8), tmp_path / "p.onnx")
    with pytest.raises(ValueError, match=re.escape(message)):
        from_onnx(tmp_path / "p.onnx")


def test_to_onnx_writes_nothing_on_an_unexportable_model(tmp_path):
    from juanji.nn import Conv2D, Flatten, Sequential
    model = Sequential([Conv2D(2, 3), Flatten()], (5, 5, 1))
    with pytest.raises(ValueError, match=r"layer 1 \(Flatten of \(3, 3, 2\)\) must be followed"):
        to_onnx(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
