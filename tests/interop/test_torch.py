"""juanji <-> PyTorch: to_torch / from_torch / load_torch_state_dict agree with juanji."""

import numpy as np
import pytest
import torch
from torch import nn

from juanji.interop import from_torch, load_torch_state_dict, to_torch
from juanji.models import build_model

from .conftest import all_models, batch, nchw

# Float32 agreement bound: these are sums of a few hundred products of O(1) values.
F32 = 2e-5


def torch_run(tm, x):
    with torch.no_grad():
        return tm(torch.from_numpy(nchw(x))).numpy()


@pytest.mark.parametrize("name,model", all_models().items())
def test_to_torch_matches_juanji_float32(name, model):
    x = batch(model)
    diff = np.abs(torch_run(to_torch(model), x) - model.forward(x)).max()
    assert diff < F32 * max(1.0, np.abs(model.forward(x)).max()), f"{name}: {diff}"


@pytest.mark.parametrize("name,model", all_models(np.float64).items())
def test_to_torch_float64_to_1e10_and_back_exact(name, model):
    x = batch(model)
    tm = to_torch(model)
    np.testing.assert_allclose(torch_run(tm, x), model.forward(x), rtol=1e-10, atol=1e-12)
    back = from_torch(tm, model.input_shape)
    assert back.dtype == np.float64 and not back.training
    for key, value in model.state_dict().items():
        assert np.array_equal(back.state_dict()[key], value), key
    assert np.array_equal(back.forward(x), model.forward(x))


def test_trained_digits_same_predictions_in_torch(trained_digits):
    model, x, y = trained_digits
    ours = model.forward(x)
    theirs = torch_run(to_torch(model), x)
    assert np.abs(ours - theirs).max() < 1e-4
    assert np.array_equal(ours.argmax(1), theirs.argmax(1))
    assert (ours.argmax(1) == y).mean() > 0.9


def test_a_torch_twin_state_dict_loads_and_agrees():
    """A net built in PyTorch (not by to_torch): its state_dict loads into juanji's model."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)).eval()
    model = build_model("digits", (8, 8, 1), 10).eval()
    load_torch_state_dict(model, net.state_dict())
    x = batch(model)
    assert np.abs(torch_run(net, x) - model.forward(x)).max() < 1e-5


def test_from_torch_reads_torch_same_padding_adaptive_pool_and_bn_settings():
    net = nn.Sequential(nn.Conv2d(2, 4, 4, padding="same", dilation=2), nn.BatchNorm2d(4, 1e-3, 0.3),
                        nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).eval()
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
    model = from_torch(net, (9, 9, 2))
    assert (model.layers[1].eps, model.layers[1].momentum) == (1e-3, 0.3)
    x = batch(model)
    assert np.abs(torch_run(net, x) - model.forward(x)).max() < 1e-5


def test_from_torch_names_an_unsupported_layer():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.GELU(), nn.Flatten(), nn.Linear(72, 2))
    with pytest.raises(ValueError, match=r"module 1 \(GELU\) has no juanji counterpart"):
        from_torch(net, (8, 8, 1))


def test_load_torch_state_dict_refuses_another_architecture():
    model = build_model("digits", (8, 8, 1), 10)
    with pytest.raises(ValueError, match="has 2 layers with parameters"):
        load_torch_state_dict(model, nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).state_dict())


@pytest.mark.parametrize("name,model", all_models().items())
def test_torch_export_program_runs_in_pytorch_and_reads_back_exactly(tmp_path, name, model):
    """save_torch_program: a .pt2 that torch.export.load runs (any batch size) like juanji;
    load_torch_program gives back the same weights and outputs bit for bit."""
    from juanji.interop import load_torch_program, save_torch_program
    path = tmp_path / "m.pt2"
    save_torch_program(model, path, metadata={"note": name})
    x = batch(model, n=3)
    ours = model.forward(x)
    theirs = torch_run(torch.export.load(str(path)).module(), x)
    assert np.abs(theirs - ours).max() < F32 * max(1.0, np.abs(ours).max()), name
    back, meta = load_torch_program(path)
    assert meta["note"] == name and meta["architecture"] == model.config()
    for key, value in model.state_dict().items():
        assert np.array_equal(back.state_dict()[key], value), key
    assert np.array_equal(back.forward(x), ours)
