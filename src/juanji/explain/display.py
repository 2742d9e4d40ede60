"""Display helpers shared by the explainers (terminal, plots and the HTML page): one owner for
how a number is written, which colours a value gets and how a layer is named.

The page's JavaScript (``page/page.js``) carries ports of :func:`fmt` and :func:`diverging_rgb`;
a browser test checks them against these functions value by value.

>>> [fmt(v) for v in (0.0, 0.5, -0.00331, 12.345, -7.78e-4, 123456.0)]
['0', '0.5', '-3.3e-3', '12.3', '-7.8e-4', '1.2e5']
>>> diverging_rgb(-1.0, 2.0)
(144, 179, 214)
"""

from __future__ import annotations

import math

__all__ = ["SIG_DIGITS", "DIVERGING", "fmt", "diverging_rgb", "layer_label",
           "shape_text"]

SIG_DIGITS = 3  # significant digits of a number in a cell: at most 7 characters ('-0.0123')
# the diverging scale: blue for negative, white for 0, red for positive, saturated at abs(v) = m
DIVERGING = ((33, 102, 172), (255, 255, 255), (178, 24, 43))


def fmt(v: float) -> str:
    """A number in at most 7 characters (8 for exponents below -9): ``SIG_DIGITS`` significant
    digits for 0.01 <= ``abs(v)`` < 1000 (trailing zeros dropped), else a 2-digit mantissa and a bare
    exponent (``-7.8e-4``, ``1.2e5``)."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    r = float(f"{v:.{SIG_DIGITS}g}")  # rounded first: 999.7 is written as 1e3
    if 1e-2 <= abs(r) < 1e3:
        return f"{r:.{SIG_DIGITS}g}"
    mantissa, exponent = f"{v:.1e}".split("e")  # ('-7.8', '-04')
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    return f"{mantissa}e{int(exponent)}"


def diverging_rgb(v: float, m: float) -> tuple[int, int, int]:
    """The colour of ``v`` on the diverging scale saturated at ``abs(v) = m`` (white for 0, for a
    non-finite value and when ``m`` is 0): each channel ``255 + (end - 255) * abs(t)``,
    ``t = v / m``."""
    t = max(-1.0, min(1.0, v / m)) if m > 0 and math.isfinite(v) else 0.0
    end = DIVERGING[0] if t < 0 else DIVERGING[2]
    return tuple(int(math.floor(255 + (e - 255) * abs(t) + 0.5)) for e in end)


def shape_text(shape) -> str:
    """``(8, 8, 4)`` -> ``'8×8×4'``."""
    return "\u00d7".join(str(int(s)) for s in shape)


def layer_label(index: int, layer) -> str:
    """A layer as every explainer names it: ``'3: Conv2D 4×4×6'`` (index, the type as
    ``juanji summary`` prints it, the output shape)."""
    return f"{index}: {type(layer).__name__} {shape_text(layer.out_shape)}"
