"""The interactive explainer page: one self-contained ``index.html`` for a checkpoint.

``write_page(checkpoint, images, out_dir)`` traces every input (:func:`juanji.explain.trace.trace`)
and embeds, as JSON in a ``<script type="application/json">`` tag:

    the layers (kind, shapes, kernel/stride/padding as resolved by juanji, weights, biases,
    average-pool divisors), and per input: every activation a_l, the max-pool winners (argmax),
    the probabilities, and a backward pass per class (the loss, every gradient dL/da_l, the conv
    layers' parameter gradients), so the page can switch the class whose loss it
    differentiates; a model with more than MAX_LABELS classes gets the default class's, the true
    class's and the most probable ones' passes, MAX_LABELS in all.

The page's hand-written JavaScript (``page/page.js``, inlined with ``page/page.css`` into
``page/page.html``) draws the network and recomputes, from these embedded numbers, a conv
neuron's window x kernel + bias, a pool window, and a kernel weight's gradient as a sum over the
output pixels it touched; each result is shown next to juanji's own value. Nothing is fetched:
no network, no build step.
"""

from __future__ import annotations

import base64
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_text
from ..validation import check_int
from ..nn import head
from .trace import trace

__all__ = ["page_data", "write_page"]

DEFAULT_EXAMPLES = 4  # test images shown when no image is given
MAX_LABELS = 10  # backward passes embedded per input: every class of a model with up to this many
ACTIVATIONS = ("ReLU", "LeakyReLU", "Sigmoid", "Tanh")


def _array(a: np.ndarray) -> dict:
    """``{"shape", "data"}`` with the data flat, row-major; the batch axis dropped.

    float32 values are written in their shortest round-trip form (the page rounds them back with
    ``Math.fround``), so the page reads exactly juanji's numbers. Non-finite values become null.
    """
    a = np.asarray(a)
    if a.ndim and a.shape[0] == 1 and a.ndim in (2, 4):
        a = a[0]  # (1, H, W, C) -> (H, W, C); (1, K) -> (K,)
    flat = a.reshape(-1)  # (size,)
    if flat.dtype.kind == "f":
        finite = np.isfinite(flat)
        text = flat.astype(str) if flat.dtype == np.float32 else [repr(float(v)) for v in flat]
        data = [float(t) if ok else None for t, ok in zip(text, finite)]
    else:
        data = flat.tolist()
    return {"shape": list(a.shape), "data": data}


def _layer_info(lt) -> dict:
    """What the page needs to know about a layer (geometry as juanji resolved it) and its weights."""
    layer = lt.layer
    info = {"index": lt.index, "kind": lt.kind, "in_shape": list(lt.x.shape[1:]),
            "out_shape": list(lt.y.shape[1:]), "params": {n: _array(p) for n, p in
                                                          lt.params.items()}}
    window = layer.window()  # kernel, stride, dilation, padding resolved for this input
    if window is not None:
        info.update(window.to_dict())
    if lt.kind == "Conv2D":
        info.update(groups=layer.groups, use_bias=layer.use_bias)
    elif lt.kind in ("MaxPool2D", "AvgPool2D"):
        info.update(ceil_mode=layer.ceil_mode)
        if lt.kind == "AvgPool2D":
            geo = lt.cache.geometry
            ho, wo = geo.out_shape[1:3]
            divisor = np.broadcast_to(lt.cache.divisor, (ho, wo, 1))[:, :, 0]  # (Ho, Wo)
            info.update(count_include_pad=layer.count_include_pad, divisor=_array(divisor))
    elif lt.kind == "LeakyReLU":
        info["negative_slope"] = layer.negative_slope
    return info


def _labels_to_embed(t, k: int, true_label: int | None) -> list[int]:
    """The classes whose backward pass the page carries for one input: all of them up to
    MAX_LABELS classes; beyond, the default one, the true one and the most probable others."""
    if k <= MAX_LABELS:
        return list(range(k))
    by_prob = [int(c) for c in np.argsort(-t.probs, kind="stable")]
    wanted = [t.label] + ([] if true_label is None else [true_label]) + by_prob
    return list(dict.fromkeys(wanted))[:MAX_LABELS]  # unique, first occurrences kept


def _backward(t) -> dict:
    """One label's backward pass: L, dL/da_0..dL/da_L and the conv layers' dL/dθ."""
    return {
        "label": t.label, "loss": t.loss,
        "grads": [_array(t.layers[0].dx)] + [_array(lt.dy) for lt in t.layers],
        "param_grads": {str(lt.index): {n: _array(g) for n, g in lt.grads.items()}
                        for lt in t.layers if lt.grads and lt.kind == "Conv2D"},
    }


