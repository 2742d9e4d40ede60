"""`juanji.Model` as a Keras or PyTorch user would use it: fit / evaluate / predict / save /
load / summary, callbacks, and the errors for data of the wrong kind."""

import numpy as np
import pytest

import juanji
from juanji.callbacks import Callback, EarlyStopping, ModelCheckpoint
from juanji.data import Normalizer, load_dataset
from juanji.models import build_model
from juanji.optim import make_optimizer
from juanji.train import fit as train_fit


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def model():
    return juanji.Model.builtin("digits", (8, 8, 1), 10, seed=1)


def test_fit_on_uint8_arrays_learns_and_reports_validation(digits, capsys):
    train, test = digits
    m = model()
    history = m.fit(train.x, train.y, epochs=3, batch_size=32, lr=5e-3,
                    validation_data=(test.x, test.y), verbose=0)
    assert [e.epoch for e in history.epochs] == [1, 2, 3] and m.history is history
    assert all(e.val_accuracy is not None for e in history.epochs)
    assert history.epochs[-1].train_loss < history.epochs[0].train_loss
    assert m.normalizer == Normalizer.fit(train.x)  # fitted on the training images
    result = m.evaluate(test.x, test.y)
    assert result.accuracy > 0.9
    assert result.accuracy == pytest.approx(history.epochs[-1].val_accuracy, abs=1e-12)
    assert capsys.readouterr().err == ""  # verbose=0 prints nothing


def test_fit_is_train_fit_with_the_same_numbers(digits):
    """model.fit is a thin layer: the same weights as juanji.train.fit with the same recipe."""
    train, _ = digits
    a = model()
    a.fit(train.x, train.y, epochs=2, batch_size=50, lr=5e-3, seed=3, verbose=0)
    b = build_model("digits", (8, 8, 1), 10, seed=1)
    train_fit(b, train, epochs=2, batch_size=50, seed=3, normalizer=Normalizer.fit(train),
              optimizer=make_optimizer("adam", b.parameters(), 5e-3), progress=False)
    for key, value in b.state_dict().items():
        np.testing.assert_array_equal(a.state_dict()[key], value, err_msg=key)


def test_float_inputs_are_taken_as_normalised(digits):
    """Floats you normalised yourself train exactly as the uint8 images juanji normalises."""
    train, test = digits
    norm = Normalizer.fit(train)
    a, b = model(), model()
    a.fit(train.x, train.y, epochs=2, lr=5e-3, verbose=0)
    b.fit(norm(train.x), train.y, epochs=2, lr=5e-3, verbose=0,
          validation_data=(norm(test.x), test.y))
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[key], value, err_msg=key)
    assert b.normalizer is None  # nothing to keep: the inputs came normalised
    np.testing.assert_array_equal(a.predict(test.x), b.predict(norm(test.x)))
    assert a.evaluate(test.x, test.y).confusion.tolist() == \
        b.evaluate(norm(test.x), test.y).confusion.tolist()


def test_fit_on_a_dataset_keeps_its_class_names(digits):
    train, test = digits
    m = model()
    m.fit(train, epochs=1, validation_data=test, verbose=0)
    assert m.class_names == list(train.class_names)
    assert m.evaluate(test).confusion.sum() == len(test)


def test_progress_and_epoch_lines_with_verbose(digits, capsys):
    train, _ = digits
    model().fit(train.x[:200], train.y[:200], epochs=2, verbose=1)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "train loss" in err


