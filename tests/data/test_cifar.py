"""CIFAR-10/100 in both releases, written by an independent writer, and broken in every way."""

import pickle

import numpy as np
import pytest

from juanji.data import load_cifar, load_dataset
from juanji.data.cifar import (CIFAR10_CLASSES, CIFAR100_CLASSES, CifarFormatError,
                               find_cifar_files, read_cifar_binary, read_cifar_python_batch)
from juanji.data.safe_pickle import UnsafePickleError
from tests.data.cifar_writer import (binary_records, python_batch, random_images, write_cifar10,
                                     write_cifar100)


@pytest.fixture(autouse=True)
def no_real_places(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("JUANJI_DATA_DIR", raising=False)


def check(train, test, arrays):
    np.testing.assert_array_equal(train.x, arrays["train_x"])
    np.testing.assert_array_equal(train.y, arrays["train_y"])
    np.testing.assert_array_equal(test.x, arrays["test_x"])
    np.testing.assert_array_equal(test.y, arrays["test_y"])
    assert train.x.dtype == np.uint8 and train.y.dtype == np.int64
    assert train.x.shape[1:] == (32, 32, 3) and train.x.flags.c_contiguous


@pytest.mark.parametrize("release, protocol", [("binary", None), ("python", 2),
                                               ("python", 3), ("python", 4), ("python", 5)])
def test_cifar10_both_releases(tmp_path, release, protocol):
    arrays = write_cifar10(tmp_path, release=release, protocol=protocol or 4)
    train, test = load_cifar("cifar10", tmp_path)
    check(train, test, arrays)
    assert train.class_names == arrays["names"]  # from the meta file
    assert (train.name, test.name, len(train)) == ("cifar10/train", "cifar10/test", 10)


def test_python_batches_with_bytes_keys(tmp_path):
    """What the Python 2 originals look like: every key and class name a byte string."""
    x = random_images(3)
    (tmp_path / "b").write_bytes(python_batch(x, {"labels": [1, 2, 3]}, bytes_keys=True))
    got_x, got_y = read_cifar_python_batch(tmp_path / "b")
    np.testing.assert_array_equal(got_x, x)
    assert got_y.tolist() == [1, 2, 3]


def test_pixel_layout_is_planes_rgb(tmp_path):
    """Byte k of a record's pixels is channel k // 1024, row (k % 1024) // 32, column k % 32."""
    rec = np.zeros(3073, np.uint8)
    rec[0] = 4
    rec[1 + 0 * 1024 + 2 * 32 + 5] = 11  # R at (2, 5)
    rec[1 + 1 * 1024 + 7 * 32 + 0] = 22  # G at (7, 0)
    rec[1 + 2 * 1024 + 31 * 32 + 31] = 33  # B at (31, 31)
    rec.tofile(tmp_path / "one.bin")
    x, y = read_cifar_binary(tmp_path / "one.bin")
    assert y.tolist() == [4] and int(x.sum()) == 66
    assert (x[0, 2, 5, 0], x[0, 7, 0, 1], x[0, 31, 31, 2]) == (11, 22, 33)


@pytest.mark.parametrize("sub", ["cifar-10-batches-bin", "cifar-10-batches-py", "cifar10",
                                 "cifar10/cifar-10-batches-bin"])
def test_found_in_the_unpacked_folders(tmp_path, sub):
    release = "python" if sub.endswith("-py") else "binary"
    arrays = write_cifar10(tmp_path / sub, release=release)
    check(*load_cifar("cifar10", tmp_path), arrays)


def test_default_places_and_binary_preferred(tmp_path, monkeypatch):
    monkeypatch.setenv("JUANJI_DATA_DIR", str(tmp_path / "env"))
    arrays = write_cifar10(tmp_path / "env" / "cifar10" / "cifar-10-batches-bin", seed=1)
    write_cifar10(tmp_path / "env" / "cifar10" / "cifar-10-batches-py", release="python", seed=2)
    release, folder = find_cifar_files("cifar10")
    assert release == "binary" and folder.name == "cifar-10-batches-bin"
    check(*load_dataset("cifar10"), arrays)


def test_meta_missing_uses_the_published_names(tmp_path):
    write_cifar10(tmp_path, meta=False)
    train, _ = load_cifar("cifar10", tmp_path)
    assert train.class_names == CIFAR10_CLASSES


@pytest.mark.parametrize("release", ["binary", "python"])
@pytest.mark.parametrize("labels", ["fine", "coarse", None])
def test_cifar100_fine_and_coarse(tmp_path, release, labels):
    a = write_cifar100(tmp_path, release=release)
    train, test = load_cifar("cifar100", tmp_path, labels=labels)
    mode = labels or "fine"
    np.testing.assert_array_equal(train.x, a["train_x"])
    np.testing.assert_array_equal(train.y, a[f"train_{mode}"])
    np.testing.assert_array_equal(test.y, a[f"test_{mode}"])
    assert train.class_names == a[f"{mode}_names"]


def test_cifar100_published_names():
    assert len(CIFAR100_CLASSES) == len(set(CIFAR100_CLASSES)) == 100
    assert CIFAR100_CLASSES[:3] == ("apple", "aquarium_fish", "baby")
    assert CIFAR100_CLASSES[-1] == "worm"


# --- broken files ---------------------------------------------------------------------------------

def test_truncated_record(tmp_path):
    write_cifar10(tmp_path)
    p = tmp_path / "data_batch_2.bin"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(CifarFormatError, match=r"data_batch_2.bin: truncated or not a CIFAR "
                                               r"binary file: 6046 bytes is not a whole number "
                                               r"of 3073-byte records \(1 records and 2973"):
        load_cifar("cifar10", tmp_path)


def test_cifar100_file_read_as_cifar10_is_named(tmp_path):
    (tmp_path / "x.bin").write_bytes(binary_records(random_images(1), [3], [50]))
    with pytest.raises(CifarFormatError, match=r"fits records of 3074 bytes: is this a "
                                               r"CIFAR-100 file\?"):
        read_cifar_binary(tmp_path / "x.bin")


def test_label_out_of_range(tmp_path):
    (tmp_path / "x.bin").write_bytes(binary_records(random_images(3), [1, 12, 3]))
    with pytest.raises(CifarFormatError, match=r"record 1 has label 12, outside \[0, 10\)"):
        read_cifar_binary(tmp_path / "x.bin")


def test_empty_and_pickle_named_bin(tmp_path):
    (tmp_path / "e.bin").write_bytes(b"")
    with pytest.raises(CifarFormatError, match=r"e.bin: the file is empty"):
        read_cifar_binary(tmp_path / "e.bin")
    (tmp_path / "p.bin").write_bytes(python_batch(random_images(1), {"labels": [0]}))
    with pytest.raises(CifarFormatError, match=r"starts like a pickle: this looks like the "
                                               r"python release"):
        read_cifar_binary(tmp_path / "p.bin")


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"`label_bytes` must be 1 or 2"):
        read_cifar_binary("x", label_bytes=3)
    with pytest.raises(ValueError, match=r"`name` must be one of \['cifar10', 'cifar100'\]"):
        load_cifar("cifar-10")
    with pytest.raises(ValueError, match=r"`labels` must be one of \['coarse', 'fine'\] for "
                                         r"'cifar100', got 'middle'"):
        load_cifar("cifar100", labels="middle")


