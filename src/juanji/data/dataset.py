"""`Dataset`: labelled images kept as they are stored, uint8 channels-last, plus their class names.

Images stay uint8 ``(N, H, W, C)`` (a quarter of float32's memory); conversion to normalised
float32 happens one batch at a time in `juanji.data.batches`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images and integer labels.

    Attributes:
        x: uint8 ``(N, H, W, C)``, values 0..255. Stored as a read-only view.
        y: int64 ``(N,)``, each in ``[0, num_classes)``. Stored as a read-only view.
        class_names: one name per class; ``y == k`` means ``class_names[k]``.
        name: e.g. ``"digits"`` or ``"fashion-mnist/train"``.

    >>> ds = Dataset(np.zeros((8, 8, 8, 1), np.uint8), np.arange(8) % 2, ("even", "odd"), "toy")
    >>> len(ds), ds.input_shape, ds.num_classes
    (8, (8, 8, 1), 2)
    >>> rest, held = ds.split(0.25, seed=0)   # one of the four of each class is held out
    >>> len(rest), len(held), sorted(held.y.tolist())
    (6, 2, [0, 1])
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    name: str

    def __post_init__(self):
        x, y = self.x, self.y
        self._check_x(x)
        if x.shape[1] in (1, 3) and min(x.shape[2], x.shape[3]) > 4:
            raise ValueError(
                f"`x` has shape {x.shape}, which looks channels-first (N, C, H, W) with "
                f"C={x.shape[1]}; Dataset takes (N, H, W, C): pass x.transpose(0, 2, 3, 1)"
            )
        if not isinstance(y, np.ndarray) or y.ndim != 1 or y.dtype.kind not in "iu":
            raise TypeError(f"`y` must be a 1-D integer numpy.ndarray (N,), got {_describe(y)}")
        if len(y) != len(x):
            raise ValueError(
                f"`y` must have one label per image: `x` has {len(x)} images, `y` has {len(y)}"
            )
        if not isinstance(self.name, str):
            raise TypeError(f"`name` must be a str, got {self.name!r}")
        names = self.class_names
        if (not isinstance(names, (tuple, list)) or len(names) == 0
                or not all(isinstance(n, str) for n in names)):
            raise TypeError(f"`class_names` must be a non-empty tuple of str, got {names!r}")
        if len(y) and (y.min() < 0 or y.max() >= len(names)):
            raise ValueError(
                f"`y` must lie in [0, {len(names)}) for {len(names)} class names, "
                f"got labels in [{y.min()}, {y.max()}]"
            )
        # Read-only views: a Dataset is shared between iterators, splits and the trainer, so an
        # accidental in-place edit (say, normalising x in place) must fail loudly, not spread.
        x, y = x.view(), y.astype(np.int64, copy=False).view()
        x.flags.writeable = False
        y.flags.writeable = False
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "class_names", tuple(names))

    @staticmethod
    def _check_x(x) -> None:
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4:
            raise TypeError(
                "`x` must be a uint8 numpy.ndarray of shape (N, H, W, C), got "
                f"{_describe(x)}"
            )

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, n={len(self)}, input_shape={self.input_shape}, "
                f"num_classes={self.num_classes})")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of one image: what `Layer.build` expects."""
        return tuple(int(d) for d in self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def subset(self, indices, name: str | None = None) -> Dataset:
        """The examples at the integer positions ``indices`` (in that order), as a new Dataset.

        >>> ds = Dataset(np.zeros((5, 2, 2, 1), np.uint8), np.arange(5), tuple("abcde"), "toy")
        >>> ds.subset([4, 0]).y.tolist()
        [4, 0]
        """
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"`indices` must be a 1-D sequence of ints, got {_describe(idx)}")
        idx = idx.astype(np.int64, copy=False)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise ValueError(
                f"`indices` must lie in [0, {len(self)}), got values in [{idx.min()}, {idx.max()}]"
            )
        return Dataset(self.x[idx], self.y[idx], self.class_names,
                       self.name if name is None else name)

    def split(self, fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Stratified, seeded split into ``(rest, held_out)``.

        Each class gives ``round(fraction * n_class)`` of its examples, picked by a permutation
        drawn from ``numpy.random.default_rng(seed)``, to ``held_out``; the rest stay. Both parts
        keep the original order, and the same ``(fraction, seed)`` always gives the same split.
        Typical use: ``train, val = train.split(0.1, seed=0)``.
        """
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
                or not 0.0 < fraction < 1.0:
            raise ValueError(f"`fraction` must be a number in (0, 1), got {fraction!r}")
        perm = np.random.default_rng(seed).permutation(len(self))  # (N,)
        by_class = perm[np.argsort(self.y[perm], kind="stable")]  # (N,) grouped by class
        counts = np.bincount(self.y, minlength=self.num_classes)  # (K,)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])  # (K,) first slot of each class
        take = np.floor(fraction * counts + 0.5).astype(np.int64)  # (K,) round half up
        rank = np.arange(len(self)) - np.repeat(starts, counts)  # (N,) position within class
        held = np.zeros(len(self), dtype=bool)
        held[by_class[rank < np.repeat(take, counts)]] = True
        if held.all() or not held.any():
            raise ValueError(
                f"`fraction` (={fraction}) leaves one side of the split empty for {len(self)} "
                f"examples; choose a fraction nearer 0.5 or use more data"
            )
        return (self.subset(np.flatnonzero(~held), f"{self.name}/rest"),
                self.subset(np.flatnonzero(held), f"{self.name}/held"))


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"array of dtype {a.dtype} and shape {a.shape}"
    return type(a).__name__


@dataclass(frozen=True, eq=False)
class NormalizedDataset(Dataset):
    """Model inputs already normalised, with labels: ``x`` float32 or float64 ``(N, H, W, C)``,
    finite, exactly what ``model.forward`` takes. Iterated with
    `juanji.data.normalize.InputsAsGiven` as the normaliser (the values pass unchanged).

    >>> ds = NormalizedDataset(np.zeros((4, 2, 2, 1), np.float32), np.arange(4) % 2, ("a", "b"), "f")
    >>> ds.input_shape, ds.x.dtype
    ((2, 2, 1), dtype('float32'))
    """

    @staticmethod
    def _check_x(x) -> None:
        if not isinstance(x, np.ndarray) or x.dtype.type not in (np.float32, np.float64) \
                or x.ndim != 4:
            raise TypeError(f"`x` must be a float32 or float64 numpy.ndarray of shape "
                            f"(N, H, W, C), got {_describe(x)}")
        if not np.isfinite(x).all():
            raise ValueError("`x` holds NaN or infinite values")
