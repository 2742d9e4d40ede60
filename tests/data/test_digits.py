"""load_digits: the embedded UCI digits, read back independently with csv + gzip."""

import csv
import gzip
import io
from importlib import resources

import numpy as np

from juanji.data import DATASETS, load_digits


def independent_read():
    """The bundled CSV parsed with the standard library: (1797, 64) pixels, (1797,) labels."""
    text = gzip.decompress((resources.files("juanji.data") / "digits.csv.gz").read_bytes())
    rows = np.array(list(csv.reader(io.StringIO(text.decode()))), dtype=np.int64)  # (1797, 65)
    return rows[:, :64], rows[:, 64]


def test_shapes_counts_classes():
    train, test = load_digits()
    assert len(train) + len(test) == 1797
    assert train.x.shape[1:] == test.x.shape[1:] == (8, 8, 1)
    assert train.x.dtype == np.uint8 and train.y.dtype == np.int64
    assert train.class_names == test.class_names == tuple("0123456789")
    assert (train.name, test.name) == ("digits/train", "digits/test")
    info = DATASETS["digits"]
    assert (len(train), len(test), train.input_shape) == (info.train_size, info.test_size,
                                                          info.input_shape)


def test_stratified_twenty_percent_held_out():
    train, test = load_digits()
    _, labels = independent_read()
    full = np.bincount(labels, minlength=10)
    assert full.min() > 150  # every digit is well represented
    np.testing.assert_array_equal(np.bincount(test.y, minlength=10),
                                  np.floor(0.2 * full + 0.5).astype(int))


def test_images_are_the_file_rescaled_and_split_without_loss():
    pixels, labels = independent_read()
    assert pixels.min() == 0 and pixels.max() == 16
    expected = (pixels * 255 // 16).astype(np.uint8)  # the documented 0..16 -> 0..255 mapping
    train, test = load_digits()
    got = np.concatenate([train.x.reshape(-1, 64), test.x.reshape(-1, 64)])  # (1797, 64)
    got_y = np.concatenate([train.y, test.y])
    # Same multiset of (image, label) rows: sort both lexicographically and compare.
    a = np.column_stack([got, got_y])
    b = np.column_stack([expected, labels])
    np.testing.assert_array_equal(a[np.lexsort(a.T[::-1])], b[np.lexsort(b.T[::-1])])
    # The 8x8 layout is row-major: the first row of the file's first image is its top row.
    first = np.flatnonzero((b == a[0]).all(axis=1))[0]
    np.testing.assert_array_equal(train.x[0, 0, :, 0], expected[first, :8])


def test_split_is_fixed():
    (tr1, te1), (tr2, te2) = load_digits(), load_digits()
    np.testing.assert_array_equal(tr1.x, tr2.x)
    np.testing.assert_array_equal(te1.y, te2.y)


def test_license_ships_with_the_data():
    text = (resources.files("juanji.data") / "DIGITS_LICENSE.txt").read_text()
    for needle in ("Alpaydin", "Kaynak", "CC BY 4.0", "10.24432/C50P49"):
        assert needle in text
