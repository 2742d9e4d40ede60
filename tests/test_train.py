"""fit / evaluate: bit-for-bit determinism, exact resume, divergence checks, the confusion matrix."""

import math

import numpy as np
import pytest

from juanji.checkpoint import load_checkpoint
from juanji.data import Dataset, Normalizer, load_dataset
from juanji.nn import BatchNorm2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential
from juanji.optim import StepLR, make_optimizer
from juanji.train import (EpochMetrics, History, TrainingDiverged, evaluate, fit,
                          restore_training_state)


@pytest.fixture(scope="module")
def data():
    """240 training and 120 validation digits (8x8x1, 10 classes): enough to learn something."""
    train, _ = load_dataset("digits")
    small = train.subset(np.arange(360))
    tr, val = small.split(1 / 3, seed=0)
    return tr, val, Normalizer.fit(tr)


def tiny_model(seed=0):
    """Every kind of state a resume must carry: weights, BatchNorm buffers, Dropout's Generator."""
    return Sequential([Conv2D(6, 3, padding="same"), BatchNorm2D(), ReLU(), MaxPool2D(2),
                       Flatten(), Dropout(0.2), Dense(10)], (8, 8, 1), seed=seed)


def run(data, epochs, *, seed=0, model_seed=0, checkpoint_dir=None, **kw):
    tr, val, norm = data
    model = tiny_model(model_seed)
    opt = make_optimizer("adam", model.parameters(), 0.01)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, tr, val=val, epochs=epochs, batch_size=32, optimizer=opt,
                  scheduler=sched, seed=seed, normalizer=norm, checkpoint_dir=checkpoint_dir,
                  progress=False, **kw)
    return model, history


def assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sorted(sa) == sorted(sb)
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


def without_seconds(history):
    return [{**vars(m), "seconds": None} for m in history.epochs]


def test_same_seed_same_weights_bit_for_bit(data):
    a, ha = run(data, 2, seed=3)
    b, hb = run(data, 2, seed=3)
    assert_same_weights(a, b)
    assert without_seconds(ha) == without_seconds(hb)


def test_another_shuffle_seed_gives_other_weights(data):
    a, _ = run(data, 1, seed=3)
    b, _ = run(data, 1, seed=4)
    assert not np.array_equal(a.state_dict()["0.weight"], b.state_dict()["0.weight"])


def test_training_learns(data):
    _, history = run(data, 3)
    assert history.epochs[-1].train_loss < history.epochs[0].train_loss
    assert history.epochs[-1].val_accuracy > 0.5  # chance is 0.1
    assert [m.lr for m in history.epochs] == [0.01, 0.01, 0.005]  # StepLR stepped per epoch


def test_resume_gives_exactly_the_uninterrupted_weights(data, tmp_path):
    full, full_history = run(data, 3, checkpoint_dir=tmp_path / "full")
    run(data, 2, checkpoint_dir=tmp_path / "part")

    ck = load_checkpoint(tmp_path / "part" / "last.npz")
    assert ck.epoch == 2
    opt = make_optimizer("adam", ck.model.parameters(), 0.01)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    start, history = restore_training_state(ck, opt, sched)
    tr, val, _ = data
    resumed = fit(ck.model, tr, val=val, epochs=3, batch_size=32, optimizer=opt, scheduler=sched,
                  seed=0, normalizer=ck.load_normalizer(), checkpoint_dir=tmp_path / "part",
                  progress=False, start_epoch=start, history=history)

    assert_same_weights(ck.model, full)
    assert without_seconds(resumed) == without_seconds(full_history)
    assert_same_weights(load_checkpoint(tmp_path / "part" / "last.npz").model,
                        load_checkpoint(tmp_path / "full" / "last.npz").model)


def test_checkpoints_written(data, tmp_path):
    _, history = run(data, 3, checkpoint_dir=tmp_path)
    last, best = load_checkpoint(tmp_path / "last.npz"), load_checkpoint(tmp_path / "best.npz")
    assert last.epoch == 3
    val_losses = [m.val_loss for m in history.epochs]
    assert history.best_epoch == 1 + int(np.argmin(val_losses))
    assert best.epoch == history.best_epoch
    assert History.from_dict(last.metrics) == history
    assert last.class_names == [str(d) for d in range(10)]
    assert last.load_normalizer() == data[2]


