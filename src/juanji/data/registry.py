"""Every data set juanji knows, each declared ONCE: `DATASETS[name]` carries its reader, where it
looks for files, its default training recipe, its augmentation rule and its remote files.

>>> sorted(DATASETS)
['cifar10', 'cifar100', 'digits', 'fashion-mnist', 'happy', 'mnist', 'signs']
>>> DATASETS["fashion-mnist"].input_shape, DATASETS["fashion-mnist"].class_names[9]
((28, 28, 1), 'Ankle boot')
>>> DATASETS["mnist"].flip, DATASETS["cifar10"].recipe["model"]
(False, 'tinyvgg')

Adding a data set: write its reader (a module with ``load_x(name, data_dir) -> (train, test)``
and ``find_x_files(name, data_dir)``), then add one `DatasetInfo` entry below. `load_dataset`,
``juanji data list|download``, ``juanji train`` (recipe, augmentation), ``evaluate`` and the
explainers all read the entry; nothing else names a data set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from juanji.data.cifar import CIFAR10_CLASSES, CIFAR100_CLASSES, find_cifar_files, load_cifar
from juanji.data.dataset import Dataset
from juanji.data.digits import DIGIT_CLASSES, load_digits
from juanji.data.h5 import HAPPY_CLASSES, SIGNS_CLASSES, find_course_files, load_course_h5
from juanji.data.mnist import FASHION_CLASSES, find_idx_files, load_idx_dataset

FOLDER_PREFIX = "folder:"  # `load_dataset("folder:DIR")`: a learner's own image folder
# `juanji train --dataset folder:DIR`'s recipe (the course's SIGNS network for 64x64 images).
FOLDER_RECIPE = {"model": "signs"}


@dataclass(frozen=True)
class Remote:
    """One file to fetch: its name on disk, official URL, SHA-256 hex digest and size in bytes;
    ``content_sha256`` is the digest of its decompressed content (a .gz file re-compressed by
    someone else has other bytes but the same content), or None."""

    filename: str
    url: str
    sha256: str
    size: int
    content_sha256: str | None = None


def folder_root(name: str) -> str | None:
    """``DIR`` of ``"folder:DIR"``, or None when ``name`` does not name an image folder.

    >>> folder_root("folder:~/pets"), folder_root("mnist")
    ('~/pets', None)
    """
    if isinstance(name, str) and name.startswith(FOLDER_PREFIX):
        return name[len(FOLDER_PREFIX):]
    return None


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
    # How to read it: reader(name, data_dir) -> (train, test); locate(name, data_dir) -> the
    # folder its files were found in (FileNotFoundError when absent); None for embedded sets.
    reader: Callable | None = field(default=None, compare=False)
    locate: Callable | None = field(default=None, compare=False)
    # `juanji train --dataset NAME` defaults (model, epochs, lr, ...), over TRAIN_DEFAULTS.
    recipe: dict = field(default_factory=dict, compare=False, hash=False)
    flip: bool = True                  # mirrored images keep their label (not digits: 2 vs S)
    remotes: tuple = ()                # the files `juanji data download NAME` fetches
    how_to_get: str = "by hand"        # shown by `juanji data list` when not downloadable

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def where(self, data_dir=None) -> str | None:
        """Where this data set's files are on this machine (``"embedded"`` for digits), or None."""
        if self.embedded:
            return "embedded"
        try:
            return str(self.locate(self.name, data_dir))
        except FileNotFoundError:
            return None


def _read_digits(name: str, data_dir=None):
    if data_dir is not None:
        raise ValueError(f"`data_dir` (={data_dir!r}) is not used by 'digits', which is "
                         f"embedded in juanji; leave it None")
    return load_digits()


def _idx_folder(name: str, data_dir=None) -> Path:
    return next(iter(find_idx_files(name, data_dir).values())).parent


def _cifar_folder(name: str, data_dir=None) -> Path:
    return find_cifar_files(name, data_dir)[1]


def _course_folder(name: str, data_dir=None) -> Path:
    return find_course_files(name, data_dir)["train"].parent


_MNIST = "https://storage.googleapis.com/cvdf-datasets/mnist/"  # the mirror TF/TFDS use
_FASHION = "https://fashion-mnist.s3.eu-central-1.amazonaws.com/"  # Zalando's bucket, TLS
_CIFAR = "https://www.cs.toronto.edu/~kriz/"
# SHA-256 of the decompressed Fashion-MNIST files, computed on this project's machine from
# Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist): its .gz files hold
# the same bytes compressed differently (24 bytes shorter each), so `juanji data download`
# accepts either form. (MNIST and CIFAR-10 had no real copy here: only the published digests.)
_FASHION_CONTENT = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# The recipe measured in BENCHMARKS.md (lenet5 >= 90% test, as its PyTorch twin). Over 12
# epochs the val loss turns up after epoch ~7 while the val accuracy still climbs, so "best"
# follows the accuracy.
_LENET_RECIPE = {"model": "lenet5", "epochs": 12, "batch_size": 64, "lr": 2e-3,
                 "monitor": "accuracy"}
_IDX = dict(reader=load_idx_dataset, locate=_idx_folder, recipe=_LENET_RECIPE)
_CIFAR_ENTRY = dict(reader=load_cifar, locate=_cifar_folder,
                    recipe={"model": "tinyvgg", "augment": True})
