"""juanji.explain.display (the number format, colour scale and layer labels every explainer
shares), and the Jupyter display of the explainers: each explain_* result is still the plain JSON-able dict the
command line prints, and a notebook shows it as the terminal's tables (``_repr_html_``); each
plot_* with ``path=None`` writes nothing and returns a Figure Jupyter shows inline as PNG."""
import json
import pickle

import matplotlib
import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter

from juanji.explain.display import DIVERGING, diverging_rgb, fmt, layer_label, shape_text
from juanji.nn import Conv2D, Sequential
from juanji.explain.conv import explain_conv
from juanji.explain.model import explain_network, explain_sharing, explain_sparsity
from juanji.explain.plots import plot_confusion, plot_curves, plot_features, plot_filters, \
    plot_saliency
from juanji.explain.pool import explain_pool
from juanji.explain.size import explain_size
from juanji.models import build_model
from juanji.train import EpochMetrics, History

X = np.arange(16.0).reshape(4, 4, 1)          # (H, W, C)
LENET = build_model("lenet5", (32, 32, 3), 10)

CASES = {
    "size": (lambda: explain_size(7, 3, stride=2), "output size 3"),
    "pool": (lambda: explain_pool(X, "max", 2), "max"),
    "conv": (lambda: explain_conv(X, np.ones((2, 2, 1)), 0.5), "bias"),
    "sharing": (lambda: explain_sharing(LENET), "Conv2D"),
    "sparsity": (lambda: explain_sparsity(LENET), "receptive"),
    "network": (lambda: explain_network(LENET), "Conv2D"),
}


@pytest.mark.parametrize("name", CASES)
def test_explanation_is_the_json_dict_and_shows_as_html(name):
    make, words = CASES[name]
    r = make()
    assert type(json.loads(json.dumps(r))) is dict and json.loads(json.dumps(r)) == r
    assert pickle.loads(pickle.dumps(r)) == r
    html = DisplayFormatter().format(r)[0]["text/html"]    # what Jupyter calls
    assert html.startswith("<pre") and words in html


def test_pool_html_shows_the_windows_values():
    html = explain_pool(X, "max", 2)._repr_html_()
    for winner in ("5", "7", "13", "15"):   # the max of each 2x2 window of 0..15
        assert winner in html


def _png(fig) -> bytes:
    data = DisplayFormatter().format(fig)[0]
    assert "image/png" in data
    return data["image/png"] if isinstance(data["image/png"], bytes) else \
        __import__("base64").b64decode(data["image/png"])


def test_plots_without_a_path_return_an_inline_figure_and_write_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    history = History(epochs=[EpochMetrics(1, 1.0, 0.5, 0.9, 0.6, 1.0, 0.1),
                              EpochMetrics(2, 0.8, 0.7, 0.85, 0.65, 1.0, 0.1)])
    image = np.zeros((32, 32, 3), dtype=np.float32)
    figures = [plot_confusion(np.array([[3, 1], [0, 4]])), plot_filters(LENET),
               plot_features(LENET, image), plot_saliency(LENET, image), plot_curves(history)]
    for fig in figures:
        assert _png(fig).startswith(b"\x89PNG\r\n\x1a\n")
    assert list(tmp_path.iterdir()) == []
    # with a path, the same call still writes the file and returns the drawn data
    cm = plot_confusion(np.array([[3, 1], [0, 4]]), tmp_path / "cm.png")
    assert cm.tolist() == [[3, 1], [0, 4]] and (tmp_path / "cm.png").stat().st_size > 0


def test_plotting_leaves_the_callers_matplotlib_backend_alone(tmp_path):
    before = matplotlib.get_backend()
    matplotlib.use("svg")                      # e.g. a notebook's inline backend
    try:
        plot_confusion(np.eye(2), tmp_path / "cm.png")
        plot_curves(History(epochs=[EpochMetrics(1, 1.0, 0.5, 0.9, 0.6, 1.0, 0.1)]),
                    tmp_path / "c.png")
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


# --------------------------------------------- juanji.explain.display: numbers and colours

@pytest.mark.parametrize("v, want", [(0.0, "0"), (-0.0, "0"), (0.5, "0.5"), (12.345, "12.3"),
                                     (-0.00331, "-3.3e-3"), (-7.78e-4, "-7.8e-4"),
                                     (999.7, "1e3"), (123456.0, "1.2e5"), (0.01, "0.01"),
                                     (float("nan"), "nan"), (float("-inf"), "-inf")])
def test_fmt(v, want):
    assert fmt(v) == want


def test_fmt_is_short_and_close():
    rng = np.random.default_rng(1)
    for v in rng.normal(size=2000) * 10.0 ** rng.integers(-9, 9, 2000):
        text = fmt(v)
        assert len(text) <= (8 if abs(v) < 9.95e-10 else 7), text
        assert abs(float(text) - v) <= 0.05 * abs(v), (v, text)  # two digits at least


def test_diverging_rgb_ends_and_middle():
    assert diverging_rgb(0.0, 1.0) == (255, 255, 255)
    assert diverging_rgb(-5.0, 1.0) == DIVERGING[0] and diverging_rgb(5.0, 1.0) == DIVERGING[2]
    assert diverging_rgb(1.0, 0.0) == (255, 255, 255)  # no scale: white
    assert diverging_rgb(float("nan"), 1.0) == (255, 255, 255)


def test_layer_label():
    model = Sequential([Conv2D(6, 3, padding=1)], (8, 8, 1))
    assert layer_label(0, model.layers[0]) == "0: Conv2D 8\u00d78\u00d76"
    assert shape_text((10,)) == "10"
