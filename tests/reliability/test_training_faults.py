"""Training faults: NaN/inf in the loss, a gradient or the weights; kill -9 then --resume; a full
disk while saving; a damaged checkpoint on resume.

Loading a checkpoint into another architecture and every kind of tampered file are covered in
``tests/test_checkpoint.py`` (test_wrong_architecture_is_refused, test_tampered_files_are_refused,
test_flipped_byte_in_weights_is_detected, test_crash_while_saving_keeps_previous_checkpoint);
here only what those do not reach: the same faults met by ``juanji train --resume``.
"""

from __future__ import annotations

import errno
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from juanji import _atomic
from juanji.checkpoint import load_checkpoint
from juanji.data import Normalizer, load_dataset
from juanji.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from juanji.optim import make_optimizer
from juanji.train import TrainingDiverged, fit

from .support import count

STEPS = 8  # 240 examples / batch 32


@pytest.fixture(scope="module")
def data():
    train, _ = load_dataset("digits")
    tr = train.subset(np.arange(240))
    return tr, Normalizer.fit(tr)


def model_and_optimizer(lr=0.01, name="adam"):
    model = Sequential([Conv2D(4, 3, padding="same"), ReLU(), MaxPool2D(2), Conv2D(6, 3),
                        ReLU(), Flatten(), Dense(10)], (8, 8, 1), seed=0)
    return model, make_optimizer(name, model.parameters(), lr)


def train(data, model, opt, epochs, checkpoint_dir=None):
    tr, norm = data
    return fit(model, tr, epochs=epochs, batch_size=32, optimizer=opt, seed=0, normalizer=norm,
               checkpoint_dir=checkpoint_dir, progress=False)


def poison_gradient(model, layer: int, at_call: int, value: float):
    """Make ``model.layers[layer]``'s backward write ``value`` into its weight gradient at its
    ``at_call``-th call (1-based), as an overflow inside that layer would."""
    target, calls = model.layers[layer], [0]

    def wrap(original):
        def backward(dy):
            dx = original(dy)
            calls[0] += 1
            if calls[0] == at_call:
                target.params["weight"].grad.flat[0] = value  # .flat: grad may be a view
            return dx
        return backward
    # a model's first layer may be asked for its parameter gradients only
    for name in ("backward", "backward_params_only"):
        if hasattr(target, name):
            setattr(target, name, wrap(getattr(target, name)))


def assert_same_arrays(a: dict, b: dict):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# --- (a) NaN / inf -------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("layer, kind", [(0, "Conv2D"), (3, "Conv2D"), (6, "Dense")])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("at_call", [3, STEPS + 5])
def test_non_finite_gradient_stops_naming_layer_and_step_keeping_the_last_checkpoint(
        data, tmp_path, layer, kind, value, at_call):
    model, opt = model_and_optimizer()
    poison_gradient(model, layer, at_call, value)
    epoch, step = (at_call - 1) // STEPS + 1, (at_call - 1) % STEPS + 1
    with pytest.raises(TrainingDiverged, match=(
            rf"gradient of {layer}\.{kind}\.weight became non-finite \(NaN or inf\) at epoch "
            rf"{epoch}, step {step} of {STEPS} \(global step {at_call}\); try a smaller "
            rf"learning rate")):
        train(data, model, opt, 3, tmp_path)
    count("faults: non-finite gradients injected")
    if epoch == 1:
        assert not (tmp_path / "last.npz").exists()
        return
    clean, clean_opt = model_and_optimizer()  # the last good checkpoint is epoch 1's, exactly
    train(data, clean, clean_opt, 1)
    kept = load_checkpoint(tmp_path / "last.npz")
    assert kept.epoch == epoch - 1
    assert_same_arrays(kept.model.state_dict(), clean.state_dict())
    assert all(np.isfinite(v).all() for v in kept.model.state_dict().values())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_huge_learning_rate_diverges_with_the_layer_and_a_hint(data, tmp_path):
    """No injection: SGD at lr 1e6 really blows up, and the message says where and what to do."""
    model, opt = model_and_optimizer(lr=1e6, name="sgd")
    with pytest.raises(TrainingDiverged) as info:
        train(data, model, opt, 5, tmp_path)
    text = str(info.value)
    assert "smaller learning rate (lr=1e+06)" in text and "at epoch" in text
    assert any(f"{i}.{k}" in text for i, k in [(0, "Conv2D"), (3, "Conv2D"), (6, "Dense")])
    count("faults: diverging runs")
    if (tmp_path / "last.npz").exists():
        weights = load_checkpoint(tmp_path / "last.npz").model.state_dict()
        assert all(np.isfinite(v).all() for v in weights.values())