_COURSE = dict(reader=load_course_h5, locate=_course_folder, recipe={"model": "signs"},
               how_to_get="course files")


DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(
        "digits", "UCI handwritten digits (8x8)", (8, 8, 1), DIGIT_CLASSES, 1438, 359, True,
        "E. Alpaydin, C. Kaynak, Optical Recognition of Handwritten Digits, UCI Machine "
        "Learning Repository, 1998, doi:10.24432/C50P49", "CC BY 4.0",
        reader=_read_digits, flip=False),
    "mnist": DatasetInfo(
        "mnist", "MNIST handwritten digits", (28, 28, 1), DIGIT_CLASSES, 60000, 10000, False,
        "Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits",
        "CC BY-SA 3.0", **_IDX, flip=False, remotes=(
            Remote("train-images-idx3-ubyte.gz", _MNIST + "train-images-idx3-ubyte.gz",
                   "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
            Remote("train-labels-idx1-ubyte.gz", _MNIST + "train-labels-idx1-ubyte.gz",
                   "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
            Remote("t10k-images-idx3-ubyte.gz", _MNIST + "t10k-images-idx3-ubyte.gz",
                   "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
            Remote("t10k-labels-idx1-ubyte.gz", _MNIST + "t10k-labels-idx1-ubyte.gz",
                   "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
        )),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist", "Fashion-MNIST (Zalando article images)", (28, 28, 1),
        FASHION_CLASSES, 60000, 10000, False,
        "H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST: a Novel Image Dataset for "
        "Benchmarking Machine Learning Algorithms, arXiv:1708.07747, 2017", "MIT", **_IDX,
        remotes=(
            Remote("train-images-idx3-ubyte.gz", _FASHION + "train-images-idx3-ubyte.gz",
                   "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880,
                   _FASHION_CONTENT["train-images-idx3-ubyte.gz"]),
            Remote("train-labels-idx1-ubyte.gz", _FASHION + "train-labels-idx1-ubyte.gz",
                   "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515,
                   _FASHION_CONTENT["train-labels-idx1-ubyte.gz"]),
            Remote("t10k-images-idx3-ubyte.gz", _FASHION + "t10k-images-idx3-ubyte.gz",
                   "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102,
                   _FASHION_CONTENT["t10k-images-idx3-ubyte.gz"]),
            Remote("t10k-labels-idx1-ubyte.gz", _FASHION + "t10k-labels-idx1-ubyte.gz",
                   "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148,
                   _FASHION_CONTENT["t10k-labels-idx1-ubyte.gz"]),
        )),
    "cifar10": DatasetInfo(
        "cifar10", "CIFAR-10 tiny colour images", (32, 32, 3), CIFAR10_CLASSES, 50000, 10000,
        False, "A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, "
        "University of Toronto tech. report, 2009",
        "no licence stated; free to use with the citation", **_CIFAR_ENTRY, remotes=(
            Remote("cifar-10-binary.tar.gz", _CIFAR + "cifar-10-binary.tar.gz",
                   "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                   170052171),
        )),
    "cifar100": DatasetInfo(
        "cifar100", "CIFAR-100 tiny colour images (fine labels)", (32, 32, 3), CIFAR100_CLASSES,
        50000, 10000, False, "A. Krizhevsky, Learning Multiple Layers of Features from Tiny "
        "Images, University of Toronto tech. report, 2009",
        "no licence stated; free to use with the citation", **_CIFAR_ENTRY),
    "signs": DatasetInfo(
        "signs", "SIGNS hand signs 0-5 (the course's .h5 files)", (64, 64, 3), SIGNS_CLASSES,
        1080, 120, False, "the convolutional-networks course (deeplearning.ai)",
        "course material: use your own copy, not redistributed", **_COURSE),
    "happy": DatasetInfo(
        "happy", "Happy House faces (the course's .h5 files)", (64, 64, 3), HAPPY_CLASSES,
        600, 150, False, "the convolutional-networks course (deeplearning.ai)",
        "course material: use your own copy, not redistributed", binary=True, **_COURSE),
}


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
    root = folder_root(name)
    if root is not None:
        from juanji.data.folder import DEFAULT_IMAGE_SIZE, load_image_folder
        if not root or data_dir is not None:
            raise ValueError(f"`name` {name!r} must name the folder as 'folder:DIR', and "
                             f"`data_dir` (={data_dir!r}) must be None for it")
        return load_image_folder(root, image_size=image_size or DEFAULT_IMAGE_SIZE,
                                 mode="grey" if grey else "rgb", seed=seed)
    if image_size is not None or grey:
        raise ValueError(f"`image_size` and `grey` apply to 'folder:DIR' data sets only, "
                         f"not {name!r}")
    if name not in DATASETS:
        raise ValueError(f"`name` must be one of {sorted(DATASETS)} or 'folder:DIR', "
                         f"got {name!r}")
    return DATASETS[name].reader(name, data_dir)


def recipe_of(name: str) -> dict:
    """``juanji train``'s defaults for data set ``name`` (or ``"folder:DIR"``) over its own.

    >>> recipe_of("folder:pets")["model"], recipe_of("digits")
    ('signs', {})
    """
    if folder_root(name) is not None:
        return dict(FOLDER_RECIPE)
    return dict(DATASETS[name].recipe) if name in DATASETS else {}
