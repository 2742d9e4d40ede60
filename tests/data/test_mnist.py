"""load_idx_dataset: loading the four files, where they are searched, and what a miss says.

No test depends on the machine: the system directories (`SYSTEM_DIRS`) are replaced by temporary
ones and $JUANJI_DATA_DIR, $XDG_CACHE_HOME and $HOME point into tmp_path.
"""

import numpy as np
import pytest

from juanji.data import load_idx_dataset
from juanji.data import mnist
from juanji.data.mnist import FASHION_CLASSES, find_idx_files, search_dirs
from tests.data.idx_writer import write_idx, write_idx_set

BASES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Every searched place inside tmp_path, none of them holding data yet."""
    home, env, xdg, system = (tmp_path / d for d in ("home", "env", "xdg", "system"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("JUANJI_DATA_DIR", str(env))
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    monkeypatch.setitem(mnist.SYSTEM_DIRS, "fashion-mnist", (system / "fashion-mnist",))
    monkeypatch.setitem(mnist.SYSTEM_DIRS, "mnist", ())
    return {"home": home, "env": env, "xdg": xdg, "system": system}


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize("gz", [True, False])
def test_load_from_data_dir(tmp_path, name, gz):
    arrays = write_idx_set(tmp_path, 12, 5, hw=(6, 4), gz=gz)
    train, test = load_idx_dataset(name, tmp_path)
    assert (train.x.shape, test.x.shape) == ((12, 6, 4, 1), (5, 6, 4, 1))
    assert train.x.dtype == np.uint8 and train.y.dtype == np.int64
    np.testing.assert_array_equal(train.x[..., 0], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(train.y, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(test.x[..., 0], arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(test.y, arrays["t10k-labels-idx1-ubyte"])
    assert (train.name, test.name) == (f"{name}/train", f"{name}/test")
    assert train.num_classes == 10 and train.input_shape == (6, 4, 1)


def test_class_names():
    assert mnist.CLASS_NAMES["mnist"] == tuple(str(d) for d in range(10))
    assert FASHION_CLASSES == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def test_data_dir_may_be_the_parent(tmp_path):
    write_idx_set(tmp_path / "fashion-mnist", 3, 2)
    train, _ = load_idx_dataset("fashion-mnist", tmp_path)
    assert len(train) == 3 and train.class_names[0] == "T-shirt/top"


def test_raw_and_gz_mixed_and_gz_preferred(tmp_path):
    write_idx_set(tmp_path, 4, 3, gz=False)
    # A .gz beside the raw train labels, with other contents: it is the one read.
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(4, 7, np.uint8), gz=True)
    assert find_idx_files("mnist", tmp_path)["train_labels"].name.endswith(".gz")
    train, test = load_idx_dataset("mnist", tmp_path)
    assert train.y.tolist() == [7, 7, 7, 7] and len(test) == 3


def test_count_mismatch(tmp_path):
    write_idx_set(tmp_path, 4, 3)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(2, np.uint8), gz=True)
    with pytest.raises(ValueError, match="holds 3 images but .*t10k-labels.* holds 2 labels"):
        load_idx_dataset("mnist", tmp_path)


def test_label_out_of_range(tmp_path):
    write_idx_set(tmp_path, 4, 3)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 1, 10, 2], np.uint8), gz=True)
    with pytest.raises(ValueError, match="label 10 is out of range for 10 classes"):
        load_idx_dataset("mnist", tmp_path)


@pytest.mark.parametrize("base,array,match", [
    ("train-images-idx3-ubyte", np.zeros((4, 3), np.uint8), r"uint8 images \(N, H, W\)"),
    ("train-images-idx3-ubyte", np.zeros((4, 5, 4), np.float32), r"uint8 images \(N, H, W\)"),
    ("train-labels-idx1-ubyte", np.zeros((4, 1), np.uint8), r"uint8 labels \(N,\)"),
    ("t10k-images-idx3-ubyte", np.zeros((3, 5, 5), np.uint8), "train images are .* but test"),
])
def test_wrong_contents(tmp_path, base, array, match):
    write_idx_set(tmp_path, 4, 3, hw=(5, 4))
    write_idx(tmp_path / f"{base}.gz", array, gz=True)
    with pytest.raises(ValueError, match=match):
        load_idx_dataset("mnist", tmp_path)


def test_search_order(places):
    """$JUANJI_DATA_DIR, then the user cache, then the system directory: the first full set wins."""
    write_idx_set(places["env"] / "fashion-mnist", 1, 1)
    write_idx_set(places["xdg"] / "juanji" / "fashion-mnist", 2, 1)
    write_idx_set(places["system"] / "fashion-mnist", 3, 1)
    assert len(load_idx_dataset("fashion-mnist")[0]) == 1
    (places["env"] / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").unlink()  # incomplete: skipped
    assert len(load_idx_dataset("fashion-mnist")[0]) == 2
    (places["xdg"] / "juanji" / "fashion-mnist" / "train-images-idx3-ubyte.gz").unlink()
    assert len(load_idx_dataset("fashion-mnist")[0]) == 3


def test_search_dirs_listing(places, monkeypatch):
    got = search_dirs("fashion-mnist")
    assert [p for p, _ in got] == [places["env"] / "fashion-mnist",
                                   places["xdg"] / "juanji" / "fashion-mnist",
                                   places["system"] / "fashion-mnist"]
    monkeypatch.delenv("JUANJI_DATA_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert [p for p, _ in search_dirs("mnist")] == [places["home"] / ".cache" / "juanji" / "mnist"]
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid per the XDG spec: ignored
    assert [p for p, _ in search_dirs("mnist")] == [places["home"] / ".cache" / "juanji" / "mnist"]


def test_home_cache_used_without_xdg(places, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    write_idx_set(places["home"] / ".cache" / "juanji" / "mnist", 4, 2)
    assert len(load_idx_dataset("mnist")[0]) == 4


def test_data_dir_overrides_the_search(places, tmp_path):
    write_idx_set(places["env"] / "mnist", 1, 1)
    write_idx_set(tmp_path / "mine", 5, 1)
    assert len(load_idx_dataset("mnist", tmp_path / "mine")[0]) == 5


def test_not_found_message(places):
    partial = places["xdg"] / "juanji" / "fashion-mnist"
    write_idx_set(partial, 2, 1)
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_idx_dataset("fashion-mnist")
    msg = str(info.value)
    for base in BASES:
        assert f"{base}[.gz]" in msg
    assert f"{places['env'] / 'fashion-mnist'}  ($JUANJI_DATA_DIR/<name>): no such directory" in msg
    assert f"{partial}  (per-user cache): missing t10k-labels-idx1-ubyte[.gz]" in msg
    assert f"{places['system'] / 'fashion-mnist'}  (system): no such directory" in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "--data-dir DIR" in msg
    # The directories are listed in search order.
    assert msg.index("$JUANJI_DATA_DIR") < msg.index("per-user cache") < msg.index("(system)")


def test_not_found_message_mnist_and_env_hint(places, monkeypatch, tmp_path):
    monkeypatch.delenv("JUANJI_DATA_DIR")
    with pytest.raises(FileNotFoundError) as info:
        load_idx_dataset("mnist")
    msg = str(info.value)
    assert "MNIST (`name`='mnist') not found" in msg
    assert "no Debian package" in msg and "apt-get" not in msg
    assert "set $JUANJI_DATA_DIR" in msg
    with pytest.raises(FileNotFoundError, match=r"(?s)`data_dir`\): no such directory.*--data-dir"):
        load_idx_dataset("mnist", tmp_path / "absent")


@pytest.mark.parametrize("name", ["MNIST", "cifar10", "", None])
def test_unknown_name(name):
    with pytest.raises(ValueError, match=r"`name` must be one of \('mnist', 'fashion-mnist'\)"):
        load_idx_dataset(name)
