"""`load_dataset(name)`: one entry point for every data set juanji knows, plus their metadata.

>>> sorted(DATASETS)
['digits', 'fashion-mnist', 'mnist']
>>> DATASETS["fashion-mnist"].input_shape, DATASETS["fashion-mnist"].class_names[9]
((28, 28, 1), 'Ankle boot')
"""

from __future__ import annotations

from dataclasses import dataclass

from juanji.data.dataset import Dataset
from juanji.data.digits import DIGIT_CLASSES, load_digits
from juanji.data.mnist import FASHION_CLASSES, load_idx_dataset


@dataclass(frozen=True)
class DatasetInfo:
    """What a data set is, known without loading it (for the CLI, model building and docs)."""

    name: str                          # the key for load_dataset
    title: str                         # for humans
    input_shape: tuple[int, int, int]  # (H, W, C) of one image
    class_names: tuple[str, ...]
    train_size: int                    # images in the train split juanji returns
    test_size: int
    embedded: bool                     # shipped inside juanji (True) or read from disk
    source: str                        # citation
    license: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(
        "digits", "UCI handwritten digits (8x8)", (8, 8, 1), DIGIT_CLASSES, 1438, 359, True,
        "E. Alpaydin, C. Kaynak, Optical Recognition of Handwritten Digits, UCI Machine "
        "Learning Repository, 1998, doi:10.24432/C50P49", "CC BY 4.0"),
    "mnist": DatasetInfo(
        "mnist", "MNIST handwritten digits", (28, 28, 1), DIGIT_CLASSES, 60000, 10000, False,
        "Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits",
        "CC BY-SA 3.0"),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist", "Fashion-MNIST (Zalando article images)", (28, 28, 1),
        FASHION_CLASSES, 60000, 10000, False,
        "H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST: a Novel Image Dataset for "
        "Benchmarking Machine Learning Algorithms, arXiv:1708.07747, 2017", "MIT"),
}


def load_dataset(name: str, data_dir=None) -> tuple[Dataset, Dataset]:
    """``(train, test)`` for ``name`` in `DATASETS`.

    ``data_dir`` is where to read MNIST / Fashion-MNIST files from (see `juanji.data.mnist`
    for the places searched when it is None); the embedded digits take none.

    >>> train, test = load_dataset("digits")
    >>> train.input_shape, test.num_classes
    ((8, 8, 1), 10)
    """
    if name == "digits":
        if data_dir is not None:
            raise ValueError(f"`data_dir` (={data_dir!r}) is not used by 'digits', which is "
                             f"embedded in juanji; leave it None")
        return load_digits()
    elif name in ("mnist", "fashion-mnist"):
        return load_idx_dataset(name, data_dir)
    else:
        raise ValueError(f"`name` must be one of {sorted(DATASETS)}, got {name!r}")
