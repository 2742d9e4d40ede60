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


# --- the features figure: which channels, one colour scale, the prediction --------------------

def _map_axes(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_title().startswith("ch ")]


def test_features_figure_says_what_it_shows(model64):
    x = np.random.default_rng(5).standard_normal((8, 8, 1))
    fig, maps = plots.features_figure(model64, x, class_names=[f"c{k}" for k in range(10)])
    logits = model64.forward(x[None])  # (1, 10)
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    k = int(np.argmax(logits))
    # the digits model: conv 16, relu 16, pool 16, conv 32, relu 32, pool 32 channels
    assert fig._suptitle.get_text() == (f"feature maps: predicted c{k} ({probs[0, k]:.1%}); "
                                        f"channels 0-7 of 16 / 32 per layer")
    axes = _map_axes(fig)
    assert len(axes) == 6 * 8
    assert [ax.get_title() for ax in axes[:8]] == [f"ch {c}" for c in range(8)]
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert labels[0] == "0: Conv2D\n8x8x16\nchannels 0-7 of 16"
    assert labels[3] == "3: Conv2D\n4x4x32\nchannels 0-7 of 32"
    # one colour scale: the very same Normalize on every map, spanning every value shown
    norms = {id(ax.images[0].norm) for ax in axes}
    assert len(norms) == 1
    norm = axes[0].images[0].norm
    shown = np.concatenate([a[:, :, :8].ravel() for _, _, a in maps if a.ndim == 3])
    assert norm.vmin == pytest.approx(shown.min()) and norm.vmax == pytest.approx(shown.max())
    # and one colour bar, drawn with that scale
    bars = [ax for ax in fig.axes if ax.get_label() == "colorbar"]
    assert len(bars) == 1
    assert bars[0].get_ylabel() == "activation (one scale for every map)"
    assert bars[0].get_ylim() == pytest.approx((norm.vmin, norm.vmax))  # the same scale


def test_features_figure_all_channels_and_a_list(model64, tmp_path):
    x = np.random.default_rng(6).standard_normal((8, 8, 1))
    fig, _ = plots.features_figure(model64, x, channels="all")
    assert len(_map_axes(fig)) == 3 * 16 + 3 * 32
    assert fig._suptitle.get_text().endswith("; all channels of every layer")
    fig, _ = plots.features_figure(model64, x, channels=[20, 1, 2, 3, 20])
    axes = _map_axes(fig)
    # layers of 16 channels show 1-3, layers of 32 show 1-3 and 20
    assert len(axes) == 3 * 3 + 3 * 4
    labels = [t.get_text().split("\n")[2] for ax in fig.axes for t in ax.texts]
    assert labels == ["channels 1-3 of 16"] * 3 + ["channels 1-3, 20 of 32"] * 3
    assert fig._suptitle.get_text().endswith("; the channels named on each row")
    maps = plots.plot_features(model64, x, tmp_path / "all.png", channels="all")
    assert (tmp_path / "all.png").read_bytes()[:8] == PNG and len(maps) == len(model64.layers)


@pytest.mark.parametrize("channels, message", [
    ("some", "`channels` must be None, 'all' or channel indices, got 'some'"),
    ([], "a non-empty list of channel indices >= 0, got \\[\\]"),
    ([-1], "a non-empty list of channel indices >= 0, got \\[-1\\]"),
    ([40], "`channels` \\[40\\] name no channel of the model's layers \\(the widest has 32"),
])
def test_features_channels_are_checked(model64, channels, message):
    with pytest.raises(ValueError, match=message):
        plots.features_figure(model64, np.zeros((8, 8, 1)), channels=channels)


def test_a_one_logit_model_names_its_prediction():
    model = build_model("digits", (8, 8, 1), 2, seed=0, binary=True)
    x = np.random.default_rng(7).standard_normal((8, 8, 1)).astype(np.float32)
    z = float(model.forward(x[None])[0, 0])
    label, p1 = int(z > 0), 1 / (1 + np.exp(-z))
    fig, _ = plots.features_figure(model, x)
    expected = p1 if label == 1 else 1 - p1
    assert fig._suptitle.get_text().startswith(f"feature maps: predicted {label} "
                                               f"({expected:.1%})")
