"""Why conv layers are cheap, for a whole model: parameter sharing, sparse connectivity and the
course's layer table, all from :func:`juanji.nn.summary` (no formula is recomputed here).

- **sharing**: a conv layer's parameters against a dense layer between the same input and
  output sizes (``in*out + out``); the course's 32x32x3 -> 28x28x6 with six 5x5 kernels: 456
  against 3072*4704 + 4704 = 14,455,392. Each kernel weight is reused at all Ho*Wo positions.
- **sparsity**: how many inputs one output pixel depends on (5*5*3 = 75 of 3072) and how the
  receptive field grows with depth.
- **network**: shapes, activation sizes and parameters per layer, with the activation-cliff
  warnings.

The parameter counts written out as products (``(5*5*3 + 1)*6``) are checked against the
summary's numbers, which count the real parameter arrays, before they are shown.
"""

from __future__ import annotations

from ..i18n import _, ngettext
from ..nn import Conv2D, Dense, Sequential, summary
from . import ExplainInternalError, Explanation

__all__ = ["explain_network", "explain_sharing", "explain_sparsity", "render_network",
           "render_sharing", "render_sparsity"]


def _shape(s) -> str:
    return "x".join(map(str, s))


def _rows_with_inputs(model: Sequential):
    """Summary rows paired with the layer and its input size (the previous activation size)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a juanji.nn.Sequential, got {type(model).__name__}")
    s = summary(model)
    prev = s.input_size
    out = []
    for row in s.rows:
        out.append((row, model.layers[row.index], prev))
        prev = row.activation_size
    return s, out


def _check(claimed: int, counted: int, what: str) -> None:
    if claimed != counted:
        raise ExplainInternalError(f"internal error: {what} is {claimed} written out but "
                                   f"summary() counts {counted}; please report this")


def explain_sharing(model: Sequential) -> dict:
    """Conv against dense parameter counts for every Conv2D and Dense layer of ``model``.

    >>> from juanji.nn import Conv2D
    >>> r = explain_sharing(Sequential([Conv2D(6, 5)], (32, 32, 3)))
    >>> r["layers"][0]["params"], r["layers"][0]["dense_equivalent_params"]
    (456, 14455392)
    """
    s, rows = _rows_with_inputs(model)
    layers = []
    for row, layer, in_size in rows:
        if isinstance(layer, Conv2D):
            kh, kw = layer.kernel_size
            c_in = layer.in_shape[2] // layer.groups
            bias = 1 if layer.use_bias else 0
            formula = f"({kh}*{kw}*{c_in}{' + 1' if bias else ''})*{layer.filters}"
            _check((kh * kw * c_in + bias) * layer.filters, row.params, f"layer {row.index}'s "
                   f"parameter count {formula}")
            dense = f"{in_size}*{row.activation_size} + {row.activation_size}"
            _check(in_size * row.activation_size + row.activation_size,
                   row.dense_equivalent_params, f"layer {row.index}'s dense equivalent {dense}")
            ho, wo, _c = row.output_shape
            layers.append({
                "index": row.index, "layer": row.layer, "input_shape": list(layer.in_shape),
                "output_shape": list(row.output_shape), "input_size": in_size,
                "output_size": row.activation_size, "params": row.params,
                "params_formula": formula, "dense_equivalent_params":
                row.dense_equivalent_params, "dense_formula": dense,
                "ratio": row.dense_equivalent_params / row.params,
                "positions_sharing_each_weight": ho * wo})
        elif isinstance(layer, Dense):
            layers.append({
                "index": row.index, "layer": row.layer, "input_shape": list(layer.in_shape),
                "output_shape": list(row.output_shape), "input_size": in_size,
                "output_size": row.activation_size, "params": row.params,
                "params_formula": f"{in_size}*{row.activation_size}"
                                  + (" + " + str(row.activation_size) if layer.use_bias else ""),
                "dense_equivalent_params": row.params, "dense_formula": None, "ratio": 1.0,
                "positions_sharing_each_weight": 1})
    conv = sum(r["params"] for r in layers if r["layer"] == "Conv2D")
    dense = sum(r["params"] for r in layers if r["layer"] == "Dense")
    return Explanation({"input_shape": list(s.input_shape), "layers": layers, "total_params":
                        s.total_params, "conv_params": conv, "dense_params": dense},
                       render_sharing)


def explain_sparsity(model: Sequential) -> dict:
    """Inputs per output and receptive field of every layer of ``model``.

    >>> from juanji.nn import Conv2D
    >>> r = explain_sparsity(Sequential([Conv2D(6, 5)], (32, 32, 3)))
    >>> r["layers"][0]["inputs_per_output"], r["layers"][0]["receptive_field"]
    (75, [5, 5])
    """
    s, rows = _rows_with_inputs(model)
    image = s.input_shape[:2] if len(s.input_shape) == 3 else None
    layers = []
    for row, layer, in_size in rows:
        rf = None if row.receptive_field is None else list(row.receptive_field)
        n = row.inputs_per_output
        layers.append({
            "index": row.index, "layer": row.layer, "output_shape": list(row.output_shape),
            "input_size": in_size, "inputs_per_output": n,
            "fraction_of_inputs": None if n is None else n / in_size,
            "receptive_field": rf,
            "fraction_of_image": (None if rf is None or image is None else
                                  min(rf[0], image[0]) * min(rf[1], image[1])
                                  / (image[0] * image[1]))})
    return Explanation({"input_shape": list(s.input_shape), "layers": layers}, render_sparsity)


def explain_network(model: Sequential) -> dict:
    """The course's table (``summary(model).to_dict()``) plus where the parameters sit."""
    d = summary(model).to_dict()
    by_kind = {}
    for row in d["rows"]:
        by_kind[row["layer"]] = by_kind.get(row["layer"], 0) + row["params"]
    d["params_by_layer_type"] = by_kind
    return Explanation(d, render_network)


