"""The course's HDF5 data sets: SIGNS (hand signs 0-5) and Happy House (happy or not faces).

The convolutional-networks course ships each set as two HDF5 files, read here with h5py (the
optional extra ``pip install 'juanji[h5]'``)::

    train_signs.h5  train_set_x uint8 (1080, 64, 64, 3)  train_set_y (1080,)  list_classes (6,)
    test_signs.h5   test_set_x  uint8 (120, 64, 64, 3)   test_set_y  (120,)   list_classes (6,)
    train_happy.h5  train_set_x uint8 (600, 64, 64, 3)   train_set_y (600,)   list_classes (2,)
    test_happy.h5   test_set_x  uint8 (150, 64, 64, 3)   test_set_y  (150,)   list_classes (2,)

The images are already channels-last uint8, as juanji stores them; labels may also be stored as
``(1, N)`` or ``(N, 1)`` (the course reshapes them so), which is accepted. The files are course
material and are not downloaded: copy them from the course workspace into ``--data-dir`` or the
per-user data directory (see `juanji.data.cache`).

Only data stored inside the file is read. HDF5 can also make a dataset's bytes come from
elsewhere: external storage (``dataset.external``, raw bytes of any path: a SIGNS file pointing
at ``/etc/passwd`` or at a FIFO), virtual datasets (slices of other files), external links (a
key naming a dataset in another file) and soft links. Each is refused before any data is read,
the file itself is opened once, as a regular file, and handed to h5py as a file object, so no
other path is ever opened; every dataset's declared size is bounded by the file's size.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from juanji.data import cache
from juanji.data.dataset import Dataset

SIGNS_CLASSES = tuple("012345")  # the number of raised fingers
HAPPY_CLASSES = ("not happy", "happy")
COURSE_SETS = {
    "signs": {"files": {"train": "train_signs.h5", "test": "test_signs.h5"},
              "classes": SIGNS_CLASSES, "title": "SIGNS"},
    "happy": {"files": {"train": "train_happy.h5", "test": "test_happy.h5"},
              "classes": HAPPY_CLASSES, "title": "Happy House"},
}
INSTALL_H5 = "pip install 'juanji[h5]'"


class H5FormatError(ValueError):
    """An .h5 file lacks the course's keys or holds arrays of the wrong shape or type."""


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(f"reading the course's .h5 files needs h5py: {INSTALL_H5} "
                          f"(or `pip install h5py`)") from None
    return h5py


def read_course_h5(path, part: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, list_classes)`` from one course file; ``part`` is ``"train"`` or ``"test"``.

    x is uint8 ``(N, H, W, 3)``, y int64 ``(N,)``, list_classes the file's ``(K,)`` array.
    Raises H5FormatError naming the file and the key for a missing key or a wrong shape/type,
    ValueError for a file that is not HDF5 at all.
    """
    if part not in ("train", "test"):
        raise ValueError(f"`part` must be 'train' or 'test', got {part!r}")
    h5py = _h5py()
    path = Path(path)
    keys = (f"{part}_set_x", f"{part}_set_y", "list_classes")
    raw = _open_regular(path)
    with raw:
        try:
            f = h5py.File(raw, "r")  # h5py reads through this file object, no other path
        except OSError as err:
            raise H5FormatError(f"{path}: not a readable HDF5 file ({err})") from None
        try:
            with f:
                arrays = _read_arrays(f, path, keys, part, h5py)
        except (KeyError, RuntimeError, OSError, TypeError, ValueError) as err:
            if isinstance(err, H5FormatError):
                raise
            # h5py on damaged internals
            raise H5FormatError(f"{path}: damaged HDF5 file ({type(err).__name__}: "
                                f"{err})") from None
    x, y, classes = (np.asarray(arrays[k]) for k in keys)
    xk, yk = keys[0], keys[1]
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise H5FormatError(f"{path}: {xk!r} must be uint8 images (N, H, W, 3), got "
                            f"{x.dtype} {x.shape}")
    n = len(x)
    if y.dtype.kind not in "iu" or y.shape not in ((n,), (1, n), (n, 1)):
        raise H5FormatError(f"{path}: {yk!r} must hold one integer label per image, (N,), "
                            f"(1, N) or (N, 1) with N={n}, got {y.dtype} {y.shape}")
    if classes.ndim != 1 or classes.size == 0:
        raise H5FormatError(f"{path}: 'list_classes' must be a non-empty 1-D array, got "
                            f"shape {classes.shape}")
    return x, y.reshape(-1).astype(np.int64), classes  # (N,), from (N,), (1, N) or (N, 1)


def _open_regular(path: Path):
    """The file opened for reading, refusing anything but a regular file: opening a FIFO would
    wait forever for a writer (O_NONBLOCK returns at once; the type is checked on the open
    descriptor, so the path cannot be swapped between a check and the open)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # FileNotFoundError names the path
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            raise H5FormatError(f"{path}: not a regular file (a "
                                f"{'FIFO' if stat.S_ISFIFO(kind) else 'device or directory'}); "
                                f"the course's .h5 files are plain files")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# Element kinds a course file's arrays may have: numbers and fixed-length byte strings. Not