LIMIT_MESSAGE = (r"the training loss reached [0-9.e+]+ at epoch 1, step [0-9] of \d+ \(global step "
                 r"[0-9]\), over 10000 \(a fresh model starts near ln K = 2\.30\); the largest "
                 r"weights are in [0-9]\.(Conv2D|Dense)\.(weight|bias) \(\|w\| up to [0-9.e+]+\); "
                 r"try a smaller learning rate \(lr=1e\+06\) or gradient clipping")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_every_optimiser_at_a_huge_learning_rate_stops_with_one_message(data, tmp_path, name):
    """Issue 14 row 6: Adam at lr 1e6 ended with exit 0 at 10% accuracy. Its weights stay finite
    (a step moves a weight by ~lr at most) and the loss reaches 1e20 without turning NaN, so a
    finite loss over LOSS_LIMIT (1e4 nats) is a divergence too, the same for every optimiser."""
    model, opt = model_and_optimizer(lr=1e6, name=name)
    with pytest.raises(TrainingDiverged) as info:
        train(data, model, opt, 5, tmp_path)
    assert re.fullmatch(LIMIT_MESSAGE, str(info.value)), str(info.value)
    assert not list(tmp_path.iterdir())  # stopped in epoch 1: nothing saved
    count("faults: diverging runs")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name,buffer", [("adam", "exp_avg_sq"), ("adamw", "exp_avg_sq"),
                                         ("rmsprop", "square_avg")])
def test_an_overflow_inside_the_optimiser_state_stops_naming_it(data, tmp_path, name, buffer):
    """A finite gradient of 1e30 (at the 2nd step of epoch 2) squares to inf in Adam's exp_avg_sq
    while the weights stay finite (m / inf = 0 freezes them): that was saved in last.npz. Now the
    state is checked after every step, and epoch 1's checkpoint is kept."""
    model, opt = model_and_optimizer(name=name)
    poison_gradient(model, 3, STEPS + 2, 1e30)
    with pytest.raises(TrainingDiverged, match=(
            rf"the {type(opt).__name__} state '{buffer}' of 3\.Conv2D\.weight became non-finite "
            rf"\(NaN or inf\) at epoch 2, step 2 of {STEPS} \(global step {STEPS + 2}\); nothing "
            rf"of this epoch is saved; try a smaller learning rate \(lr=0\.01\)")):
        train(data, model, opt, 3, tmp_path)
    assert load_checkpoint(tmp_path / "last.npz").epoch == 1
    for path in tmp_path.glob("*.npz"):  # whatever was saved is finite
        with np.load(path, allow_pickle=False) as npz:
            assert all(np.isfinite(npz[k]).all() for k in npz.files if npz[k].dtype.kind == "f")
    count("faults: optimiser state overflow injected")


