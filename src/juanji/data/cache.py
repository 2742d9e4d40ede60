"""Where data sets live on disk: the per-user data directory and the search order of every reader.

One rule for every data set juanji reads from disk (MNIST, Fashion-MNIST, CIFAR, SIGNS, ...):

1. ``$JUANJI_DATA_DIR/<name>`` when the variable is set,
2. the per-user cache ``$XDG_CACHE_HOME/juanji/<name>`` (``~/.cache/juanji/<name>`` when the
   variable is unset or, as the XDG spec says, relative),
3. system directories given by the reader (e.g. Debian's ``/usr/share/datasets/fashion-mnist``).

``juanji data download`` writes into the first of these (`download_dir`), so whatever it fetched
is found again without any option. With an explicit ``data_dir`` (``--data-dir``) only that
directory and ``data_dir/<name>`` are searched, and downloads go to ``data_dir/<name>``.

>>> [str(p) for p, _ in search_dirs("cifar10", "/data")]
['/data', '/data/cifar10']
>>> str(download_dir("cifar10", "/data"))
'/data/cifar10'
"""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_root() -> Path:
    """``$XDG_CACHE_HOME/juanji``, or ``~/.cache/juanji`` (a relative XDG value is ignored)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    cache = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return cache / "juanji"


def search_dirs(name: str, data_dir=None, system=()) -> list[tuple[Path, str]]:
    """The directories searched for data set ``name``, in order, each with where it came from.

    Args:
        name: the data set's directory name, e.g. ``"mnist"`` or ``"cifar10"``.
        data_dir: an explicit directory (``--data-dir``): then only ``data_dir`` and
            ``data_dir/<name>`` are searched, so it may name the files' folder or its parent.
        system: extra directories searched last (Path-likes).
    """
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"`name` must be a data set name without slashes, got {name!r}")
    if data_dir is not None:
        root = Path(data_dir)
        return [(root, "`data_dir`"), (root / name, "`data_dir`/<name>")]
    found = []
    env = os.environ.get("JUANJI_DATA_DIR")
    if env:
        found.append((Path(env) / name, "$JUANJI_DATA_DIR/<name>"))
    found.append((user_cache_root() / name, "per-user cache"))
    found.extend((Path(p), "system") for p in system)
    return found


def download_dir(name: str, data_dir=None) -> Path:
    """Where ``juanji data download`` puts ``name``: the first writable place of `search_dirs`.

    ``data_dir/<name>`` with an explicit directory, else ``$JUANJI_DATA_DIR/<name>`` when set,
    else the per-user cache.
    """
    if data_dir is not None:
        return Path(data_dir) / name
    return search_dirs(name)[0][0]
