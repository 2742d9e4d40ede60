"""The course's SIGNS / Happy House .h5 files, written with h5py under the course's keys."""

import sys

import h5py
import numpy as np
import pytest

from juanji.data import load_course_h5, load_dataset
from juanji.data.h5 import H5FormatError, read_course_h5


@pytest.fixture(autouse=True)
def no_real_places(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("JUANJI_DATA_DIR", raising=False)


def write_h5(path, part, x, y, classes, drop=(), y_shape=None):
    with h5py.File(path, "w") as f:
        data = {f"{part}_set_x": x, f"{part}_set_y": y if y_shape is None else y.reshape(y_shape),
                "list_classes": classes}
        for k, v in data.items():
            if k not in drop:
                f.create_dataset(k, data=v)


def write_course(folder, name, n_train=7, n_test=3, k=None, side=64, seed=0, y_shape=None):
    folder.mkdir(parents=True, exist_ok=True)
    k = k or {"signs": 6, "happy": 2}[name]
    rng = np.random.default_rng(seed)
    out = {}
    for part, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 256, (n, side, side, 3), dtype=np.uint8)
        y = rng.integers(0, k, n).astype(np.int64)
        write_h5(folder / f"{part}_{name}.h5", part, x, y, np.arange(k),
                 y_shape=None if y_shape is None else y_shape(n))
        out[part] = (x, y)
    return out


@pytest.mark.parametrize("name, names", [("signs", tuple("012345")),
                                         ("happy", ("not happy", "happy"))])
@pytest.mark.parametrize("y_shape", [None, lambda n: (1, n), lambda n: (n, 1)])
def test_loads_the_course_files(tmp_path, name, names, y_shape):
    want = write_course(tmp_path, name, y_shape=y_shape)
    train, test = load_course_h5(name, tmp_path)
    for ds, part in ((train, "train"), (test, "test")):
        np.testing.assert_array_equal(ds.x, want[part][0])
        np.testing.assert_array_equal(ds.y, want[part][1])
        assert ds.x.dtype == np.uint8 and ds.y.dtype == np.int64
        assert ds.class_names == names and ds.name == f"{name}/{part}"


def test_found_in_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("JUANJI_DATA_DIR", str(tmp_path / "env"))
    want = write_course(tmp_path / "env" / "signs", "signs")
    train, _ = load_dataset("signs")
    np.testing.assert_array_equal(train.y, want["train"][1])


def test_missing_files_say_what_to_copy(tmp_path):
    write_course(tmp_path, "signs")
    (tmp_path / "test_signs.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"(?s)SIGNS .* not found. Looked for "
                                                r"train_signs.h5 and test_signs.h5.*missing "
                                                r"test_signs.h5.*copy them from the course"):
        load_course_h5("signs", tmp_path)


def test_missing_key(tmp_path):
    x = np.zeros((2, 64, 64, 3), np.uint8)
    write_h5(tmp_path / "f.h5", "train", x, np.zeros(2, np.int64), np.arange(6),
             drop=("train_set_y",))
    with pytest.raises(H5FormatError, match=r"f.h5: missing key\(s\) \['train_set_y'\]; a "
                                            r"course train file holds"):
        read_course_h5(tmp_path / "f.h5", "train")
    with pytest.raises(H5FormatError, match=r"missing key\(s\) \['test_set_x', 'test_set_y'\]"):
        read_course_h5(tmp_path / "f.h5", "test")  # a train file given as the test file


@pytest.mark.parametrize("x, y, classes, message", [
    (np.zeros((2, 64, 64, 3), np.float32), np.zeros(2, int), np.arange(6),
     r"'train_set_x' must be uint8 images \(N, H, W, 3\), got float32"),
    (np.zeros((2, 64, 64), np.uint8), np.zeros(2, int), np.arange(6), r"got uint8 \(2, 64, 64\)"),
    (np.zeros((2, 8, 8, 3), np.uint8), np.zeros(3, int), np.arange(6),
     r"'train_set_y' must hold one integer label per image, \(N,\), \(1, N\) or \(N, 1\) with "
     r"N=2, got int64 \(3,\)"),
    (np.zeros((2, 8, 8, 3), np.uint8), np.zeros(2, np.float64), np.arange(6), r"got float64"),
    (np.zeros((2, 8, 8, 3), np.uint8), np.zeros(2, int), np.zeros((2, 3)),
     r"'list_classes' must be a non-empty 1-D array"),
])
def test_wrong_shapes_and_types(tmp_path, x, y, classes, message):
    write_h5(tmp_path / "f.h5", "train", x, y, classes)
    with pytest.raises(H5FormatError, match=message):
        read_course_h5(tmp_path / "f.h5", "train")


def test_classes_and_labels_must_fit_the_set(tmp_path):
    write_course(tmp_path, "happy", k=3)  # three classes: not Happy House
    with pytest.raises(H5FormatError, match=r"'list_classes' has 3 classes, Happy House has 2"):
        load_course_h5("happy", tmp_path)
    write_course(tmp_path / "b", "signs", k=6)
    x = np.zeros((2, 64, 64, 3), np.uint8)
    write_h5(tmp_path / "b" / "test_signs.h5", "test", x, np.array([0, 9]), np.arange(6))
    with pytest.raises(H5FormatError, match=r"labels in \[0, 9\], outside \[0, 6\)"):
        load_course_h5("signs", tmp_path / "b")
    write_course(tmp_path / "c", "signs")
    write_h5(tmp_path / "c" / "test_signs.h5", "test", np.zeros((2, 32, 32, 3), np.uint8),
             np.array([0, 1]), np.arange(6))
    with pytest.raises(H5FormatError, match=r"train images are \(64, 64, 3\) but test images "
                                            r"are \(32, 32, 3\)"):
        load_course_h5("signs", tmp_path / "c")


def test_not_an_hdf5_file(tmp_path):
    (tmp_path / "f.h5").write_bytes(b"this is not HDF5" * 10)
    with pytest.raises(H5FormatError, match=r"f.h5: not a readable HDF5 file"):
        read_course_h5(tmp_path / "f.h5", "train")


def test_without_h5py_the_message_says_what_to_install(tmp_path, monkeypatch):
    write_course(tmp_path, "signs")
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` now raises ImportError
    with pytest.raises(ImportError, match=r"needs h5py: pip install 'juanji\[h5\]'"):
        load_course_h5("signs", tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"`name` must be one of \['happy', 'signs'\], got 'x'"):
        load_course_h5("x")
    with pytest.raises(ValueError, match=r"`part` must be 'train' or 'test', got 'val'"):
        read_course_h5("f.h5", "val")
