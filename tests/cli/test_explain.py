"""`juanji explain ...`: in-process through juanji.cli.main, and once as a subprocess."""

import json
import subprocess
import sys

import numpy as np
import pytest

import juanji.explain.page as page_module
from juanji.checkpoint import load_checkpoint
from juanji.cli import main
from juanji.data import load_dataset
from juanji.explain.plots import saliency
from juanji.functional import conv2d_backward, conv2d_forward, max_pool2d_forward
from juanji.nn import summary
from juanji.train import evaluate

GRID = "1 3 2 1; 2 9 9 1; 1 3 2 3; 5 6 1 2"


def run_json(capsys, *args):
    assert main(["explain", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def usage_error(capsys, *args) -> str:
    with pytest.raises(SystemExit) as info:
        main(["explain", *args])
    assert info.value.code == 2
    return capsys.readouterr().err


def test_size_json(capsys):
    r = run_json(capsys, "size", "8", "3", "--stride", "2")
    assert r["output"] == 3 and r["unread"] == [7] and r["steps"][3] == "= floor(2.5) + 1"


def test_pool_json_hand_example(capsys):
    r = run_json(capsys, "pool", "--mode", "max", "--input", GRID, "--kernel", "3",
                 "--stride", "1", "--dy", "1 2; 3 4")
    ch = r["channels"][0]
    assert ch["dx"][1] == [0, 10, 0, 0] and ch["dx_all_ties"][1] == [0, 10, 10, 0]


def test_pool_seeded_input_is_drawn_and_explained(capsys):
    r = run_json(capsys, "pool", "--mode", "avg", "--seed", "3", "--size", "5,4",
                 "--channels", "2", "--kernel", "2", "--stride", "1")
    x = np.stack([np.array(c["input"]) for c in r["channels"]], axis=2)  # (H, W, C)
    assert x.shape == (5, 4, 2) and np.all(x == np.round(x)) and 0 <= x.min() <= x.max() <= 9
    dy = np.stack([np.array(c["dy"]) for c in r["channels"]], axis=2)
    assert dy.shape == (4, 3, 2) and 1 <= dy.min() <= dy.max() <= 4
    # same seed, same numbers
    assert run_json(capsys, "pool", "--mode", "avg", "--seed", "3", "--size", "5,4",
                    "--channels", "2", "--kernel", "2", "--stride", "1") == r


def test_conv_json_matches_functional(capsys):
    r = run_json(capsys, "conv", "--input", GRID, "--kernel", "1 0; 0 -1", "--bias", "0.5",
                 "--dy", "1 2 3; 4 5 6; 7 8 9", "--weight", "0,1", "--pixel", "1,1",
                 "--output", "1,1")
    x = np.array([[float(v) for v in row.split()] for row in GRID.split(";")])[None, :, :, None]
    w = np.array([[1.0, 0], [0, -1]])[:, :, None, None]
    y, cache = conv2d_forward(x, w, np.array([0.5]))
    dx, dw, db = conv2d_backward(np.arange(1.0, 10).reshape(1, 3, 3, 1), cache)
    assert r["forward"]["value"] == y[0, 1, 1, 0] == 7.5
    # by hand: dZ 1..9 times the cells W[0,1] met, x[h, w+1] = 3 2 1 / 9 9 1 / 3 2 3
    assert r["backward"]["weight"]["dw"] == dw[0, 1, 0, 0] == 3+4+3 + 36+45+6 + 21+16+27
    assert sum(t["contribution"] for t in r["backward"]["weight"]["terms"]) == 161
    assert r["backward"]["db"] == db[0] == 45
    assert r["backward"]["pixel"]["dx"] == dx[0, 1, 1, 0]
    assert r["backward"]["dx"][0] == dx[0, :, :, 0].tolist()


def test_sharing_custom_conv_reproduces_the_course(capsys):
    r = run_json(capsys, "sharing", "--conv", "6x5", "--input-shape", "32,32,3")
    assert r["layers"][0]["params"] == 456
    assert r["layers"][0]["dense_equivalent_params"] == 14455392


def test_sparsity_and_network_of_builtin_and_checkpoint(capsys, checkpoint):
    r = run_json(capsys, "sparsity", "course")
    assert r["layers"][0]["inputs_per_output"] == 75
    r = run_json(capsys, "network", str(checkpoint))
    assert r["rows"] == summary(load_checkpoint(checkpoint).model).to_dict()["rows"]


def test_rendered_text_shows_the_numbers(capsys):
    assert main(["explain", "conv", "--input", GRID, "--kernel", "1 0; 0 -1", "--dy",
                 "1 2 3; 4 5 6; 7 8 9", "--weight", "0,1"]) == 0
    out = capsys.readouterr().out
    assert "dW[0,1]" in out and "161" in out and "db = sum of dZ" in out and "= 45" in out
    assert main(["explain", "sharing", "--conv", "6x5", "--input-shape", "32,32,3"]) == 0
    assert "14,455,392" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["pool", "--input", "1 2; 3"], "same number of values"),
    (["pool", "--input", "1 x; 3 4"], "numbers only"),
    (["pool", "--input", "1 2; 3 4", "--kernel", "3"], "larger than the input 2x2"),
    (["conv", "--input", "1 2; 3 4", "--kernel", "1 2 3; 4 5 6; 7 8 9"],
     "larger than the input 2x2"),
    (["conv", "--input", "1 2; 3 4", "--kernel", "1", "--output", "5,5"], "`output`"),
    (["conv", "--input", "1 2; 3 4", "--kernel", "1 | 2"], "2 channel"),
    (["pool", "--input", GRID, "--dy", "1 2"], "--dy must have the output's shape"),
    (["size", "0", "3"], "integer >= 1"),
    (["sharing"], "give a MODEL"),
    (["sharing", "nosuchmodel"], "MODEL must be one of"),
    (["sharing", "--conv", "6by5"], "FILTERSxKERNEL"),
    (["plot", "filters", "missing.npz", "--out", "x.png"], "does not exist"),
])
def test_bad_command_lines_exit_2(capsys, args, message):
    assert message in usage_error(capsys, *args)


