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
from ..i18n import _
from ..nn import Conv2D, Sequential, head
from ..plots import plot_labels

__all__ = ["FORMATS", "feature_maps", "plot_confusion", "plot_curves", "plot_features",
           "plot_filters", "plot_saliency", "saliency"]

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


def _figure(figsize):
    from ..plots import new_figure  # no pyplot: no global state, no GUI; inline in Jupyter
    return new_figure(figsize)


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


def plot_features(model: Sequential, x, path=None, *, max_channels: int = MAX_CHANNELS):
    """One row per layer with a spatial output, its first ``max_channels`` maps; returns what
    :func:`feature_maps` returned."""
    path = _check_path(path)
    maps = feature_maps(model, x)
    spatial = [(i, kind, a) for i, kind, a in maps if a.ndim == 3]
    rows = len(spatial) + 1
    with plot_labels():
        fig = _figure((1.4 * (max_channels + 1), 1.5 * rows))
        axes = fig.subplots(rows, max_channels + 1, squeeze=False)
        for ax in axes.ravel():
            ax.axis("off")
        _show_image(axes[0, 0], _one_image(model, np.asarray(x, dtype=model.dtype))[0])
        axes[0, 0].set_title(_("input"), fontsize=8)
        for r, (i, kind, a) in enumerate(spatial, start=1):
            axes[r, 0].text(0.5, 0.5, f"{i}: {kind}\n{'x'.join(map(str, a.shape))}",
                            ha="center", va="center", fontsize=8)
            for ch in range(min(max_channels, a.shape[2])):
                axes[r, ch + 1].imshow(a[:, :, ch], cmap="viridis")
                axes[r, ch + 1].set_title(_("ch {c}").format(c=ch), fontsize=7)
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
