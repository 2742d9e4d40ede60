"""Checkpoints: exact round trips, no pickle, and clear errors for every kind of bad file."""

import io
import json
import zipfile

import numpy as np
import pytest

from juanji import _atomic
from juanji.checkpoint import (META_KEY, CheckpointError, generator_from_state, load_checkpoint,
                               save_checkpoint)
from juanji.data import Normalizer
from juanji.nn import BatchNorm2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential
from juanji.optim import StepLR, make_optimizer


def small_model(seed=0, filters=4):
    """Conv + BatchNorm (buffers) + Dropout (its own Generator): every kind of state."""
    return Sequential([Conv2D(filters, 3, padding="same"), BatchNorm2D(), ReLU(), MaxPool2D(2),
                       Flatten(), Dropout(0.25), Dense(3)], (6, 6, 1), seed=seed)


def trained_state(optimizer_name="adam", steps=3):
    """A model, optimiser and schedule after a few real steps, so every buffer is non-trivial."""
    model = small_model()
    opt = make_optimizer(optimizer_name, model.parameters(), 0.01)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    rng = np.random.default_rng(5)
    for _ in range(steps):
        x = rng.standard_normal((4, 6, 6, 1)).astype(np.float32)
        model.forward(x)
        model.backward(rng.standard_normal((4, 3)).astype(np.float32))
        opt.step()
        sched.step()
    return model, opt, sched


@pytest.fixture
def saved(tmp_path):
    model, opt, sched = trained_state()
    path = tmp_path / "ck.npz"
    save_checkpoint(path, model, optimizer=opt, scheduler=sched, normalizer=Normalizer([0.3], [0.2]),
                    epoch=7, rng_state=np.random.default_rng(11), class_names=["a", "b", "c"],
                    metrics={"epochs": [{"loss": 0.5}]}, extra={"argv": ["train"]})
    return path, model, opt, sched


