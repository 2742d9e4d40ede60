"""Pictures of a trained model: learned filters, feature maps, confusion matrix, training curves
and saliency.

Every ``plot_*`` function computes its numbers with the model's own layers, draws them with
matplotlib without pyplot (no display needed, the caller's backend left alone), writes PNG or
SVG by the suffix of ``path`` atomically (:mod:`juanji._atomic`), and returns the array it drew,
so tests can check the picture's data rather than its pixels. With ``path=None`` nothing is
written and the function returns the matplotlib Figure instead, which a notebook shows inline.

Saliency (Simonyan et al., 2014) is the gradient of the class score, the logit ``z_k`` (before
the softmax), with respect to the input image:

    S = d z_k / d x  (H, W, C),  computed as model.backward(onehot(k)) after model.forward(x)

and shown as ``max over channels of |S|``: the pixels whose change would move the score most.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_bytes
from ..i18n import _, ngettext
from ..nn import Conv2D, Sequential, head
from ..plots import plot_labels

__all__ = ["FORMATS", "channel_selection", "describe_channels", "feature_maps",
           "features_figure", "plot_confusion", "plot_curves", "plot_features", "plot_filters",
           "plot_saliency", "saliency"]

FORMATS = (".png", ".svg")
MAX_FILTERS = 32         # filters drawn per conv layer (rows of the grid, 8 per row)
MAX_CHANNELS = 8         # feature-map channels drawn per layer


def _check_path(path) -> Path | None:
    if path is None:  # draw for a notebook: the Figure is returned, nothing is written
        return None
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"`path` {str(path)!r} must end in one of {FORMATS}")
    return path


def _figure(figsize, layout="constrained"):
    from ..plots import new_figure  # no pyplot: no global state, no GUI; inline in Jupyter
    fig = new_figure(figsize)
    if layout is None:
        fig.set_layout_engine("none")  # a fixed grid (see features_figure)
    return fig


def _save(fig, path: Path | None) -> Path | None:
    if path is None:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lower()[1:], dpi=100)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _check_model(model) -> Sequential:
    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a juanji.nn.Sequential, got {type(model).__name__}")
    return model


def _one_image(model: Sequential, x) -> np.ndarray:
    """x (H, W, C) or (1, H, W, C), normalised floats -> (1, H, W, C) in the model's dtype."""
    x = np.asarray(x)
    if x.ndim == len(model.input_shape):
        x = x[None]  # (1, H, W, C)
    if x.dtype.kind != "f" or tuple(x.shape) != (1, *model.input_shape):
        raise ValueError(f"`x` must be one normalised float image of shape {model.input_shape}, "
                         f"got {x.dtype} {x.shape}")
    return x.astype(model.dtype)


# ------------------------------------------------------------------------------------ saliency

def saliency(model: Sequential, x, label: int | None = None) -> tuple[np.ndarray, int]:
    """``d z_label / d x`` for one image; returns (S (H, W, C), label).

    ``label`` defaults to the predicted class. For a one-logit (sigmoid) model the score of
    class 1 is z and of class 0 is -z. The model's mode and parameter gradients are restored.

    >>> from juanji.models import build_model
    >>> m = build_model("digits", (8, 8, 1), 10)
    >>> s, k = saliency(m, np.zeros((8, 8, 1), np.float32), 3)
    >>> s.shape, k
    ((8, 8, 1), 3)
    """
    model = _check_model(model)
    x = _one_image(model, x)
    with model.kept_state(caches=False):
        logits = model.forward(x)  # (1, K)
        k = head.num_classes(logits.shape[1])
        if label is None:
            label = int(head.predictions(logits)[0])
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not (
                0 <= label < k):
            raise ValueError(f"`label` must be a class index in [0, {k}), got {label!r}")
        dscore = head.score_gradient(logits, int(label))  # (1, K): d z_label / d logits
        s = model.backward(dscore)[0]  # (H, W, C)
    return s, int(label)


