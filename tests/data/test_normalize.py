"""Normalizer: exact per-channel statistics, the float32 mapping, and its checkpoint form."""

import json
import tracemalloc

import numpy as np
import pytest

from juanji.data import Dataset, Normalizer
from tests.helpers import assert_close


def images(n=30, hw=(5, 7), c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *hw, c), dtype=np.uint8)


@pytest.mark.parametrize("c", [1, 3])
def test_fit_matches_numpy(c):
    x = images(c=c)
    norm = Normalizer.fit(x)
    f = x.astype(np.float64) / 255  # (N, H, W, C)
    assert_close(norm.mean, f.mean(axis=(0, 1, 2)))
    assert_close(norm.std, f.std(axis=(0, 1, 2)))  # population std (ddof=0)


def test_fit_accepts_a_dataset_and_spans_chunks(monkeypatch):
    """Fitting in chunks (forced tiny here) gives the same statistics as one pass."""
    x = images(n=11, c=2)
    whole = Normalizer.fit(x)
    monkeypatch.setattr("juanji.data.normalize._FIT_CHUNK", 37)  # not a multiple of anything
    chunked = Normalizer.fit(Dataset(x, np.zeros(11, int), ("a",), "t"))
    assert_close(chunked.mean, whole.mean)
    assert_close(chunked.std, whole.std)


def test_fit_makes_no_float_copy():
    x = images(n=2000, hw=(28, 28), c=1)  # 1.5 MB of uint8; a float64 copy would be 12.5 MB
    tracemalloc.start()
    try:
        Normalizer.fit(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 << 20


def test_constant_channel_is_only_centred():
    x = np.full((4, 2, 2, 2), 51, np.uint8)
    x[..., 1] = np.arange(16).reshape(4, 2, 2)
    norm = Normalizer.fit(x)
    assert norm.std[0] == 1.0 and norm.mean[0] == pytest.approx(0.2)
    assert_close(norm(x)[..., 0], np.zeros((4, 2, 2)), np.float32)


@pytest.mark.parametrize("c", [1, 3])
def test_call_formula_and_dtype(c):
    x = images(c=c, seed=3)
    norm = Normalizer([0.1, 0.5, 0.9][:c], [0.2, 0.3, 0.4][:c])
    y = norm(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    expected = (x / 255.0 - np.array(norm.mean)) / np.array(norm.std)  # float64 oracle
    assert_close(y, expected, np.float32)


def test_standardises_its_training_data():
    x = images(n=50, seed=4)
    y = Normalizer.fit(x)(x).astype(np.float64)
    assert_close(y.mean(axis=(0, 1, 2)), np.zeros(3), np.float32)
    assert_close(y.std(axis=(0, 1, 2)), np.ones(3), np.float32)


def test_dict_round_trip_is_json():
    norm = Normalizer.fit(images())
    d = json.loads(json.dumps(norm.to_dict()))
    back = Normalizer.from_dict(d)
    assert back == norm and back.mean == norm.mean and back.std == norm.std
    assert "Normalizer(mean=(" in repr(norm)


def test_scalar_stats_mean_one_channel():
    norm = Normalizer(0.5, 0.25)
    assert norm.mean == (0.5,) and norm.std == (0.25,) and norm.num_channels == 1


@pytest.mark.parametrize("mean,std,err,match", [
    ([0.1, 0.2], [0.3], ValueError, "one value per channel each, got 2 and 1"),
    ([0.1], [0.0], ValueError, "`std` must be > 0"),
    ([0.1], [-1.0], ValueError, "`std` must be > 0"),
    ([float("nan")], [1.0], ValueError, "`mean` must be a non-empty 1-D sequence of finite"),
    ([], [], ValueError, "`mean` must be a non-empty"),
    ([[0.1]], [[0.2]], ValueError, "`mean` must be a non-empty 1-D"),
    (["a"], [1.0], TypeError, "`mean` must be a number or a sequence of numbers"),
    # a std so small that (x/255 - mean)/std leaves float32 (issue 14 row 11: training said only
    # "try a smaller learning rate")
    ([0.5], [1e-45], ValueError, r"`std` must be large enough that \(x / 255 - mean\) / std is "
                                 r"finite in float32 .* got std \(1e-45,\)"),
    ([0.0, 0.5], [0.3, 1e-40], ValueError, r"a channel with no variance .* takes std 1"),
])
def test_constructor_errors(mean, std, err, match):
    with pytest.raises(err, match=match):
        Normalizer(mean, std)


def test_call_errors():
    norm = Normalizer([0.5], [0.5])
    with pytest.raises(TypeError, match="`x` must be a uint8 numpy.ndarray, got float32"):
        norm(np.zeros((1, 2, 2, 1), np.float32))
    with pytest.raises(ValueError, match=r"`x` must end in 1 channel\(s\).*\(1, 2, 2, 3\)"):
        norm(np.zeros((1, 2, 2, 3), np.uint8))


@pytest.mark.parametrize("data", [np.zeros((0, 2, 2, 1), np.uint8), np.zeros((2, 2), np.int64),
                                  [1, 2]])
def test_fit_errors(data):
    with pytest.raises(TypeError, match="`data` must be a Dataset or a non-empty uint8 array"):
        Normalizer.fit(data)


@pytest.mark.parametrize("d", [{"mean": [0.1]}, {"mean": [0.1], "std": [1], "x": 1}, [0.1, 1]])
def test_from_dict_errors(d):
    with pytest.raises(ValueError, match="`d` must be a dict with exactly the keys"):
        Normalizer.from_dict(d)