def rewrite(path, arrays):
    """Write ``arrays`` as an .npz at ``path`` (plain np.savez, as a tamperer would)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())


def read_all(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def meta_array(meta: dict) -> np.ndarray:
    return np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


# --- round trip ---------------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer_name", ["adam", "momentum", "rmsprop"])
def test_round_trip_restores_everything(tmp_path, optimizer_name):
    model, opt, sched = trained_state(optimizer_name)
    rng = np.random.default_rng(11)
    rng.random(3)  # an advanced stream, not a fresh one
    path = tmp_path / "ck.npz"
    save_checkpoint(path, model, optimizer=opt, scheduler=sched,
                    normalizer=Normalizer([0.3], [0.2]), epoch=7, rng_state=rng,
                    class_names=["a", "b", "c"], extra={"argv": ["train"]})
    ck = load_checkpoint(path)

    want, got = model.state_dict(), ck.model.state_dict()
    assert sorted(got) == sorted(want)
    for key in want:
        assert got[key].dtype == want[key].dtype
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert ck.model.rng_state() == model.rng_state()  # Dropout's generator continues exactly

    opt2 = make_optimizer(optimizer_name, ck.model.parameters(), 1.0)
    opt2.load_state_dict(ck.optimizer_state)
    a, b = opt.state_dict(), opt2.state_dict()
    assert a["scalars"] == b["scalars"]
    assert sorted(a["arrays"]) == sorted(b["arrays"]) and a["arrays"]
    for key in a["arrays"]:
        np.testing.assert_array_equal(a["arrays"][key], b["arrays"][key], err_msg=key)
    assert ck.optimizer_name == type(opt).__name__
    assert ck.scheduler_state == sched.state_dict()

    assert ck.load_normalizer() == Normalizer([0.3], [0.2])
    assert ck.rng().random(4).tolist() == rng.random(4).tolist()
    assert (ck.epoch, ck.input_shape, ck.class_names) == (7, (6, 6, 1), ["a", "b", "c"])
    assert ck.extra == {"argv": ["train"]} and ck.architecture == model.config()
    x = np.random.default_rng(1).standard_normal((5, 6, 6, 1)).astype(np.float32)
    np.testing.assert_array_equal(ck.model.predict(x), model.predict(x))


def test_minimal_checkpoint_has_no_training_state(tmp_path):
    model = small_model()
    save_checkpoint(tmp_path / "m.npz", model)
    ck = load_checkpoint(tmp_path / "m.npz")
    assert (ck.optimizer_state, ck.scheduler_state, ck.normalizer, ck.rng(), ck.metrics) == \
        (None, None, None, None, None)
    assert ck.load_normalizer() is None and not ck.model.training


def test_only_numeric_entries_and_meta_is_json(saved):
    path = saved[0]
    arrays = read_all(path)
    assert all(a.dtype.kind in "fiub" for a in arrays.values())
    assert {k.split("/")[0] for k in arrays} == {"model", "optim", META_KEY}
    meta = json.loads(arrays[META_KEY].tobytes())
    assert meta["epoch"] == 7 and meta["class_names"] == ["a", "b", "c"]


def test_load_into_an_existing_model(saved):
    path, model, *_ = saved
    fresh = small_model()
    ck = load_checkpoint(path, model=fresh)
    assert ck.model is fresh
    np.testing.assert_array_equal(fresh.state_dict()["0.weight"], model.state_dict()["0.weight"])


def test_generator_state_survives_json():
    g = np.random.default_rng(42)
    g.standard_normal(7)
    from juanji.checkpoint import generator_state
    h = generator_from_state(json.loads(json.dumps(generator_state(g))))
    assert h.integers(1 << 60, size=5).tolist() == g.integers(1 << 60, size=5).tolist()


def test_crash_while_saving_keeps_previous_checkpoint(saved, monkeypatch):
    path, model, *_ = saved
    other = small_model(seed=3)

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(_atomic.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, other, epoch=8)
    monkeypatch.undo()
    ck = load_checkpoint(path)
    assert ck.epoch == 7
    np.testing.assert_array_equal(ck.model.state_dict()["0.weight"], model.state_dict()["0.weight"])
    assert sorted(p.name for p in path.parent.iterdir()) == ["ck.npz"]


@pytest.mark.parametrize("where", ["weight", "optimizer"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_or_optimiser_state_are_never_saved(saved, where, value):
    """Issue 14 row 6: Adam's overflowed exp_avg_sq (inf) was saved; a checkpoint holding it
    can never train again. The writer refuses, naming the entry, and the file stays as it was."""
    path, *_ = saved
    before = path.read_bytes()
    model, opt, sched = trained_state()
    if where == "weight":
        model.layers[0].params["weight"].data.flat[3] = value
        entry = "model/0.weight"
    else:
        opt.state[0]["exp_avg_sq"].flat[3] = value
        entry = "optim/arrays.0.exp_avg_sq"
    with pytest.raises(ValueError, match=rf"refusing to save .*ck\.npz'?: state array "
                                         rf"'{entry}' holds NaN or inf"):
        save_checkpoint(path, model, optimizer=opt, scheduler=sched, epoch=8)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["ck.npz"]


# --- refusals -----------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint file .*nope.npz' does not exist"):
        load_checkpoint(tmp_path / "nope.npz")


def test_a_directory_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(tmp_path)


def test_not_an_npz(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"certainly not a zip archive" * 10)
    with pytest.raises(CheckpointError, match="not a juanji checkpoint"):
        load_checkpoint(path)


def test_object_array_is_refused_without_unpickling(saved):
    path = saved[0]
    arrays = read_all(path)
    arrays["model/0.weight"] = np.array([{"evil": 1}, None], dtype=object)
    rewrite(path, arrays)
    with pytest.raises(CheckpointError, match="allow_pickle=False"):
        load_checkpoint(path)


def test_flipped_byte_in_weights_is_detected(saved):
    path, model, *_ = saved
    raw = bytearray(path.read_bytes())
    weights = model.state_dict()["0.weight"].tobytes()
    at = bytes(raw).find(weights[:16])
    assert at > 0
    raw[at + 5] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(path)


@pytest.mark.parametrize("tamper, message", [
    (lambda a, m: a.pop(META_KEY), "no '__meta__' entry"),
    (lambda a, m: a.__setitem__(META_KEY, np.frombuffer(b"{not json", np.uint8)),
     "not valid JSON"),
    (lambda a, m: a.__setitem__(META_KEY, np.zeros(3, np.float32)), "1-D uint8 array"),
    (lambda a, m: a.__setitem__(META_KEY, meta_array([1, 2])), "must be a JSON object"),
    (lambda a, m: a.__setitem__(META_KEY, meta_array({k: v for k, v in m.items()
                                                       if k != "architecture"})),
     r"lacks the keys \['architecture'\]"),
    (lambda a, m: a.__setitem__(META_KEY, meta_array({**m, "version": 99})),
     "format version 99 is not supported"),
    (lambda a, m: a.__setitem__(META_KEY, meta_array({**m, "format": "other"})),
     "format 'other' is not 'juanji-checkpoint'"),
    (lambda a, m: a.__setitem__(META_KEY, meta_array(
        {**m, "architecture": {**m["architecture"], "layers": [{"type": "Nope"}]}})),
     "cannot rebuild the stored architecture: unknown layer type 'Nope'"),
    (lambda a, m: a.__setitem__("model/0.weight", np.zeros((3, 3, 1, 5), np.float32)),
     r"weight '0.weight' has shape \(3, 3, 1, 5\) but the architecture needs \(3, 3, 1, 4\)"),
    (lambda a, m: a.__setitem__("model/0.weight", a["model/0.weight"].astype(np.float64)),
     "weight '0.weight' has dtype float64 but the architecture needs float32"),
    (lambda a, m: a.pop("model/1.running_var"), r"missing \['1.running_var'\]"),
    (lambda a, m: a.__setitem__("model/9.bias", np.zeros(3, np.float32)),
     r"unexpected \['9.bias'\]"),
    (lambda a, m: a.pop("optim/arrays.0.exp_avg"), "optimiser array 'arrays.0.exp_avg' is missing"),
])
def test_tampered_files_are_refused(saved, tamper, message):
    path = saved[0]
    arrays = read_all(path)
    meta = json.loads(arrays[META_KEY].tobytes())
    tamper(arrays, meta)
    rewrite(path, arrays)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_wrong_architecture_is_refused(saved):
    path = saved[0]
    other = small_model(filters=5)
    with pytest.raises(CheckpointError, match="holds a different architecture than `model`"):
        load_checkpoint(path, model=other)
    shorter = Sequential([Flatten(), Dense(3)], (6, 6, 1))
    with pytest.raises(CheckpointError, match=r"stored \[Conv2D, BatchNorm2D, .*given \[Flatten, Dense\]"):
        load_checkpoint(path, model=shorter)


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)


def test_save_argument_checks(tmp_path):
    model = small_model()
    with pytest.raises(ValueError, match="`epoch` must be an int >= 0, got -1"):
        save_checkpoint(tmp_path / "a.npz", model, epoch=-1)
    with pytest.raises(TypeError, match="`extra` must be a dict, got list"):
        save_checkpoint(tmp_path / "a.npz", model, extra=[1])
    with pytest.raises(TypeError, match="`model` must be a Sequential, got str"):
        save_checkpoint(tmp_path / "a.npz", "model")
    with pytest.raises(TypeError, match="`rng_state` must be a numpy.random.Generator"):
        save_checkpoint(tmp_path / "a.npz", model, rng_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="metadata must be JSON-able .*object is not JSON"):
        save_checkpoint(tmp_path / "a.npz", model, extra={"x": object()})
    assert not (tmp_path / "a.npz").exists()


def test_written_file_is_a_valid_zip(saved):
    with zipfile.ZipFile(saved[0]) as z:
        assert z.testzip() is None


def test_the_data_set_is_a_checkpoint_field_with_a_fallback_for_old_files(tmp_path):
    from juanji.models import build_model
    model = build_model("digits", (8, 8, 1), 10)
    save_checkpoint(tmp_path / "new.npz", model, dataset="mnist",
                    extra={"options": {"dataset": "digits"}})
    assert load_checkpoint(tmp_path / "new.npz").dataset == "mnist"  # the field wins
    # Written before the field existed: the `juanji train` option is what it was trained on.
    save_checkpoint(tmp_path / "old.npz", model, extra={"options": {"dataset": "fashion-mnist"}})
    assert load_checkpoint(tmp_path / "old.npz").dataset == "fashion-mnist"
    save_checkpoint(tmp_path / "none.npz", model)
    assert load_checkpoint(tmp_path / "none.npz").dataset is None
