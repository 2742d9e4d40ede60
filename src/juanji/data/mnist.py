"""MNIST and Fashion-MNIST from their four IDX files: where to find them and how to load them.

Both data sets are 28x28 grey images in 10 classes, 60000 for training and 10000 for testing,
stored as four files named the same way for both (each raw or ``.gz``)::

    train-images-idx3-ubyte  (60000, 28, 28) uint8     train-labels-idx1-ubyte  (60000,) uint8
    t10k-images-idx3-ubyte   (10000, 28, 28) uint8     t10k-labels-idx1-ubyte   (10000,) uint8

Neither is bundled (tens of MB) and nothing is downloaded. Without ``data_dir`` the files are
looked for, in order, in

1. ``$JUANJI_DATA_DIR/<name>`` (when the variable is set),
2. the per-user cache ``$XDG_CACHE_HOME/juanji/<name>`` (``~/.cache/juanji/<name>`` by default),
3. system directories from `SYSTEM_DIRS`: for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist``
   where Debian's package ``dataset-fashion-mnist`` installs it.

The first directory holding all four files wins.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from juanji.data import cache
from juanji.data.dataset import Dataset
from juanji.data.idx import read_idx

IDX_DATASETS = ("mnist", "fashion-mnist")
TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
DIGIT_CLASSES = tuple("0123456789")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CLASS_NAMES = {"mnist": DIGIT_CLASSES, "fashion-mnist": FASHION_CLASSES}
# Base names; each file may be raw or carry a .gz suffix.
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# Searched last, after the environment and the user cache. Tests replace these entries.
SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "mnist": (),
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}
INSTALL_HINTS = {
    "mnist": "MNIST has no Debian package: put the four files (raw or .gz) in one of the "
             "directories above",
    "fashion-mnist": "install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; "
                     "it puts the four .gz files in /usr/share/datasets/fashion-mnist), or put "
                     "the four files (raw or .gz) in one of the directories above",
}


def search_dirs(name: str, data_dir=None) -> list[tuple[Path, str]]:
    """The directories searched for ``name``, in order, each with where it came from.

    With ``data_dir`` only ``data_dir`` itself and ``data_dir/<name>`` are searched, so that
    ``--data-dir`` may name either the directory of the files or the parent of several data sets.

    >>> [str(p) for p, _ in search_dirs("mnist", "/data")]
    ['/data', '/data/mnist']
    """
    _check_name(name)
    return cache.search_dirs(name, data_dir, SYSTEM_DIRS[name])


def find_idx_files(name: str, data_dir=None) -> dict[str, Path]:
    """Paths of the four files, from the first searched directory that holds all of them.

    A ``.gz`` file is preferred over a raw one of the same name: its CRC catches damage.
    Raises FileNotFoundError listing every file and directory looked at and how to fix it.
    """
    report = []
    for folder, origin in search_dirs(name, data_dir):
        if not folder.is_dir():
            report.append(f"  {folder}  ({origin}): no such directory")
            continue
        paths = {role: _pick(folder, base) for role, base in FILES.items()}
        missing = [f"{FILES[role]}[.gz]" for role, p in paths.items() if p is None]
        if not missing:
            return paths
        report.append(f"  {folder}  ({origin}): missing {', '.join(missing)}")
    wanted = ", ".join(f"{base}[.gz]" for base in FILES.values())
    env_note = "" if os.environ.get("JUANJI_DATA_DIR") else (
        " (or set $JUANJI_DATA_DIR to a directory holding a `<name>` folder)")
    raise FileNotFoundError(
        f"{TITLES[name]} (`name`={name!r}) not found. Looked for the four files {wanted} "
        f"in these directories, in order:\n" + "\n".join(report) + "\n"
        f"To fix: {INSTALL_HINTS[name]}, or pass `--data-dir DIR` (data_dir=DIR in Python) "
        f"naming the directory that holds them{env_note}."
    )


def load_idx_dataset(name: str, data_dir=None) -> tuple[Dataset, Dataset]:
    """Load ``"mnist"`` or ``"fashion-mnist"`` as ``(train, test)`` Datasets.

    ``x`` is uint8 ``(N, 28, 28, 1)`` (the files' bytes, a channel axis added without copying),
    ``y`` int64 ``(N,)``; 60000 train and 10000 test images for the standard files. See the
    module docstring for where the files are looked for.
    """
    paths = find_idx_files(name, data_dir)
    split = {}
    for part in ("train", "test"):
        images_path, labels_path = paths[f"{part}_images"], paths[f"{part}_labels"]
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(f"{images_path}: expected uint8 images (N, H, W), got "
                             f"{images.dtype} {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{labels_path}: expected uint8 labels (N,), got "
                             f"{labels.dtype} {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} "
                             f"holds {len(labels)} labels; the counts must match")
        if labels.size and labels.max() >= len(CLASS_NAMES[name]):
            raise ValueError(f"{labels_path}: label {labels.max()} is out of range for "
                             f"{len(CLASS_NAMES[name])} classes")
        split[part] = Dataset(images[..., None],  # (N, H, W, 1), a view
                              labels.astype(np.int64), CLASS_NAMES[name], f"{name}/{part}")
    if split["train"].input_shape != split["test"].input_shape:
        raise ValueError(f"{TITLES[name]}: train images are {split['train'].input_shape} but "
                         f"test images are {split['test'].input_shape}; they must match")
    return split["train"], split["test"]


def _pick(folder: Path, base: str) -> Path | None:
    for candidate in (folder / f"{base}.gz", folder / base):
        if candidate.is_file():
            return candidate
    return None


def _check_name(name) -> None:
    if name not in IDX_DATASETS:
        raise ValueError(f"`name` must be one of {IDX_DATASETS}, got {name!r}")
