"""Screenshots of the explainer page for docs/ (docs/page-*.png), at 1400x900 and 800 px wide.

    python scripts/page_screenshots.py runs/digits-digits/best.npz --out docs/

Writes the page for the checkpoint (its first test images), opens it in Debian's chromium and
saves: the forward view of a conv neuron with its located window (page-forward-1400.png,
page-forward-800.png), a drawn digit with the backward chain at the conv dX step
(page-backward-1400.png, page-backward-800.png). Needs playwright and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from juanji.explain.page import write_page

CHROMIUM = "/usr/bin/chromium"
SEVEN = [(0.22, 0.2), (0.78, 0.2), (0.45, 0.85)]


def draw(pg, points):
    box = pg.locator("#draw-canvas").bounding_box()

    def at(fx, fy):
        return {"clientX": box["x"] + fx * box["width"], "clientY": box["y"] + fy * box["height"],
                "pointerId": 1, "pointerType": "pen", "isPrimary": True, "bubbles": True}

    pg.dispatch_event("#draw-canvas", "pointerdown", at(*points[0]))
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        for n in range(1, 11):
            t = n / 10
            pg.dispatch_event("#draw-canvas", "pointermove", at(x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
    pg.dispatch_event("#draw-canvas", "pointerup", at(*points[-1]))


def first_conv_map(pg) -> int:
    """The activation index k of the first conv layer's output (its column in the network)."""
    return pg.evaluate("juanji.model.layers.findIndex(l => l.kind === 'Conv2D')") + 1


def shoot(page: Path, out: Path, width: int) -> list[Path]:
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": width, "height": 900})
        pg.goto(page.as_uri())
        k = first_conv_map(pg)
        pg.click(f'#network .map[data-k="{k}"][data-c="1"]')
        mid = pg.evaluate(f"juanji.model.layers[{k - 1}].out_shape[0]") // 2
        pg.click(f'#detail [data-role="neuron"][data-i="{mid}"][data-j="{mid - 1}"]')
        written.append(out / f"page-forward-{width}.png")
        pg.screenshot(path=str(written[-1]), full_page=True)

        draw(pg, SEVEN)
        if pg.get_attribute("#polarity-note", "data-auto") != "true" and \
                "stores no polarity" in pg.inner_text("#polarity-note"):
            pg.check("#invert")  # a dark-on-light drawing for a model trained light on dark
        pg.click('#modes [data-mode="backward"]')
        pg.click(f'#chain [data-step="{k - 1}"]')  # dL/da at the conv's input: conv dX
        written.append(out / f"page-backward-{width}.png")
        pg.screenshot(path=str(written[-1]), full_page=True)
        browser.close()
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        page = write_page(args.checkpoint, [], Path(tmp), num_examples=4)
        print(f"page: {page.stat().st_size / 1e6:.2f} MB")
        for width in (1400, 800):
            for path in shoot(page, args.out, width):
                print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
