"""The explainer page in a real browser: the numbers it shows are juanji's.

Headless Chromium from Debian (/usr/bin/chromium) driven by Playwright for Python. One tiny float64
model (conv, ReLU, max-pool, 'same' conv, ReLU, avg-pool, dense) with seeded weights and non-zero
biases is saved as a checkpoint; the page is generated from it and opened via file://. The page
computes every number itself (its float64 port of juanji's layers); each number read from the page
(``data-value`` attributes) is compared with juanji's float64 trace in Python. Screenshots go to
test-artifacts/.
"""

import base64
import json
import re
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from juanji.checkpoint import save_checkpoint
from juanji.data import Normalizer, load_digits
from juanji.explain.page import write_page
from juanji.explain.trace import trace
from juanji.functional import output_size
from juanji.nn import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from tests.helpers import assert_close

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
F64 = np.float64  # the page computes in float64: compare with juanji's float64 trace


def tiny_model():
    layers = [Conv2D(4, 3, padding=1), ReLU(), MaxPool2D(2), Conv2D(6, 3, padding="same"), ReLU(),
              AvgPool2D(2), Flatten(), Dense(10)]
    model = Sequential(layers, (8, 8, 1), seed=0, dtype=np.float64)
    rng = np.random.default_rng(1)
    for layer in model.layers:  # non-zero biases: a dropped bias cannot hide
        if "bias" in layer.params:
            b = layer.params["bias"].data
            b[...] = rng.normal(size=b.shape) * 0.2
    return model


def normalised(norm, raw):
    """(raw / 255 - mean) / std in float64, as the page normalises (juanji's Normalizer gives
    float32)."""
    return (raw / 255.0 - np.asarray(norm.mean)) / np.asarray(norm.std)  # (N, H, W, C) float64


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The checkpoint, the generated page, and juanji's trace of the first test image."""
    root = tmp_path_factory.mktemp("page")
    model = tiny_model()
    train, test = load_digits()
    norm = Normalizer.fit(train)
    ck = save_checkpoint(root / "ck.npz", model, normalizer=norm, class_names=train.class_names,
                         extra={"options": {"dataset": "digits"}})
    page = write_page(ck, [], root / "out", num_examples=2)
    t = trace(model, normalised(norm, test.x[:1]))
    return {"root": root, "ck": ck, "page": page, "model": model, "trace": t, "norm": norm,
            "test": test}


@pytest.fixture
def page(browser, site):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(site["page"].as_uri())
    yield pg
    ctx.close()
    assert errors == [], f"the page logged errors: {errors}"


def shot(pg, name):
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"explainer-{name}.png"), full_page=True)


def read(pg, selector, *keys):
    """``[{key: float}]`` of the data-* attributes of every element matching ``selector``."""
    rows = pg.eval_on_selector_all(selector, "els => els.map(e => Object.assign({}, e.dataset))")
    return [{k: float(r[k]) for k in keys} for r in rows]


def one(pg, role):
    return float(pg.get_attribute(f'#explain [data-role="{role}"]', "data-value"))


def open_map(pg, k, c, mode="forward"):
    if mode == "backward":
        pg.click('#modes [data-mode="backward"]')
    pg.click(f'#network .map[data-k="{k}"][data-c="{c}"]')


def padded(x, layer):
    (t, b), (left, r) = layer.cache.padding if hasattr(layer.cache, "padding") else ((0, 0), (0, 0))
    return np.pad(x[0], ((t, b), (left, r), (0, 0)))  # (Hp, Wp, C)


# ----------------------------------------------------------------------------------- forward

