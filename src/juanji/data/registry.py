"""`load_dataset(name)`: one entry point for every data set juanji knows, plus their metadata.

>>> sorted(DATASETS)
['cifar10', 'cifar100', 'digits', 'fashion-mnist', 'happy', 'mnist', 'signs']
>>> DATASETS["fashion-mnist"].input_shape, DATASETS["fashion-mnist"].class_names[9]
((28, 28, 1), 'Ankle boot')
"""

from __future__ import annotations

from dataclasses import dataclass

from juanji.data.cifar import CIFAR10_CLASSES, CIFAR100_CLASSES, load_cifar
from juanji.data.dataset import Dataset
from juanji.data.digits import DIGIT_CLASSES, load_digits
from juanji.data.h5 import HAPPY_CLASSES, SIGNS_CLASSES, load_course_h5
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
    binary: bool = False               # two classes meant for one sigmoid logit (Happy House)

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
    "cifar10": DatasetInfo(
        "cifar10", "CIFAR-10 tiny colour images", (32, 32, 3), CIFAR10_CLASSES, 50000, 10000,
        False, "A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, "
        "University of Toronto tech. report, 2009",
        "no licence stated; free to use with the citation"),
    "cifar100": DatasetInfo(
        "cifar100", "CIFAR-100 tiny colour images (fine labels)", (32, 32, 3), CIFAR100_CLASSES,
        50000, 10000, False, "A. Krizhevsky, Learning Multiple Layers of Features from Tiny "
        "Images, University of Toronto tech. report, 2009",
        "no licence stated; free to use with the citation"),
    "signs": DatasetInfo(
        "signs", "SIGNS hand signs 0-5 (the course's .h5 files)", (64, 64, 3), SIGNS_CLASSES,
        1080, 120, False, "the convolutional-networks course (deeplearning.ai)",
        "course material: use your own copy, not redistributed"),
    "happy": DatasetInfo(
        "happy", "Happy House faces (the course's .h5 files)", (64, 64, 3), HAPPY_CLASSES,
        600, 150, False, "the convolutional-networks course (deeplearning.ai)",
        "course material: use your own copy, not redistributed", binary=True),
}
FOLDER_PREFIX = "folder:"  # `load_dataset("folder:DIR")`: a learner's own image folder


def load_dataset(name: str, data_dir=None, *, image_size=None, grey: bool = False,
                 seed: int = 0) -> tuple[Dataset, Dataset]:
    """``(train, test)`` for ``name`` in `DATASETS`, or ``"folder:DIR"`` for an image folder.

    ``data_dir`` is where to read the files of a non-embedded set from (see
    `juanji.data.cache` for the places searched when it is None); the embedded digits take none.
    ``image_size`` (default 64x64), ``grey`` and ``seed`` (which images are held out as the
    test split) apply to image folders only (`juanji.data.folder`).

    >>> train, test = load_dataset("digits")
    >>> train.input_shape, test.num_classes
    ((8, 8, 1), 10)
    """
    if isinstance(name, str) and name.startswith(FOLDER_PREFIX):
        from juanji.data.folder import DEFAULT_IMAGE_SIZE, load_image_folder
        root = name[len(FOLDER_PREFIX):]
        if not root or data_dir is not None:
            raise ValueError(f"`name` {name!r} must name the folder as 'folder:DIR', and "
                             f"`data_dir` (={data_dir!r}) must be None for it")
        return load_image_folder(root, image_size=image_size or DEFAULT_IMAGE_SIZE,
                                 mode="grey" if grey else "rgb", seed=seed)
    if image_size is not None or grey:
        raise ValueError(f"`image_size` and `grey` apply to 'folder:DIR' data sets only, "
                         f"not {name!r}")
    if name == "digits":
        if data_dir is not None:
            raise ValueError(f"`data_dir` (={data_dir!r}) is not used by 'digits', which is "
                             f"embedded in juanji; leave it None")
        return load_digits()
    elif name in ("mnist", "fashion-mnist"):
        return load_idx_dataset(name, data_dir)
    elif name in ("cifar10", "cifar100"):
        return load_cifar(name, data_dir)
    elif name in ("signs", "happy"):
        return load_course_h5(name, data_dir)
    else:
        raise ValueError(f"`name` must be one of {sorted(DATASETS)} or 'folder:DIR', "
                         f"got {name!r}")
