"""CIFAR-10 and CIFAR-100, read the way their authors ship them: plain binary records or pickles.

Both sets are 32x32 colour images, 50000 for training and 10000 for testing (Krizhevsky, 2009,
https://www.cs.toronto.edu/~kriz/cifar.html). Two releases of each exist, and both are read:

**Binary release** (``cifar-10-batches-bin/``, ``cifar-100-binary/``): fixed-size records, no
header, read with ``np.frombuffer``::

    CIFAR-10   <1 label byte><3072 pixel bytes>                      x 10000 per file
    CIFAR-100  <1 coarse label byte><1 fine label byte><3072 pixel bytes>

    files  CIFAR-10:  data_batch_1.bin .. data_batch_5.bin, test_batch.bin, batches.meta.txt
           CIFAR-100: train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt

**Python release** (``cifar-10-batches-py/``, ``cifar-100-python/``): each file is a pickled
dict ``{"data": uint8 (N, 3072), "labels": [...]}`` (CIFAR-100: ``"fine_labels"``,
``"coarse_labels"``), meta files hold ``"label_names"`` (``"fine_label_names"``, ...).
Files: ``data_batch_1``..``5``, ``test_batch``, ``batches.meta``; CIFAR-100 ``train``,
``test``, ``meta``. They are read ONLY through `juanji.data.safe_pickle`, which refuses any
global a CIFAR batch does not need, so a tampered download cannot run code.

In both, the 3072 bytes of an image are the red plane, then green, then blue, each 32x32
row-major: ``pixels.reshape(3, 32, 32).transpose(1, 2, 0)`` gives channels-last ``(32, 32, 3)``.
Class names come from the meta file when it is there, else from the published lists below.

Where the files are looked for: see `juanji.data.cache` (``--data-dir`` or ``$JUANJI_DATA_DIR``,
then the per-user cache), in each place also inside the release's own folder name, so the
unpacked archive can be used as it is. The binary release is preferred when both are present.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from juanji.data import cache
from juanji.data.dataset import Dataset
from juanji.data.safe_pickle import safe_load

SIDE, CHANNELS = 32, 3
PIXELS = SIDE * SIDE * CHANNELS  # 3072 bytes per image
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
CIFAR100_COARSE_CLASSES = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
    "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2")
CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
    "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
    "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom",
    "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
    "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
    "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank",
    "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle",
    "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm")

# Everything that differs between the two data sets and their two releases.
LAYOUT = {
    "cifar10": {
        "binary": {"folder": "cifar-10-batches-bin",
                   "train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
                   "test": ("test_batch.bin",),
                   "meta": {"labels": "batches.meta.txt"}},
        "python": {"folder": "cifar-10-batches-py",
                   "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
                   "test": ("test_batch",), "meta": "batches.meta"},
        "label_keys": {"labels": "labels"},       # label mode -> key in a python batch
        "meta_keys": {"labels": "label_names"},   # label mode -> key in the python meta
        "label_bytes": 1, "label_index": {"labels": 0},
        "classes": {"labels": CIFAR10_CLASSES},
    },
    "cifar100": {
        "binary": {"folder": "cifar-100-binary", "train": ("train.bin",), "test": ("test.bin",),
                   "meta": {"fine": "fine_label_names.txt",
                            "coarse": "coarse_label_names.txt"}},
        "python": {"folder": "cifar-100-python", "train": ("train",), "test": ("test",),
                   "meta": "meta"},
        "label_keys": {"fine": "fine_labels", "coarse": "coarse_labels"},
        "meta_keys": {"fine": "fine_label_names", "coarse": "coarse_label_names"},
        "label_bytes": 2, "label_index": {"coarse": 0, "fine": 1},
        "classes": {"fine": CIFAR100_CLASSES, "coarse": CIFAR100_COARSE_CLASSES},
    },
}
DEFAULT_LABELS = {"cifar10": "labels", "cifar100": "fine"}


class CifarFormatError(ValueError):
    """A CIFAR file is truncated, the wrong size, or not in the format its name promises."""


# --- the binary release ---------------------------------------------------------------------------

def read_cifar_binary(path, *, label_bytes: int = 1, label_index: int = 0,
                      num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Read one binary CIFAR file: records of ``label_bytes`` label bytes + 3072 pixel bytes.

    Args:
        path: the ``.bin`` file.
        label_bytes: 1 for CIFAR-10, 2 for CIFAR-100 (coarse, fine).
        label_index: which label byte to return (CIFAR-100: 0 coarse, 1 fine).
        num_classes: labels must lie in ``[0, num_classes)``.
    Returns:
        ``x`` uint8 ``(N, 32, 32, 3)`` and ``y`` int64 ``(N,)``.

    >>> import tempfile, os
    >>> rec = np.concatenate([[7], np.arange(PIXELS) % 256]).astype(np.uint8)  # one record
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "one.bin")
    ...     rec.tofile(p)
    ...     x, y = read_cifar_binary(p)
    >>> x.shape, x.dtype, y.tolist(), x[0, 0, 1].tolist()  # (0, 1): R=1, G=1025%256, B=2049%256
    ((1, 32, 32, 3), dtype('uint8'), [7], [1, 1, 1])
    """
    if label_bytes not in (1, 2) or not 0 <= label_index < label_bytes:
        raise ValueError(f"`label_bytes` must be 1 or 2 and `label_index` in [0, label_bytes), "
                         f"got {label_bytes!r} and {label_index!r}")
    path = Path(path)
    record = label_bytes + PIXELS
    size = os.path.getsize(path)
    if size == 0:
        raise CifarFormatError(f"{path}: the file is empty; expected records of {record} bytes")
    if size % record:
        head = path.read_bytes()[:2]
        hint = (" It starts like a pickle: this looks like the python release; use its "
                "folder (cifar-10-batches-py / cifar-100-python) instead."
                if head[:1] == b"\x80" else "")
        other = 3 - label_bytes  # 1 <-> 2 label bytes: CIFAR-10 <-> CIFAR-100
        if size % (other + PIXELS) == 0:
            hint += (f" Its size fits records of {other + PIXELS} bytes: is this a "
                     f"CIFAR-{100 if other == 2 else 10} file?")
        raise CifarFormatError(
            f"{path}: truncated or not a CIFAR binary file: {size} bytes is not a whole number "
            f"of {record}-byte records ({size // record} records and {size % record} bytes "
            f"left over).{hint}")
    raw = np.fromfile(path, dtype=np.uint8)  # (N * record,), bounded by the file's size
    if raw.size != size:  # the file changed under us
        raise CifarFormatError(f"{path}: read {raw.size} bytes of {size}")
    rows = raw.reshape(-1, record)  # (N, label_bytes + 3072)
    y = rows[:, label_index].astype(np.int64)  # (N,)
    bad = np.flatnonzero(y >= num_classes)
    if bad.size:
        raise CifarFormatError(
            f"{path}: record {bad[0]} has label {y[bad[0]]}, outside [0, {num_classes}) "
            f"({bad.size} such records); is this file from the other CIFAR set?")
    return _to_nhwc(rows[:, label_bytes:]), y