def plot_saliency(model: Sequential, x, path=None, *, label: int | None = None,
                  class_names=None) -> np.ndarray:
    """Draw the image and ``max_c |S|``; returns S (H, W, C) as from :func:`saliency`."""
    path = _check_path(path)
    s, label = saliency(model, x, label)
    image = _one_image(model, x)[0]  # (H, W, C)
    name = class_names[label] if class_names else str(label)
    with plot_labels():
        fig = _figure((7, 3.4))
        ax_img, ax_sal = fig.subplots(1, 2)
        _show_image(ax_img, image)
        ax_img.set_title(_("input (normalised)"))
        im = ax_sal.imshow(np.abs(s).max(axis=2), cmap="hot")  # (H, W)
        ax_sal.set_title(_("saliency |d score[{name}] / d x|").format(name=name))
        ax_sal.axis("off")
        fig.colorbar(im, ax=ax_sal, shrink=0.8)
        _save(fig, path)
    return fig if path is None else s


def _show_image(ax, image: np.ndarray) -> None:
    """(H, W, 1) grey or (H, W, 3) colour, min-max scaled for display."""
    lo, hi = float(image.min()), float(image.max())
    shown = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
    if image.shape[2] == 3:
        ax.imshow(shown)
    else:
        ax.imshow(shown[:, :, 0], cmap="gray")
    ax.axis("off")


# -------------------------------------------------------------------------------- feature maps

def feature_maps(model: Sequential, x) -> list[tuple[int, str, np.ndarray]]:
    """Every layer's output for one image, in eval mode: [(index, layer type, (H, W, C) or (D,))].

    >>> from juanji.models import build_model
    >>> maps = feature_maps(build_model("digits", (8, 8, 1), 10), np.zeros((8, 8, 1)))
    >>> maps[0][1], maps[0][2].shape, maps[-1][2].shape
    ('Conv2D', (8, 8, 16), (10,))
    """
    model = _check_model(model)
    a = _one_image(model, np.asarray(x, dtype=model.dtype))
    out = []
    with model.kept_state(grads=False, caches=False):
        for i, layer in enumerate(model.layers):
            a = layer.forward(a)
            out.append((i, type(layer).__name__, a[0].copy()))
    return out


def channel_selection(channels, n: int) -> list[int]:
    """Which of a layer's ``n`` channels to draw: None -> the first `MAX_CHANNELS`, ``"all"``
    -> every one, else the given indices (those below ``n``).

    >>> channel_selection(None, 16), channel_selection("all", 3), channel_selection([1, 9], 4)
    ([0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2], [1])
    """
    if channels is None:
        return list(range(min(MAX_CHANNELS, n)))
    if isinstance(channels, str):
        if channels != "all":
            raise ValueError(f"`channels` must be None, 'all' or channel indices, got "
                             f"{channels!r}")
        return list(range(n))
    return [c for c in channels if c < n]


def describe_channels(shown: list[int], n: int) -> str:
    """``[0..7]`` of 16 -> ``"channels 0-7 of 16"``; runs joined by commas.

    >>> describe_channels([0, 1, 2, 5, 7, 8], 16), describe_channels([0, 1, 2], 3)
    ('channels 0-2, 5, 7-8 of 16', 'all 3 channels')
    """
    if shown == list(range(n)):
        return ngettext("all {n} channel", "all {n} channels", n).format(n=n)
    if not shown:
        return _("none of its {n} channels").format(n=n)
    return ngettext("channel {runs} of {n}", "channels {runs} of {n}",
                    len(shown)).format(runs=_runs(shown), n=n)


def _runs(shown: list[int]) -> str:
    """[0, 1, 2, 5] -> "0-2, 5"."""
    runs, start = [], shown[0]
    for prev, cur in zip(shown, shown[1:] + [None]):
        if cur != prev + 1:
            runs.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = cur
    return ", ".join(runs)


def _channels_title(spatial, shown) -> str:
    """What the whole figure shows: "channels 0-7 of 16 / 32 per layer", "all channels"."""
    sizes = sorted({a.shape[2] for _i, _k, a in spatial})
    if all(c == list(range(a.shape[2])) for (_i, _k, a), c in zip(spatial, shown)):
        return _("all channels of every layer")
    if shown and all(c == shown[0] for c in shown) and shown[0]:
        return _("channels {runs} of {sizes} per layer").format(
            runs=_runs(shown[0]), sizes=" / ".join(map(str, sizes)))
    return _("the channels named on each row")