def _pickled(tmp_path, obj, name="data_batch_1"):
    path = tmp_path / name
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


@pytest.mark.parametrize("obj, message", [
    ([1, 2], r"expected a pickled dict, got list"),
    ({"labels": [0]}, r"'data' must be a uint8 array \(N, 3072\), got NoneType"),
    ({"data": np.zeros((1, 3072), np.float32), "labels": [0]},
     r"'data' must be a uint8 array \(N, 3072\), got float32 array of shape \(1, 3072\)"),
    ({"data": np.zeros((1, 1024), np.uint8), "labels": [0]}, r"got uint8 array of shape"),
    ({"data": np.zeros((2, 3072), np.uint8)}, r"no 'labels' entry; it has \['data'\]"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, r"2 images but 1 labels"),
    ({"data": np.zeros((1, 3072), np.uint8), "labels": ["cat"]}, r"must be a list of ints"),
    ({"data": np.zeros((1, 3072), np.uint8), "labels": [10]},
     r"labels in \[10, 10\], outside \[0, 10\)"),
])
def test_python_batch_errors(tmp_path, obj, message):
    with pytest.raises(CifarFormatError, match=message):
        read_cifar_python_batch(_pickled(tmp_path, obj))


def test_truncated_pickle(tmp_path):
    write_cifar10(tmp_path, release="python")
    p = tmp_path / "data_batch_3"
    p.write_bytes(p.read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"data_batch_3: not a readable pickle"):
        load_cifar("cifar10", tmp_path)


def test_malicious_batch_is_refused_by_load_cifar(tmp_path):
    write_cifar10(tmp_path, release="python")
    sentinel = tmp_path / "pwned"
    (tmp_path / "data_batch_4").write_bytes(
        f"cos\nsystem\n(S'touch {sentinel}'\ntR.".encode())
    with pytest.raises(UnsafePickleError, match=r"data_batch_4: refused to load the global "
                                                r"'os.system'"):
        load_cifar("cifar10", tmp_path)
    assert not sentinel.exists()


def test_meta_with_wrong_count(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "batches.meta.txt").write_text("cat\ndog\n")
    with pytest.raises(CifarFormatError, match=r"expected 10 class names, one per line, found 2"):
        load_cifar("cifar10", tmp_path)
    write_cifar10(tmp_path / "py", release="python")
    (tmp_path / "py" / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a"]}))
    with pytest.raises(CifarFormatError, match=r"expected 10 names in 'label_names', found 1"):
        load_cifar("cifar10", tmp_path / "py")


def test_not_found_says_how_to_get_it(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "test_batch.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"(?s)CIFAR-10 .* not found.*missing "
                                                r"test_batch.bin.*juanji data download cifar10"):
        load_cifar("cifar10", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"(?s)CIFAR-100 .*cifar-100-binary.tar.gz"):
        load_cifar("cifar100", tmp_path / "nothing")
