"""The interactive explainer page: one self-contained ``index.html`` for a checkpoint.

``write_page(checkpoint, images, out_dir)`` embeds two JSON documents:

- ``juanji-model`` (:func:`model_data`): every layer's kind, shapes, resolved window and its
  parameters as base64 float64, and the normaliser. ``page/port.js``, a float64 JavaScript port of
  every juanji layer, computes the forward pass and the backward pass of any class from them.
- ``juanji-data`` (:func:`page_data`): the title (model, data set, test accuracy), the class
  names, each layer's label (:func:`juanji.explain.display.layer_label`), the example images
  as raw uint8 pixels (base64, before normalisation, as ``juanji predict`` reads them), and the
  page's strings in Chinese from juanji's gettext catalog (context "page", listed in
  :mod:`juanji.explain.page_messages`); English is the strings themselves.

Every number the page shows is computed in the page (``page/page.js`` draws the views), so the
page carries no activations or gradients: a learner's own drawing is explained like a test image.
Nothing is fetched: no network, no build step.
"""

from __future__ import annotations

import base64
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_text
from .. import i18n
from ..validation import check_int
from . import display, page_messages

__all__ = ["model_data", "page_data", "render_html", "write_page"]

DEFAULT_EXAMPLES = 4  # test images shown when no image is given


def _u8(image: np.ndarray) -> str:
    """base64 of a uint8 (H, W, C) image, row-major."""
    return base64.b64encode(np.ascontiguousarray(image, dtype=np.uint8).tobytes()).decode("ascii")


def page_data(model, images, names, *, class_names=None, true_labels=None, label=None,
              title="juanji explainer", subtitle="", polarity=None, lang=None) -> dict:
    """The page's JSON as a dict, for raw uint8 ``images`` (N, H, W, C) (0..255, before
    normalisation). ``label`` is the class whose loss the backward view shows first (None: the
    predicted class of each image). ``polarity``: the training images' polarity
    (``juanji.data.polarity.Polarity``) or None; with it, a drawing or an upload is inverted by
    the same rule as ``juanji predict``, else the page offers an invert switch. ``lang``: the
    language the page opens in (``"en"`` or ``"zh"``; None: :func:`juanji.i18n.get_language`);
    both catalogs are embedded and the page switches between them."""
    lang = i18n.get_language() if lang is None else i18n.check_language(lang)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] < 1:
        raise ValueError(f"`images` must be a (N, H, W, C) array with N >= 1, got shape "
                         f"{images.shape}")
    if tuple(images.shape[1:]) != tuple(model.input_shape):
        raise ValueError(f"`images` must be {tuple(model.input_shape)} images, got "
                         f"{tuple(images.shape[1:])}")
    if images.dtype != np.uint8:
        raise ValueError(f"`images` must be raw uint8 pixels 0..255, got dtype {images.dtype}")
    true_labels = [None] * len(images) if true_labels is None else list(true_labels)
    k = model.output_shape[0]
    k = 2 if k == 1 else k  # one logit: the two classes of the binary head
    classes = [str(c) for c in class_names] if class_names else [str(i) for i in range(k)]
    return {
        "title": title, "subtitle": subtitle, "classes": classes, "label": label,
        "input_shape": list(model.input_shape),
        "layers": [{"label": display.layer_label(i, layer),
                    "inputs_per_output": layer.inputs_per_output()}
                   for i, layer in enumerate(model.layers)],
        "display": {"sig_digits": display.SIG_DIGITS, "diverging": display.DIVERGING},
        "polarity": _polarity(polarity),
        "lang": lang,
        "strings": {code: i18n.catalog_dict(code, page_messages.CONTEXT)
                    for code in i18n.LANGUAGES if code != "en"},
        "examples": [{"name": n, "true_label": y, "pixels": _u8(x)}
                     for x, n, y in zip(images, names, true_labels)],
    }