@pytest.mark.parametrize("conv, o, i, j", [(0, 2, 0, 2), (0, 1, 5, 7), (3, 4, 0, 0), (3, 5, 2, 1)])
def test_conv_neuron_shows_window_times_kernel_plus_bias(page, site, conv, o, i, j):
    lt, relu = site["trace"].layers[conv], site["trace"].layers[conv + 1]
    open_map(page, conv + 1, o)
    page.click(f'#detail [data-role="neuron"][data-i="{i}"][data-j="{j}"]')
    w = lt.params["weight"]  # (kh, kw, C_in, C_out)
    window = padded(lt.x, lt)[i:i + 3, j:j + 3, :]  # (3, 3, C_in), stride 1, no dilation
    shown = read(page, '#explain [data-role="product"]', "a", "b", "c", "value")
    assert len(shown) == w.shape[0] * w.shape[1] * w.shape[2]
    for cell in shown:
        a, b, c = int(cell["a"]), int(cell["b"]), int(cell["c"])
        assert_close(cell["value"], window[a, b, c] * w[a, b, c, o], F64, f"product {a, b, c}")
    windows = read(page, '#explain [data-role="window"]', "a", "b", "c", "value")
    assert_close([v["value"] for v in windows],
                 [window[int(v["a"]), int(v["b"]), int(v["c"])] for v in windows], F64)
    assert_close(one(page, "sum"), np.sum(window * w[:, :, :, o]), F64)
    assert one(page, "bias") == float(lt.params["bias"][o])
    assert_close(one(page, "z"), lt.y[0, i, j, o], F64)
    assert_close(one(page, "layer-out"), lt.y[0, i, j, o], F64)
    assert_close(one(page, "activation-layer"), relu.y[0, i, j, o], F64)
    assert_close(one(page, "activation"), max(lt.y[0, i, j, o], 0), F64)
    checks = page.eval_on_selector_all('#explain [data-role="check"]', "e => e.map(x => x.dataset.ok)")
    assert checks == ["true", "true"]
    if (conv, o) == (0, 2):
        shot(page, "conv-neuron")


@pytest.mark.parametrize("i, j, c", [(0, 0, 0), (1, 2, 3), (3, 3, 1)])
def test_max_pool_neuron_shows_the_window_and_the_winner(page, site, i, j, c):
    lt = site["trace"].layers[2]
    open_map(page, 3, c)
    page.click(f'#detail [data-role="neuron"][data-i="{i}"][data-j="{j}"]')
    window = lt.x[0, 2 * i:2 * i + 2, 2 * j:2 * j + 2, c]  # (2, 2)
    cells = read(page, '#explain [data-role="pool-cell"]', "a", "b", "value")
    assert [(int(v["a"]), int(v["b"])) for v in cells] == [(a, b) for a in range(2) for b in range(2)]
    assert_close([v["value"] for v in cells], window.ravel(), F64)
    winners = page.eval_on_selector_all('#explain [data-winner="true"]',
                                        "e => e.map(x => [+x.dataset.a, +x.dataset.b])")
    assert winners == [list(divmod(int(lt.cache.argmax[0, i, j, c]), 2))]
    assert window.flat[int(lt.cache.argmax[0, i, j, c])] == window.max()
    assert one(page, "pool-out") == one(page, "pool-layer")
    assert_close(one(page, "pool-out"), lt.y[0, i, j, c], F64)


def test_avg_pool_neuron_shows_the_mean(page, site):
    lt = site["trace"].layers[5]
    open_map(page, 6, 4)
    page.click('#detail [data-role="neuron"][data-i="1"][data-j="0"]')
    window = lt.x[0, 2:4, 0:2, 4]  # (2, 2)
    cells = read(page, '#explain [data-role="pool-cell"]', "value")
    assert_close([v["value"] for v in cells], window.ravel(), F64)
    assert one(page, "pool-divisor") == 4.0
    assert_close(one(page, "pool-sum"), window.sum(), F64)
    assert_close(one(page, "pool-out"), lt.y[0, 1, 0, 4], F64)
    assert_close(one(page, "pool-layer"), lt.y[0, 1, 0, 4], F64)


