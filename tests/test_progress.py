"""Progress inside an epoch (`juanji.progress`, wired into `juanji.train.fit`): a tqdm bar on a
terminal or in a notebook, a plain line every tenth of the epoch in a log; nothing when off."""

import io
import re
import sys

import numpy as np
import pytest

from juanji import progress
from juanji.data import Normalizer, load_dataset
from juanji.models import build_model
from juanji.optim import make_optimizer
from juanji.train import fit

LINE = re.compile(r"epoch (\d+)/2: batch (\d+)/(\d+) \((\d+)%\), loss (\d+\.\d{4}), "
                  r"acc (\d\.\d{3}), [\d,]+ img/s")


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(scope="module")
def digits():
    train, _ = load_dataset("digits")
    small = train.subset(np.arange(200))
    return small, Normalizer.fit(small)


def train_two_epochs(digits, stream, monkeypatch, batch_size=10):
    """fit() on 200 digits (20 batches of 10 a epoch) with progress on, stderr = ``stream``."""
    data, norm = digits
    monkeypatch.setattr(sys, "stderr", stream)
    model = build_model("digits", data.input_shape, data.num_classes, seed=0)
    fit(model, data, epochs=2, batch_size=batch_size, seed=0, normalizer=norm, progress=True,
        optimizer=make_optimizer("adam", model.parameters(), 0.01))
    return stream.getvalue()


def test_a_log_gets_a_line_every_tenth_of_the_epoch(digits, monkeypatch):
    text = train_two_epochs(digits, io.StringIO(), monkeypatch)
    assert "\r" not in text  # no bar drawn into a log
    lines = text.splitlines()
    batch_lines = [LINE.fullmatch(line) for line in lines if ": batch " in line]
    assert all(batch_lines), lines
    got = [(int(m[1]), int(m[2]), int(m[3]), int(m[4])) for m in batch_lines]
    # 20 batches: a line after batches 2, 4, ..., 18 (the epoch's own line follows batch 20)
    assert got == [(e, b, 20, 5 * b) for e in (1, 2) for b in range(2, 20, 2)]
    # the running loss is a mean over the batches seen, so it is a plausible cross-entropy
    losses = [float(m[5]) for m in batch_lines]
    assert all(0 < v < 10 for v in losses) and losses[-1] < losses[0]
    # each epoch's line comes after its in-epoch lines
    epoch_lines = [i for i, line in enumerate(lines) if re.match(r"epoch \d/2  train loss", line)]
    assert len(epoch_lines) == 2 and epoch_lines[0] == 9 and epoch_lines[1] == 19


def test_a_short_epoch_gets_a_line_per_batch_but_the_last(digits, monkeypatch):
    text = train_two_epochs(digits, io.StringIO(), monkeypatch, batch_size=50)  # 4 batches
    got = [(int(m[1]), int(m[2])) for m in map(LINE.fullmatch, text.splitlines()) if m]
    assert got == [(e, b) for e in (1, 2) for b in (1, 2, 3)]


def test_a_terminal_gets_a_tqdm_bar(digits, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = train_two_epochs(digits, Terminal(), monkeypatch)
    assert ": batch " not in text  # no plain lines on a terminal
    frames = [f for f in text.split("\r") if f.strip()]
    # tqdm draws at least the first frame of each epoch's bar (later ones at most every 0.1 s)
    for epoch in (1, 2):
        assert any(re.match(rf"epoch {epoch}/2: +\d+%\|.*\| \d+/20 \[", f) for f in frames), frames


def test_the_bar_shows_the_running_loss_accuracy_and_speed(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    stream = Terminal()
    bar = progress.epoch_progress(4, "epoch 1/3", True, stream)
    assert bar.mode == "bar"
    bar.bar.mininterval, bar.bar.miniters = 0, 1  # draw every update (tqdm throttles to 0.1 s)
    for step in range(1, 4):
        bar.update(loss_sum=2.0 * 10 * step, correct=5 * step, seen=10 * step)
    bar.close()
    frames = [f for f in stream.getvalue().split("\r") if f.strip()]
    assert any(re.match(r"epoch 1/3: +75%\|.*\| 3/4 \[.*, loss 2\.0000 acc 0\.500 "
                        r"[\d,]+ img/s\]", f) for f in frames), frames


def test_a_notebook_gets_the_bar_too(monkeypatch):
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    bar = progress.epoch_progress(5, "epoch 1/1", True, io.StringIO())  # not a terminal
    try:
        assert bar.mode == "bar" and bar.bar is not None
    finally:
        bar.close()


def test_plain_python_is_not_a_notebook():
    assert progress.in_notebook() is False


def test_progress_off_prints_nothing(digits, monkeypatch):
    data, norm = digits
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    model = build_model("digits", data.input_shape, data.num_classes, seed=0)
    fit(model, data, epochs=1, batch_size=10, seed=0, normalizer=norm, progress=False,
        optimizer=make_optimizer("adam", model.parameters(), 0.01))
    assert err.getvalue() == ""
    assert progress.epoch_progress(5, "x", False) is None


def test_mode_is_checked():
    with pytest.raises(ValueError, match="`mode` must be 'bar' or 'lines', got 'dots'"):
        progress.EpochProgress(5, "x", io.StringIO(), "dots")
