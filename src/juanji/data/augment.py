"""Training-batch augmentation, vectorised: random crop with zero padding, horizontal flip, shifts.

All three are one gather. For a batch ``x`` (B, H, W, C) padded by ``p`` zeros on each side,
image ``b`` gets a crop offset ``(oy[b], ox[b])`` in ``[0, 2p]`` and a flip bit ``f[b]``::

    out[b, i, j] = padded[b, oy[b] + i, ox[b] + (W - 1 - j if f[b] else j)]

so a crop of the original size from the padded image is the same as shifting the image by
``(p - oy, p - ox)`` pixels with zeros coming in: a "small shift" of at most ``s`` pixels is a
random crop with padding ``s`` (`random_shift`). No Python loop runs over the images.

This works on the uint8 images *before* normalisation, as torchvision's ``RandomCrop(32,
padding=4)`` + ``RandomHorizontalFlip()`` do on PIL images: the padding is black (0) pixels.

Determinism: `juanji.data.BatchIterator` calls ``augment(x, rng)`` with one Generator per epoch,
``numpy.random.default_rng([seed, epoch, AUGMENT_STREAM])``, so the augmented batches of epoch e
depend on ``(seed, e)`` alone and a resumed run sees exactly the images of an uninterrupted one.

>>> x = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1)   # (B, H, W, C)
>>> out = Augment(crop_padding=1)(x, np.random.default_rng(0))
>>> out.shape, out.dtype
((2, 4, 4, 1), dtype('uint8'))
"""

from __future__ import annotations


import numpy as np

from juanji.validation import check_bool, check_int

AUGMENT_STREAM = 1  # third word of the per-epoch seed: keeps augmentation apart from the order


def crop_and_flip(x: np.ndarray, oy: np.ndarray, ox: np.ndarray, flip: np.ndarray,
                  padding: int) -> np.ndarray:
    """The deterministic core: crop each zero-padded image at ``(oy, ox)``, mirror where ``flip``.

    Args:
        x: ``(B, H, W, C)`` images of any dtype.
        oy, ox: int ``(B,)`` offsets in ``[0, 2 * padding]``; ``(padding, padding)`` is no shift.
        flip: bool ``(B,)``; True mirrors the image left-right.
        padding: zeros added on every side before cropping.
    Returns:
        a new ``(B, H, W, C)`` array of x's dtype.
    """
    b, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))  # (B,H+2p,W+2p,C)
    cols = np.where(flip[:, None], np.arange(w - 1, -1, -1), np.arange(w))  # (B, W)
    rows = oy[:, None] + np.arange(h)  # (B, H)
    cols = ox[:, None] + cols  # (B, W)
    return padded[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]  # (B,H,W,C)


def random_crop(x: np.ndarray, padding: int, rng: np.random.Generator) -> np.ndarray:
    """Pad by ``padding`` zeros and crop back to the original size at a random offset per image."""
    n = len(x)
    oy, ox = rng.integers(0, 2 * padding + 1, size=(2, n))  # (2, B)
    return crop_and_flip(x, oy, ox, np.zeros(n, dtype=bool), padding)


def random_shift(x: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift each image by up to ``max_shift`` pixels in each direction, zeros coming in."""
    return random_crop(x, max_shift, rng)


def random_flip(x: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability ``p``."""
    n = len(x)
    return crop_and_flip(x, np.zeros(n, int), np.zeros(n, int), rng.random(n) < p, 0)


class Augment:
    """``augment(x, rng)``: random crop (zero padding ``crop_padding``) and horizontal flip.

    Args:
        crop_padding: int >= 0; 0 disables the crop/shift. 4 on 32x32 is the CIFAR recipe.
        flip: mirror half of the images left-right (off for digits, whose mirror is no digit).
    """

    def __init__(self, crop_padding: int = 4, flip: bool = True):
        check_int(crop_padding, "crop_padding", minimum=0)
        check_bool(flip, "flip")
        self.crop_padding = int(crop_padding)
        self.flip = flip

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != 4:
            raise TypeError(f"`x` must be a numpy.ndarray (B, H, W, C), got "
                            f"{getattr(x, 'shape', type(x).__name__)}")
        n, p = len(x), self.crop_padding
        oy, ox = rng.integers(0, 2 * p + 1, size=(2, n))  # (2, B); p, p = unshifted
        flip = rng.random(n) < 0.5 if self.flip else np.zeros(n, dtype=bool)  # (B,)
        return crop_and_flip(x, oy, ox, flip, p)

    def to_dict(self) -> dict:
        """JSON-able settings (stored with a run's metrics)."""
        return {"crop_padding": self.crop_padding, "flip": self.flip}

    def __repr__(self) -> str:
        return f"Augment(crop_padding={self.crop_padding}, flip={self.flip})"


def recipe_augment(dataset: str, input_shape) -> Augment:
    """The augmentation ``juanji train --augment`` uses: crop padding H/8 (4 for 32x32 CIFAR),
    flips except for digits.

    >>> recipe_augment("cifar10", (32, 32, 3))
    Augment(crop_padding=4, flip=True)
    >>> recipe_augment("mnist", (28, 28, 1))
    Augment(crop_padding=4, flip=False)
    """
    from juanji.data.registry import DATASETS  # each entry says whether mirroring keeps labels

    h = int(input_shape[0])
    flip = DATASETS[dataset].flip if dataset in DATASETS else True  # an image folder flips
    return Augment(crop_padding=max(1, round(h / 8)), flip=flip)