def test_dense_unit_shows_its_largest_terms_and_the_sum(page, site):
    t = site["trace"]
    lt = t.layers[7]  # Dense(10) on the 24 flattened values
    x, w, b = lt.x[0], lt.params["weight"], lt.params["bias"]
    page.click('#network .map[data-k="8"]')
    page.click('#detail [data-role="unit"][data-i="6"]')
    terms = read(page, '#explain [data-role="dense-term"]', "k", "x", "w", "value")
    products = x * w[:, 6]  # (24,)
    top = sorted(range(24), key=lambda k: (-abs(products[k]), k))[:8]
    assert [int(r["k"]) for r in terms] == top
    for r in terms:
        k = int(r["k"])
        assert_close([r["x"], r["w"]], [x[k], w[k, 6]], F64)
        assert_close(r["value"], products[k], F64)
    assert_close(one(page, "dense-rest"), products.sum() - products[top].sum(), F64)
    assert one(page, "bias") == float(b[6])
    assert_close(one(page, "z"), lt.y[0, 6], F64)
    assert_close(one(page, "layer-out"), lt.y[0, 6], F64)
    assert page.get_attribute('#explain [data-role="check"]', "data-ok") == "true"
    shot(page, "dense-unit")
    page.click('#modes [data-mode="backward"]')
    page.click('#detail [data-role="unit"][data-i="2"]')
    assert_close(one(page, "neuron-grad"), lt.dy[0, 2], F64)
    page.focus('#detail [data-role="unit"][data-i="2"]')
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert_close(one(page, "neuron-grad"), lt.dy[0, 3], F64)


def test_overview_and_probabilities(page, site):
    t = site["trace"]
    n_cols = page.eval_on_selector_all("#network .column[data-k]", "e => e.length")
    assert n_cols == len(t.layers) + 1
    maps = page.eval_on_selector_all('#network .map[data-k="1"]', "e => e.length")
    assert maps == 4
    probs = read(page, '#probs [data-role="prob"]', "value")
    assert_close([p["value"] for p in probs], t.probs, F64)
    page.click('#network .map[data-k="2"][data-c="3"]')
    shown = read(page, '#detail [data-role="neuron"]', "i", "j", "value")
    assert_close([v["value"] for v in shown], t.layers[1].y[0, :, :, 3].ravel(), F64)
    assert page.inner_text("#legend") != "" and page.locator("#detail .ramp").count() == 1


# ---------------------------------------------------------------------------------- backward

def test_backward_kernel_weight_gradient_is_the_sum_of_its_contributions(page, site):
    t = site["trace"]
    lt = t.layers[3]  # the 'same' conv: padding (1, 1) each side
    open_map(page, 4, 3, mode="backward")
    dz = lt.dy[0, :, :, 3]  # (4, 4) dL/dz of filter 3
    grads = read(page, '#detail [data-role="neuron"]', "value")
    assert_close([g["value"] for g in grads], dz.ravel(), F64)
    page.click('#explain [data-role="weight"][data-a="0"][data-b="2"][data-c="1"]')
    xp = padded(lt.x, lt)  # (6, 6, 4)
    rows = read(page, '#explain [data-role="contribution"]', "i", "j", "x", "dz", "value")
    assert len(rows) == dz.size
    for r in rows:
        i, j = int(r["i"]), int(r["j"])
        assert_close([r["x"], r["dz"]], [xp[i + 0, j + 2, 1], dz[i, j]], F64)
        assert_close(r["value"], xp[i, j + 2, 1] * dz[i, j], F64)
    assert sum(r["x"] == 0 for r in rows) >= 4  # the last column reads the right padding
    want = lt.grads["weight"][0, 2, 1, 3]
    assert_close(one(page, "dw-total"), want, F64)
    assert_close(one(page, "dw-layer"), want, F64)
    assert_close(one(page, "db-total"), lt.grads["bias"][3], F64)
    assert_close(one(page, "db-layer"), lt.grads["bias"][3], F64)
    assert page.eval_on_selector_all('#explain [data-role="check"]',
                                     "e => e.map(x => x.dataset.ok)") == ["true", "true"]
    shot(page, "backward-weight")


@pytest.mark.parametrize("offset", [1, 6])
def test_backward_of_another_class(page, site, offset):
    """The class picker: the loss, a conv map's dL/dz and a kernel weight's gradient become those
    of -log p[label], as juanji's trace for that label computes them."""
    label = (site["trace"].label + offset) % 10  # the page starts on the predicted class
    t = trace(site["model"], normalised(site["norm"], site["test"].x[:1]), label)
    page.click('#modes [data-mode="backward"]')
    page.select_option("#label-select", str(label))
    assert page.locator("#label-select").input_value() == str(label)
    assert_close(float(page.get_attribute("#pass-note", "data-loss")), t.loss, F64)
    assert f"p[{site['test'].class_names[label]}]" in page.inner_text("#pass-note")
    page.click('#network .map[data-k="4"][data-c="3"]')
    grads = read(page, '#detail [data-role="neuron"]', "value")
    assert_close([g["value"] for g in grads], t.layers[3].dy[0, :, :, 3].ravel(), F64)
    page.click('#explain [data-role="weight"][data-a="1"][data-b="0"][data-c="2"]')
    want = t.layers[3].grads["weight"][1, 0, 2, 3]
    assert_close(one(page, "dw-layer"), want, F64)
    assert_close(one(page, "dw-total"), want, F64)
    page.click('#examples [data-example="1"]')  # the choice stays with the next input
    assert page.locator("#label-select").input_value() == str(label)
    shot(page, f"backward-class-{offset}")


