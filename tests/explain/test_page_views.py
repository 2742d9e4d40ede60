"""The explainer page's views in a real browser: drawing and upload, the backward chain step by
step, the located and sliding window, and the layout at 1400 and 800 px.

A float64 model with a 7x7 and a 5x5 conv, max and average pooling, a dense layer and 16x16 grey
inputs is saved as a checkpoint and the page generated from it. Every number the page shows is
read from its ``data-*`` attributes and compared with juanji's float64 trace of the same input
(1e-9 relative); a drawing made with synthetic pointer events is classified by the page as
``juanji predict`` classifies the canvas exported as PNG. One browser for the module; no request
may leave the page.
"""

import base64
import json

import numpy as np
import pytest

from juanji.checkpoint import save_checkpoint
from juanji.cli import main
from juanji.data import Normalizer
from juanji.data.folder import read_model_image
from juanji.explain.page import write_page
from juanji.explain.trace import trace
from juanji.nn import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from tests.helpers import assert_close

F64 = np.float64
SHAPE = (16, 16, 1)


def views_model():
    layers = [Conv2D(3, 7, padding=3), ReLU(), MaxPool2D(2), Conv2D(6, 5, padding=2), ReLU(),
              AvgPool2D(2), Flatten(), Dense(10)]
    model = Sequential(layers, SHAPE, seed=2, dtype=np.float64)
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if "bias" in layer.params:
            layer.params["bias"].data[...] = rng.normal(size=layer.params["bias"].data.shape) * 0.2
    return model


def example_images():
    """Two 16x16 light-on-dark strokes (a bar and a ring) as raw uint8 (N, H, W, 1)."""
    x = np.zeros((2, 16, 16, 1), np.uint8)
    x[0, 3:13, 7:9] = 255
    yy, xx = np.mgrid[:16, :16]
    ring = np.abs(np.hypot(yy - 7.5, xx - 7.5) - 4.5) < 1.2
    x[1, ring] = 200
    return x


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("views")
    model = views_model()
    norm = Normalizer(mean=[0.2], std=[0.35])
    ck = save_checkpoint(root / "ck.npz", model, normalizer=norm,
                         class_names=[f"c{i}" for i in range(10)])
    paths = []
    for n, im in enumerate(example_images()):
        Image.fromarray(im[:, :, 0]).save(root / f"ex{n}.png")
        paths.append(root / f"ex{n}.png")
    page = write_page(ck, paths, root / "out")
    return {"root": root, "ck": ck, "page": page, "model": model, "norm": norm}


def open_page(browser, site, width=1400, height=900):
    ctx = browser.new_context(viewport={"width": width, "height": height})
    requests, errors = [], []
    ctx.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()))
    pg = ctx.new_page()
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(site["page"].as_uri())
    return ctx, pg, requests, errors


@pytest.fixture
def page(browser, site):
    ctx, pg, requests, errors = open_page(browser, site)
    yield pg
    ctx.close()
    assert errors == [], f"the page logged errors: {errors}"
    assert [u for u in requests if not u.startswith("file://")] == [], requests
    assert any(u.startswith("file://") for u in requests)  # the handler saw the page load


def x64(site, raw):
    """The page's normalisation, (raw / 255 - mean) / std in float64: (1, H, W, C)."""
    norm = site["norm"]
    return ((np.asarray(raw, np.float64) / 255.0 - norm.mean[0]) / norm.std[0])[None]


def page_input(pg):
    return np.array(pg.evaluate("juanji.input()"), np.float64).reshape(SHAPE)


def value(pg, role, scope="#explain"):
    return float(pg.get_attribute(f'{scope} [data-role="{role}"]', "data-value"))


def rows(pg, role, *keys):
    got = pg.eval_on_selector_all(f'#explain [data-role="{role}"]',
                                  "els => els.map(e => Object.assign({}, e.dataset))")
    return [{k: float(r[k]) if k != "won" else r[k] for k in keys} for r in got]


def checks(pg):
    return pg.eval_on_selector_all('#explain [data-role="check"]', "e => e.map(x => x.dataset.ok)")


# ------------------------------------------------------------------------- drawing and upload

