"""`juanji export` and `juanji import` end to end: checkpoint -> ONNX / TorchScript -> checkpoint,
then evaluate, predict and explain page on the imported checkpoint; PyTorch's own files; errors."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from juanji.checkpoint import load_checkpoint
from juanji.cli import main
from juanji.data import Normalizer, load_dataset
from juanji.interop import from_onnx, to_torch
from juanji.interop.onnx import OPSET


def run_json(capsys, *args):
    """``juanji ARGS --json`` in-process: (exit code, parsed stdout)."""
    code = main([*map(str, args), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else None


def run_err(capsys, *args):
    """``juanji ARGS`` expected to fail: (exit code, stderr)."""
    try:
        code = main(list(map(str, args)))
    except SystemExit as e:  # argparse's usage errors
        code = e.code
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    _, test = load_dataset("digits")
    path = tmp_path_factory.mktemp("img") / "digit.png"
    Image.fromarray(test.x[3, :, :, 0]).save(path)
    return path


@pytest.mark.parametrize("fmt,suffix", [("onnx", ".onnx"), ("torch", ".pt2")])
def test_export_then_import_gives_the_same_checkpoint_and_commands_work(
        tmp_path, capsys, checkpoint, digit_png, fmt, suffix):
    exported = tmp_path / f"model{suffix}"
    code, info = run_json(capsys, "export", checkpoint, "--to", fmt, exported)
    assert code == 0 and exported.is_file()
    original = load_checkpoint(checkpoint)
    # The file ran in its own runtime and agreed with juanji within float32 rounding.
    assert 0 <= info["max_abs_difference"] < 2e-5
    assert info["input"] == "float32 (N, 1, 8, 8)" and info["output"] == "(N, 10)"
    assert info["metadata"]["normalizer"] == original.normalizer
    assert info["metadata"]["class_names"] == original.class_names
    assert info["metadata"]["dataset"] == "digits"

    out = tmp_path / "imported.npz"
    code, info = run_json(capsys, "import", exported, "--out", out)
    assert code == 0 and info["normalizer_from"] == "the file's metadata"
    assert info["format"] == fmt and info["dataset"] == "digits"
    back = load_checkpoint(out)
    for key, value in original.model.state_dict().items():  # the round trip is exact
        np.testing.assert_array_equal(back.model.state_dict()[key], value, err_msg=key)
    assert back.load_normalizer() == original.load_normalizer()
    assert back.class_names == original.class_names and back.dataset == "digits"

    # evaluate, predict and explain page work on it and say what they say on the original.
    assert run_json(capsys, "evaluate", out)[1]["confusion"] == \
        run_json(capsys, "evaluate", checkpoint)[1]["confusion"]
    assert run_json(capsys, "predict", out, digit_png)[1][0]["predictions"] == \
        run_json(capsys, "predict", checkpoint, digit_png)[1][0]["predictions"]
    assert main(["explain", "page", str(out), "--out", str(tmp_path / "page")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "page" / "index.html").stat().st_size > 10_000


def test_export_prints_the_normaliser_and_the_check(tmp_path, capsys, checkpoint):
    assert main(["export", str(checkpoint), "--to", "onnx", str(tmp_path / "m.onnx")]) == 0
    text = capsys.readouterr().out
    norm = load_checkpoint(checkpoint).load_normalizer()
    assert f"mean [{norm.mean[0]:.4f}]" in text and "not in the graph" in text
    assert "checked in onnxruntime: max |difference| from juanji" in text


def test_torch_export_runs_in_pytorch_without_juanji(tmp_path, capsys, checkpoint):
    path = tmp_path / "model.pt2"
    assert run_json(capsys, "export", checkpoint, "--to", "torch", path)[0] == 0
    ck = load_checkpoint(checkpoint)
    _, test = load_dataset("digits")
    x = ck.load_normalizer()(test.x[:20])  # (20, 8, 8, 1)
    np.save(tmp_path / "x.npy", np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # (20, 1, 8, 8)
    script = (
        "import json, sys, numpy as np, torch\n"
        "sys.modules['juanji'] = None  # any import of juanji now fails\n"
        "extra = {'juanji.json': ''}\n"
        "m = torch.export.load('model.pt2', extra_files=extra).module()\n"
        "meta = json.loads(extra['juanji.json'])\n"
        "y = m(torch.from_numpy(np.load('x.npy'))).detach().numpy()\n"
        "np.save('y.npy', y)\n"
        "print(json.dumps(meta['normalizer']))\n")
    proc = subprocess.run([sys.executable, "-W", "error", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ck.normalizer
    got = np.load(tmp_path / "y.npy")
    want = ck.model.forward(x)
    assert np.abs(got - want).max() < 2e-5
    assert (got.argmax(1) == want.argmax(1)).all()


def test_import_a_torch_export_program_from_elsewhere_says_what_to_do(tmp_path, capsys):
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, 2)).eval()
    torch.export.save(torch.export.export(net, (torch.zeros(1, 1, 8, 8),)), tmp_path / "p.pt2")
    code, err = run_err(capsys, "import", tmp_path / "p.pt2", "--out", tmp_path / "p.npz")
    assert code == 1 and "without juanji's architecture" in err and "torch.onnx.export" in err


def test_import_a_pytorch_exported_onnx_file_with_dataset(tmp_path, capsys, checkpoint):
    """A file from torch.onnx.export has no juanji metadata: --dataset gives the normaliser
    (fitted on the training split), the class names and the data set evaluate uses."""
    net = to_torch(load_checkpoint(checkpoint).model).eval()
    path = tmp_path / "torch.onnx"
    torch_onnx_file(net, path, input_names=["input"], output_names=["output"],
                    dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    out = tmp_path / "t.npz"
    code, info = run_json(capsys, "import", path, "--dataset", "digits", "--out", out)
    assert code == 0
    assert info["normalizer_from"] == "fitted on the training split of digits"
    train, test = load_dataset("digits")
    assert info["normalizer"] == Normalizer.fit(train).to_dict()
    ck = load_checkpoint(out)
    assert ck.class_names == list(train.class_names) and ck.dataset == "digits"
    result = run_json(capsys, "evaluate", out)[1]
    from juanji.train import evaluate
    want = evaluate(from_onnx(path), test, Normalizer.fit(train))
    assert result["confusion"] == want.confusion.tolist()


def test_import_a_state_dict_into_a_named_architecture(tmp_path, capsys, checkpoint):
    original = load_checkpoint(checkpoint)
    path = tmp_path / "weights.pt"
    torch.save(to_torch(original.model).state_dict(), path)
    out = tmp_path / "w.npz"
    code, info = run_json(capsys, "import", path, "--model", "digits", "--input-shape", "8,8,1",
                          "--dataset", "digits", "--out", out)
    assert code == 0 and info["format"] == "state_dict"
    back = load_checkpoint(out)
    for key, value in original.model.state_dict().items():
        np.testing.assert_array_equal(back.model.state_dict()[key], value, err_msg=key)


def test_import_names_an_unsupported_onnx_operator(tmp_path, capsys):
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Upsample(scale_factor=2),
                        nn.Flatten(), nn.Linear(2 * 16 * 16, 10)).eval()
    torch_onnx_file(net, tmp_path / "u.onnx")
    code, err = run_err(capsys, "import", tmp_path / "u.onnx", "--out", tmp_path / "u.npz")
    assert code == 1 and "operator 'Resize' has no juanji counterpart" in err
    assert not (tmp_path / "u.npz").exists()


def torch_onnx_file(net, path, **kw):
    """torch.onnx.export's TorchScript exporter (dynamo=False; the new one needs onnxscript,
    which juanji does not depend on), its deprecation and constant-folding notices silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)  # torch's own constant-folding notes
        torch.onnx.export(net, torch.zeros(1, 1, 8, 8), str(path), opset_version=OPSET,
                          dynamo=False, **kw)