def test_early_stopping_on_a_flat_val_loss(data, tmp_path):
    """lr = 0 leaves the weights alone (and no BatchNorm statistics move), so the val loss
    never improves after epoch 1."""
    tr, val, norm = data
    model = Sequential([Conv2D(4, 3), ReLU(), Flatten(), Dense(10)], (8, 8, 1))
    opt = make_optimizer("sgd", model.parameters(), 0.0)
    history = fit(model, tr, val=val, epochs=10, batch_size=64, optimizer=opt, seed=0,
                  normalizer=norm, early_stopping_patience=2, progress=False,
                  checkpoint_dir=tmp_path)
    assert len(history.epochs) == 3 and history.stopped_early and history.best_epoch == 1
    # A resumed run of a stopped run stays stopped.
    again = fit(model, tr, val=val, epochs=10, batch_size=64, optimizer=opt, seed=0,
                normalizer=norm, progress=False, start_epoch=3, history=history)
    assert len(again.epochs) == 3


class PoisonAfter:
    """An optimiser wrapper that turns the weights to inf after ``n`` real steps."""

    def __init__(self, optimizer, params, n):
        self.optimizer, self.params, self.n, self.calls = optimizer, params, n, 0

    @property
    def lr(self):
        return self.optimizer.lr

    def step(self):
        self.optimizer.step()
        self.calls += 1
        if self.calls == self.n:
            for p in self.params:
                p.data[...] = np.inf


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("poison_at, epoch, step", [(3, 1, 4), (9, 2, 2)])
def test_nan_loss_stops_with_the_step(data, poison_at, epoch, step):
    tr, _, norm = data  # 240 examples / 32 = 8 steps per epoch
    model = tiny_model()
    opt = PoisonAfter(make_optimizer("sgd", model.parameters(), 0.01), model.parameters(),
                      poison_at)
    with pytest.raises(TrainingDiverged, match=rf"loss became nan at epoch {epoch}, step {step} "
                                               rf"of 8 \(global step {poison_at + 1}\)"):
        fit(model, tr, epochs=3, batch_size=32, optimizer=opt, seed=0, normalizer=norm,
            progress=False)


def test_no_validation_monitors_the_train_loss(data, tmp_path):
    tr, _, norm = data
    model = tiny_model()
    opt = make_optimizer("adam", model.parameters(), 0.01)
    history = fit(model, tr, epochs=2, batch_size=32, optimizer=opt, seed=0, normalizer=norm,
                  progress=False, checkpoint_dir=tmp_path)
    assert all(m.val_loss is None and m.val_accuracy is None for m in history.epochs)
    assert history.best_epoch == 1 + int(np.argmin([m.train_loss for m in history.epochs]))


def test_progress_prints_one_line_per_epoch(data, capsys):
    tr, val, norm = data
    model = tiny_model()
    opt = make_optimizer("adam", model.parameters(), 0.01)
    fit(model, tr, val=val, epochs=2, batch_size=64, optimizer=opt, seed=0, normalizer=norm,
        progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    lines = [line for line in lines if ": batch " not in line]  # not the in-epoch progress
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]
    assert all("val loss" in line and "img/s" in line for line in lines)


# --- evaluate -----------------------------------------------------------------------------------

def test_evaluate_confusion_and_accuracy(data):
    tr, val, norm = data
    model, _ = run(data, 2)
    result = evaluate(model, val, norm, batch_size=17)  # uneven batches on purpose
    pred = model.predict(norm(val.x)).argmax(axis=1)  # (N,)
    assert result.confusion.shape == (10, 10) and result.confusion.dtype == np.int64
    assert result.confusion.sum() == len(val)
    np.testing.assert_array_equal(result.confusion.sum(axis=1), np.bincount(val.y, minlength=10))
    np.testing.assert_array_equal(result.confusion.sum(axis=0), np.bincount(pred, minlength=10))
    assert result.accuracy == pytest.approx(float(np.mean(pred == val.y)), abs=1e-12)
    for k in range(10):
        mask = val.y == k
        assert result.per_class_accuracy[k] == pytest.approx(np.mean(pred[mask] == k))
    probs = model.predict(norm(val.x))
    assert result.loss == pytest.approx(-np.mean(np.log(probs[np.arange(len(val)), val.y])),
                                        rel=1e-5)
    assert model.training  # evaluate restored the mode