def _polarity(polarity) -> dict | None:
    """The polarity's numbers and the thresholds of its rule, for the page's port of it."""
    if polarity is None:
        return None
    from juanji.data import polarity as rule

    return {**polarity.to_dict(), "min_contrast": rule.MIN_CONTRAST,
            "min_agreement": rule.MIN_AGREEMENT}


def _f64(a) -> str:
    """base64 of the array's values as little-endian float64, row-major (the page decodes it)."""
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode("ascii")


def model_data(model, normalizer) -> dict:
    """The model as the page's port (``page/port.js``) computes it: every layer's kind, its
    shapes and resolved window, its parameters and buffers in float64, and the normaliser
    ``(x / 255 - mean) / std`` per channel."""
    layers = []
    for layer in model.layers:
        kind = type(layer).__name__
        info = {"kind": kind, "in_shape": list(layer.in_shape), "out_shape": list(layer.out_shape)}
        window = layer.window()
        if window is not None:
            info.update(window.to_dict())
        for attr in ("groups", "ceil_mode", "count_include_pad", "negative_slope", "eps"):
            if hasattr(layer, attr):
                info[attr] = getattr(layer, attr)
        names = {"weight": "w", "bias": "b", "gamma": "w", "beta": "b"}
        for name, param in layer.params.items():
            info[names[name]] = _f64(param.data)
            if names[name] == "w":
                info["w_shape"] = list(param.data.shape)
        for name, key in (("running_mean", "mean"), ("running_var", "var")):
            if name in getattr(layer, "buffers", {}):
                info[key] = _f64(layer.buffers[name])
        layers.append(info)
    return {"input_shape": list(model.input_shape), "layers": layers,
            "normalizer": {"mean": [float(m) for m in normalizer.mean],
                           "std": [float(s) for s in normalizer.std]}}


def _asset(name: str) -> str:
    return (resources.files(__package__) / "page" / name).read_text(encoding="utf-8")


def _json(data) -> str:
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    # '<' escaped: no class name can close the <script> element the JSON sits in.
    return payload.replace("<", "\\u003c")


def render_html(data: dict, model: dict | None = None) -> str:
    """Inline the CSS, the JS, the data and the model (``model_data``) into the page template
    (one pass: inserted text is never searched for markers again)."""
    parts = {"/*__CSS__*/": _asset("page.css"),
             "/*__JS__*/": _asset("port.js") + "\n" + _asset("page.js"),
             "__TITLE__": _escape(data["title"]),
             "__SUBTITLE__": _escape(data.get("subtitle", "")), "__DATA__": _json(data),
             "__MODEL__": _json(model) if model is not None else "null"}
    html = _asset("page.html")
    for marker in parts:
        if marker not in html:
            raise RuntimeError(f"the page template lacks the marker {marker}")
    pattern = "|".join(re.escape(m) for m in parts)
    return re.sub(pattern, lambda m: parts[m.group(0)], html)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _test_set(ck, data_dir):
    """The test split of the data set the checkpoint was trained on, or None when unknown,
    unloadable here or of another image shape."""
    from juanji.data import load_dataset
    from juanji.data.registry import DATASETS

    if ck.dataset is None or ck.dataset not in DATASETS:
        return None
    _, test = load_dataset(ck.dataset, data_dir)
    return test if tuple(test.input_shape) == tuple(ck.input_shape) else None


def _load_inputs(ck, images, test, *, num_examples, invert):
    """uint8 (N, H, W, C) images with their names and true labels (None for files)."""
    if images:
        from juanji.data.folder import read_model_image  # the same loader as `juanji predict`

        paths = [Path(p) for p in images]
        for p in paths:
            if not p.is_file():
                raise ValueError(f"`images`: file {str(p)!r} does not exist")
        x = np.stack([read_model_image(p, ck.input_shape, invert) for p in paths])  # (N, H, W, C)
        return x, [p.name for p in paths], None
    if test is None:
        raise ValueError(f"the checkpoint's data set ({ck.dataset!r}) cannot be loaded here as "
                         f"{tuple(ck.input_shape)} images; give `images`")
    n = min(num_examples, len(test))
    names = [f"{ck.dataset} test #{i} ({test.class_names[test.y[i]]})" for i in range(n)]
    return np.asarray(test.x[:n]), names, [int(v) for v in test.y[:n]]