def torchscript_file(net, path):
    """A TorchScript file as PyTorch users wrote them before torch.jit was deprecated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(net), str(path))


def test_import_a_torchscript_file_from_pytorch(tmp_path, capsys, checkpoint):
    original = load_checkpoint(checkpoint)
    net = to_torch(original.model).eval()
    torchscript_file(net, tmp_path / "s.pt")
    out = tmp_path / "s.npz"
    code, info = run_json(capsys, "import", tmp_path / "s.pt", "--input-shape", "8,8,1",
                          "--mean", "0.3", "--std", "0.4", "--out", out)
    assert code == 0 and info["format"] == "torchscript"
    assert info["normalizer"] == {"mean": [0.3], "std": [0.4]}
    back = load_checkpoint(out)
    for key, value in original.model.state_dict().items():
        np.testing.assert_array_equal(back.model.state_dict()[key], value, err_msg=key)


def test_import_a_torchscript_file_needs_its_input_shape(tmp_path, capsys, checkpoint):
    torchscript_file(to_torch(load_checkpoint(checkpoint).model), tmp_path / "s.pt")
    code, err = run_err(capsys, "import", tmp_path / "s.pt", "--out", tmp_path / "s.npz")
    assert code == 1 and "does not say its input shape" in err


def test_import_names_an_unsupported_torchscript_module(tmp_path, capsys):
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.GELU(), nn.Flatten(), nn.Linear(72, 2))
    torchscript_file(net, tmp_path / "g.pt")
    code, err = run_err(capsys, "import", tmp_path / "g.pt", "--input-shape", "8,8,1",
                        "--out", tmp_path / "g.npz")
    assert code == 1 and "module 1 (GELU) has no juanji counterpart" in err


@pytest.mark.parametrize("args,message", [
    (["--mean", "0.5"], "--mean and --std go together"),
    (["--model", "digits"], "--model and --classes are for a state dict"),
    (["--dataset", "cifar10"], "the model takes (8, 8, 1) images but 'cifar10' has (32, 32, 3)"),
    (["--input-shape", "9,9,1"], "`input_shape` (9, 9, 1) differs from the file's (8, 8, 1)"),
])
def test_import_refuses_bad_options(tmp_path, capsys, checkpoint, args, message):
    path = tmp_path / "m.onnx"
    assert run_json(capsys, "export", checkpoint, "--to", "onnx", path)[0] == 0
    code, err = run_err(capsys, "import", path, "--out", tmp_path / "x.npz", *args)
    assert code in (1, 2) and message in " ".join(err.split())


def test_import_of_a_state_dict_needs_model(tmp_path, capsys):
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "sd.pt")
    code, err = run_err(capsys, "import", tmp_path / "sd.pt", "--out", tmp_path / "x.npz")
    assert code == 2 and "is a state dict (weights only): give --model" in err


def test_import_of_a_file_that_is_no_model(tmp_path, capsys):
    (tmp_path / "junk.onnx").write_bytes(b"\x00not a protobuf\xff" * 10)
    code, err = run_err(capsys, "import", tmp_path / "junk.onnx", "--out", tmp_path / "x.npz")
    assert code == 1 and "junk.onnx" in err


def test_export_needs_a_known_format(tmp_path, capsys, checkpoint):
    code, err = run_err(capsys, "export", checkpoint, "--to", "tflite", tmp_path / "m")
    assert code == 2 and "invalid choice: 'tflite'" in err