def test_save_and_load_round_trip(tmp_path, digits):
    train, test = digits
    m = model()
    m.fit(train, epochs=1, verbose=0)
    path = m.save(tmp_path / "m.npz")
    back = juanji.load(path)
    assert isinstance(back, juanji.Model)
    for key, value in m.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value, err_msg=key)
    assert back.normalizer == m.normalizer and back.class_names == m.class_names
    assert back.history == m.history
    np.testing.assert_array_equal(back.predict(test.x), m.predict(test.x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no temporary left


def test_summary_prints_the_table(capsys):
    model().summary()
    out = capsys.readouterr().out
    assert "Conv2D" in out and "Dense" in out and "13,706" in out


def test_a_callback_can_stop_training(digits):
    class StopAt2(Callback):
        def __init__(self):
            self.seen = []

        def on_epoch_end(self, epoch, logs, m):
            self.seen.append((epoch, sorted(k for k, v in logs.items() if v is not None)))
            m.stop_training = epoch == 2

    train, _ = digits
    cb = StopAt2()
    history = model().fit(train.x, train.y, epochs=5, callbacks=[cb], verbose=0)
    assert len(history.epochs) == 2 and history.stopped_early
    assert cb.seen[0] == (1, ["accuracy", "loss", "lr", "seconds"])


def test_early_stopping_stops_and_restores_the_best_weights():
    m = model()
    stop = EarlyStopping(monitor="val_accuracy", patience=2, restore_best=True)
    weights = {}
    for epoch, acc in enumerate([0.5, 0.7, 0.6, 0.65], 1):
        for p in m.parameters():
            p.data += 1.0  # "training" changes the weights every epoch
        weights[epoch] = {k: v.copy() for k, v in m.state_dict().items()}
        stop.on_epoch_end(epoch, {"val_accuracy": acc}, m)
        assert m.stop_training == (epoch == 4)
    stop.on_train_end(m)
    assert stop.best_epoch == 2
    for key, value in weights[2].items():
        np.testing.assert_array_equal(m.state_dict()[key], value)


def test_early_stopping_in_fit_ends_the_run(digits):
    train, _ = digits
    # min_delta larger than any change: no epoch after the first counts as an improvement
    stop = EarlyStopping(monitor="loss", patience=1, min_delta=100.0)
    history = model().fit(train.x, train.y, epochs=6, callbacks=[stop], verbose=0)
    assert len(history.epochs) == 2 and history.stopped_early and stop.best_epoch == 1


def test_model_checkpoint_saves_the_best_only(tmp_path, digits):
    m = model()
    m.normalizer = Normalizer.fit(digits[0])
    cb = ModelCheckpoint(tmp_path / "ck-{epoch}.npz", monitor="val_loss", save_best_only=True)
    for epoch, loss in enumerate([1.0, 0.8, 0.9, 0.7], 1):
        cb.on_epoch_end(epoch, {"val_loss": loss}, m)
    assert [p.rsplit("/", 1)[1] for p in cb.saved] == ["ck-1.npz", "ck-2.npz", "ck-4.npz"]
    assert juanji.load(tmp_path / "ck-4.npz").normalizer == m.normalizer


def test_model_checkpoint_during_fit(tmp_path, digits):
    train, test = digits
    cb = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True)
    m = model()
    m.fit(train.x, train.y, epochs=2, validation_data=(test.x, test.y), callbacks=[cb],
          verbose=0)
    assert cb.saved and juanji.load(tmp_path / "best.npz").class_names is None


@pytest.mark.parametrize("x,y,message", [
    (np.zeros((4, 8, 8, 1), np.float32) + 255.0, np.zeros(4, int),
     "float with values up to 255: float arrays are taken as normalised model inputs"),
    (np.zeros((4, 1, 8, 8), np.uint8), np.zeros(4, int),
     "x must have shape (N, 8, 8, 1), got (4, 1, 8, 8); it looks channels-first"),
    (np.zeros((4, 8, 8, 1), np.uint8), np.eye(10)[:4],
     "y looks one-hot (4, 10); pass class indices y.argmax(axis=1)"),
    (np.zeros((4, 8, 8, 1), np.uint8), np.array([0, 1, 2, 10]),
     "y must lie in [0, 10) for this model's 10 classes, got [0, 10]"),
    (np.zeros((4, 8, 8, 1), np.int32), np.zeros(4, int),
     "x must be uint8 images or float inputs, got dtype int32"),
    (np.full((4, 8, 8, 1), np.nan, np.float32), np.zeros(4, int), "NaN or infinite"),
    (np.zeros((4, 8, 8, 1), np.uint8), None, "needs labels y"),
])
def test_fit_refuses_bad_data_with_a_clear_message(x, y, message):
    with pytest.raises((ValueError, TypeError)) as e:
        model().fit(x, y, verbose=0)
    assert message in str(e.value)


def test_mixed_kinds_and_missing_normaliser_are_refused(digits):
    train, test = digits
    with pytest.raises(ValueError, match="same kind as `x`"):
        model().fit(train.x, train.y, validation_data=(test.x.astype(np.float32) / 255,
                                                       test.y), verbose=0)
    with pytest.raises(ValueError, match="uint8 images but the model has no normaliser"):
        model().predict(test.x)
    with pytest.raises(ValueError, match="is a Dataset, which holds its labels"):
        model().fit(train, train.y, verbose=0)
    with pytest.raises(TypeError, match="on_epoch_end"):
        model().fit(train, callbacks=[print], verbose=0)
    with pytest.raises(ValueError, match="`monitor` must be one of"):
        EarlyStopping(monitor="val_acc")