def test_the_page_carries_pixels_not_traces(site):
    """No activation or gradient is embedded: the page computes them from the raw pixels and the
    weights; its size is the weights' (float64, base64) plus a few images."""
    data = embedded(site["page"])
    assert set(data["examples"][0]) == {"name", "true_label", "pixels"}
    from importlib import resources

    folder = resources.files("juanji.explain") / "page"
    code = sum(len((folder / name).read_bytes())
               for name in ("page.js", "port.js", "page.css", "page.html"))
    strings = len(json.dumps(data["strings"], ensure_ascii=False).encode())
    n_params = sum(p.data.size for p in site["model"].parameters())
    size = site["page"].stat().st_size
    # the code, the Chinese strings, the weights as base64 float64, and little else
    assert size < code + strings + 8 * 4 / 3 * n_params + 10_000, size


def test_any_class_can_be_picked(page, site):
    options = page.eval_on_selector_all("#label-select option", "e => e.map(o => o.value)")
    assert options == [str(c) for c in range(10)]


def test_backward_max_pool_routing_mask(page, site):
    lt = site["trace"].layers[2]
    open_map(page, 3, 2, mode="backward")
    cells = read(page, '#detail [data-role="mask-cell"]', "i", "j", "count", "value")
    count = np.zeros((8, 8), int)
    for i, j in product(range(4), range(4)):
        a, b = divmod(int(lt.cache.argmax[0, i, j, 2]), 2)
        count[2 * i + a, 2 * j + b] += 1
    assert [int(c["count"]) for c in cells] == count.ravel().tolist()
    assert_close([c["value"] for c in cells], lt.dx[0, :, :, 2].ravel(), F64)
    assert np.all((lt.dx[0, :, :, 2] != 0) <= (count > 0))  # only winners receive gradient
    page.click('#detail [data-role="neuron"][data-i="2"][data-j="1"]')
    assert_close(one(page, "pool-dy"), lt.dy[0, 2, 1, 2], F64)


def test_backward_avg_pool_split(page, site):
    lt = site["trace"].layers[5]
    open_map(page, 6, 0, mode="backward")
    page.click('#detail [data-role="neuron"][data-i="0"][data-j="1"]')
    assert_close(one(page, "pool-dy"), lt.dy[0, 0, 1, 0], F64)
    assert_close(one(page, "pool-share"), lt.dy[0, 0, 1, 0] / 4, F64)
    assert_close(one(page, "pool-share"), lt.dx[0, 0, 2, 0], F64)  # what juanji sent the cell


# -------------------------------------------------------------------------------- playground

def test_output_size_port_equals_the_library(page):
    grid = list(product(range(1, 10), range(1, 6), range(1, 4), range(0, 3), range(0, 3),
                        range(1, 3), (False, True)))
    got = page.evaluate("""grid => grid.map(([n, f, s, p, pa, d, c]) => {
        try { return juanji.outputSize(n, f, s, p, pa, d, c); } catch (e) { return null; } })""",
                        [list(g) for g in grid])
    want = []
    for n, f, s, p, pa, d, c in grid:
        try:
            want.append(output_size(n, f, stride=s, padding=(p, pa), dilation=d, ceil_mode=c))
        except ValueError:
            want.append(None)
    assert got == want
    assert None in want and any(w is not None for w in want)


def test_same_padding_port_equals_the_library(page):
    from juanji.validation import same_padding_1d

    grid = [list(g) for g in product(range(1, 13), range(1, 6), range(1, 4), range(1, 3))]
    got = page.evaluate("grid => grid.map(([n, f, s, d]) => juanji.samePadding(n, f, s, d))", grid)
    assert got == [list(same_padding_1d(n, f, s, d)) for n, f, s, d in grid]


