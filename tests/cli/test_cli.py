"""The `juanji` command end to end: a tiny training run, evaluate, predict, summary, exit codes."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from juanji import cli
from juanji import train as train_module
from juanji.checkpoint import load_checkpoint
from juanji.data import load_dataset
from juanji.train import evaluate

TINY = ["--epochs", "2", "--limit", "300", "--no-progress"]


def juanji(*args, cwd):
    """Run ``python -m juanji ARGS`` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "juanji", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One tiny training run shared by the tests that read its files."""
    root = tmp_path_factory.mktemp("cli")
    proc = juanji("train", *TINY, "--out", root / "run", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root / "run", proc


def test_train_writes_every_file(run_dir):
    out, proc = run_dir
    # .juanji-train.lock: the run directory's lock (juanji.runlock), released, kept for the next
    assert sorted(p.name for p in out.iterdir()) == [".juanji-train.lock", "best.npz",
                                                     "curves.png", "last.npz", "metrics.json"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert [m["epoch"] for m in metrics["epochs"]] == [1, 2]
    for m in metrics["epochs"]:
        assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds"} <= set(m)
        assert 0 <= m["val_accuracy"] <= 1 and m["seconds"] > 0
    assert metrics["options"]["limit"] == 300 and metrics["arguments"]["epochs"] == 2
    assert metrics["total_seconds"] > 0
    # The reported test accuracy is the best checkpoint's on the (limited) test split.
    _, test = load_dataset("digits")
    best = load_checkpoint(out / "best.npz")
    expected = evaluate(best.model, test.subset(range(300)), best.load_normalizer()).accuracy
    assert metrics["test_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert load_checkpoint(out / "last.npz").epoch == 2
    assert "test accuracy" in proc.stdout and "best.npz" in proc.stdout
    assert proc.stderr == ""  # --no-progress: nothing on stderr


def test_evaluate_json(run_dir):
    out, _ = run_dir
    proc = juanji("evaluate", out / "best.npz", "--json", cwd=out)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # JSON only on stdout
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == result["num_images"] == 359
    assert result["accuracy"] == pytest.approx(np.trace(confusion) / 359)
    _, test = load_dataset("digits")
    np.testing.assert_array_equal(confusion.sum(axis=1), np.bincount(test.y, minlength=10))


def test_evaluate_table(run_dir):
    out, _ = run_dir
    proc = juanji("evaluate", out / "best.npz", cwd=out)
    assert proc.returncode == 0, proc.stderr
    assert "accuracy" in proc.stdout and "true \\ pred" in proc.stdout


def test_predict_matches_the_model_on_exact_images(run_dir, tmp_path):
    """8x8 grey PNGs need no resizing, so the CLI must agree with the model on the raw digits."""
    out, _ = run_dir
    _, test = load_dataset("digits")
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(test.x[i, :, :, 0]).save(paths[-1])
    proc = juanji("predict", out / "best.npz", *paths, "--top-k", "3", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    ck = load_checkpoint(out / "best.npz")
    probs = ck.model.predict(ck.load_normalizer()(test.x[:3]))  # (3, 10)
    for i, r in enumerate(results):
        assert r["image"] == str(paths[i])
        got = [p["index"] for p in r["predictions"]]
        assert got == list(np.argsort(-probs[i], kind="stable")[:3])
        assert [p["class"] for p in r["predictions"]] == [str(j) for j in got]
        np.testing.assert_allclose([p["probability"] for p in r["predictions"]],
                                   probs[i, got], rtol=1e-6)


def test_predict_converts_and_resizes(run_dir, tmp_path):
    out, _ = run_dir
    rgb = tmp_path / "big.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 30, 3), np.uint8)).save(rgb)
    proc = juanji("predict", out / "best.npz", "big.jpg", "--top-k", "2", "--invert", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "big.jpg" in proc.stdout and "%" in proc.stdout


@pytest.mark.parametrize("model, shape, params", [
    ("course", "32,32,3", [608, 3216, 48120, 10164, 850]),          # the course's table
    ("lenet5", "32,32,3", [456, 2416, 48120, 10164, 850]),
])
def test_summary_json_has_the_course_numbers(tmp_path, model, shape, params):
    proc = juanji("summary", model, "--input-shape", shape, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert [r["params"] for r in s["rows"] if r["layer"] in ("Conv2D", "Dense")] == params
    assert s["total_params"] == sum(params) and s["input_shape"] == [32, 32, 3]
    if model == "course":
        sizes = [r["activation_size"] for r in s["rows"] if r["layer"] in ("Conv2D", "MaxPool2D")]
        assert sizes == [6272, 1568, 1600, 400]


def test_summary_of_a_checkpoint_renders_a_table(run_dir):
    out, _ = run_dir
    proc = juanji("summary", out / "best.npz", cwd=out)
    assert proc.returncode == 0, proc.stderr
    assert "Conv2D" in proc.stdout and "total" in proc.stdout


@pytest.mark.parametrize("args, code, message", [
    (["train", "--dataset", "cifar"], 2, "invalid choice: 'cifar'"),
    (["evaluate", "missing.npz"], 2, "checkpoint file 'missing.npz' does not exist"),
    (["summary", "lenet5", "--input-shape", "32,32"], 2, "must be three positive integers"),
])
def test_bad_input_in_a_real_process(tmp_path, args, code, message):
    proc = juanji(*args, cwd=tmp_path)
    assert proc.returncode == code
    assert message in proc.stderr and "Traceback" not in proc.stderr


# --- in-process: exit codes and messages (fast) -------------------------------------------------

def run_main(argv, capsys):
    """``cli.main(argv)`` -> (exit code, stdout, stderr); argparse's exits become codes."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "nope"], "invalid choice: 'nope'"),
    (["train", "--epochs", "0"], "--epochs: must be an integer >= 1, got '0'"),
    (["train", "--lr", "abc"], "--lr: must be a number > 0, got 'abc'"),
    (["train", "--val-fraction", "1.5"], "--val-fraction: must be a number in [0, 1)"),
    (["train", "--data-dir", "."], "--data-dir is not used by 'digits'"),
    (["train", "--dataset", "mnist", "--data-dir", "no/such/dir"], "is not a directory"),
    (["train", "--resume", "--out", "empty"], "--resume: there is no 'empty/last.npz'"),
    (["summary", "nope"], "MODEL must be one of"),
    (["summary", "runs/x.npz"], "checkpoint file 'runs/x.npz' does not exist"),
    (["summary", "tinyvgg", "--input-shape", "1,1,1"], "too small"),
    (["summary", "lenet5", "--input-shape", "32,0,3"], "must be three positive integers"),
    (["summary", "lenet5", "--classes", "1"], "--classes must be >= 2"),
    (["predict", "x.npz", "missing.png"], "image file 'missing.png' does not exist"),
    ([], "the following arguments are required: COMMAND"),
])
def test_usage_errors_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    code, out, err = run_main(args, capsys)
    assert code == 2
    assert message in err and "usage: juanji" in err and out == ""


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "summary", None])
def test_help_everywhere(capsys, command):
    code, out, _ = run_main([command, "--help"] if command else ["--help"], capsys)
    assert code == 0 and "usage: juanji" in out


