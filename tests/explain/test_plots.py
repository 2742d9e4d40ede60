"""explain plots: the files are valid PNG/SVG and the arrays drawn are the right numbers."""

import numpy as np
import pytest

from juanji.checkpoint import load_checkpoint
from juanji.explain import plots
from juanji.models import build_model
from juanji.train import History
from tests.helpers import numerical_grad

PNG = b"\x89PNG\r\n\x1a\n"


def is_svg(path) -> bool:
    text = path.read_text()
    return text.startswith("<?xml") and "<svg" in text and text.rstrip().endswith("</svg>")


@pytest.fixture(scope="module")
def model64():
    return build_model("digits", (8, 8, 1), 10, seed=3, dtype=np.float64)


def test_saliency_equals_finite_differences_of_the_logit(model64):
    x = np.random.default_rng(0).standard_normal((8, 8, 1))
    s, label = plots.saliency(model64, x, 4)
    assert label == 4 and s.shape == (8, 8, 1)

    def logit(z):
        model64.eval()
        return model64.forward(z[None])[0, 4]
    fd = numerical_grad(logit, x.copy(), np.array(1.0))
    np.testing.assert_allclose(s, fd, rtol=1e-6, atol=1e-8)


def test_saliency_default_label_and_state_restored(model64, tmp_path):
    x = np.random.default_rng(1).standard_normal((8, 8, 1))
    model64.train()
    for p in model64.parameters():
        p.grad[...] = 7.0
    s, label = plots.saliency(model64, x)
    model64.eval()
    assert label == int(np.argmax(model64.forward(x[None])[0]))
    model64.train()
    assert model64.training and all((p.grad == 7.0).all() for p in model64.parameters())
    drawn = plots.plot_saliency(model64, x, tmp_path / "s.png", label=label)
    np.testing.assert_array_equal(drawn, s)
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG
    plots.plot_saliency(model64, x, tmp_path / "s.svg")
    assert is_svg(tmp_path / "s.svg")


def test_feature_maps_are_the_layer_outputs(model64, tmp_path):
    x = np.random.default_rng(2).standard_normal((8, 8, 1))
    maps = plots.plot_features(model64, x, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == PNG
    assert [kind for _, kind, _ in maps] == [type(m).__name__ for m in model64.layers]
    model64.eval()
    a = x[None]
    for (i, _, drawn), layer in zip(maps, model64.layers):
        a = layer.forward(a)
        np.testing.assert_array_equal(drawn, a[0])
    np.testing.assert_allclose(maps[-1][2], model64.forward(x[None])[0])


def test_filters_are_the_conv_weights(model64, tmp_path):
    w = plots.plot_filters(model64, tmp_path / "w.png")
    np.testing.assert_array_equal(w, model64.layers[0].params["weight"].data)
    assert (tmp_path / "w.png").read_bytes()[:8] == PNG
    w3 = plots.plot_filters(model64, tmp_path / "w3.png", layer=3)
    assert w3.shape == (3, 3, 16, 32)
    with pytest.raises(ValueError, match="`layer` 1 is not a Conv2D layer"):
        plots.plot_filters(model64, tmp_path / "x.png", layer=1)


def test_confusion_and_curves(checkpoint, tmp_path):
    cm = np.array([[5, 1], [2, 7]])
    np.testing.assert_array_equal(plots.plot_confusion(cm, tmp_path / "c.png",
                                                       class_names=["a", "b"]), cm)
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG
    history = History.from_dict(load_checkpoint(checkpoint).metrics)
    plots.plot_curves(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="PNG only"):
        plots.plot_curves(history, tmp_path / "curves.svg")


@pytest.mark.parametrize("call", [
    lambda m, p: plots.plot_filters(m, p),
    lambda m, p: plots.plot_confusion(np.eye(2), p),
    lambda m, p: plots.plot_saliency(m, np.zeros((8, 8, 1)), p),
])
def test_bad_suffix_refused(model64, tmp_path, call):
    with pytest.raises(ValueError, match="`path` .* must end in one of"):
        call(model64, tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()


def test_bad_inputs(model64):
    with pytest.raises(ValueError, match="`x` must be one normalised float image"):
        plots.saliency(model64, np.zeros((4, 4, 1)))
    with pytest.raises(ValueError, match="`label`"):
        plots.saliency(model64, np.zeros((8, 8, 1)), 10)
    with pytest.raises(ValueError, match="`confusion`"):
        plots.plot_confusion(np.zeros((2, 3)), "c.png")