def read_label_names_txt(path, expected: int) -> tuple[str, ...]:
    """``batches.meta.txt`` / ``*_label_names.txt``: one class name a line (blank lines skipped)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise CifarFormatError(f"{path}: not a text file of class names") from None
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != expected:
        raise CifarFormatError(f"{path}: expected {expected} class names, one per line, "
                               f"found {len(names)}")
    return names


# --- the python release ---------------------------------------------------------------------------

def read_cifar_python_batch(path, *, label_key: str = "labels",
                            num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Read one pickled CIFAR batch (safely, see `juanji.data.safe_pickle`).

    Args:
        path: e.g. ``data_batch_1`` or CIFAR-100's ``train``.
        label_key: ``"labels"`` (CIFAR-10), ``"fine_labels"`` or ``"coarse_labels"``.
        num_classes: labels must lie in ``[0, num_classes)``.
    Returns:
        ``x`` uint8 ``(N, 32, 32, 3)`` and ``y`` int64 ``(N,)``.
    """
    path = Path(path)
    batch = _pickled_dict(path)
    data = batch.get("data")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != PIXELS:
        got = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
               else type(data).__name__)
        raise CifarFormatError(f"{path}: 'data' must be a uint8 array (N, {PIXELS}), got {got}")
    if label_key not in batch:
        raise CifarFormatError(f"{path}: no {label_key!r} entry; it has {sorted(batch)}")
    labels = batch[label_key]
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if not isinstance(labels, list) or not all(type(v) is int for v in labels):
        raise CifarFormatError(f"{path}: {label_key!r} must be a list of ints")
    # Python ints are unbounded: 2**70 must be refused as a label, not overflow int64.
    if labels and not 0 <= min(labels) <= max(labels) < num_classes:
        raise CifarFormatError(f"{path}: labels in [{min(labels)}, {max(labels)}], outside "
                               f"[0, {num_classes})")
    y = np.asarray(labels, dtype=np.int64).reshape(-1)  # (N,)
    if len(y) != len(data):
        raise CifarFormatError(f"{path}: {len(data)} images but {len(y)} labels in "
                               f"{label_key!r}; the counts must match")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise CifarFormatError(f"{path}: labels in [{y.min()}, {y.max()}], outside "
                               f"[0, {num_classes})")
    return _to_nhwc(data), y


def read_python_meta(path, key: str, expected: int) -> tuple[str, ...]:
    """Class names from a pickled meta file (``batches.meta`` / CIFAR-100's ``meta``)."""
    path = Path(path)
    names = _pickled_dict(path).get(key)
    if not isinstance(names, list) or not all(isinstance(n, (str, bytes)) for n in names):
        raise CifarFormatError(f"{path}: {key!r} must be a list of class names")
    names = tuple(n.decode("latin1") if isinstance(n, bytes) else n for n in names)
    if len(names) != expected:
        raise CifarFormatError(f"{path}: expected {expected} names in {key!r}, "
                               f"found {len(names)}")
    return names


