"""Every string the explainer page shows, marked for juanji's gettext catalog (context "page").

The page's JavaScript (``page/page.js``, ``page/page.html``) writes each string in English and
looks it up with ``tr(english, {field: value})``; :func:`juanji.explain.page.page_data` embeds
``juanji.i18n.catalog_dict(lang, "page")`` as its table. This module is the list the catalog is
extracted from (``python scripts/i18n.py extract``); a test checks that it holds exactly the
strings of page.js and page.html, so a string added to the page without a translation fails.
"""

from __future__ import annotations

from ..i18n import pgettext

__all__ = ["CONTEXT", "messages"]

CONTEXT = "page"


def messages() -> list[str]:
    """The page's strings in the language in use (each a literal, for the extractor)."""
    return [
        pgettext("page", " ✓ equal"),
        pgettext("page", " ✗ differs"),
        pgettext("page", "colour scale from {lo} (blue) through 0 (white) to {hi} (red)"),
        pgettext("page", "input {s}"),
        pgettext("page", " True class: {c}."),
        pgettext("page", "Predicted: {c} (p = {p})."),
        pgettext("page",
                 "Gradients of the loss L = −log p[{c}] = {loss} (the predicted class) "
                 "with respect to every activation."),
        pgettext("page",
                 "Gradients of the loss L = −log p[{c}] = {loss} (the chosen class) with"
                 " respect to every activation."),
        pgettext("page", "the class whose loss is differentiated"),
        pgettext("page", " (predicted)"),
        pgettext("page", " (true)"),
        pgettext("page", "loss of class "),
        pgettext("page",
                 "Activations: blue < 0, white 0, red > 0; each column scaled to its own"
                 " largest |value| (under its name)."),
        pgettext("page",
                 "Gradients dL/da: blue < 0, white 0, red > 0; each column scaled to its"
                 " own largest |value| (under its name)."),
        pgettext("page", "diverging colour scale, blue negative, white zero, red positive"),
        pgettext("page", ", channel {c}"),
        pgettext("page", "probabilities"),
        pgettext("page", "Feature map"),
        pgettext("page", "Choose a feature map in the network above."),
        pgettext("page", ": activations"),
        pgettext("page", ": gradient of the loss"),
        pgettext("page", "row {i}, column {j}"),
        pgettext("page", "unit {n}"),
        pgettext("page", "input row {i}, column {j}"),
        pgettext("page", ", won {n} window(s)"),
        pgettext("page", ", won no window"),
        pgettext("page", ", receives {v}"),
        pgettext("page", "Routing mask: layer {l} input, channel {c}"),
        pgettext("page",
                 "Max pooling sends each output gradient to the one cell that won its "
                 "window (outlined; the first maximum on ties). Every other cell gets 0."
                 " Numbers: dL/dx of the layer’s backward."),
        pgettext("page", "sum of products per input channel (choose one to see it):"),
        pgettext("page", "padding: 0"),
        pgettext("page", "input channel {c}"),
        pgettext("page", "window of a{k}"),
        pgettext("page", "kernel w[:, :, {c}, {o}]"),
        pgettext("page", "products"),
        pgettext("page", "sum of products = "),
        pgettext("page",
                 "Output ({i}, {j}) of filter {o}: each input channel’s window (stride "
                 "{s}, padding {p}, dilation {d}) times the kernel, element by element, "
                 "summed, plus the bias."),
        pgettext("page", "Σ over {n} channel(s) = "),
        pgettext("page", " + bias "),
        pgettext("page", "; the layer’s output: "),
        pgettext("page", "; layer {l} computes: "),
        pgettext("page", "z if z > 0 else {a}z"),
        pgettext("page", "Window of output ({i}, {j}), channel {c}: "),
        pgettext("page", ", stride {s}, padding {p}."),
        pgettext("page",
                 " ({n} cells tie: every cell of the window is {v}; the first in "
                 "row-major order, outlined at window offset "),
        pgettext("page",
                 " ({n} cells tie at it; the first in row-major order, outlined at "
                 "window offset "),
        pgettext("page", " (the outlined cell, window offset "),
        pgettext("page",
                 ", counts as the winner and gets the whole gradient); the layer’s "
                 "output: "),
        pgettext("page", ", wins); the layer’s output: "),
        pgettext("page", "Backward: the whole dL/dy = "),
        pgettext("page",
                 " goes to the winning cell; the other cells of this window get 0 from "
                 "it."),
        pgettext("page", "mean = sum "),
        pgettext("page", " cells (padding counted)"),
        pgettext("page", " real cells"),
        pgettext("page", "Backward: dL/dy = "),
        pgettext("page", " is split equally: every cell of the window receives dL/dy / divisor = "),
        pgettext("page", " (summed where windows overlap)."),
        pgettext("page", "weight w[{a}, {b}, {c}, {o}] = {w}, gradient {g}"),
        pgettext("page", "Kernel weights of filter {o} (colour and number: dL/dW); choose one"),
        pgettext("page", "Bias: dL/db = Σ over every output pixel of dL/dz = "),
        pgettext("page", "; the layer’s backward: "),
        pgettext("page", "dL/dW[{a}, {b}, {c}, {o}]: weight {w}"),
        pgettext("page",
                 "The weight is shared by every output pixel of filter {o}, so its "
                 "gradient is the sum, over all of them, of (the input it multiplied) × "
                 "(dL/dz at that pixel)."),
        pgettext("page", "output (i, j)"),
        pgettext("page", "input it multiplied"),
        pgettext("page", "contribution"),
        pgettext("page", "sum"),
        pgettext("page", "Σ contributions = "),
        pgettext("page", "; the layer’s backward dW: "),
        pgettext("page",
                 "Unit {n} of a dense layer: every one of its {k} inputs times its own "
                 "weight, summed, plus the bias. The {m} largest terms:"),
        pgettext("page", "input k"),
        pgettext("page", "the other {n}"),
        pgettext("page", "Σ over {n} inputs = "),
        pgettext("page", "output position, row by row"),
        pgettext("page", "Pause"),
        pgettext("page", "Play"),
        pgettext("page", "Step ▶"),
        pgettext("page", "Where the window sits: a{k}, channel {c}"),
        pgettext("page",
                 "Output ({i}, {j}) reads the outlined {f} window (stride {s}; hatched "
                 "cells are padding). "),
        pgettext("page", "Slide it across the map:"),
        pgettext("page",
                 "Backward, this output’s dL/dz goes back to these cells, weighted by "
                 "the kernel:"),
        pgettext("page", "({i}, {j}) of {h}×{w}"),
        pgettext("page", "the other {n} terms"),
        pgettext("page", "; the port’s "),
        pgettext("page", "unit n"),
        pgettext("page", "product"),
        pgettext("page",
                 "Dense backward, dx = dy Wᵀ: input {q} fed every one of the {d} units "
                 "through its weight W[{q}, n], so its gradient sums dL/dy[n] × W[{q}, "
                 "n] over them."),
        pgettext("page", "; the port’s dW: "),
        pgettext("page", "db = dy: each bias gets its unit’s dL/dy (dL/db[{n}] = {v})."),
        pgettext("page",
                 "Un-flatten: Flatten wrote a{k} row by row, channels fastest, so flat "
                 "index q = (h × {w} + w) × {c} + c and back h = ⌊q / {wc}⌋, w = ⌊q / "
                 "{c}⌋ mod {w}, c = q mod {c}."),
        pgettext("page", "cell {cell} ↔ flat index "),
        pgettext("page", " is its gradient; the port’s: "),
        pgettext("page",
                 "Global average: every cell of channel {c} counts 1/{n} in its mean, so"
                 " it gets dL/dy[{c}] / {n}."),
        pgettext("page",
                 "Batch norm (eval) is y = γ (x − mean) / √(var + ε) + β with fixed "
                 "statistics, so dx = dy × γ / √(var + ε) = dy × {s} for channel {c}."),
        pgettext("page", "Dropout does nothing outside training: dx = dy."),
        pgettext("page", "the ReLU gate 1[z > 0]"),
        pgettext("page", "1 if z > 0 else {a}"),
        pgettext("page", ", factor "),
        pgettext("page", "z > 0: the gate is open, the gradient passes."),
        pgettext("page", "z ≤ 0: the gate is shut, this cell gets no gradient (whatever da is)."),
        pgettext("page", "this cell"),
        pgettext("page", "another cell"),
        pgettext("page", "window (i, j)"),
        pgettext("page", "its max"),
        pgettext("page", "sent here"),
        pgettext("page", "divisor"),
        pgettext("page", "share"),
        pgettext("page",
                 "Max-pool routing: each window sends its whole dL/dy to the cell that "
                 "won it; this cell sits in {n} window(s) and sums what those it won "
                 "send."),
        pgettext("page",
                 "Average split: each window sends dL/dy / divisor to every cell in it; "
                 "this cell sits in {n} window(s) and sums its shares."),
        pgettext("page", "filter o"),
        pgettext("page", "weight met"),
        pgettext("page",
                 "Conv dX (the course’s dA_prev): cell {cell} is in {w} window(s); in "
                 "each it met one kernel weight of every filter, so its gradient is the "
                 "sum of (that weight) × (that output’s dL/dz): {n} terms."),
        pgettext("page", "One logit, binary cross-entropy: dL/dz = σ(z) − y."),
        pgettext("page", "Softmax with cross-entropy: dL/dz = p − y, with y one-hot on class {c}."),
        pgettext("page", "logit"),
        pgettext("page", "class"),
        pgettext("page", "port"),
        pgettext("page", "Backward through layer {l}: "),
        pgettext("page", "loss → logits: p − y"),
        pgettext("page", " (as the port computes it)"),
        pgettext("page", "The backward chain"),
        pgettext("page",
                 "From the loss back to the input, one layer at a time. Each step opens "
                 "the gradient map it produces at its largest |value|; click any cell "
                 "there to see how its number is computed."),
        pgettext("page", "Input pixel ({i}, {j}, {c}): raw "),
        pgettext("page", ", after normalisation (x / 255 − mean) / std: "),
        pgettext("page", "value: "),
        pgettext("page", "Computation"),
        pgettext("page",
                 "So dL/db[{u}] is dL/da{k}[{u}], and dL/dW[k, {u}] = x[k] × it for "
                 "every input k: each weight of the unit gets its input times the unit’s"
                 " gradient."),
        pgettext("page", "How this neuron was computed (forward)"),
        pgettext("page", "Choose a feature map, then a neuron."),
        pgettext("page", "Choose a neuron of this map."),
        pgettext("page", "start from a layer of the model"),
        pgettext("page", " ({s} in)"),
        pgettext("page", "layer"),
        pgettext("page", "p on each side"),
        pgettext("page", "before / after"),
        pgettext("page", "'same' (TensorFlow/Keras)"),
        pgettext("page", "'valid' (none)"),
        pgettext("page", "input size n"),
        pgettext("page", "kernel f"),
        pgettext("page", "stride s"),
        pgettext("page", "padding before"),
        pgettext("page", "padding after"),
        pgettext("page", "dilation d"),
        pgettext("page", "padding"),
        pgettext("page", "ceil mode (pooling)"),
        pgettext("page", "Output size playground"),
        pgettext("page",
                 "The output size along one axis, from the same formula juanji uses "
                 "everywhere (juanji.functional.output_size): out = floor((n + p_before "
                 "+ p_after − d(f − 1) − 1) / s) + 1; with p on each side, n + 2p. "
                 "‘same’ pads so that out = ceil(n / s), the odd pixel after."),
        pgettext("page", "{a} / {b} is not exact: "),
        pgettext("page",
                 "ceil mode rounds up, adding a window that hangs over the edge (if it "
                 "starts inside the input)."),
        pgettext("page", "floor drops the last {n} pixel(s) no window reaches."),
        pgettext("page", "input too long to draw"),
        pgettext("page", "window {o} starts at {s}"),
        pgettext("page", "… and {n} more windows"),
        pgettext("page",
                 "Draw in the box, or upload an image: it is resized and converted as "
                 "juanji predict reads a file."),
        pgettext("page", "The training images are {kind}; this {what} is {mine}"),
        pgettext("page", "of no clear polarity"),
        pgettext("page", ", so it is inverted (255 − x) as juanji predict does."),
        pgettext("page", ", so it is used as it is."),
        pgettext("page",
                 "The checkpoint stores no polarity of its training images: tick "
                 "“invert” if the model was trained on the other polarity."),
        pgettext("page", "Cannot read {f}: {e}"),
        pgettext("page",
                 "Every number on this page is computed in the page, by a float64 port "
                 "of juanji's layers run on the model's own weights (checked against "
                 "juanji by its tests). Click (or focus and press Enter) a feature map, "
                 "then a neuron, to see how it was computed; switch to Backward to see "
                 "the gradients of the loss, of the predicted class or any other."),
        pgettext("page", "Input"),
        pgettext("page", "Clear"),
        pgettext("page", "Upload an image"),
        pgettext("page", "invert (255 − x)"),
        pgettext("page", "Forward"),
        pgettext("page", "Backward"),
        pgettext("page", "Network"),
        pgettext("page", "choose the input image"),
        pgettext("page", "draw here with the mouse, a pen or a finger"),
        pgettext("page", "pass"),
        pgettext("page", "the backward chain"),
        pgettext("page", "light on dark"),
        pgettext("page", "dark on light"),
        pgettext("page", "drawing"),
        pgettext("page", "image"),
    ]