def test_plot_commands(capsys, checkpoint, tmp_path):
    ck = load_checkpoint(checkpoint)
    out = tmp_path / "filters.svg"
    r = run_json(capsys, "plot", "filters", str(checkpoint), "--out", str(out))
    assert r["weight_shape"] == [3, 3, 1, 16] and "<svg" in out.read_text()

    r = run_json(capsys, "plot", "confusion", str(checkpoint), "--out", str(tmp_path / "c.png"))
    _, test = load_dataset("digits")
    expected = evaluate(ck.model, test, ck.load_normalizer())
    assert r["confusion"] == expected.confusion.tolist() and r["accuracy"] == expected.accuracy

    r = run_json(capsys, "plot", "saliency", str(checkpoint), "--index", "5", "--label", "2",
                 "--out", str(tmp_path / "s.png"))
    x = ck.load_normalizer()(np.asarray(test.x[5:6]))[0]
    s, _ = saliency(ck.model, x, 2)
    assert r["label"] == 2 and r["true_label"] == int(test.y[5])
    assert r["max_abs_saliency"] == pytest.approx(float(np.abs(s).max()))

    r = run_json(capsys, "plot", "curves", str(checkpoint), "--out", str(tmp_path / "h.png"))
    assert r["epochs"] == 2 and (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    assert "PNG only" in usage_error(capsys, "plot", "curves", str(checkpoint), "--out",
                                     str(tmp_path / "h.svg"))
    assert "must end in .png or .svg" in usage_error(capsys, "plot", "filters", str(checkpoint),
                                                     "--out", str(tmp_path / "f.gif"))


def test_plot_features_with_an_image_file(capsys, checkpoint, tmp_path):
    from PIL import Image
    Image.fromarray(np.tile(np.arange(0, 256, 32, dtype=np.uint8), (8, 1))).save(
        tmp_path / "img.png")
    r = run_json(capsys, "plot", "features", str(checkpoint), "--image", str(tmp_path / "img.png"),
                 "--out", str(tmp_path / "f.png"))
    assert r["true_label"] is None and r["layers"][0]["shape"] == [8, 8, 16]
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_page_calls_write_page(capsys, checkpoint, tmp_path, monkeypatch):
    calls = []

    def fake_write_page(checkpoint_path, images, out_dir, *, label=None):
        calls.append((checkpoint_path, images, out_dir, label))
        return out_dir / "index.html"
    monkeypatch.setattr(page_module, "write_page", fake_write_page)
    assert main(["explain", "page", str(checkpoint), "--label", "3", "--out",
                 str(tmp_path / "page")]) == 0
    assert calls == [(checkpoint, [], tmp_path / "page", 3)]
    assert "index.html" in capsys.readouterr().out


def test_subprocess_end_to_end(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "juanji", "explain", "pool", "--mode", "max",
                           "--input", GRID, "--kernel", "2", "--dy", "1 2; 3 4", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    x = np.array([[float(v) for v in row.split()] for row in GRID.split(";")])
    y, _ = max_pool2d_forward(x[None, :, :, None], 2)
    assert r["channels"][0]["output"] == y[0, :, :, 0].tolist()
    proc = subprocess.run([sys.executable, "-m", "juanji", "explain", "pool", "--input", "1 2; 3"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2 and "same number of values" in proc.stderr


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("count_pad", [True, False])
def test_pool_ceil_and_count_pad_match_torch(capsys, mode, count_pad):
    import torch
    import torch.nn.functional as F

    grid = "1 3 2 1 4 6; 2 9 1 1 0 5; 1 3 2 3 7 2; 5 6 1 2 2 8; 0 4 8 1 3 3; 7 1 5 2 6 4"
    dy = "1 2 3 4; 5 6 7 8; 9 1 2 3; 4 5 6 7"
    args = ["pool", "--mode", mode, "--input", grid, "--kernel", "3", "--stride", "2",
            "--padding", "1", "--ceil", "--dy", dy]
    if not count_pad:
        args.append("--no-count-pad")
    r = run_json(capsys, *args)

    def tensor(text):
        return torch.tensor([[float(v) for v in row.split()] for row in text.split(";")],
                            dtype=torch.float64)

    x = tensor(grid).requires_grad_()
    if mode == "max":
        y = F.max_pool2d(x[None, None], 3, stride=2, padding=1, ceil_mode=True)
    else:
        y = F.avg_pool2d(x[None, None], 3, stride=2, padding=1, ceil_mode=True,
                         count_include_pad=count_pad)
    y.backward(tensor(dy)[None, None])
    assert r["output_shape"] == [4, 4, 1]  # ceil((6 + 2 - 3) / 2) + 1 = 4; floor mode gives 3
    assert r["ceil_mode"] is True and r["count_include_pad"] is count_pad
    np.testing.assert_allclose(r["channels"][0]["output"], y[0, 0].detach().numpy())
    np.testing.assert_allclose(r["channels"][0]["dx"], x.grad.numpy())
