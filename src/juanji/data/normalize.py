"""`Normalizer`: uint8 pixels -> standardised float32, with statistics fitted once on training data.

Per channel c::

    x_float = (x_uint8 / 255 - mean[c]) / std[c]

where ``mean`` and ``std`` are the mean and (population) standard deviation of ``x_uint8 / 255``
over every training pixel of channel c. Why this choice:

- dividing by 255 puts every data set on the same [0, 1] scale whatever its source;
- standardising centres the inputs and gives them unit variance, which is what He/Glorot
  initialisation assumes, so the first layers start neither saturated nor silent;
- the statistics come from the training split only and are frozen: test images are normalised
  with the training numbers (fitting on test data would leak it into the model), and the
  normaliser is saved in the checkpoint (`to_dict`) so a reloaded model sees the same inputs.

`Normalizer.fit` counts the 256 byte values per channel (``np.bincount``) and takes the moments
from that histogram: exact, and no float copy of the data set is ever made.
"""

from __future__ import annotations

import math

import numpy as np

_FIT_CHUNK = 1 << 18  # pixel values per bincount call in `Normalizer.fit` (2 MB of intp)

class Normalizer:
    """Map uint8 images ``(..., C)`` to float32 ``(x / 255 - mean) / std`` per channel.

    >>> x = np.array([0, 255, 0, 255], np.uint8).reshape(1, 2, 2, 1)   # (N, H, W, C)
    >>> norm = Normalizer.fit(x)
    >>> norm.mean, norm.std
    ((0.5,), (0.5,))
    >>> y = norm(x)
    >>> y.shape, y.dtype, y.ravel().tolist()
    ((1, 2, 2, 1), dtype('float32'), [-1.0, 1.0, -1.0, 1.0])
    >>> Normalizer.from_dict(norm.to_dict()).mean
    (0.5,)
    """

    def __init__(self, mean, std):
        mean, std = _floats(mean, "mean"), _floats(std, "std")
        if len(mean) != len(std):
            raise ValueError(f"`mean` and `std` need one value per channel each, got "
                             f"{len(mean)} and {len(std)}")
        if not all(s > 0 for s in std):
            raise ValueError(f"`std` must be > 0 in every channel, got {std}")
        self.mean, self.std = mean, std
        # (x / 255 - m) / s  ==  x * scale + shift, one multiply-add per pixel in float32.
        with np.errstate(over="ignore", invalid="ignore"):
            self._scale = (1.0 / (255.0 * np.array(std))).astype(np.float32)  # (C,)
            self._shift = (-np.array(mean) / np.array(std)).astype(np.float32)  # (C,)
            top = self._scale * np.float32(255) + self._shift  # (C,) where pixel 255 lands
        if not (np.isfinite(self._shift).all() and np.isfinite(top).all()):
            # Training would only report a NaN loss later; the cause is here, not the lr.
            raise ValueError(
                f"`std` must be large enough that (x / 255 - mean) / std is finite in float32 "
                f"in every channel, got std {std} with mean {mean}; a channel with no variance "
                f"(one value everywhere) takes std 1, as Normalizer.fit does")

    @classmethod
    def fit(cls, data) -> Normalizer:
        """Per-channel mean and std of ``x / 255`` over all pixels of a Dataset or uint8 array.

        A channel with a single value everywhere (std 0) gets std 1: it is only centred.
        """
        x = getattr(data, "x", data)
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim < 2 or x.size == 0:
            raise TypeError(
                "`data` must be a Dataset or a non-empty uint8 array (N, H, W, C), got "
                f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}"
            )
        n_channels = x.shape[-1]
        counts = np.zeros((n_channels, 256), dtype=np.int64)  # (C, 256) histogram per channel
        # bincount casts its input to intp (8 bytes a value), so feed it bounded chunks of
        # images rather than the whole set: memory stays O(_FIT_CHUNK) whatever N is.
        per_chunk = max(1, _FIT_CHUNK // (x[0].size or 1))
        for start in range(0, len(x), per_chunk):  # a loop over chunks of images
            block = x[start:start + per_chunk].reshape(-1, n_channels)  # (k*H*W, C)
            for c in range(n_channels):  # 1 or 3 channels
                counts[c] += np.bincount(block[:, c], minlength=256)  # (256,)
        values = np.arange(256) / 255.0  # (256,) each byte value on the [0, 1] scale
        means, stds = [], []
        for c in range(n_channels):
            p = counts[c] / counts[c].sum()  # (256,) the value distribution of channel c
            m = float(p @ values)  # () mean
            s = math.sqrt(float(p @ (values - m) ** 2))  # () population std
            means.append(m)
            stds.append(s if s > 0 else 1.0)
        return cls(means, stds)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """uint8 ``(..., C)`` -> float32 ``(..., C)``, a new array."""
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
            raise TypeError(f"`x` must be a uint8 numpy.ndarray, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        if x.ndim < 1 or x.shape[-1] != len(self.mean):
            raise ValueError(f"`x` must end in {len(self.mean)} channel(s) (..., C), "
                             f"got shape {x.shape}")
        out = x.astype(np.float32)  # (..., C)
        out *= self._scale
        out += self._shift
        return out

    @property
    def num_channels(self) -> int:
        return len(self.mean)

    def to_dict(self) -> dict:
        """JSON-able form for checkpoints: ``{"mean": [...], "std": [...]}``."""
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        if not isinstance(d, dict) or set(d) != {"mean", "std"}:
            raise ValueError(f"`d` must be a dict with exactly the keys 'mean' and 'std' "
                             f"(from Normalizer.to_dict), got {d!r}")
        return cls(d["mean"], d["std"])

    def __eq__(self, other) -> bool:
        if not isinstance(other, Normalizer):
            return NotImplemented
        return self.mean == other.mean and self.std == other.std

    def __repr__(self) -> str:
        mean = ", ".join(f"{m:.4f}" for m in self.mean)
        std = ", ".join(f"{s:.4f}" for s in self.std)
        return f"Normalizer(mean=({mean}), std=({std}))"


def _floats(values, name: str) -> tuple[float, ...]:
    """A non-empty 1-D sequence of finite numbers (or one number) -> tuple of Python floats."""
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=np.float64))  # (C,)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number or a sequence of numbers, "
                        f"got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"`{name}` must be a non-empty 1-D sequence of finite numbers, "
                         f"got {values!r}")
    return tuple(float(v) for v in arr)


class InputsAsGiven(Normalizer):
    """The "normaliser" of inputs that are already normalised (`NormalizedDataset`): float
    ``(..., C)`` passes through unchanged (a copy in the same dtype); uint8 is refused.

    >>> InputsAsGiven(1)(np.full((1, 2, 2, 1), 0.25, np.float32)).ravel().tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    def __init__(self, num_channels: int):
        super().__init__([0.0] * int(num_channels), [1.0] * int(num_channels))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.dtype.type not in (np.float32, np.float64):
            raise TypeError(f"`x` must be a float32 or float64 numpy.ndarray of normalised "
                            f"inputs, got {getattr(x, 'dtype', type(x).__name__)}")
        if x.ndim < 1 or x.shape[-1] != self.num_channels:
            raise ValueError(f"`x` must end in {self.num_channels} channel(s) (..., C), "
                             f"got shape {x.shape}")
        return x.copy()

    def to_dict(self) -> dict:
        raise TypeError("inputs given already normalised have no normaliser to store")

    def __eq__(self, other) -> bool:
        return isinstance(other, InputsAsGiven) and other.num_channels == self.num_channels

    def __repr__(self) -> str:
        return f"InputsAsGiven({self.num_channels})"
