"""Polarity: whether a data set's images are light shapes on a dark ground or dark on light.

The digit and clothing data sets are light on dark (ink is 255, paper 0) while a drawing made in
any paint program is dark on light; fed as it is, a black 7 on white paper is classified as
whatever the model thinks an inverted 7 is. `Polarity` measures this once on the training
images (it is stored in the checkpoint) and tells whether a new image is the other way round.

For an image with pixels ``x / 255`` averaged over channels::

    border   = mean of the outer ring, r = max(1, round(min(H, W) / 8)) pixels wide
    centre   = mean of the central half (rows H//4 .. H - H//4, the same for columns)
    contrast = centre - border                      in [-1, 1]

A data set is light on dark when the mean contrast over its images is at least
``MIN_CONTRAST`` and at least ``MIN_AGREEMENT`` of its images agree in sign (dark on light
alike, with the signs reversed); otherwise (photos: CIFAR, image folders) its polarity is
unknown and no image is ever inverted for it. An image whose own contrast has the opposite sign,
by at least ``MIN_CONTRAST``, is opposite to the data set.

>>> light_on_dark = np.zeros((4, 8, 8, 1), np.uint8); light_on_dark[:, 2:6, 3:5] = 255
>>> pol = Polarity.fit(light_on_dark)
>>> pol.kind, pol.border, pol.centre, pol.agreement
('light on dark', 0.0, 0.5, 1.0)
>>> pol.is_opposite(255 - light_on_dark[0]), pol.is_opposite(light_on_dark[0])
(True, False)
>>> Polarity.from_dict(pol.to_dict()) == pol
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Polarity", "border_and_centre"]

MIN_CONTRAST = 0.05  # |centre - border| below this (on the 0..1 scale): no clear polarity
MIN_AGREEMENT = 0.8  # share of training images that must agree with the data set's sign
LIGHT_ON_DARK, DARK_ON_LIGHT = "light on dark", "dark on light"
_CHUNK = 4096  # images per step of `Polarity.fit`: bounded memory on 60,000 images


def border_and_centre(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean border and centre brightness (0..1) of each uint8 image of ``x``.

    Args:
        x: uint8 ``(N, H, W, C)``, or one image ``(H, W, C)``.

    Returns:
        ``(border, centre)``, each float64 ``(N,)`` (or a 0-d array for one image).
    """
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim not in (3, 4) or 0 in x.shape:
        raise ValueError(f"`x` must be non-empty uint8 images (N, H, W, C) or (H, W, C), got "
                         f"{x.dtype} {x.shape}")
    one = x.ndim == 3
    x = x[None] if one else x  # (N, H, W, C)
    h, w = x.shape[1:3]
    r = max(1, round(min(h, w) / 8))
    inner = np.zeros((h, w), bool)
    inner[r:h - r, r:w - r] = True
    border_mask = ~inner  # (H, W) the outer ring
    centre = np.zeros((h, w), bool)
    centre[h // 4:h - h // 4, w // 4:w - w // 4] = True  # (H, W) the central half
    borders, centres = [], []
    for start in range(0, len(x), _CHUNK):
        grey = x[start:start + _CHUNK].mean(axis=-1) / 255.0  # (n, H, W) channels averaged
        borders.append(grey[:, border_mask].mean(axis=1))  # (n,)
        centres.append(grey[:, centre].mean(axis=1))  # (n,)
    border, centre_mean = np.concatenate(borders), np.concatenate(centres)  # (N,) each
    return (border[0], centre_mean[0]) if one else (border, centre_mean)


def _kind(contrast: float) -> str | None:
    if contrast >= MIN_CONTRAST:
        return LIGHT_ON_DARK
    if contrast <= -MIN_CONTRAST:
        return DARK_ON_LIGHT
    return None


@dataclass(frozen=True)
class Polarity:
    """The training images' mean ``border`` and ``centre`` brightness (0..1) and the share of
    them (``agreement``) whose contrast has the sign of ``centre - border``."""

    border: float
    centre: float
    agreement: float

    @classmethod
    def fit(cls, data) -> Polarity:
        """Measure a Dataset (its ``.x``) or uint8 images ``(N, H, W, C)``."""
        x = getattr(data, "x", data)
        border, centre = border_and_centre(x)
        if x.ndim == 3:
            raise ValueError(f"`data` must be a Dataset or images (N, H, W, C), got one image "
                             f"{x.shape}")
        sign = np.sign(centre.mean() - border.mean())
        agreement = float(np.mean(np.sign(centre - border) == sign)) if sign else 0.0
        return cls(round(float(border.mean()), 4), round(float(centre.mean()), 4),
                   round(agreement, 4))

    @property
    def kind(self) -> str | None:
        """``"light on dark"``, ``"dark on light"``, or None when the data set has no clear
        polarity (contrast below ``MIN_CONTRAST`` or agreement below ``MIN_AGREEMENT``)."""
        if self.agreement < MIN_AGREEMENT:
            return None
        return _kind(self.centre - self.border)

    @staticmethod
    def image_kind(image: np.ndarray) -> str | None:
        """The polarity of one uint8 image ``(H, W, C)`` (None when it has no clear one)."""
        border, centre = border_and_centre(image)
        return _kind(float(centre - border))

    def is_opposite(self, image: np.ndarray) -> bool:
        """Whether ``image`` (uint8 ``(H, W, C)``) clearly has the other polarity than the data
        set, which itself has a clear one: then ``255 - image`` is what the model expects."""
        mine, its = self.kind, self.image_kind(image)
        return mine is not None and its is not None and its != mine

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d) -> Polarity:
        """Inverse of `to_dict`; refuses anything but the three numbers in [0, 1]."""
        keys = ("border", "centre", "agreement")
        if not isinstance(d, dict) or set(d) != set(keys):
            raise ValueError(f"a polarity must be an object with exactly the keys {keys}, got "
                             f"{d!r:.80}")
        for key in keys:
            v = d[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise ValueError(f"polarity {key!r} must be a number in [0, 1], got {v!r}")
        return cls(*(float(d[k]) for k in keys))