def _test_accuracy(ck, checkpoint_path: Path, test, normalizer) -> float | None:
    """The checkpoint's test accuracy: from the ``metrics.json`` that ``juanji train`` writes
    beside it when that file names this checkpoint, else measured now on ``test`` (None when
    neither is there)."""
    metrics = checkpoint_path.parent / "metrics.json"
    try:
        stored = json.loads(metrics.read_text(encoding="utf-8"))
        best = Path(stored["files"]["best"]).name
        if best == checkpoint_path.name and isinstance(stored["test_accuracy"], (int, float)):
            return float(stored["test_accuracy"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no metrics file, or not this checkpoint's: measure below
    if test is None:
        return None
    from juanji.train import evaluate

    return float(evaluate(ck.model, test, normalizer).accuracy)


def _title(ck, checkpoint_path: Path, accuracy: float | None) -> tuple[str, str]:
    """``('juanji explainer: lenet5 on mnist', 'test accuracy 98.91% · best.npz')``."""
    options = ck.extra.get("options") if isinstance(ck.extra, dict) else None
    model = options.get("model") if isinstance(options, dict) else None
    what = model or "model " + "-".join(type(layer).__name__ for layer in ck.model.layers[:3]) + "…"
    title = f"juanji explainer: {what}" + (f" on {ck.dataset}" if ck.dataset else "")
    acc = "test accuracy unknown" if accuracy is None else f"test accuracy {accuracy:.2%}"
    return title, f"{acc} \u00b7 {checkpoint_path.name}"


def write_page(checkpoint_path, images, out_dir, *, label=None, num_examples=DEFAULT_EXAMPLES,
               data_dir=None, invert=False, lang=None) -> Path:
    """Write ``out_dir/index.html`` explaining the checkpoint's model on ``images``.

    Args:
        checkpoint_path: a ``.npz`` written by :func:`juanji.checkpoint.save_checkpoint`, with a
            normaliser (the model's inputs are ``normalizer(uint8 image)``).
        images: PNG/JPG paths (resized to the model's input like ``juanji predict``); empty for
            the first ``num_examples`` test images of the data set the checkpoint was trained on.
        out_dir: created if needed.
        label: the class whose loss the backward view shows first (the page can switch to any
            embedded class); None for each input's predicted class.
        num_examples: how many test images when ``images`` is empty.
        data_dir: where MNIST-like data sets are read from (as in ``juanji evaluate``).
        invert: invert grey levels of ``images`` (white digit on black, as in ``juanji predict``).
        lang: the language the page opens in, ``"en"`` or ``"zh"`` (None: juanji's language,
            ``--lang`` or the locale); the page has a switch for the other.

    Returns:
        The path of the written ``index.html``.
    """
    from juanji.checkpoint import load_checkpoint

    check_int(num_examples, "num_examples")
    ck = load_checkpoint(checkpoint_path)
    normalizer = ck.load_normalizer()
    if normalizer is None:
        raise ValueError(f"{str(checkpoint_path)!r} holds no normaliser, so the model's inputs "
                         f"are unknown; save it with `normalizer=`")
    checkpoint_path = Path(checkpoint_path)
    test = _test_set(ck, data_dir) if not images else None
    x, names, true_labels = _load_inputs(ck, list(images or []), test, num_examples=num_examples,
                                         invert=invert)
    title, subtitle = _title(ck, checkpoint_path,
                             _test_accuracy(ck, checkpoint_path, test, normalizer))
    # the training images' polarity, in checkpoints that store it
    load_polarity = getattr(ck, "load_polarity", None)
    data = page_data(ck.model, x, names, class_names=ck.class_names, true_labels=true_labels,
                     label=label, title=title, subtitle=subtitle,
                     polarity=load_polarity() if load_polarity else None, lang=lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    atomic_write_text(path, render_html(data, model_data(ck.model, normalizer)))  # never half a page
    return path
