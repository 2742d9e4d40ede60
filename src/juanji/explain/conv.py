"""One convolution filter on a small input: an output pixel as window x kernel + bias, and the
backward pass as sums over the outputs each number touched.

For one filter W (kh, kw, C), bias b, stride s, padding p, dilation d, output pixel (i, j) reads
input cell ``(i*s - p + a*d, j*s - p + b*d, k)`` for every kernel tap (a, b, k):

    Z[i, j]  = sum_{a,b,k} x[i*s - p + a*d, j*s - p + b*d, k] * W[a, b, k] + b

Backward, for dZ (Ho, Wo) (the course's three sums):

    dW[a, b, k] = sum over every output (i, j)    of dZ[i, j] * (the input value W[a,b,k] met)
    db          = sum over every output (i, j)    of dZ[i, j]
    dX[r, q, k] = sum over every window holding (r, q) of dZ[i, j] * (the weight it met)

The totals come from :func:`juanji.functional.conv.conv2d_forward` / ``conv2d_backward``, are checked
against :mod:`juanji.reference`, and each listed sum is checked against them before it is shown.
"""

from __future__ import annotations

import numpy as np

from .. import reference
from juanji.validation import pair
from ..functional.conv import conv2d_backward, conv2d_forward
from ..i18n import _
from ..validation import check_int
from . import Explanation, check_agree, to_list
from .pool import _check_grid, fmt, grid_table, titled

__all__ = ["explain_conv", "render_conv"]


def _index(value, name: str, limits: tuple, labels: str) -> tuple:
    """Check an index tuple against ``limits`` (exclusive upper bounds)."""
    value = tuple(int(v) for v in value)
    if len(value) != len(limits) or any(not 0 <= v < n for v, n in zip(value, limits)):
        ranges = ", ".join(f"0..{n - 1}" for n in limits)
        raise ValueError(f"`{name}` must be {labels} with each in {ranges}, got {value}")
    return value