def test_adam_divergence_from_the_command_line_exits_1_naming_the_layer(tmp_path):
    """The review's attack as it was run: `juanji train --optimizer adam --lr 1e6`."""
    done = subprocess.run([sys.executable, "-W", "ignore", "-m", "juanji", "train", "--optimizer",
                           "adam", "--lr", "1e6", "--epochs", "2", "--limit", "500",
                           "--no-progress", "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert re.fullmatch("juanji train: error: " + LIMIT_MESSAGE + "\n", done.stderr), done.stderr
    assert not list((tmp_path / "run").glob("*.npz"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_divergence_at_learning_rate_zero_does_not_blame_the_rate(data):
    model, opt = model_and_optimizer(lr=0.0, name="sgd")
    poison_gradient(model, 0, 2, np.inf)
    with pytest.raises(TrainingDiverged, match="the learning rate is 0, so the cause is not the "
                                               "step size") as info:
        train(data, model, opt, 1)
    assert "smaller learning rate" not in str(info.value)


class PoisonWeightsAfter:
    """An optimiser wrapper that sets one weight to ``value`` after its ``n``-th step."""

    def __init__(self, optimizer, param, n, value):
        self.optimizer, self.param, self.n, self.value, self.calls = optimizer, param, n, value, 0

    @property
    def lr(self):
        return self.optimizer.lr

    def step(self):
        self.optimizer.step()
        self.calls += 1
        if self.calls == self.n:
            self.param.data.flat[0] = self.value

    def state_dict(self):
        return self.optimizer.state_dict()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_weights_broken_by_an_epochs_last_step_are_not_saved(data, tmp_path, value):
    """The loss of the next step would catch it, but last.npz would already hold the NaN."""
    model, opt = model_and_optimizer()
    wrapped = PoisonWeightsAfter(opt, model.layers[6].params["weight"], 2 * STEPS, value)
    with pytest.raises(TrainingDiverged, match=r"weights of 6\.Dense\.weight became non-finite "
                                               r".* epoch 2; the checkpoints of epoch 1 are kept"):
        train(data, model, wrapped, 3, tmp_path)
    assert load_checkpoint(tmp_path / "last.npz").epoch == 1
    count("faults: non-finite weights injected")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_non_finite_loss_names_the_broken_layer(data):
    model, opt = model_and_optimizer()
    wrapped = PoisonWeightsAfter(opt, model.layers[3].params["weight"], 3, np.inf)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at epoch 1, step 4 of 8 "
                                               r"\(global step 4\); the weights of "
                                               r"3\.Conv2D\.weight are non-finite"):
        train(data, model, wrapped, 2)
    count("faults: non-finite weights injected")


# --- (c) a full disk while saving ----------------------------------------------------------------

@pytest.mark.parametrize("fail_in", ["write", "fsync", "replace"])
def test_full_disk_during_a_save_keeps_the_previous_checkpoint(data, tmp_path, monkeypatch,
                                                               fail_in):
    model, opt = model_and_optimizer()
    train(data, model, opt, 1, tmp_path)
    good = load_checkpoint(tmp_path / "last.npz").model.state_dict()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if fail_in == "write":
        real_fdopen = _atomic.os.fdopen

        class Full:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return self.f.__exit__(*exc)

            def __getattr__(self, name):
                return full if name == "write" else getattr(self.f, name)
        monkeypatch.setattr(_atomic.os, "fdopen", lambda *a, **k: Full(real_fdopen(*a, **k)))
    else:
        monkeypatch.setattr(_atomic.os, fail_in, full)
    model2, opt2 = model_and_optimizer()
    with pytest.raises(OSError, match=r"could not write checkpoint .*(best|last)\.npz' \(No "
                                      r"space left on device\); the previous checkpoint there, "
                                      r"if any, is unchanged") as info:
        train(data, model2, opt2, 2, tmp_path)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    for name in ("best.npz", "last.npz"):
        kept = load_checkpoint(tmp_path / name)
        assert kept.epoch == 1
        assert_same_arrays(kept.model.state_dict(), good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "last.npz"]  # no temp
    count("faults: full disk during a save")


# --- (b) kill -9 at a random moment, then --resume -----------------------------------------------

EPOCHS = 4
TRAIN = [sys.executable, "-m", "juanji", "train", "--epochs", str(EPOCHS), "--limit", "600",
         "--no-progress"]
KILLS = int(os.environ.get("JUANJI_KILL_RUNS", "2"))  # kill/resume cycles per test run


def run_cli(out: Path, *extra, timeout=300):
    return subprocess.run([*TRAIN, "--out", str(out), *extra], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONHASHSEED": "0"})


def model_arrays(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:  # weights and optimiser state, not timings
        return {k: npz[k] for k in npz.files if k != "__meta__"}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    t0 = time.perf_counter()
    done = run_cli(out)
    assert done.returncode == 0, done.stderr
    return model_arrays(out / "last.npz"), time.perf_counter() - t0, out


def test_kill_9_at_random_moments_then_resume_gives_identical_weights(uninterrupted, tmp_path):
    reference, seconds, _ = uninterrupted
    seed = int(os.environ.get("JUANJI_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    out = tmp_path / "run"
    kills = resumes = 0
    for _ in range(KILLS):
        resume = (out / "last.npz").exists()
        cmd = [*TRAIN, "--out", str(out)] + (["--resume"] if resume else [])
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, seconds * 0.8))  # startup included: any moment of the run
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        resumes += resume
    resume = (out / "last.npz").exists()
    final = run_cli(out, *(["--resume"] if resume else []))
    assert final.returncode == 0, f"seed {seed}: {final.stderr}"
    resumes += resume
    arrays = model_arrays(out / "last.npz")
    assert sorted(arrays) == sorted(reference)
    for key in reference:  # bit for bit
        assert arrays[key].tobytes() == reference[key].tobytes(), f"seed {seed}: {key}"
    count("faults: kill -9", kills)
    count("faults: runs resumed", resumes)


# --- (d) a damaged checkpoint met by --resume ----------------------------------------------------

def test_resume_from_a_damaged_checkpoint_says_so(uninterrupted, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    raw = bytearray((uninterrupted[2] / "last.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (out / "last.npz").write_bytes(bytes(raw))
    done = run_cli(out, "--resume")
    assert done.returncode == 1
    assert "juanji train: error:" in done.stderr and "not a juanji checkpoint" in done.stderr
    assert "Traceback" not in done.stderr
    count("faults: damaged checkpoints resumed")