def _pickled_dict(path: Path) -> dict:
    """The pickled dict with its keys as str (Python 2 files give bytes or latin-1 str keys)."""
    obj = safe_load(path)
    if not isinstance(obj, dict):
        raise CifarFormatError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _to_nhwc(flat: np.ndarray) -> np.ndarray:
    """(N, 3072) planes R, G, B -> contiguous uint8 (N, 32, 32, 3)."""
    planes = flat.reshape(-1, CHANNELS, SIDE, SIDE)  # (N, 3, 32, 32)
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1))  # (N, 32, 32, 3)


# --- finding and loading a whole set --------------------------------------------------------------

def find_cifar_files(name: str, data_dir=None) -> tuple[str, Path]:
    """``(release, folder)``: the first searched folder holding a complete release.

    Each directory of `juanji.data.cache.search_dirs` is tried, and in it the release's own
    folder (``cifar-10-batches-bin``, ...); binary before python. Raises FileNotFoundError
    listing what was looked at and how to get the files.
    """
    layout = _layout(name)
    report = []
    for base, origin in cache.search_dirs(name, data_dir):
        for release in ("binary", "python"):
            for folder in (base / layout[release]["folder"], base):
                if not folder.is_dir():
                    continue
                missing = [f for f in _needed(layout[release]) if not (folder / f).is_file()]
                if not missing:
                    return release, folder
                report.append(f"  {folder}  ({origin}, {release} release): missing "
                              f"{', '.join(missing)}")
        if not base.is_dir():
            report.append(f"  {base}  ({origin}): no such directory")
    title = "CIFAR-10" if name == "cifar10" else "CIFAR-100"
    how = ("run `juanji data download cifar10` (or pass --download to `juanji train`)"
           if name == "cifar10" else
           "download cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
           "and unpack it there")
    raise FileNotFoundError(
        f"{title} (`name`={name!r}) not found. Looked in:\n" + "\n".join(report) + "\n"
        f"To fix: {how}, or pass `--data-dir DIR` (data_dir=DIR) naming the folder that holds "
        f"the files of the binary release ({', '.join(_needed(layout['binary']))}) or of the "
        f"python release ({', '.join(_needed(layout['python']))}).")


def load_cifar(name: str = "cifar10", data_dir=None, *,
               labels: str | None = None) -> tuple[Dataset, Dataset]:
    """Load CIFAR-10 or CIFAR-100 as ``(train, test)`` Datasets.

    Args:
        name: ``"cifar10"`` or ``"cifar100"``.
        data_dir: where the files are (see `find_cifar_files`); None searches the usual places.
        labels: CIFAR-100 only: ``"fine"`` (100 classes, the default) or ``"coarse"`` (20).
    Returns:
        Datasets with ``x`` uint8 ``(N, 32, 32, 3)``, ``y`` int64, class names from the meta file.
    """
    layout = _layout(name)
    mode = DEFAULT_LABELS[name] if labels is None else labels
    if mode not in layout["label_keys"]:
        raise ValueError(f"`labels` must be one of {sorted(layout['label_keys'])} for {name!r}, "
                         f"got {labels!r}")
    release, folder = find_cifar_files(name, data_dir)
    k = len(layout["classes"][mode])
    spec = layout[release]
    if release == "binary":
        def read(f):
            return read_cifar_binary(folder / f, label_bytes=layout["label_bytes"],
                                     label_index=layout["label_index"][mode], num_classes=k)
        meta = folder / spec["meta"][mode]
        names = read_label_names_txt(meta, k) if meta.is_file() else layout["classes"][mode]
    elif release == "python":
        def read(f):
            return read_cifar_python_batch(folder / f, label_key=layout["label_keys"][mode],
                                           num_classes=k)
        meta = folder / spec["meta"]
        names = (read_python_meta(meta, layout["meta_keys"][mode], k) if meta.is_file()
                 else layout["classes"][mode])
    else:
        raise ValueError(f"unknown CIFAR release {release!r}")
    split = {}
    for part in ("train", "test"):
        pieces = [read(f) for f in spec[part]]
        x = np.concatenate([p[0] for p in pieces]) if len(pieces) > 1 else pieces[0][0]
        y = np.concatenate([p[1] for p in pieces]) if len(pieces) > 1 else pieces[0][1]
        split[part] = Dataset(x, y, names, f"{name}/{part}")
    return split["train"], split["test"]


def _layout(name: str) -> dict:
    if name not in LAYOUT:
        raise ValueError(f"`name` must be one of {sorted(LAYOUT)}, got {name!r}")
    return LAYOUT[name]


def _needed(spec: dict) -> list[str]:
    """The data files a release must have (meta files are optional)."""
    return [*spec["train"], *spec["test"]]
