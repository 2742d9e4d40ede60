"""load_dataset and DATASETS: dispatch by name and metadata that matches what loads."""

import numpy as np
import pytest

from juanji.data import DATASETS, load_dataset, load_digits
from juanji.data import mnist
from tests.data.idx_writer import write_idx_set


def test_digits_by_name():
    (a, b), (c, d) = load_dataset("digits"), load_digits()
    np.testing.assert_array_equal(a.x, c.x)
    np.testing.assert_array_equal(b.y, d.y)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_sets_by_name(tmp_path, name):
    write_idx_set(tmp_path, 6, 2, hw=(28, 28))
    train, test = load_dataset(name, data_dir=tmp_path)
    info = DATASETS[name]
    assert train.input_shape == info.input_shape
    assert train.class_names == info.class_names == mnist.CLASS_NAMES[name]
    assert (len(train), len(test)) == (6, 2) and not info.embedded


def test_metadata_is_consistent():
    for key, info in DATASETS.items():
        assert info.name == key and info.num_classes == len(info.class_names) >= 2
        assert info.source and info.license
    assert DATASETS["digits"].embedded
    assert (DATASETS["mnist"].train_size, DATASETS["mnist"].test_size) == (60000, 10000)


@pytest.mark.parametrize("name", ["cifar-10", "Digits", "", None])
def test_unknown_name_lists_the_allowed(name):
    with pytest.raises(ValueError, match=r"`name` must be one of \['cifar10', 'cifar100', "
                                         r"'digits', 'fashion-mnist', 'happy', 'mnist', "
                                         r"'signs'\] or 'folder:DIR', got"):
        load_dataset(name)


def test_digits_takes_no_data_dir(tmp_path):
    with pytest.raises(ValueError, match="`data_dir` .* is not used by 'digits'"):
        load_dataset("digits", data_dir=tmp_path)


def test_missing_idx_set_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST .* not found"):
        load_dataset("fashion-mnist", data_dir=tmp_path / "empty")