def test_evaluate_hand_made_confusion():
    """A model whose logits copy the first pixel: predicted class = argmax of a one-hot image."""
    k = 3
    x = np.zeros((5, 1, 1, k), np.uint8)
    pred = np.array([0, 2, 2, 1, 0])
    x[np.arange(5), 0, 0, pred] = 255
    ds = Dataset(x, np.array([0, 2, 1, 1, 0]), ("a", "b", "c"), "toy")
    model = Sequential([Flatten()], (1, 1, k))
    result = evaluate(model, ds, Normalizer([0.0] * k, [1.0] * k))
    expected = np.array([[2, 0, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(result.confusion, expected)
    assert result.accuracy == pytest.approx(4 / 5)
    np.testing.assert_allclose(result.per_class_accuracy, [1.0, 0.5, 1.0])
    assert result.to_dict()["confusion"] == expected.tolist()


def test_evaluate_class_without_examples_is_nan():
    x = np.zeros((2, 1, 1, 3), np.uint8)
    ds = Dataset(x, np.array([0, 0]), ("a", "b", "c"), "toy")
    result = evaluate(Sequential([Flatten()], (1, 1, 3)), ds, Normalizer([0.0] * 3, [1.0] * 3))
    assert math.isnan(result.per_class_accuracy[1]) and result.to_dict()["per_class_accuracy"][1] is None


# --- argument checks ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": 0}, ValueError, "`epochs` must be an int >= 1, got 0"),
    ({"start_epoch": 3, "epochs": 2}, ValueError, r"`start_epoch` \(=3\) must be <= `epochs`"),
    ({"start_epoch": 1}, ValueError, "`history` holds 0 epochs but `start_epoch` is 1"),
    ({"early_stopping_patience": 0}, ValueError, "`early_stopping_patience` must be an int >= 1"),
    ({"clip_norm": -1.0}, ValueError, "`clip_norm` must be a number > 0 or None, got -1.0"),
    ({"normalizer": {"mean": [0]}}, TypeError, "`normalizer` must be a juanji.data.Normalizer"),
    ({"val": (1, 2)}, TypeError, "`val` must be a juanji.data.Dataset or None, got tuple"),
])
def test_fit_argument_checks(data, kwargs, error, message):
    tr, _, norm = data
    model = tiny_model()
    args = dict(epochs=2, batch_size=32, optimizer=make_optimizer("sgd", model.parameters(), 0.1),
                seed=0, normalizer=norm, progress=False)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        fit(model, tr, **args)


def test_clip_norm_changes_the_result(data):
    a, _ = run(data, 1)
    b, _ = run(data, 1, clip_norm=0.05)
    assert not np.array_equal(a.state_dict()["0.weight"], b.state_dict()["0.weight"])


def test_history_round_trip_json():
    import json
    h = History([EpochMetrics(1, 1.0, 0.5, None, None, 0.1, 0.01)], best_epoch=1,
                stopped_early=True)
    assert History.from_dict(json.loads(json.dumps(h.to_dict()))) == h
    with pytest.raises(ValueError, match="`d` must be a dict from History.to_dict()"):
        History.from_dict({"epochs": []})



def test_monitor_accuracy_keeps_the_epoch_with_the_best_val_accuracy(data, tmp_path):
    """With monitor="accuracy" best.npz follows the val accuracy (first epoch reaching the top)."""
    _, history = run(data, 5, checkpoint_dir=tmp_path, monitor="accuracy")
    accs = [m.val_accuracy for m in history.epochs]
    assert history.best_epoch == 1 + accs.index(max(accs))
    assert load_checkpoint(tmp_path / "best.npz").epoch == history.best_epoch


def test_monitor_must_be_known(data):
    with pytest.raises(ValueError, match=r"`monitor` must be one of \('loss', 'accuracy'\), "
                                         r"got 'f1'"):
        run(data, 1, monitor="f1")


@pytest.mark.parametrize("batch_size, pinned", [(32, True), (1, False)])
def test_a_step_runs_on_one_blas_thread_and_the_count_comes_back(data, monkeypatch, batch_size,
                                                                  pinned):
    """fit() sets NumPy's BLAS to one thread around each step (juanji's ops split the batch
    themselves) unless the batch is smaller than the thread count, and restores it after."""
    from juanji.functional import _threads, set_num_threads

    blas = _threads._controller()
    assert blas is not None  # threadpoolctl (a dependency) finds NumPy's BLAS
    old_threads = set_num_threads(2)
    before = blas.num_threads
    blas.set_num_threads(2)
    tr, _, norm = data
    model = tiny_model()
    seen = []
    forward = model.forward
    monkeypatch.setattr(model, "forward", lambda x: (seen.append(blas.num_threads), forward(x))[1])
    try:
        fit(model, tr.subset(np.arange(64)), epochs=1, batch_size=batch_size,
            optimizer=make_optimizer("sgd", model.parameters(), 0.01), seed=0, normalizer=norm,
            progress=False)
        assert set(seen) == ({1} if pinned else {2})
        assert blas.num_threads == 2
    finally:
        blas.set_num_threads(before)
        set_num_threads(old_threads)
