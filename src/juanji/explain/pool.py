"""Max and average pooling on a small input: every window, its result, and the backward routing.

Forward, per channel, for output pixel (i, j) with window rows ``i*s - p .. i*s - p + f - 1``::

    max:  y[i, j] = max(window)              nothing is multiplied, nothing is learned
    avg:  y[i, j] = sum(window) / divisor    divisor = f*f (PyTorch's, with padding counted)

Backward, for an upstream gradient dy (pooling only routes it)::

    max:  the whole dy[i, j] goes to the cell that won the max (a mask), every other cell gets 0.
          Ties: PyTorch and juanji send it to the FIRST maximum (row-major); the course's
          ``create_mask_from_window`` marks EVERY tied cell. Both are shown when a window ties.
    avg:  every cell of the window gets dy[i, j] / divisor, the course's dz / (f*f).

Where windows overlap (stride < f) an input cell collects the sum of what every window sends it;
the ``cells`` list shows which windows sent what. The forward and backward come from
:mod:`juanji.functional.pool` and are checked against :mod:`juanji.reference` (and the per-cell
sums against both) before they are shown.
"""

from __future__ import annotations

import numpy as np

from .. import reference
from juanji.validation import pair
from ..functional.pool import (
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
)
from ..i18n import _
from ..validation import check_int
from . import ExplainInternalError, Explanation, check_agree, to_list

__all__ = ["MODES", "explain_pool", "render_pool"]

MODES = ("max", "avg")