def _example(model, t, name: str, true_label: int | None) -> dict:
    """One input traced for its default label (``t``): activations a_0..a_L, max-pool winners,
    and a backward pass per embedded label, ``t``'s the one the page shows first."""
    k = head.num_classes(model.output_shape[0])
    passes = {c: t if c == t.label else trace(model, t.x, c)
              for c in _labels_to_embed(t, k, true_label)}
    return {
        "name": name, "true_label": true_label, "label": t.label, "predicted": t.predicted,
        "probs": [float(p) for p in t.probs],
        "acts": [_array(t.x)] + [_array(lt.y) for lt in t.layers],
        "argmax": {str(lt.index): _array(lt.cache.argmax.astype(np.int64))
                   for lt in t.layers if lt.kind == "MaxPool2D"},
        "backward": [_backward(passes[c]) for c in sorted(passes)],
    }


def page_data(model, inputs, names, *, class_names=None, true_labels=None, label=None,
              title="juanji explainer") -> dict:
    """Trace every normalised input (N, H, W, C) through ``model``; the page's JSON as a dict."""
    if len(inputs) < 1:
        raise ValueError("`inputs` must hold at least one image, got none")
    true_labels = [None] * len(inputs) if true_labels is None else list(true_labels)
    traces = [trace(model, inputs[i:i + 1], label) for i in range(len(inputs))]
    k = head.num_classes(model.output_shape[0])
    classes = [str(c) for c in class_names] if class_names else [str(i) for i in range(k)]
    return {
        "title": title, "dtype": str(model.dtype), "classes": classes,
        "input_shape": list(model.input_shape),
        "layers": [_layer_info(lt) for lt in traces[0].layers],
        "examples": [_example(model, t, n, y) for t, n, y in zip(traces, names, true_labels)],
    }


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
             "__TITLE__": _escape(data["title"]), "__DATA__": _json(data),
             "__MODEL__": _json(model) if model is not None else "null"}
    html = _asset("page.html")
    for marker in parts:
        if marker not in html:
            raise RuntimeError(f"the page template lacks the marker {marker}")
    pattern = "|".join(re.escape(m) for m in parts)
    return re.sub(pattern, lambda m: parts[m.group(0)], html)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _load_inputs(ck, images, *, data_dir, num_examples, invert):
    """uint8 (N, H, W, C) images with their names and true labels (None for files)."""
    if images:
        from juanji.data.folder import read_model_image  # the same loader as `juanji predict`

        paths = [Path(p) for p in images]
        for p in paths:
            if not p.is_file():
                raise ValueError(f"`images`: file {str(p)!r} does not exist")
        x = np.stack([read_model_image(p, ck.input_shape, invert) for p in paths])  # (N, H, W, C)
        return x, [p.name for p in paths], None
    from juanji.data import load_dataset
    from juanji.data.registry import DATASETS

    dataset = ck.dataset
    if dataset is None:
        raise ValueError("the checkpoint does not say which data set it was trained on; give "
                         "`images`")
    if dataset not in DATASETS:
        raise ValueError(f"the checkpoint was trained on {dataset!r}, which juanji cannot load; "
                         f"give `images`")
    _, test = load_dataset(dataset, data_dir)
    if tuple(test.input_shape) != tuple(ck.input_shape):
        raise ValueError(f"the checkpoint's model takes {ck.input_shape} images but {dataset!r} "
                         f"has {test.input_shape}; give `images`")
    n = min(num_examples, len(test))
    names = [f"{dataset} test #{i} ({test.class_names[test.y[i]]})" for i in range(n)]
    return np.asarray(test.x[:n]), names, [int(v) for v in test.y[:n]]


def write_page(checkpoint_path, images, out_dir, *, label=None, num_examples=DEFAULT_EXAMPLES,
               data_dir=None, invert=False) -> Path:
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
    x, names, true_labels = _load_inputs(ck, list(images or []), data_dir=data_dir,
                                         num_examples=num_examples, invert=invert)
    data = page_data(ck.model, normalizer(x), names, class_names=ck.class_names,
                     true_labels=true_labels, label=label,
                     title=f"juanji explainer: {Path(checkpoint_path).name}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    atomic_write_text(path, render_html(data, model_data(ck.model, normalizer)))  # a reader never sees half a page
    return path