def test_runtime_errors_exit_1_with_one_line(tmp_path, capsys, run_dir):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint")
    code, out, err = run_main(["evaluate", bad], capsys)
    assert code == 1 and out == ""
    assert err.startswith("juanji evaluate: error: ") and "not a juanji checkpoint" in err
    assert err.count("\n") == 1

    not_image = tmp_path / "x.png"
    not_image.write_text("text, not pixels")
    code, _, err = run_main(["predict", run_dir[0] / "best.npz", not_image], capsys)
    assert code == 1 and "cannot read image" in err and err.count("\n") == 1

    with pytest.raises(Exception, match="not a juanji checkpoint"):  # --debug: the real error
        cli.main(["evaluate", str(bad), "--debug"])


def test_mnist_without_files_is_a_runtime_error(tmp_path, capsys):
    code, _, err = run_main(["train", "--dataset", "mnist", "--data-dir", tmp_path], capsys)
    assert code == 1 and err.startswith("juanji train: error: ")
    # The message's own paragraphs, one a line (not flattened into one long line): the
    # summary, the two directories searched (indented), the fix.
    lines = err.splitlines()
    assert len(lines) == 4 and lines[0].endswith("in these directories, in order:")
    assert lines[1].startswith(f"  {tmp_path} ") and lines[2].startswith(f"  {tmp_path / 'mnist'}")
    assert lines[3].startswith("To fix: ")


def test_top_k_larger_than_the_classes(run_dir, tmp_path, capsys):
    img = tmp_path / "d.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(img)
    code, _, err = run_main(["predict", run_dir[0] / "best.npz", img, "--top-k", "11"], capsys)
    assert code == 2 and "--top-k 11 exceeds the model's 10 classes" in err


def test_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch, capsys):
    """Ctrl-C after epoch 2 of 3, then `--resume`: the same last.npz as an uninterrupted run."""
    monkeypatch.chdir(tmp_path)
    args = ["train", "--epochs", "3", "--limit", "200", "--no-progress"]
    assert run_main(args + ["--out", "full"], capsys)[0] == 0

    real_save = train_module.save_checkpoint

    def save_then_interrupt(path, model, **kw):
        real_save(path, model, **kw)
        if path.name == "last.npz" and kw["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", save_then_interrupt)
    code, _, err = run_main(args + ["--out", "part"], capsys)
    assert code == 130 and "--resume" in err
    assert load_checkpoint(tmp_path / "part" / "last.npz").epoch == 2
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)

    assert run_main(["train", "--resume", "--out", "part", "--no-progress"], capsys)[0] == 0
    full = load_checkpoint(tmp_path / "full" / "last.npz").model.state_dict()
    part = load_checkpoint(tmp_path / "part" / "last.npz").model.state_dict()
    for key in full:
        np.testing.assert_array_equal(part[key], full[key], err_msg=key)
    a = json.loads((tmp_path / "full" / "metrics.json").read_text())
    b = json.loads((tmp_path / "part" / "metrics.json").read_text())
    assert a["test_accuracy"] == b["test_accuracy"] and a["best_epoch"] == b["best_epoch"]

    code, _, err = run_main(["train", "--resume", "--out", "part", "--lr", "0.1"], capsys)
    assert code == 2 and "--lr 0.1 (the run has 0.005)" in err