# --------------------------------------------------------------------------------- rendering

def render_sharing(r: dict):
    from rich.console import Group
    from rich.text import Text

    from .pool import titled

    table = titled(_("parameter sharing: each conv kernel slides over every position; a dense "
                     "layer between the same sizes would need in*out + out"))
    for col, justify in (("#", "right"), (_("layer"), "left"), (_("input -> output"), "left"),
                         (_("params"), "right"), (_("dense equivalent"), "right"),
                         (_("ratio"), "right"), (_("positions per weight"), "right")):
        table.add_column(col, justify=justify)
    for row in r["layers"]:
        dense = ("-" if row["dense_formula"] is None else
                 f"{row['dense_formula']} = {row['dense_equivalent_params']:,}")
        table.add_row(str(row["index"]), row["layer"],
                      f"{_shape(row['input_shape'])} -> {_shape(row['output_shape'])}",
                      f"{row['params_formula']} = {row['params']:,}", dense,
                      "-" if row["layer"] != "Conv2D" else f"{row['ratio']:,.0f}x",
                      f"{row['positions_sharing_each_weight']:,}")
    parts = [table]
    convs = [row for row in r["layers"] if row["layer"] == "Conv2D"]
    if convs:
        c = convs[0]
        ho, wo, f = c["output_shape"]
        parts.append(Text(ngettext(
            "Layer {index}: {f} kernel, {formula} = {params:,} parameters, each weight reused at "
            "all {ho}x{wo} = {positions:,} positions; a dense layer from the same {inputs:,} "
            "inputs to {outputs:,} outputs would need {dense:,} (about {ratio:,.0f} times as "
            "many).",
            "Layer {index}: {f} kernels, {formula} = {params:,} parameters, each weight reused "
            "at all {ho}x{wo} = {positions:,} positions; a dense layer from the same {inputs:,} "
            "inputs to {outputs:,} outputs would need {dense:,} (about {ratio:,.0f} times as "
            "many).", f).format(
                index=c["index"], f=f, formula=c["params_formula"], params=c["params"], ho=ho,
                wo=wo, positions=ho * wo, inputs=c["input_size"], outputs=c["output_size"],
                dense=c["dense_equivalent_params"], ratio=c["ratio"])))
        parts.append(Text(_("Like one mould stamping the same pattern wherever the paper lies: "
                            "a feature detector useful in one corner is useful everywhere.")))
    total = r["total_params"] or 1
    parts.append(Text(_("conv layers: {conv:,} parameters ({conv_share:.1%}); dense layers: "
                        "{dense:,} ({dense_share:.1%}) of {total:,}.").format(
        conv=r["conv_params"], conv_share=r["conv_params"] / total, dense=r["dense_params"],
        dense_share=r["dense_params"] / total, total=r["total_params"])))
    return Group(*parts)


def render_sparsity(r: dict):
    from rich.console import Group
    from rich.text import Text

    from .pool import titled

    table = titled(_("sparse connectivity: what one output value depends on"))
    for col, justify in (("#", "right"), (_("layer"), "left"), (_("output shape"), "right"),
                         (_("inputs per output"), "right"), (_("of the layer's inputs"), "right"),
                         (_("receptive field"), "right"), (_("of the image"), "right")):
        table.add_column(col, justify=justify)
    for row in r["layers"]:
        n = row["inputs_per_output"]
        rf = row["receptive_field"]
        table.add_row(str(row["index"]), row["layer"], _shape(row["output_shape"]),
                      "-" if n is None else f"{n:,}",
                      "-" if n is None else _("{n:,} of {total:,} ({share:.2%})").format(
                          n=n, total=row["input_size"], share=row["fraction_of_inputs"]),
                      _("whole input") if rf is None else _shape(rf),
                      "100%" if row["fraction_of_image"] is None
                      else f"{row['fraction_of_image']:.1%}")
    return Group(table, Text(_("Conv and pooling layers look at a small window (to see whether "
                               "a cat has an ear, look near its face, not at the whole photo); "
                               "the receptive field (input pixels one output sees) grows with "
                               "every windowed layer; after Flatten every output sees the whole "
                               "input.")))


def render_network(r: dict):
    from rich.console import Group
    from rich.text import Text

    from .pool import titled

    table = titled(_("the network, layer by layer"))
    for col, justify in (("#", "right"), (_("layer"), "left"), (_("activation shape"), "right"),
                         (_("activation size"), "right"), (_("parameters"), "right")):
        table.add_column(col, justify=justify)
    table.add_row("", _("input"), _shape(r["input_shape"]), f"{r['input_size']:,}", "0")
    for row in r["rows"]:
        table.add_row(str(row["index"]), row["layer"], _shape(row["output_shape"]),
                      f"{row['activation_size']:,}", f"{row['params']:,}")
    table.add_section()
    table.add_row("", _("total"), "", "", f"{r['total_params']:,}")
    parts = [table]
    total = r["total_params"] or 1
    shares = ", ".join(f"{kind} {n:,} ({n / total:.1%})"
                       for kind, n in sorted(r["params_by_layer_type"].items(),
                                             key=lambda kv: -kv[1]) if n)
    parts.append(Text(_("parameters by layer type: {shares}").format(shares=shares)))
    if r["warnings"]:
        parts += [Text(_("warning: {text}").format(text=w), style="bold yellow")
                  for w in r["warnings"]]
    else:
        parts.append(Text(_("the activation size shrinks gradually: no cliff")))
    return Group(*parts)