def test_playground_inputs(page):
    for key, value in {"n": "7", "f": "3", "s": "2", "p": "1", "d": "1"}.items():
        page.fill(f"#pg-{key}", value)
    assert page.get_attribute('[data-role="pg-out"]', "data-value") == str(output_size(7, 3, stride=2, padding=1))
    page.fill("#pg-n", "6")
    page.check("#pg-ceil")
    want = output_size(6, 3, stride=2, padding=1, ceil_mode=True)
    assert page.get_attribute('[data-role="pg-out"]', "data-value") == str(want)
    page.fill("#pg-f", "9")  # ceil mode: one window may hang over the end by less than s
    assert page.get_attribute('[data-role="pg-out"]', "data-value") == str(
        output_size(6, 9, stride=2, padding=1, ceil_mode=True))
    page.fill("#pg-f", "10")
    assert "larger than the padded input" in page.inner_text('[data-role="pg-error"]')
    page.select_option("#pg-layer", "5")  # the avg pool: 2x2, stride 2 over 4x4
    assert page.get_attribute('[data-role="pg-out"]', "data-value") == "2"


def test_playground_padding_modes(page):
    from juanji.validation import same_padding_1d

    def out():
        return int(page.get_attribute('[data-role="pg-out"]', "data-value"))

    for key, value in {"n": "7", "f": "4", "s": "2", "d": "1"}.items():
        page.fill(f"#pg-{key}", value)
    page.select_option("#pg-pad", "same")  # TensorFlow: out = ceil(7 / 2), the odd pixel after
    before, after = same_padding_1d(7, 4, 2)
    assert (page.input_value("#pg-p"), page.input_value("#pg-pa")) == (str(before), str(after))
    assert page.is_disabled("#pg-p") and page.is_disabled("#pg-pa")
    assert out() == 4 == output_size(7, 4, stride=2, padding=(before, after))
    page.select_option("#pg-pad", "explicit")
    page.fill("#pg-p", "0")
    page.fill("#pg-pa", "2")
    assert out() == output_size(7, 4, stride=2, padding=(0, 2))
    assert page.locator("#pg-result .strip").count() == out()
    assert page.locator("#pg-result .strip").first.locator("span").count() == 7 + 0 + 2
    page.select_option("#pg-pad", "valid")
    assert out() == output_size(7, 4, stride=2) and page.input_value("#pg-pa") == "0"


# ------------------------------------------------------------------ keyboard, phone, network

def test_keyboard_only(page, site):
    lt = site["trace"].layers[0]
    page.focus('#network .map[data-k="1"][data-c="1"]')
    page.keyboard.press("Enter")
    assert page.get_attribute('#network .map[data-k="1"][data-c="1"]', "aria-pressed") == "true"
    page.focus('#detail [data-role="neuron"][data-i="1"][data-j="1"]')
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("[document.activeElement.dataset.i, document.activeElement.dataset.j]")
    assert focused == ["2", "2"]
    page.keyboard.press(" ")
    assert_close(one(page, "layer-out"), lt.y[0, 2, 2, 1], F64)
    page.focus('#modes [data-mode="backward"]')
    page.keyboard.press("Enter")
    page.focus('#explain [data-role="weight"][data-a="1"][data-b="1"][data-c="0"]')
    page.keyboard.press("Enter")
    assert_close(one(page, "dw-total"), lt.grads["weight"][1, 1, 0, 1], F64)


def test_phone_viewport_has_no_horizontal_overflow(browser, site):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    pg = ctx.new_page()
    pg.goto(site["page"].as_uri())
    for step in ("start", "neuron", "backward"):
        if step == "neuron":
            pg.click('#network .map[data-k="4"][data-c="0"]')
            pg.click('#detail [data-role="neuron"][data-i="1"][data-j="1"]')
        elif step == "backward":
            pg.click('#modes [data-mode="backward"]')
            pg.click('#explain [data-role="weight"][data-a="0"][data-b="0"][data-c="0"]')
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{step}: the page is {width}px wide on a 390px screen"
    shot(pg, "phone")
    ctx.close()