def draw(pg, strokes, pointer_type="mouse"):
    """Draw polylines (fractions of the box) with synthetic pointer events of ``pointer_type``."""
    box = pg.locator("#draw-canvas").bounding_box()

    def at(fx, fy):
        return {"clientX": box["x"] + fx * box["width"], "clientY": box["y"] + fy * box["height"],
                "pointerId": 7, "pointerType": pointer_type, "isPrimary": True, "bubbles": True,
                "buttons": 1}

    for line in strokes:
        pg.dispatch_event("#draw-canvas", "pointerdown", at(*line[0]))
        for (x0, y0), (x1, y1) in zip(line, line[1:]):
            for t in np.linspace(0, 1, 8)[1:]:
                pg.dispatch_event("#draw-canvas", "pointermove", at(x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
        pg.dispatch_event("#draw-canvas", "pointerup", at(*line[-1]))


def exported(pg, path):
    data = pg.evaluate("document.getElementById('draw-canvas').toDataURL('image/png')")
    path.write_bytes(base64.b64decode(data.split(",", 1)[1]))
    return path


def predict(site, path, *flags):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["predict", str(site["ck"]), str(path), "--json", "--top-k", "10", *flags]) == 0
    (result,) = json.loads(out.getvalue())
    return result["predictions"]


SEVEN = [[(0.2, 0.2), (0.8, 0.2), (0.45, 0.85)]]


@pytest.mark.parametrize("pointer_type", ["mouse", "pen", "touch"])
def test_a_drawing_is_classified_as_juanji_predict_classifies_it(page, site, tmp_path, pointer_type):
    draw(page, SEVEN if pointer_type != "touch" else [[(0.5, 0.15), (0.5, 0.85)], [(0.3, 0.5), (0.7, 0.5)]],
         pointer_type)
    png = exported(page, tmp_path / "drawn.png")
    raw = read_model_image(png, SHAPE)
    np.testing.assert_array_equal(page_input(page), raw)  # resized and converted as predict does
    assert (raw < 128).sum() > 10  # the stroke is there
    best = predict(site, png)
    assert page.evaluate("juanji.predicted()") == best[0]["index"]
    probs = page.eval_on_selector_all('#probs [data-role="prob"]', "e => e.map(x => +x.dataset.value)")
    t = trace(site["model"], x64(site, raw))
    assert_close(probs, t.probs, F64)
    assert_close(best[0]["probability"], t.probs[best[0]["index"]], np.float32)


def test_a_drawing_is_inverted_by_predicts_polarity_rule(browser, site, tmp_path):
    """A checkpoint that stores light-on-dark training images: a dark-on-light drawing is
    inverted in the page, said so, and classified as `juanji predict` (which inverts it too)."""
    from juanji.data.polarity import Polarity

    polar = Polarity(border=0.17, centre=0.52, agreement=0.999)  # digits' measured statistics
    ck = save_checkpoint(tmp_path / "polar.npz", site["model"], normalizer=site["norm"],
                         class_names=[f"c{i}" for i in range(10)], polarity=polar)
    examples = sorted(site["root"].glob("ex*.png"))
    polar_site = {**site, "ck": ck, "page": write_page(ck, examples, tmp_path / "out")}
    ctx, pg, requests, errors = open_page(browser, polar_site)
    try:
        draw(pg, SEVEN)
        png = exported(pg, tmp_path / "drawn.png")
        raw = read_model_image(png, SHAPE)
        assert polar.is_opposite(raw)  # dark strokes on a light box: the other polarity
        np.testing.assert_array_equal(page_input(pg), 255 - raw)  # inverted as predict does
        assert "invert" in pg.inner_text("#polarity-note").lower()
        assert pg.evaluate("juanji.predicted()") == predict(polar_site, png)[0]["index"]
    finally:
        ctx.close()
    assert errors == [], errors


def test_invert_switch_matches_predict_invert(page, site, tmp_path):
    draw(page, SEVEN)
    note = page.inner_text("#polarity-note")
    assert "stores no polarity" in note  # no statistics in this checkpoint: the switch decides
    assert page.is_visible("#invert")
    page.check("#invert")
    png = exported(page, tmp_path / "drawn.png")
    np.testing.assert_array_equal(page_input(page), 255 - read_model_image(png, SHAPE))
    assert page.evaluate("juanji.predicted()") == predict(site, png, "--invert")[0]["index"]
    page.click("#draw-clear")
    draw(page, [[(0.5, 0.2), (0.5, 0.8)]])  # the switch stays on for the next drawing
    np.testing.assert_array_equal(page_input(page), 255 - read_model_image(exported(page, tmp_path / "b.png"), SHAPE))


def test_upload_is_read_as_predict_reads_the_file(page, site, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    rgb[8:30, 20:30] = (250, 240, 30)  # a yellow bar on noise, not square, converted to grey
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    page.set_input_files("#upload", str(tmp_path / "photo.png"))
    page.wait_for_function("juanji.state.ex === -1")
    raw = read_model_image(tmp_path / "photo.png", SHAPE)
    np.testing.assert_array_equal(page_input(page), raw)
    assert page.evaluate("juanji.predicted()") == predict(site, tmp_path / "photo.png")[0]["index"]
    # the whole page follows: the first conv's map is the port's output on the upload
    page.click('#network .map[data-k="1"][data-c="2"]')
    shown = page.eval_on_selector_all('#detail [data-role="neuron"]', "e => e.map(x => +x.dataset.value)")
    assert_close(shown, trace(site["model"], x64(site, raw)).layers[0].y[0, :, :, 2].ravel(), F64)


# ------------------------------------------------------------------------- the backward chain

@pytest.fixture
def backward(page, site):
    """The page in backward mode for class 3 of the first example, and juanji's trace of it."""
    page.click('#modes [data-mode="backward"]')
    page.select_option("#label-select", "3")
    raw = np.array(page.evaluate("juanji.input()"), np.float64).reshape(SHAPE)
    return page, trace(site["model"], x64(site, raw), 3)


def open_cell(pg, k, i, j=0, c=0):
    pg.click(f'#network .map[data-k="{k}"][data-c="{c}"]')
    role = "neuron" if pg.locator('#detail [data-role="neuron"]').count() else "unit"
    pg.click(f'#detail [data-role="{role}"][data-i="{i}"][data-j="{j}"]')


def test_step_logits_p_minus_y(backward):
    pg, t = backward
    pg.click('#chain [data-step="8"]')
    got = rows(pg, "logit-grad", "n", "p", "y", "value")
    assert [int(r["y"]) for r in got] == [int(n == 3) for n in range(10)]
    assert_close([r["p"] for r in got], t.probs, F64)
    assert_close([r["value"] for r in got], t.probs - np.eye(10)[3], F64)
    assert_close([r["value"] for r in got], t.layers[7].dy[0], F64)


def test_step_dense_dx_dw_db(backward):
    pg, t = backward
    dense = t.layers[7]  # x (96,) -> 10
    open_cell(pg, 7, 41)
    terms = rows(pg, "dense-dx-term", "n", "value")
    w, dy = dense.params["weight"], dense.dy[0]
    for r in terms:
        assert_close(r["value"], dy[int(r["n"])] * w[41, int(r["n"])], F64)
    assert_close(value(pg, "step-sum"), dense.dx[0, 41], F64)
    assert_close(value(pg, "step-grad"), dense.dx[0, 41], F64)
    n = int(np.argmax(np.abs(dy)))
    assert_close(value(pg, "dense-dw"), dense.grads["weight"][41, n], F64)
    assert_close(value(pg, "dense-dw-layer"), dense.grads["weight"][41, n], F64)
    assert checks(pg) == ["true", "true"]


def test_step_unflatten_index_mapping(backward):
    pg, t = backward
    flat = t.layers[6]  # (4, 4, 6) -> (96,)
    open_cell(pg, 6, 2, 1, 5)
    q = (2 * 4 + 1) * 6 + 5
    assert value(pg, "flat-index") == q
    assert_close(value(pg, "step-sum"), flat.dy[0, q], F64)
    assert_close(value(pg, "step-grad"), flat.dx[0, 2, 1, 5], F64)
    assert flat.dx[0, 2, 1, 5] == flat.dy[0, q]


def test_step_average_split(backward):
    pg, t = backward
    pool = t.layers[5]  # (8, 8, 6) -> (4, 4, 6), 2x2 stride 2
    open_cell(pg, 5, 3, 6, 4)
    (r,) = rows(pg, "split-term", "i", "j", "value")
    assert (r["i"], r["j"]) == (1, 3)
    assert_close(r["value"], pool.dy[0, 1, 3, 4] / 4, F64)
    assert_close(value(pg, "step-grad"), pool.dx[0, 3, 6, 4], F64)


@pytest.mark.parametrize("k", [4, 1])
def test_step_relu_gate(backward, k):
    pg, t = backward
    relu = t.layers[k]
    z = relu.x[0, :, :, 1]
    i, j = map(int, np.argwhere(z > 0)[0]) if k == 4 else map(int, np.argwhere(z <= 0)[0])
    open_cell(pg, k, i, j, 1)
    assert_close(value(pg, "gate-z"), relu.x[0, i, j, 1], F64)
    assert value(pg, "gate") == float(relu.x[0, i, j, 1] > 0)
    assert_close(value(pg, "gate-da"), relu.dy[0, i, j, 1], F64)
    assert_close(value(pg, "step-sum"), relu.dx[0, i, j, 1], F64)
    assert checks(pg)[-1] == "true"


def test_step_max_pool_routing(backward):
    pg, t = backward
    pool = t.layers[2]  # (16, 16, 3) -> (8, 8, 3)
    won = np.argwhere(pool.dx[0, :, :, 0] != 0)
    i, j = map(int, won[0])
    open_cell(pg, 2, i, j, 0)
    (r,) = rows(pg, "route-term", "i", "j", "won", "value")
    assert (r["i"], r["j"], r["won"]) == (i // 2, j // 2, "true")
    assert_close(value(pg, "step-sum"), pool.dx[0, i, j, 0], F64)
    assert_close(value(pg, "step-grad"), pool.dx[0, i, j, 0], F64)


def test_step_conv_dx_sums_over_windows(backward):
    pg, t = backward
    conv = t.layers[3]  # 5x5, padding 2, (8, 8, 3) -> (8, 8, 6)
    open_cell(pg, 3, 1, 6, 2)
    assert_close(value(pg, "step-sum"), conv.dx[0, 1, 6, 2], F64)
    assert_close(value(pg, "step-grad"), conv.dx[0, 1, 6, 2], F64)
    # every window containing (1, 6): outputs i in 0..3, j in 4..7 (rows/cols within +-2), x 6
    # filters; the 12 largest listed, the rest in one row
    shown = rows(pg, "conv-dx-term", "i", "j", "o", "a", "b", "value")
    w, dz = conv.params["weight"], conv.dy[0]
    for r in shown:
        i, j, o, a, b = (int(r[key]) for key in ("i", "j", "o", "a", "b"))
        assert (i + a - 2, j + b - 2) == (1, 6)
        assert_close(r["value"], w[a, b, 2, o] * dz[i, j, o], F64)
    assert "the other " + str(4 * 4 * 6 - 12) + " terms" in pg.inner_text("#explain")
    assert checks(pg)[0] == "true"


def test_conv_dw_and_db_are_sums_over_the_outputs(backward):
    pg, t = backward
    conv = t.layers[0]  # 7x7, padding 3
    pg.click('#network .map[data-k="1"][data-c="1"]')
    pg.click('#explain [data-role="weight"][data-a="6"][data-b="0"][data-c="0"]')
    assert pg.locator('#explain [data-role="contribution"]').count() == 16 * 16
    assert_close(value(pg, "dw-total"), conv.grads["weight"][6, 0, 0, 1], F64)
    assert_close(value(pg, "db-total"), conv.grads["bias"][1], F64)
    assert checks(pg) == ["true", "true"]


def test_any_class_backward(page, site):
    page.click('#modes [data-mode="backward"]')
    raw = page_input(page)
    for label in (0, 9):
        page.select_option("#label-select", str(label))
        t = trace(site["model"], x64(site, raw), label)
        assert_close(float(page.get_attribute("#pass-note", "data-loss")), t.loss, F64)
        page.click('#chain [data-step="0"]')  # dL/dx of the input
        shown = page.eval_on_selector_all('#detail [data-role="neuron"]', "e => e.map(x => +x.dataset.value)")
        assert_close(shown, t.dx[0, :, :, 0].ravel(), F64)


# ------------------------------------------------------------------- the window, located and moving

def located(pg):
    return sorted(pg.eval_on_selector_all('#explain [data-role="located"]',
                                          "e => e.map(x => [+x.dataset.h, +x.dataset.w])"))


def test_window_located_and_slid(page):
    open_cell(page, 4, 1, 2, 0)  # the 5x5 conv, padding 2: output (1, 2) reads rows -1..3, cols 0..4
    assert located(page) == [[h, w] for h in range(-1, 4) for w in range(0, 5)]
    page.fill("#slide", "13")  # row by row over 8x8: (1, 5)
    assert page.get_attribute('[data-role="slide-pos"]', "data-value") == "13"
    assert located(page) == [[h, w] for h in range(-1, 4) for w in range(3, 8)]
    assert page.get_attribute('#detail [data-i="1"][data-j="5"]', "aria-pressed") == "true"
    page.click("#slide-step")
    assert located(page) == [[h, w] for h in range(-1, 4) for w in range(4, 9)]
    page.click("#slide-play")
    page.wait_for_function("document.querySelector('[data-role=\"slide-pos\"]').dataset.value >= 16",
                           timeout=5000)
    page.click("#slide-play")  # pause
    pos = page.get_attribute('[data-role="slide-pos"]', "data-value")
    page.wait_for_timeout(1300)
    assert page.get_attribute('[data-role="slide-pos"]', "data-value") == pos
    page.click('#modes [data-mode="backward"]')  # the window stays, over the gradients
    assert len(located(page)) == 25
    assert "dL/da3" in page.inner_text("#explain .located h3")


def test_pool_window_located(page):
    open_cell(page, 3, 2, 3, 1)  # max pool 2x2 stride 2 over 16x16
    assert located(page) == [[4, 6], [4, 7], [5, 6], [5, 7]]


def test_all_zero_max_window_says_so(page, site):
    page.click('#examples [data-example="0"]')  # the bar: most windows after ReLU are 0
    page.click('#network .map[data-k="3"][data-c="0"]')
    zeros = page.evaluate("""() => { const t = juanji.model.run(juanji.state.raw).acts[2], out = [];
        for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) {
          let all = true;
          for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) all = all && t[((2*i+a)*16 + 2*j+b)*3] === 0;
          if (all) out.push([i, j]); }
        return out; }""")
    assert zeros, "the example should have an all-zero window"
    i, j = zeros[0]
    page.click(f'#detail [data-role="neuron"][data-i="{i}"][data-j="{j}"]')
    text = page.inner_text("#explain")
    assert "every cell of the window is 0" in text and "counts as the winner" in text


# ------------------------------------------------------------------------------ layout

@pytest.mark.parametrize("width", [1400, 800])
def test_layout(browser, site, width):
    ctx, pg, requests, errors = open_page(browser, site, width=width)
    try:
        for step in ("forward", "backward"):
            if step == "backward":
                pg.click('#modes [data-mode="backward"]')
                pg.click('#chain [data-step="3"]')
            else:
                open_cell(pg, 1, 7, 7, 0)  # the 7x7 conv: window, kernel, products side by side
                tops = pg.eval_on_selector_all("#explain .triple figure .grid",
                                               "e => e.map(g => g.getBoundingClientRect().top)")
                assert len(tops) == 3 and max(tops) - min(tops) < 1, tops
            scroll = pg.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{step}: {scroll}px wide at {width}"
            over = pg.evaluate("""() => Array.from(document.querySelectorAll('.cell, [data-role]'))
                .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== 'inline')
                .map(e => e.className + ' ' + e.textContent)""")
            assert over == [], f"{step}: numbers overflow their cells: {over[:5]}"
            right = pg.eval_on_selector("#probs", "e => e.getBoundingClientRect().right")
            assert right <= width, f"the prediction is off-screen: {right} > {width}"
        assert pg.locator("#network .link").count() == len(site["model"].layers)
        title = pg.inner_text("h1")
        assert title.startswith("juanji explainer:") and "ck.npz" in pg.inner_text("#subtitle")
    finally:
        ctx.close()
    assert errors == [] and [u for u in requests if not u.startswith("file://")] == []


# ------------------------------------------------------------------------------ languages

def _literals_of_first_argument(src, start):
    """The string literals of the first argument of the call whose '(' is at ``src[start]``."""
    out, depth, i = [], 0, start
    while i < len(src):
        ch = src[i]
        if ch in "'\"":
            j, buf = i + 1, ""
            while src[j] != ch:
                buf += src[j:j + 2] if src[j] == "\\" else src[j]
                j += 2 if src[j] == "\\" else 1
            if depth == 1:  # a JavaScript literal read as JSON: the same \uXXXX escapes
                out.append(json.loads('"' + buf.replace("\\'", "'").replace('"', '\\"') + '"'))
            i = j + 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                break
        elif ch == "," and depth == 1:
            break
        i += 1
    return out


def page_strings():
    """Every English string of page.js (``tr(...)``) and page.html (``data-t``, ``data-ta``)."""
    import re
    from importlib import resources

    folder = resources.files("juanji.explain") / "page"
    js, html = (folder / "page.js").read_text("utf-8"), (folder / "page.html").read_text("utf-8")
    found = []
    for m in re.finditer(r"\btr\(", js):
        found += _literals_of_first_argument(js, m.end() - 1)
    found += [" ".join(m.group(1).split()) for m in re.finditer(r"<[^>]*\bdata-t\b[^>]*>([^<]*)<", html)]
    found += [re.search(r'aria-label="([^"]*)"', m.group(0)).group(1)
              for m in re.finditer(r"<[^>]*\bdata-ta\b[^>]*>", html)]
    return set(found)


def test_every_page_string_is_in_the_catalog():
    from juanji import i18n
    from juanji.explain import page_messages

    with i18n.language("en"):
        listed = page_messages.messages()
    dynamic = {"light on dark", "dark on light", "drawing", "image"}  # tr(variable) in page.js
    assert set(listed) == page_strings() | dynamic
    zh = i18n.catalog_dict("zh", page_messages.CONTEXT)
    assert [s for s in listed if not zh.get(s) or zh[s] == s and s != "logit"] == []


def test_the_page_switches_to_chinese_and_back(page, site):
    probs = page.eval_on_selector_all('#probs [data-role="prob"]', "e => e.map(x => x.dataset.value)")
    page.click('#lang [data-lang="zh"]')
    assert page.inner_text("#overview-title") == "网络"
    assert page.inner_text("#pass-note").startswith("预测：")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    page.click('#modes [data-mode="backward"]')
    page.click('#chain [data-step="3"]')
    assert "反向穿过层 3: Conv2D" in page.inner_text("#explain")
    assert page.eval_on_selector_all('#probs [data-role="prob"]', "e => e.map(x => x.dataset.value)") == probs
    assert checks(page) and all(c == "true" for c in checks(page))
    page.click('#lang [data-lang="en"]')
    assert page.inner_text("#overview-title") == "Network"
    assert "Backward through layer 3" in page.inner_text("#explain")


def test_a_page_written_in_chinese_opens_in_chinese(browser, site, tmp_path):
    from juanji.explain.page import page_data

    data = page_data(site["model"], example_images(), ["a", "b"], lang="zh")
    assert data["lang"] == "zh" and data["strings"]["zh"]["Network"] == "网络"
    with pytest.raises(ValueError, match="`lang` must be one of"):
        page_data(site["model"], example_images(), ["a", "b"], lang="fr")
    out = write_page(site["ck"], [site["root"] / "ex0.png"], tmp_path, lang="zh")
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(out.as_uri())
    assert pg.inner_text("#inputs-title") == "输入"
    assert "在方框里画图" in pg.inner_text("#polarity-note")
    ctx.close()
