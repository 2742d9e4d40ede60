"""`load_digits`: the embedded default data set, 1797 handwritten digits of 8x8 pixels.

The UCI "Optical Recognition of Handwritten Digits" test set (Alpaydin & Kaynak, CC BY 4.0,
doi:10.24432/C50P49; see ``DIGITS_LICENSE.txt`` beside this file). It ships inside juanji
(57 kB), so examples, tests and the default ``juanji train`` run without any download.

Each pixel counts the "on" pixels of a 4x4 block of a 32x32 bitmap, so the file holds 0..16.
juanji stores every image as uint8 0..255 like the other data sets, with ``v * 255 // 16``
(0 -> 0, 8 -> 127, 16 -> 255; the 17 levels stay distinct).

The held-out split is fixed: ``Dataset.split(TEST_FRACTION, seed=SPLIT_SEED)``, a stratified
20% per class drawn with seed 0, which gives 1438 training and 359 test images.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import replace
from functools import lru_cache
from importlib import resources

import numpy as np

from juanji.data.dataset import Dataset

DIGITS_FILE = "digits.csv.gz"
DIGIT_CLASSES = tuple("0123456789")
TEST_FRACTION = 0.2
SPLIT_SEED = 0
NUM_IMAGES = 1797


def load_digits() -> tuple[Dataset, Dataset]:
    """The embedded digits as ``(train, test)``: uint8 ``(N, 8, 8, 1)`` images, classes "0".."9".

    >>> train, test = load_digits()
    >>> train.x.shape, test.x.shape, train.x.dtype, int(train.x.max()), train.class_names[3]
    ((1438, 8, 8, 1), (359, 8, 8, 1), dtype('uint8'), 255, '3')
    """
    pixels, labels = _read_digits()
    x = (pixels * 255 // 16).astype(np.uint8).reshape(-1, 8, 8, 1)  # (1797, 8, 8, 1)
    train, test = Dataset(x, labels, DIGIT_CLASSES, "digits").split(TEST_FRACTION, SPLIT_SEED)
    return replace(train, name="digits/train"), replace(test, name="digits/test")


@lru_cache(maxsize=1)
def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    """Parse the bundled CSV once: pixels int64 ``(1797, 64)`` in 0..16, labels ``(1797,)``."""
    packed = (resources.files(__package__) / DIGITS_FILE).read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(packed)), delimiter=",",
                       dtype=np.int64)  # (1797, 65): 64 pixels then the label
    if table.shape != (NUM_IMAGES, 65) or table[:, :64].min() < 0 or table[:, :64].max() > 16:
        raise ValueError(f"{DIGITS_FILE} is damaged: expected ({NUM_IMAGES}, 65) values with "
                         f"pixels in 0..16, got shape {table.shape}")
    pixels, labels = table[:, :64], table[:, 64]
    pixels.flags.writeable = False  # cached: no caller may change what the next one gets
    labels.flags.writeable = False
    return pixels, labels
