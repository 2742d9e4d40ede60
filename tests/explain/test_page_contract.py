"""The page's testing contract: ``globalThis.juanji.forward/backward`` (the page's own float64
JavaScript port of juanji's layers) against juanji's float64 forward and backward.

Every built-in model (untrained, seeded) and random small models that together use every layer
type and option are rendered into a page and opened in Debian's chromium (one browser for the
module); for one random raw image (0..255, before normalisation) and a class, every layer's output,
dL/d(output), dL/dweight and dL/dbias the page returns must match juanji's trace to 1e-9
relative. No request may leave the page.
"""

import json

import numpy as np
import pytest

from juanji.data import Normalizer
from juanji.explain.page import model_data, page_data, render_html
from juanji.explain.trace import trace
from juanji.models import build_model
from juanji.nn import (AvgPool2D, BatchNorm2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D,
                       LeakyReLU, MaxPool2D, ReLU, Sequential, Sigmoid, Tanh)

RTOL = 1e-9
WORST = {"rel": 0.0}  # the largest relative difference seen, reported at the end


def _random_models():
    """Small float64 models that together use every layer type and option."""
    f64 = np.float64
    a = Sequential([Conv2D(4, 3, stride=2, padding=(0, 1), dilation=1), BatchNorm2D(),
                    LeakyReLU(0.1), MaxPool2D(3, stride=2, padding=1, ceil_mode=True),
                    Conv2D(6, 2, groups=2, dilation=2, padding="same"), Tanh(),
                    AvgPool2D(2, stride=1, padding=1, ceil_mode=True, count_include_pad=False),
                    Flatten(), Dropout(0.3), Dense(5)], (11, 9, 2), seed=3, dtype=f64)
    b = Sequential([Conv2D(6, 3, padding=(2, 0), stride=(1, 2), use_bias=False), Sigmoid(),
                    AvgPool2D(3, stride=2, padding=1), Conv2D(4, 1, groups=2), ReLU(),
                    GlobalAvgPool2D(), Dense(1)], (10, 12, 3), seed=4, dtype=f64)
    c = Sequential([Conv2D(3, 3, padding="valid"), ReLU(), MaxPool2D(2),  # ties: a ReLU's zeros
                    Flatten(), Dense(7), ReLU(), Dense(3)], (9, 9, 1), seed=5, dtype=f64)
    rng = np.random.default_rng(0)
    for model in (a, b, c):
        for layer in model.layers:
            for p in layer.params.values():
                if p.name != "weight":
                    p.data[...] = rng.normal(size=p.data.shape)  # biases, gamma, beta not trivial
            for name, buf in getattr(layer, "buffers", {}).items():
                buf[...] = (rng.uniform(0.5, 2.0, buf.shape) if name == "running_var"
                            else rng.normal(size=buf.shape))
        model.eval()
    return {"random-a": a, "random-b-one-logit": b, "random-c": c}


def _models():
    shapes = {"digits": (8, 8, 1), "lenet5": (28, 28, 1), "course": (28, 28, 1),
              "signs": (32, 32, 3), "tinyvgg": (16, 16, 3)}
    out = {name: build_model(name, shape, 10 if shape[2] == 1 else 6, seed=1, dtype=np.float64)
           for name, shape in shapes.items()}
    out.update(_random_models())
    return out


MODELS = _models()


def _compare(got, want, what):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, juanji {want.shape}"
    scale = max(float(np.abs(want).max(initial=0.0)), 1e-300)
    rel = float(np.abs(got - want).max(initial=0.0)) / scale
    WORST["rel"] = max(WORST["rel"], rel)
    assert rel <= RTOL, f"{what}: relative difference {rel:.3g} > {RTOL}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_contract_matches_juanji(browser, tmp_path, name):
    model = MODELS[name]
    h, w, ch = model.input_shape
    rng = np.random.default_rng(len(name))
    raw = rng.integers(0, 256, size=(h, w, ch)).astype(np.uint8)  # (H, W, C)
    norm = Normalizer(mean=[0.3 + 0.1 * c for c in range(ch)], std=[0.25 + 0.05 * c for c in range(ch)])
    x = (raw[None] / 255.0 - np.array(norm.mean)) / np.array(norm.std)  # (1, H, W, C) float64
    k = model.output_shape[0]
    label = 1 if k == 1 else k - 1
    data = page_data(model, raw[None], ["random"], title=f"contract {name}")
    page_file = tmp_path / "index.html"
    page_file.write_text(render_html(data, model_data(model, norm)), encoding="utf-8")
    t = trace(model, x, label)

    ctx = browser.new_context()
    requests = []
    ctx.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()))
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(page_file.as_uri())
    # JSON text: exact for float64 (shortest round-trip) and far faster than Playwright's
    # value-by-value serialisation of nested arrays.
    fwd, bwd = json.loads(pg.evaluate(
        "([im, c]) => JSON.stringify([juanji.forward(im), juanji.backward(im, c)])",
        [raw.tolist(), label]))
    ctx.close()
    assert errors == [], errors
    assert [u for u in requests if not u.startswith("file://")] == [], requests

    names = [type(layer).__name__ for layer in model.layers]
    assert [e["name"] for e in fwd["layers"]] == names
    assert [e["name"] for e in bwd["layers"]] == names
    probs = t.probs if k > 1 else np.array([1 - t.probs[0], t.probs[0]])
    _compare(fwd["probabilities"], probs, f"{name}: probabilities")
    _compare(bwd["loss"], t.loss, f"{name}: loss")
    for lt, f, b in zip(t.layers, fwd["layers"], bwd["layers"]):
        where = f"{name}: layer {lt.index} {lt.kind}"
        _compare(f["output"], lt.y[0], f"{where} output")
        _compare(b["dOutput"], lt.dy[0], f"{where} dOutput")
        weight = lt.grads.get("weight", lt.grads.get("gamma"))
        bias = lt.grads.get("bias", lt.grads.get("beta"))
        assert ("dWeight" in b) == (weight is not None), where
        assert ("dBias" in b) == (bias is not None), where
        if weight is not None:
            _compare(b["dWeight"], weight, f"{where} dWeight")
        if bias is not None:
            _compare(b["dBias"], bias, f"{where} dBias")
    _compare(bwd["dInput"], t.layers[0].dx[0], f"{name}: dInput")


def test_worst_difference_reported():
    """Run last in the module: prints the largest relative difference the contract tests saw."""
    print(f"\npage contract: max relative difference {WORST['rel']:.3g}")
    assert WORST["rel"] <= RTOL
