"""`BatchIterator`: seeded, resumable mini-batches of normalised float32 images.

One epoch = one pass over a permutation of ``range(N)``. Batch ``b`` takes the indices
``order[b*B : (b+1)*B]`` and converts only those images, so the data set is never copied or
converted as a whole (a uint8 -> float32 copy of MNIST's training set alone would be 188 MB).

Reproducibility and resuming: the order of epoch ``e`` is a pure function of ``(seed, e)``::

    order(e) = numpy.random.default_rng([seed, e]).permutation(N)     (shuffle=True)
    order(e) = arange(N)                                               (shuffle=False)

so it does not depend on how many epochs ran before in this process. Each ``iter()`` runs the
epoch numbered `BatchIterator.epoch` and advances the counter by one; a checkpoint stores
``state_dict()`` = ``{"seed", "epoch"}`` and a resumed run that loads it reproduces exactly the
epochs the original run would have had next.

Augmentation (optional, ``augment=``): a callable ``augment(x_uint8, rng) -> x_uint8`` applied to
each batch before normalisation (see `juanji.data.augment`), given one Generator per epoch,
``default_rng([seed, epoch, AUGMENT_STREAM])``, so it too depends on ``(seed, epoch)`` alone.
"""

from __future__ import annotations


import numpy as np

from juanji.validation import check_int

from juanji.data.augment import AUGMENT_STREAM
from juanji.data.dataset import Dataset, NormalizedDataset
from juanji.data.normalize import Normalizer