def test_page_makes_no_network_request(browser, site):
    ctx = browser.new_context()
    requests = []
    ctx.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()))
    pg = ctx.new_page()
    pg.goto(site["page"].as_uri())
    pg.click('#network .map[data-k="1"][data-c="0"]')
    pg.click('#detail [data-role="neuron"][data-i="0"][data-j="0"]')
    pg.click('#modes [data-mode="backward"]')
    assert [u for u in requests if not u.startswith("file://")] == []
    assert any(u.startswith("file://") for u in requests)  # the handler did see the page load
    ctx.close()
    html = site["page"].read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "@import" not in html and "fetch(" not in html


# ------------------------------------------------------------------- the page's data (no browser)

def embedded(path):
    html = Path(path).read_text()
    m = re.search(r'<script type="application/json" id="juanji-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def pixels(example, shape):
    return np.frombuffer(base64.b64decode(example["pixels"]), np.uint8).reshape(shape)


def test_images_and_label(site, tmp_path):
    from PIL import Image

    from juanji.data.folder import read_model_image

    img = (site["test"].x[5, :, :, 0]).repeat(4, 0).repeat(4, 1)  # (32, 32) upscaled digit
    Image.fromarray(img).save(tmp_path / "five.png")
    out = write_page(site["ck"], [tmp_path / "five.png"], tmp_path / "out", label=7)
    data = embedded(out)
    (ex,) = data["examples"]
    assert ex["name"] == "five.png" and ex["true_label"] is None and data["label"] == 7
    np.testing.assert_array_equal(pixels(ex, (8, 8, 1)),
                                  read_model_image(tmp_path / "five.png", (8, 8, 1), False))
    assert data["layers"][3]["label"] == "3: Conv2D 4\u00d74\u00d76"


def test_default_examples_are_the_first_test_images(site):
    data = embedded(site["page"])
    assert [e["true_label"] for e in data["examples"]] == site["test"].y[:2].tolist()
    np.testing.assert_array_equal(pixels(data["examples"][0], (8, 8, 1)), site["test"].x[0])
    assert data["classes"] == list(site["test"].class_names)
    assert data["title"] == "juanji explainer: model Conv2D-ReLU-MaxPool2D\u2026 on digits"


def test_refusals(site, tmp_path):
    with pytest.raises(ValueError, match=r"`images`: file '.*missing.png' does not exist"):
        write_page(site["ck"], [tmp_path / "missing.png"], tmp_path)
    with pytest.raises(ValueError, match=r"`num_examples` must be an int >= 1, got 0"):
        write_page(site["ck"], [], tmp_path, num_examples=0)
    bare = save_checkpoint(tmp_path / "bare.npz", site["model"])
    with pytest.raises(ValueError, match=r"holds no normaliser"):
        write_page(bare, [], tmp_path)


def test_a_failed_write_leaves_the_previous_page(site, tmp_path, monkeypatch):
    """index.html is replaced atomically: a crash at the rename keeps the old page whole."""
    from juanji import _atomic

    out = tmp_path / "out"
    first = write_page(site["ck"], [], out, num_examples=1)
    before = first.read_bytes()

    def boom(*args):
        raise OSError("disk gone")

    monkeypatch.setattr(_atomic.os, "replace", boom)
    with pytest.raises(OSError, match="disk gone"):
        write_page(site["ck"], [], out, num_examples=2)
    assert first.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


def test_number_and_colour_ports_equal_the_display_module(page):
    """page.js's fmt and rgb are ports of juanji.explain.display.fmt and diverging_rgb."""
    from juanji.explain.display import diverging_rgb, fmt

    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(size=200) * 10.0 ** rng.integers(-12, 12, 200),
                             [0.0, -0.0, 0.01, 0.00999, 999.5, 999.4, 1e3, -1e-3, 0.1, 100.0]])
    got = page.evaluate("vs => vs.map(v => juanji.fmt(v))", values.tolist())
    assert got == [fmt(v) for v in values]
    assert max(len(g) for g in got) <= 8
    pairs = [(float(v), float(m)) for v, m in zip(rng.normal(size=100), rng.uniform(0, 2, 100))]
    got = page.evaluate("ps => ps.map(([v, m]) => juanji.rgb(v, m))", pairs)
    assert [tuple(c) for c in got] == [diverging_rgb(v, m) for v, m in pairs]