def explain_conv(x, kernel, bias: float = 0.0, *, stride=1, padding=0, dilation=1, dy=None,
                 output=(0, 0), weight=(0, 0, 0), pixel=None) -> dict:
    """Explain one filter ``kernel`` (kh, kw, C) on one image ``x`` (H, W, C).

    Args:
        x, kernel: the input and the filter, any numbers.
        bias: the filter's bias b.
        stride, dilation: int or (h, w); padding: an int (zeros on every side).
        dy: dZ (Ho, Wo), or None for the forward only.
        output: the output pixel (i, j) to write out as window x kernel + bias.
        weight: the kernel tap (a, b, k) whose gradient is listed.
        pixel: the input cell (r, q, k) whose gradient is listed (default: the centre, k = 0).

    Returns:
        a JSON-able dict: ``input`` and ``kernel`` as channel planes, ``output``, ``forward``
        (the chosen pixel's ``taps`` with x, w and product, ``sum``, ``bias``, ``value``) and,
        with dy, ``backward``: ``dy``, ``dx``, ``dw`` (planes), ``db``, ``weight`` (``terms``
        each {output, input, x, dy, contribution}, ``sum``, ``dw``), ``bias`` (``sum``, ``db``)
        and ``pixel`` (``terms`` each {output, kernel, w, dy, contribution}, ``sum``, ``dx``).

    >>> x = np.arange(9.0).reshape(3, 3, 1)
    >>> r = explain_conv(x, np.ones((2, 2, 1)), 1.0, dy=np.ones((2, 2)))
    >>> r["forward"]["sum"], r["forward"]["value"], r["backward"]["weight"]["dw"]
    (8.0, 9.0, 8.0)
    """
    x = _check_grid(x, "x")
    kernel = _check_grid(kernel, "kernel")
    if kernel.shape[2] != x.shape[2]:
        raise ValueError(f"`kernel` must have the input's {x.shape[2]} channel(s), got "
                         f"{kernel.shape[2]}")
    if not np.isfinite(bias):
        raise ValueError(f"`bias` must be a finite number, got {bias!r}")
    sh, sw = pair(stride, "stride")
    dh, dw_ = pair(dilation, "dilation")
    p = check_int(padding, "padding", minimum=0)
    h, w, c = x.shape
    kh, kw, _c = kernel.shape

    x4, w4, b1 = x[None], kernel[:, :, :, None], np.array([float(bias)])  # (1,H,W,C) (kh,kw,C,1)
    y, cache = conv2d_forward(x4, w4, b1, stride=(sh, sw), padding=p, dilation=(dh, dw_))
    y_ref, ref_cache = reference.conv2d_forward(x4, w4, b1, stride=(sh, sw), padding=p,
                                                dilation=(dh, dw_))
    check_agree(y, y_ref, "the convolution output")
    z = y[0, :, :, 0]  # (Ho, Wo)
    ho, wo = z.shape

    def at(r, q, k):
        """The input value at (r, q, k), or None in the zero padding."""
        return float(x[r, q, k]) if 0 <= r < h and 0 <= q < w else None

    def tap(i, j, a, b):
        """Input coordinates kernel tap (a, b) meets for output (i, j)."""
        return i * sh - p + a * dh, j * sw - p + b * dw_

    i, j = _index(output, "output", (ho, wo), "an output pixel (i, j)")
    taps = []
    for a in range(kh):
        for b in range(kw):
            for k in range(c):
                r, q = tap(i, j, a, b)
                v = at(r, q, k)
                taps.append({"kernel": [a, b, k], "input": [r, q], "x": v,
                             "w": float(kernel[a, b, k]),
                             "product": (0.0 if v is None else v) * float(kernel[a, b, k])})
    total = float(np.sum([t["product"] for t in taps]))
    check_agree(total + bias, z[i, j], f"output pixel {i, j} as window x kernel + bias")
    result = {"input_shape": [h, w, c], "kernel_shape": [kh, kw, c], "bias": float(bias),
              "stride": [sh, sw], "padding": p, "dilation": [dh, dw_],
              "input": [to_list(x[:, :, k]) for k in range(c)],
              "kernel": [to_list(kernel[:, :, k]) for k in range(c)], "output": to_list(z),
              "forward": {"output": [i, j], "taps": taps, "sum": total, "bias": float(bias),
                          "value": float(z[i, j])}}
    if dy is None:
        return Explanation(result, render_conv)

    dy = _check_grid(np.asarray(dy, dtype=np.float64)[:, :, None], "dy")[:, :, 0]  # (Ho, Wo)
    if dy.shape != (ho, wo):
        raise ValueError(f"`dy` must have the output's shape ({ho}, {wo}), got {dy.shape}")
    dx, dw, db = conv2d_backward(dy[None, :, :, None], cache)  # (1,H,W,C) (kh,kw,C,1) (1,)
    dx_ref, dw_ref, db_ref = reference.conv2d_backward(dy[None, :, :, None], ref_cache)
    check_agree(dx, dx_ref, "dX")
    check_agree(dw, dw_ref, "dW")
    check_agree(db, db_ref, "db")

    a, b, k = _index(weight, "weight", (kh, kw, c), "a kernel tap (a, b, k)")
    w_terms = []
    for oi in range(ho):
        for oj in range(wo):
            r, q = tap(oi, oj, a, b)
            v = at(r, q, k)
            g = float(dy[oi, oj])
            w_terms.append({"output": [oi, oj], "input": [r, q], "x": v, "dy": g,
                            "contribution": g * (0.0 if v is None else v)})
    w_sum = float(np.sum([t["contribution"] for t in w_terms]))
    check_agree(w_sum, dw[a, b, k, 0], f"dW{a, b, k} as the sum over the outputs it touched")
    check_agree(dy.sum(), db[0], "db as the sum of dZ")

    if pixel is None:
        pixel = (h // 2, w // 2, 0)
    r, q, pk = _index(pixel, "pixel", (h, w, c), "an input pixel (r, q, k)")
    x_terms = []
    for oi in range(ho):
        for oj in range(wo):
            for a2 in range(kh):
                for b2 in range(kw):
                    if tap(oi, oj, a2, b2) == (r, q):
                        g, wt = float(dy[oi, oj]), float(kernel[a2, b2, pk])
                        x_terms.append({"output": [oi, oj], "kernel": [a2, b2, pk], "w": wt,
                                        "dy": g, "contribution": g * wt})
    x_sum = float(np.sum([t["contribution"] for t in x_terms]))
    check_agree(x_sum, dx[0, r, q, pk], f"dX{r, q, pk} as the sum over the windows holding it")

    result["backward"] = {
        "dy": to_list(dy), "dx": [to_list(dx[0, :, :, kk]) for kk in range(c)],
        "dw": [to_list(dw[:, :, kk, 0]) for kk in range(c)], "db": float(db[0]),
        "weight": {"index": [a, b, k], "terms": w_terms, "sum": w_sum,
                   "dw": float(dw[a, b, k, 0])},
        "bias": {"sum": float(dy.sum()), "db": float(db[0])},
        "pixel": {"index": [r, q, pk], "terms": x_terms, "sum": x_sum,
                  "dx": float(dx[0, r, q, pk])},
    }
    return Explanation(result, render_conv)


def render_conv(r: dict):
    """rich renderables for :func:`explain_conv`'s dict."""
    from rich.console import Group
    from rich.text import Text

    c = r["input_shape"][2]
    multi = c > 1

    def ch(k):
        return _(" (channel {c})").format(c=k) if multi else ""

    kh, kw = r["kernel_shape"][:2]
    head = _("convolution: input {shape}, kernel {kh}x{kw}x{c}, bias {bias}, stride {sh}x{sw}, "
             "padding {p}").format(shape="x".join(map(str, r["input_shape"])), kh=kh, kw=kw,
                                   c=c, bias=fmt(r["bias"]), sh=r["stride"][0],
                                   sw=r["stride"][1], p=r["padding"])
    if r["dilation"] != [1, 1]:
        head += _(", dilation {dh}x{dw}").format(dh=r["dilation"][0], dw=r["dilation"][1])
    parts = [Text(head, style="bold")]
    f = r["forward"]
    used = {(t["input"][0], t["input"][1]) for t in f["taps"]}
    for k in range(c):
        parts.append(grid_table(r["input"][k], _("input{channel} (bold: the window of output "
                                                 "{out})").format(channel=ch(k),
                                                                  out=tuple(f["output"])),
                                highlight=used))
        parts.append(grid_table(r["kernel"][k], _("kernel") + ch(k)))
    table = titled(_("forward: output {out} = sum(window x kernel) + bias").format(
        out=tuple(f["output"])))
    for name in (_("kernel tap"), _("input cell"), "x", "w", "x * w"):
        table.add_column(name, justify="right")
    for t in f["taps"]:
        tap = tuple(t["kernel"]) if multi else tuple(t["kernel"][:2])
        table.add_row(str(tap), str(tuple(t["input"])), fmt(t["x"]), fmt(t["w"]),
                      fmt(t["product"]))
    table.add_section()
    table.add_row("", "", "", _("sum"), fmt(f["sum"]))
    table.add_row("", "", "", _("+ bias"), fmt(f["bias"]))
    table.add_row("", "", "", "= Z", f"[bold]{fmt(f['value'])}[/bold]")
    parts += [table, grid_table(r["output"], _("output Z"))]
    if "backward" not in r:
        return Group(*parts)

    bw = r["backward"]
    parts.append(grid_table(bw["dy"], _("backward: upstream gradient dZ")))
    wt = bw["weight"]
    a, b, k = wt["index"]
    name = f"W[{a},{b},{k}]" if multi else f"W[{a},{b}]"
    table = titled(_("d{name}: every output pixel {name} touched, dZ x the input it met").format(
        name=name))
    for col in (_("output"), _("input cell"), "x", "dZ", "dZ * x"):
        table.add_column(col, justify="right")
    for t in wt["terms"]:
        table.add_row(str(tuple(t["output"])), str(tuple(t["input"])), fmt(t["x"]),
                      fmt(t["dy"]), fmt(t["contribution"]))
    table.add_section()
    table.add_row("", "", "", f"d{name}", f"[bold]{fmt(wt['dw'])}[/bold]")
    parts.append(table)
    for kk in range(c):
        parts.append(grid_table(bw["dw"][kk], _("dW, every weight's sum") + ch(kk)))
    terms = " + ".join(fmt(v) for row in bw["dy"] for v in row)
    parts.append(Text(_("db = sum of dZ = {terms} = {db}").format(terms=terms,
                                                                   db=fmt(bw["db"]))))
    px = bw["pixel"]
    r0, q0, pk = px["index"]
    name = f"X[{r0},{q0},{pk}]" if multi else f"X[{r0},{q0}]"
    table = titled(_("d{name}: every window {name} lies in, dZ x the weight it met").format(
        name=name))
    for col in (_("output"), _("kernel tap"), "w", "dZ", "dZ * w"):
        table.add_column(col, justify="right")
    for t in px["terms"]:
        tap = tuple(t["kernel"]) if multi else tuple(t["kernel"][:2])
        table.add_row(str(tuple(t["output"])), str(tap), fmt(t["w"]), fmt(t["dy"]),
                      fmt(t["contribution"]))
    table.add_section()
    table.add_row("", "", "", f"d{name}", f"[bold]{fmt(px['dx'])}[/bold]")
    parts.append(table)
    for kk in range(c):
        parts.append(grid_table(bw["dx"][kk], _("dX, every input pixel's sum") + ch(kk)))
    return Group(*parts)