class BatchIterator:
    """Iterate ``(x, y)`` batches: x float32 ``(B, H, W, C)`` normalised, y int64 ``(B,)``.

    Args:
        data: a `Dataset`, or a pair ``(x, y)`` of uint8 ``(N, H, W, C)`` and integer ``(N,)``.
        batch_size: B >= 1; the last batch is smaller unless ``drop_last``.
        shuffle: a fresh seeded permutation every epoch (True) or the stored order (False).
        seed: non-negative int; with the epoch number it fixes each epoch's order.
        drop_last: skip the final incomplete batch (keeps every batch the same size).
        normalizer: the `Normalizer` to apply. None fits one on ``data``, which is right for
            the training split only; for validation/test data pass the training iterator's
            ``.normalizer`` so that the statistics come from the training split alone.
        augment: None, or ``augment(x, rng)`` mapping a uint8 batch ``(B, H, W, C)`` to one of
            the same shape and dtype (e.g. `juanji.data.Augment`), for training batches only.

    >>> ds = Dataset(np.arange(5 * 4, dtype=np.uint8).reshape(5, 2, 2, 1), np.arange(5) % 2,
    ...              ("even", "odd"), "toy")
    >>> it = BatchIterator(ds, 2, seed=0)
    >>> len(it), [(xb.shape, xb.dtype, yb.dtype) for xb, yb in it][-1]
    (3, ((1, 2, 2, 1), dtype('float32'), dtype('int64')))
    >>> it.epoch   # one epoch has been run
    1
    >>> test_it = BatchIterator(ds, 4, shuffle=False, normalizer=it.normalizer)
    >>> [yb.tolist() for _, yb in test_it]
    [[0, 1, 0, 1], [0]]
    """

    def __init__(self, data, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False, normalizer: Normalizer | None = None, augment=None):
        self.x, self.y = _arrays(data)
        check_int(batch_size, "batch_size")
        check_int(seed, "seed", minimum=0)
        if drop_last and batch_size > len(self.y):
            raise ValueError(f"`batch_size` (={batch_size}) exceeds the {len(self.y)} examples "
                             f"and drop_last=True, so no batch would ever be produced")
        if normalizer is None:
            normalizer = Normalizer.fit(self.x)
        elif not isinstance(normalizer, Normalizer):
            raise TypeError(f"`normalizer` must be a Normalizer or None, "
                            f"got {type(normalizer).__name__}")
        if normalizer.num_channels != self.x.shape[-1]:
            raise ValueError(f"`normalizer` has {normalizer.num_channels} channel(s) but the "
                             f"images have {self.x.shape[-1]}")
        if augment is not None and not callable(augment):
            raise TypeError(f"`augment` must be None or a callable augment(x, rng), "
                            f"got {type(augment).__name__}")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.normalizer = normalizer
        self.augment = augment
        self.epoch = 0  # the epoch the next iter() runs

    @property
    def num_examples(self) -> int:
        """N, the number of examples (with drop_last, the last N % B are skipped each epoch)."""
        return len(self.y)

    def __len__(self) -> int:
        """Batches per epoch: ceil(N / B), or floor(N / B) with drop_last."""
        n, b = len(self.y), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self, epoch: int) -> np.ndarray:
        """The example order of epoch ``epoch``, int64 ``(N,)``; depends on (seed, epoch) only."""
        check_int(epoch, "epoch", minimum=0)
        if not self.shuffle:
            return np.arange(len(self.y))
        return np.random.default_rng([self.seed, int(epoch)]).permutation(len(self.y))  # (N,)

    def __iter__(self):
        """Run epoch `self.epoch` and advance the counter (at once, so a break still counts)."""
        order = self.order(self.epoch)
        rng = (None if self.augment is None
               else np.random.default_rng([self.seed, self.epoch, AUGMENT_STREAM]))
        self.epoch += 1
        return self._batches(order, rng)

    def _batches(self, order: np.ndarray, rng):
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]  # (B,)
            if not self.shuffle:  # consecutive indices: a slice is a view, not a copy
                idx = slice(int(idx[0]), int(idx[-1]) + 1)
            xb = self.x[idx]  # (B, H, W, C) uint8
            if rng is not None:
                xb = self.augment(xb, rng)
                if not isinstance(xb, np.ndarray) or xb.dtype != np.uint8 \
                        or xb.shape[1:] != self.x.shape[1:]:
                    raise TypeError(f"`augment` must return uint8 (B, *{self.x.shape[1:]}), "
                                    f"got {getattr(xb, 'dtype', type(xb).__name__)} "
                                    f"{getattr(xb, 'shape', '')}")
            yield self.normalizer(xb), self.y[idx].astype(np.int64)  # (B,H,W,C), (B,)

    def state_dict(self) -> dict:
        """JSON-able ``{"seed": int, "epoch": int}``: all a resumed run needs to continue."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or set(state) != {"seed", "epoch"}:
            raise ValueError(f"`state` must be a dict with the keys 'seed' and 'epoch' "
                             f"(from BatchIterator.state_dict), got {state!r}")
        for key in ("seed", "epoch"):
            v = state[key]
            check_int(state[key], f"state[{key!r}]", minimum=0)
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])


def _arrays(data) -> tuple[np.ndarray, np.ndarray]:
    """A Dataset or a pair (x, y) -> validated (uint8 (N, H, W, C), integer (N,))."""
    if isinstance(data, Dataset):
        x, y = data.x, data.y
    elif not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"`data` must be a Dataset or a pair (x, y) of arrays, "
                        f"got {type(data).__name__}")
    else:
        x, y = data
    if isinstance(data, NormalizedDataset):
        pass  # float inputs, checked by NormalizedDataset itself
    elif not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4:
        raise TypeError(f"`data` x must be a uint8 numpy.ndarray (N, H, W, C), got "
                        f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}")
    if not isinstance(y, np.ndarray) or y.ndim != 1 or y.dtype.kind not in "iu":
        raise TypeError(f"`data` y must be a 1-D integer numpy.ndarray (N,), got "
                        f"{getattr(y, 'dtype', type(y).__name__)} {getattr(y, 'shape', '')}")
    if len(x) != len(y):
        raise ValueError(f"`data` x has {len(x)} images but y has {len(y)} labels")
    if len(y) == 0:
        raise ValueError("`data` is empty: there is nothing to iterate over")
    return x, y
