"""Draw the README's example image: a black 7 on a white 200x200 PNG, as a drawing program
would give it (the digit data sets are the other way round, light on dark).

    python scripts/make_seven.py                  # writes examples/seven.png
    python scripts/make_seven.py --out my7.png
    juanji predict runs/digits-digits/best.npz examples/seven.png

Needs Pillow (the `cli` extra). The drawing is fixed (no randomness), so the file is the same
on every run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]


def draw_seven(size: int = 200) -> Image.Image:
    """A greyscale ``size`` x ``size`` image: white paper, a black 7 with a round-ended stroke."""
    img = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(img)
    s = size / 200  # the strokes below are laid out on a 200-pixel canvas
    stroke = round(22 * s)
    top = [(45 * s, 40 * s), (155 * s, 40 * s)]  # the bar
    stem = [(155 * s, 40 * s), (85 * s, 168 * s)]  # the diagonal
    for a, b in (top, stem):
        draw.line([a, b], fill=0, width=stroke)
        for x, y in (a, b):  # round ends and joint
            draw.ellipse([x - stroke / 2, y - stroke / 2, x + stroke / 2, y + stroke / 2], fill=0)
    return img


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "seven.png",
                        help="where to write the PNG (default examples/seven.png)")
    parser.add_argument("--size", type=int, default=200, help="width and height in pixels")
    args = parser.parse_args(argv)
    if args.size < 8:
        parser.error(f"--size must be >= 8, got {args.size}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    draw_seven(args.size).save(args.out, optimize=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