def _check_channels(channels):
    if channels is None or (isinstance(channels, str) and channels == "all"):
        return channels
    if isinstance(channels, str):
        raise ValueError(f"`channels` must be None, 'all' or channel indices, got {channels!r}")
    channels = list(channels)
    if not channels or any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0
                           for c in channels):
        raise ValueError(f"`channels` must be None, 'all' or a non-empty list of channel "
                         f"indices >= 0, got {channels!r}")
    return sorted(set(int(c) for c in channels))


COLUMNS = 16  # feature maps per row of the figure; a layer with more shown wraps


def features_figure(model: Sequential, x, *, channels=None, class_names=None):
    """The figure of :func:`plot_features` (a matplotlib Figure) and the feature maps.

    One block per layer with a spatial output: a label (layer, shape, which channels), then its
    maps, `COLUMNS` to a row. Every map is drawn with one shared colour scale (one
    ``Normalize`` from the smallest to the largest value shown) and one colour bar, so maps
    can be compared; the title names the predicted class and its probability.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    channels = _check_channels(channels)
    maps = feature_maps(model, x)
    spatial = [(i, kind, a) for i, kind, a in maps if a.ndim == 3]
    if spatial and channels not in (None, "all") and not any(
            channel_selection(channels, a.shape[2]) for _i, _k, a in spatial):
        widest = max(a.shape[2] for _i, _k, a in spatial)
        raise ValueError(f"`channels` {channels} name no channel of the model's layers (the "
                         f"widest has {widest}: 0..{widest - 1})")
    shown = [channel_selection(channels, a.shape[2]) for _i, _k, a in spatial]
    cols = max([1, *(min(COLUMNS, len(c)) for c in shown)])
    blocks = [max(1, -(-len(c) // COLUMNS)) for c in shown]  # grid rows per layer (ceil)
    values = [a[:, :, c] for (_i, _k, a), c in zip(spatial, shown) if c]
    lo = min((float(v.min()) for v in values), default=0.0)
    hi = max((float(v.max()) for v in values), default=1.0)
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)  # one scale for every map

    classes, probs = head.predicted(maps[-1][2][None])  # the model's output, (1, K) logits
    label, prob = int(classes[0]), float(probs[0])
    name = class_names[label] if class_names else str(label)

    rows = 1 + sum(blocks)
    width, height = 1.2 * (cols + 1) + 1.3, 1.3 * rows + 0.5  # inches
    # A fixed grid, not the constrained layout: that solver takes seconds on a hundred maps.
    fig = _figure((width, height), layout=None)
    axes = fig.subplots(rows, cols + 1, squeeze=False, gridspec_kw=dict(
        left=0.1 / width, right=1 - 1.3 / width, bottom=0.1 / height, top=1 - 0.5 / height,
        wspace=0.12, hspace=0.4))
    for ax in axes.ravel():
        ax.axis("off")
    _show_image(axes[0, 0], _one_image(model, np.asarray(x, dtype=model.dtype))[0])
    axes[0, 0].set_title(_("input"), fontsize=8)
    fig.suptitle(_("feature maps: predicted {name} ({probability}); {channels}").format(
        name=name, probability=f"{prob:.1%}", channels=_channels_title(spatial, shown)),
        fontsize=10)
    row = 1
    for (i, kind, a), chans, block in zip(spatial, shown, blocks):
        axes[row, 0].text(0.5, 0.5, f"{i}: {kind}\n{'x'.join(map(str, a.shape))}\n"
                          f"{describe_channels(chans, a.shape[2])}",
                          ha="center", va="center", fontsize=7)
        for j, ch in enumerate(chans):
            ax = axes[row + j // COLUMNS, 1 + j % COLUMNS]
            ax.imshow(a[:, :, ch], cmap="viridis", norm=norm)
            ax.set_title(_("ch {c}").format(c=ch), fontsize=7)
        row += block
    bar = fig.add_axes((1 - 1.05 / width, 0.2, 0.15 / width, 0.6), label="colorbar")
    fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"), cax=bar,
                 label=_("activation (one scale for every map)"))
    return fig, maps


def plot_features(model: Sequential, x, path=None, *, channels=None, class_names=None):
    """Draw :func:`features_figure` to ``path`` (PNG or SVG) and return what
    :func:`feature_maps` returned; without ``path``, return the figure (shown inline in Jupyter).

    Args:
        channels: None (the first `MAX_CHANNELS` of each layer), ``"all"``, or channel indices.
        class_names: names for the predicted class in the title (default: its index).
    """
    path = _check_path(path)
    with plot_labels():  # the labels in the current language, with a CJK font for Chinese
        fig, maps = features_figure(model, x, channels=channels, class_names=class_names)
        _save(fig, path)
    return fig if path is None else maps


# ------------------------------------------------------------------------------------- filters

def plot_filters(model: Sequential, path=None, *, layer: int | None = None):
    """The kernels of conv layer ``layer`` (default: the first Conv2D); returns its weight
    (kh, kw, C_in / groups, C_out). RGB tiles when the layer reads 3 channels, else the kernel
    of input channel 0 per filter, on one diverging colour scale centred at 0."""
    model = _check_model(model)
    path = _check_path(path)
    convs = [i for i, m in enumerate(model.layers) if isinstance(m, Conv2D)]
    if not convs:
        raise ValueError("the model has no Conv2D layer to draw filters of")
    if layer is None:
        layer = convs[0]
    if layer not in convs:
        raise ValueError(f"`layer` {layer!r} is not a Conv2D layer; the conv layers are {convs}")
    w = model.layers[layer].params["weight"].data.copy()  # (kh, kw, C_in/g, C_out)
    n = min(w.shape[3], MAX_FILTERS)
    cols = min(n, 8)
    rows = -(-n // cols)
    with plot_labels():
        fig = _draw_filters(w, n, cols, rows, layer, path)
    return fig if path is None else w


def _draw_filters(w, n, cols, rows, layer, path):
    fig = _figure((1.3 * cols + 1, 1.3 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False)
    limit = float(np.abs(w).max()) or 1.0
    im = None
    for f, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if f >= n:
            continue
        if w.shape[2] == 3:
            ax.imshow((w[:, :, :, f] / limit + 1) / 2)  # (kh, kw, 3) in [0, 1]
        else:
            im = ax.imshow(w[:, :, 0, f], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(_("filter {f}").format(f=f), fontsize=7)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8)
    fig.suptitle(_("layer {layer} (Conv2D) kernels, {shape}").format(
        layer=layer, shape="x".join(map(str, w.shape)))
                 + ("" if w.shape[2] in (1, 3) else _(", input channel 0")))
    _save(fig, path)
    return fig


# ------------------------------------------------------------------------- confusion and curves

def plot_confusion(confusion, path=None, *, class_names=None):
    """``confusion[i, j]``: examples of true class i predicted j, with the counts written in."""
    path = _check_path(path)
    cm = np.asarray(confusion)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"`confusion` must be a square (K, K) array, got shape {cm.shape}")
    k = cm.shape[0]
    names = list(class_names) if class_names else [str(i) for i in range(k)]
    with plot_labels():
        fig = _draw_confusion(cm, k, names, path)
    return fig if path is None else cm


def _draw_confusion(cm, k, names, path):
    fig = _figure((1 + 0.55 * k, 0.8 + 0.5 * k))
    ax = fig.subplots()
    im = ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel(_("predicted class"))
    ax.set_ylabel(_("true class"))
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(_("confusion matrix, accuracy {accuracy:.2%}").format(accuracy=acc))
    fig.colorbar(im, ax=ax, shrink=0.8)
    _save(fig, path)
    return fig


def plot_curves(history, path=None):
    """Training curves via :func:`juanji.plots.plot_history` (PNG only; None: the Figure)."""
    from ..plots import plot_history
    path = _check_path(path)
    if path is not None and path.suffix.lower() != ".png":
        raise ValueError(f"`path` {str(path)!r}: training curves are written as PNG only "
                         f"(juanji.plots.plot_history); use a .png name")
    return plot_history(history, path)