def _check_grid(a, name: str, ndim: int = 3) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != ndim or 0 in a.shape:
        raise ValueError(f"`{name}` must be a non-empty (H, W, C) array, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"`{name}` must hold finite numbers only")
    return a


def explain_pool(x, mode: str, kernel_size=2, *, stride=None, padding=0, dy=None,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> dict:
    """Explain pooling of one image ``x`` (H, W, C), forward and (with ``dy``) backward.

    Args:
        x: the input (H, W, C); each channel is pooled on its own.
        mode: ``"max"`` or ``"avg"``.
        kernel_size, stride, padding, ceil_mode: as :func:`juanji.functional.pool.max_pool2d_forward`
            (stride defaults to the kernel; padding an int; ceil_mode rounds the output size up,
            the last window then hanging over the padded input).
        dy: upstream gradient (Ho, Wo, C), or None for the forward only.
        count_include_pad: avg only: the divisor counts the window's padding cells (True, as in
            PyTorch by default) or only its real input cells.

    Returns:
        a JSON-able dict with ``output_shape``, ``overlapping``, ``ties`` and one entry per
        channel in ``channels``: ``input``, ``output``, ``windows`` (each with its cells
        ``rows``/``cols`` in input coordinates, ``values`` with None for padding, ``result``;
        for max ``winner`` and ``tied``, for avg ``sum`` and ``divisor``; with dy, ``dy`` and
        ``sends`` [row, col, amount]), and with dy ``dy``, ``dx`` (PyTorch's rule),
        ``dx_all_ties`` (max: the course's mask) and ``cells`` (what each input cell received
        from which window, summing to dx).

    >>> x = np.array([[1., 3.], [2., 9.]])[:, :, None]
    >>> r = explain_pool(x, "max", 2, dy=np.ones((1, 1, 1)))
    >>> r["channels"][0]["output"], r["channels"][0]["windows"][0]["winner"]
    ([[9.0]], [1, 1])
    """
    if mode == "max":
        forward, backward = max_pool2d_forward, max_pool2d_backward
        ref_forward, ref_backward = reference.max_pool2d_forward, reference.max_pool2d_backward
        kwargs = {"ceil_mode": ceil_mode}
    elif mode == "avg":
        forward, backward = avg_pool2d_forward, avg_pool2d_backward
        ref_forward, ref_backward = reference.avg_pool2d_forward, reference.avg_pool2d_backward
        kwargs = {"ceil_mode": ceil_mode, "count_include_pad": count_include_pad}
    else:
        raise ValueError(f"`mode` must be one of {MODES}, got {mode!r}")
    x = _check_grid(x, "x")
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else pair(stride, "stride")
    p = check_int(padding, "padding", minimum=0)
    h, w, c = x.shape

    x4 = x[None]  # (1, H, W, C)
    y, cache = forward(x4, (kh, kw), stride=(sh, sw), padding=p, **kwargs)  # (1, Ho, Wo, C)
    y_ref, ref_cache = ref_forward(x4, (kh, kw), stride=(sh, sw), padding=p, **kwargs)
    check_agree(y, y_ref, f"the {mode}-pool output")
    _n, ho, wo, _c = y.shape
    if dy is not None:
        dy = _check_grid(dy, "dy")
        if dy.shape != (ho, wo, c):
            raise ValueError(f"`dy` must have the output's shape ({ho}, {wo}, {c}), "
                             f"got {dy.shape}")
        dx = backward(dy[None], cache)[0]  # (H, W, C)
        check_agree(dx, ref_backward(dy[None], ref_cache)[0], f"the {mode}-pool gradient dx")
        if mode == "max":
            dx_all = reference.max_pool2d_backward(dy[None], ref_cache, ties="all")[0]  # (H,W,C)
    if mode == "max":
        arg = cache.argmax[0]  # (Ho, Wo, C): winner offset a*kw + b inside the padded window
    else:
        divisor = np.broadcast_to(cache.divisor, (ho, wo, 1))[:, :, 0]  # (Ho, Wo)

    channels, any_tie = [], False
    for ch in range(c):
        windows = []
        received = np.zeros((h, w))
        received_all = np.zeros((h, w))
        cells = {(r, q): [] for r in range(h) for q in range(w)}
        for i in range(ho):
            for j in range(wo):
                rows = list(range(i * sh - p, i * sh - p + kh))
                cols = list(range(j * sw - p, j * sw - p + kw))
                inside = [(r, q) for r in rows for q in cols if 0 <= r < h and 0 <= q < w]
                values = [[float(x[r, q, ch]) if 0 <= r < h and 0 <= q < w else None
                           for q in cols] for r in rows]
                real = np.array([x[r, q, ch] for r, q in inside])
                result = float(y[0, i, j, ch])
                win = {"out": [i, j], "rows": [rows[0], rows[-1]], "cols": [cols[0], cols[-1]],
                       "values": values, "result": result}
                if mode == "max":
                    a, b = divmod(int(arg[i, j, ch]), kw)
                    winner = (rows[a], cols[b])
                    tied = [list(rc) for rc, v in zip(inside, real) if v == real.max()]
                    if result != real.max() or list(winner) not in tied:
                        raise ExplainInternalError(
                            f"internal error: max pool of window {i, j} gave {result} at "
                            f"{winner}, but the window's largest value is {real.max()} at "
                            f"{tied}; please report this")
                    win.update(winner=list(winner), tied=tied)
                    any_tie |= len(tied) > 1
                else:
                    total = float(real.sum())
                    win.update(sum=total, divisor=float(divisor[i, j]))
                    check_agree(total / divisor[i, j], result, f"the mean of window {i, j}")
                if dy is not None:
                    g = float(dy[i, j, ch])
                    if mode == "max":
                        sends = [[winner[0], winner[1], g]]
                        for r, q in tied:
                            received_all[r, q] += g
                    else:
                        sends = [[r, q, g / float(divisor[i, j])] for r, q in inside]
                    for r, q, amount in sends:
                        received[r, q] += amount
                        cells[(r, q)].append({"from": [i, j], "amount": amount})
                    win.update(dy=g, sends=sends)
                windows.append(win)
        entry = {"input": to_list(x[:, :, ch]), "output": to_list(y[0, :, :, ch]),
                 "windows": windows}
        if dy is not None:
            # The explainer's own routing, window by window, must give the op's dx.
            check_agree(received, dx[:, :, ch], f"the per-cell sums of channel {ch}")
            entry.update(dy=to_list(dy[:, :, ch]), dx=to_list(dx[:, :, ch]),
                         cells=[{"cell": [r, q], "receives": got,
                                 "total": float(dx[r, q, ch])} for (r, q), got in cells.items()])
            if mode == "max":
                check_agree(received_all, dx_all[:, :, ch], f"the all-ties mask of channel {ch}")
                entry["dx_all_ties"] = to_list(dx_all[:, :, ch])
        channels.append(entry)
    return Explanation({"mode": mode, "kernel": [kh, kw], "stride": [sh, sw], "padding": p,
            "ceil_mode": bool(ceil_mode), "count_include_pad": bool(count_include_pad),
            "input_shape": [h, w, c], "output_shape": [ho, wo, c],
            "overlapping": sh < kh or sw < kw, "ties": any_tie, "has_backward": dy is not None,
            "channels": channels}, render_pool)


# --------------------------------------------------------------------------------- rendering

def fmt(v) -> str:
    """A number as a learner would write it: 3, 0.25, 1.333 (a padding cell: "pad")."""
    if v is None:
        return _("pad")
    return f"{v:.4g}" if v != int(v) else str(int(v))


def titled(heading: str, **kwargs):
    """A rich Table whose heading is printed above it in full (a rich title would wrap to the
    width of a narrow table)."""
    from rich.table import Table
    from rich.text import Text

    class TitledTable(Table):
        def __rich_console__(self, console, options):
            yield Text(heading, style="bold cyan")
            yield from super().__rich_console__(console, options)

    return TitledTable(**kwargs)


def grid_table(rows, title: str, highlight=()):
    """A 2-D list as a rich table with row/column indices; ``highlight`` cells in bold."""
    table = titled(title)
    table.add_column("", style="dim", justify="right")
    for q in range(len(rows[0])):
        table.add_column(str(q), justify="right")
    for r, row in enumerate(rows):
        table.add_row(str(r), *[f"[bold]{fmt(v)}[/bold]" if (r, q) in highlight else fmt(v)
                                for q, v in enumerate(row)])
    return table


def _window_text(values) -> str:
    return "\n".join(" ".join(f"{fmt(v):>4}" for v in row) for row in values)


def render_pool(r: dict):
    """rich renderables for :func:`explain_pool`'s dict."""
    from rich.console import Group
    from rich.text import Text

    mode, (kh, kw), (sh, sw) = r["mode"], r["kernel"], r["stride"]
    head = (_("max pooling") if mode == "max" else _("avg pooling")) + _(
        ", window {kh}x{kw}, stride {sh}x{sw}, padding {p}: {shape_in} -> {shape_out}").format(
            kh=kh, kw=kw, sh=sh, sw=sw, p=r["padding"], shape_in="x".join(map(str,
                                                                              r["input_shape"])),
            shape_out="x".join(map(str, r["output_shape"])))
    parts = [Text(head
                  + (_(" (windows overlap)") if r["overlapping"] else "")
                  + (_(" (ceil mode: the last window may hang over the edge)")
                     if r.get("ceil_mode") else "")
                  + (_(" (divisor: real cells only)")
                     if mode == "avg" and not r.get("count_include_pad", True) else ""),
                  style="bold")]
    for ch, e in enumerate(r["channels"]):
        suffix = _(" (channel {c})").format(c=ch) if len(r["channels"]) > 1 else ""
        parts.append(grid_table(e["input"], _("input") + suffix))
        table = titled(_("forward: each window and its result") + suffix)
        for name, justify in ((_("output"), "right"), (_("input rows"), "right"),
                              (_("input cols"), "right"), (_("window"), "left"),
                              (_("result"), "right")):
            table.add_column(name, justify=justify)
        for win in e["windows"]:
            if mode == "max":
                how = _("max = {value} at {cell}").format(value=fmt(win["result"]),
                                                          cell=tuple(win["winner"]))
                if len(win["tied"]) > 1:
                    how += "\n" + _("(tie: {cells})").format(
                        cells=", ".join(str(tuple(t)) for t in win["tied"]))
            else:
                how = (f"{fmt(win['sum'])} / {fmt(win['divisor'])} = {fmt(win['result'])}")
            table.add_row(str(tuple(win["out"])), "{}..{}".format(*win["rows"]),
                          "{}..{}".format(*win["cols"]), _window_text(win["values"]), how)
        parts += [table, grid_table(e["output"], _("output") + suffix)]
        if not r["has_backward"]:
            continue
        parts.append(grid_table(e["dy"], _("backward: upstream gradient dy") + suffix))
        table = titled((_("max: the whole dy goes to the window's max (first max on a tie)")
                        if mode == "max" else
                        _("avg: each cell of the window gets dy / divisor")) + suffix)
        for name, justify in ((_("output"), "right"), ("dy", "right"), (_("sends"), "left")):
            table.add_column(name, justify=justify)
        for win in e["windows"]:
            if mode == "max":
                sends = _("all of it -> {cell}").format(cell=tuple(win["sends"][0][:2]))
            else:
                cells = " ".join(f"{(rr, qq)}" for rr, qq, _x in win["sends"])
                sends = _("{dy} / {divisor} = {share} to each of {cells}").format(
                    dy=fmt(win["dy"]), divisor=fmt(win["divisor"]),
                    share=fmt(win["sends"][0][2]), cells=cells)
                if len(win["sends"]) < win["divisor"]:
                    sends += _(" (the padding cells' shares are dropped)")
            table.add_row(str(tuple(win["out"])), fmt(win["dy"]), sends)
        parts.append(table)
        several = [cell for cell in e["cells"] if len(cell["receives"]) > 1]
        if several:
            table = titled(_("overlapping windows: cells that receive from several windows, "
                             "summed") + suffix)
            for name, justify in ((_("input cell"), "right"), (_("received"), "left"),
                                  ("dx", "right")):
                table.add_column(name, justify=justify)
            for cell in several:
                got = " + ".join(_("{amount} (from {cell})").format(
                    amount=fmt(g["amount"]), cell=tuple(g["from"])) for g in cell["receives"])
                table.add_row(str(tuple(cell["cell"])), got, fmt(cell["total"]))
            parts.append(table)
        parts.append(grid_table(e["dx"], _("dx (fast op = reference loops)") + suffix))
        if mode == "max" and any(len(w["tied"]) > 1 for w in e["windows"]):
            parts.append(Text(_("A window has a tie. PyTorch (and juanji) send its gradient to "
                                "the FIRST max in row-major order; the course's mask "
                                "(x == max(x)) marks every tied cell, so the window sends out "
                                "more than it received:")))
            parts.append(grid_table(e["dx_all_ties"], _("dx with the course's mask (every tied "
                                                        "cell)") + suffix))
    return Group(*parts)