# variable-length data, references or compounds (their bytes live outside the declared size).
H5_KINDS = "biufS"


def _read_arrays(f, path: Path, keys: tuple, part: str, h5py) -> dict:
    """The three arrays of a course file, each checked to be data stored inside the file, of a
    plausible size, before it is read."""
    missing = [k for k in keys if not f.id.links.exists(k.encode())]  # follows no link
    if missing:
        raise H5FormatError(f"{path}: missing key(s) {missing}; a course {part} file holds "
                            f"{list(keys)}, this one holds {sorted(f.keys())}")
    size = path.stat().st_size
    limit = max(64 << 20, 100 * size)  # a damaged header may claim terabytes
    arrays = {}
    for k in keys:
        link = f.id.links.get_info(k.encode()).type
        if link != h5py.h5l.TYPE_HARD:  # resolving an external link opens another file
            what = {h5py.h5l.TYPE_SOFT: "a soft link", h5py.h5l.TYPE_EXTERNAL:
                    "an external link (to another file)"}.get(link, f"a link of type {link}")
            raise H5FormatError(f"{path}: {k!r} is {what}; only arrays stored in the file "
                                f"itself are read")
        d = f[k]
        if not isinstance(d, h5py.Dataset):
            raise H5FormatError(f"{path}: {k!r} is a group, expected an array")
        if d.external:
            raise H5FormatError(f"{path}: {k!r} keeps its data in external file(s) "
                                f"{[e[0] for e in d.external][:3]}; only arrays stored in "
                                f"the file itself are read")
        if d.is_virtual:
            raise H5FormatError(f"{path}: {k!r} is a virtual dataset (its data comes from "
                                f"other files); only arrays stored in the file itself are read")
        if d.dtype.kind not in H5_KINDS or d.dtype.fields is not None \
                or d.dtype.subdtype is not None:
            raise H5FormatError(f"{path}: {k!r} holds {d.dtype} elements; a course file holds "
                                f"arrays of numbers")
        nbytes = d.size * d.dtype.itemsize
        if nbytes > limit:
            raise H5FormatError(f"{path}: {k!r} claims shape {d.shape} ({nbytes} bytes), more "
                                f"than this {size}-byte file can hold")
        arrays[k] = d[()]
    return arrays


def find_course_files(name: str, data_dir=None) -> dict[str, Path]:
    """``{"train": path, "test": path}`` from the first searched directory holding both files."""
    spec = _spec(name)
    report = []
    for folder, origin in cache.search_dirs(name, data_dir):
        if not folder.is_dir():
            report.append(f"  {folder}  ({origin}): no such directory")
            continue
        paths = {part: folder / f for part, f in spec["files"].items()}
        missing = [p.name for p in paths.values() if not p.is_file()]
        if not missing:
            return paths
        report.append(f"  {folder}  ({origin}): missing {', '.join(missing)}")
    files = " and ".join(spec["files"].values())
    raise FileNotFoundError(
        f"{spec['title']} (`name`={name!r}) not found. Looked for {files} in:\n"
        + "\n".join(report) + "\n"
        f"To fix: these are the course's own files (not downloadable here); copy them from "
        f"the course workspace into one of the directories above, or pass `--data-dir DIR` "
        f"(data_dir=DIR) naming the folder that holds them.")


def load_course_h5(name: str, data_dir=None) -> tuple[Dataset, Dataset]:
    """Load ``"signs"`` or ``"happy"`` as ``(train, test)`` Datasets (uint8 ``(N, 64, 64, 3)``)."""
    spec = _spec(name)
    paths = find_course_files(name, data_dir)
    names = spec["classes"]
    out = {}
    for part, path in paths.items():
        x, y, classes = read_course_h5(path, part)
        if len(classes) != len(names):
            raise H5FormatError(f"{path}: 'list_classes' has {len(classes)} classes, "
                                f"{spec['title']} has {len(names)} ({', '.join(names)})")
        if y.size and (y.min() < 0 or y.max() >= len(names)):
            raise H5FormatError(f"{path}: labels in [{y.min()}, {y.max()}], outside "
                                f"[0, {len(names)})")
        out[part] = Dataset(x, y, names, f"{name}/{part}")
    if out["train"].input_shape != out["test"].input_shape:
        raise H5FormatError(f"{spec['title']}: train images are {out['train'].input_shape} but "
                            f"test images are {out['test'].input_shape}; they must match")
    return out["train"], out["test"]


def _spec(name: str) -> dict:
    if name not in COURSE_SETS:
        raise ValueError(f"`name` must be one of {sorted(COURSE_SETS)}, got {name!r}")
    return COURSE_SETS[name]
