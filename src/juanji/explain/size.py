"""The output-size formula with the user's numbers substituted, step by step.

    out = floor((n - f + 2p) / s) + 1          (the course; d = 1)
    out = floor((n - f_eff + 2p) / s) + 1      with f_eff = d*(f - 1) + 1 (dilation d)

The result is :func:`juanji.functional.sizes.output_size`'s, the one place the formula lives; the steps
are the same arithmetic written out, and both are checked against an independent count of the
window positions (every start ``k*s`` whose window fits) before anything is shown.

When ``(n - f + 2p) / s`` is not a whole number, floor throws away the remainder ``r``: the
last ``r`` rows/columns of the padded input lie after the last window and are never read.
When ``n + 2p < f`` the window does not fit anywhere and there is no output (the formula gives
a number < 1).
"""

from __future__ import annotations

from fractions import Fraction

from ..functional.sizes import output_size
from ..i18n import _, ngettext
from ..validation import check_int
from . import ExplainInternalError, Explanation

__all__ = ["explain_size", "render_size"]

MAX_LISTED_WINDOWS = 12  # longer lists show the first and last few


def _num(q: Fraction) -> str:
    """5/2 -> '2.5', 7/3 -> '2.333...', 4 -> '4'."""
    if q.denominator == 1:
        return str(q.numerator)
    text = f"{float(q):.3f}".rstrip("0")
    exact = Fraction(text) == q
    return text if exact else text + "..."


def _count_windows(n: int, f_eff: int, s: int, p: int, ceil_mode: bool) -> int:
    """Window starts k*s (padded coordinates), counted without the formula.

    floor: every start whose window ends inside the padded input, ``k*s + f_eff <= n + 2p``;
    ceil: every start before ``n + 2p - f_eff + s`` (the last window may hang over the end),
    less the last one if it starts in the after-padding (PyTorch's rule, ``k*s >= n + p``).
    """
    if ceil_mode:
        count = len(range(0, n + 2 * p - f_eff + s, s))
        return count - 1 if (count - 1) * s >= n + p else count
    return len(range(0, n + 2 * p - f_eff + 1, s))


def explain_size(n, f, *, stride=1, padding=0, dilation=1, ceil_mode=False) -> dict:
    """Explain ``output_size(n, f, stride=s, padding=p, dilation=d, ceil_mode=...)``.

    Returns a JSON-able dict: the inputs, ``steps`` (the formula lines, each ``= ...``),
    ``output`` (None when the window does not fit), ``fits``, ``exact`` (the division had no
    remainder), ``remainder`` (``(n - f_eff + 2p) mod s``), ``unread`` (input indices no window
    tap reads: the tail floor drops, gaps between windows, dilation holes), ``windows``
    ([first, last] input index of each window; below 0 or from n on is padding) and
    ``explanation`` (sentences).

    >>> r = explain_size(8, 3, stride=2)
    >>> r["output"], r["steps"][-1], r["unread"]
    (3, '= 3', [7])
    """
    n = check_int(n, "n")
    f = check_int(f, "f")
    s = check_int(stride, "stride")
    p = check_int(padding, "padding", minimum=0)
    d = check_int(dilation, "dilation")
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"`ceil_mode` must be True or False, got {ceil_mode!r}")

    f_eff = d * (f - 1) + 1
    room = n - f_eff + 2 * p
    q = Fraction(room, s)
    rounded = -(-room // s) if ceil_mode else room // s   # ceil or floor of room / s
    rnd = "ceil" if ceil_mode else "floor"
    fname = "f_eff" if d > 1 else "f"
    steps = []
    if d > 1:
        steps.append(f"f_eff = d*(f - 1) + 1 = {d}*({f} - 1) + 1 = {f_eff}")
    steps += [
        f"out = {rnd}((n - {fname} + 2p) / s) + 1",
        f"= {rnd}(({n} - {f_eff} + 2*{p}) / {s}) + 1",
        f"= {rnd}({room} / {s}) + 1",
    ]
    if q.denominator != 1:
        steps.append(f"= {rnd}({_num(q)}) + 1")
    steps += [f"= {rounded} + 1", f"= {rounded + 1}"]
    formula = rounded + 1

    try:
        out = output_size(n, f, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
    except ValueError:
        out = None
    counted = _count_windows(n, f_eff, s, p, ceil_mode)
    fits = counted >= 1  # in ceil mode a window may hang past a too-small input (PyTorch)
    if fits != (out is not None) or (fits and counted != out):
        raise ExplainInternalError(
            f"internal error: output_size gave {out} but {counted} windows fit "
            f"(n={n}, f={f}, s={s}, p={p}, d={d}, ceil_mode={ceil_mode}); please report this")
    dropped = fits and ceil_mode and out != formula   # PyTorch's last-window rule applied

    remainder = room % s if fits else None
    explanation, unread, windows = [], [], None
    if not fits:
        explanation.append(_(
            "The window spans {f_eff} pixels but the padded input has only n + 2p = {n} + "
            "2*{p} = {room}: it does not fit anywhere, so there is no output (the formula gives "
            "{formula} < 1). Use a window of at most {room} pixels or pad by at least {pad} on "
            "each side.").format(f_eff=f_eff, n=n, p=p, room=n + 2 * p, formula=formula,
                                 pad=-(-(f_eff - n) // 2)))
    else:
        windows = [[k * s - p, k * s - p + f_eff - 1] for k in range(out)]
        if remainder == 0:
            explanation.append(_(
                "{room} / {s} is a whole number: the windows tile the padded input exactly, "
                "the last one ending on its last pixel.").format(room=room, s=s))
        elif not ceil_mode:
            first_unread = n + p - remainder        # input coordinates of the first unread cell
            tail = [i for i in range(first_unread, n)]
            where = (_("these are all padding, so no input pixel is lost") if not tail else
                     ngettext("input index {indices} is never read by any window",
                              "input indices {indices} are never read by any window",
                              len(tail)).format(indices=", ".join(map(str, tail))))
            pixels = ngettext("is {n} more pixel", "are {n} more pixels", remainder).format(
                n=remainder)
            pad_left = remainder - len(tail)
            padding_too = ("" if not tail or not pad_left else
                           ngettext(" (the other {n} is padding)", " (the other {n} are padding)",
                                    pad_left).format(n=pad_left))
            explanation.append(_(
                "{room} / {s} = {q} is not a whole number: floor throws away the remainder "
                "{r}/{s}. After the last window (input {first}..{last}) there {pixels} of the "
                "padded input, too few for a next stride: {where}{padding_too}.").format(
                    room=room, s=s, q=_num(q), r=remainder, first=windows[-1][0],
                    last=windows[-1][1], pixels=pixels, where=where, padding_too=padding_too))
        else:
            hang = s - remainder
            explanation.append(ngettext(
                "{room} / {s} = {q} is not a whole number: ceil mode rounds it up, so one more "
                "window is placed that hangs {hang} pixel past the padded input (those cells "
                "are ignored, never read as zeros).",
                "{room} / {s} = {q} is not a whole number: ceil mode rounds it up, so one more "
                "window is placed that hangs {hang} pixels past the padded input (those cells "
                "are ignored, never read as zeros).", hang).format(room=room, s=s, q=_num(q),
                                                                   hang=hang))
            if dropped:
                explanation.append(_(
                    "But that last window would start in the after-padding (at padded index "
                    "{k}*{s} >= n + p = {end}), which PyTorch's rule forbids: it is dropped, "
                    "leaving {out}.").format(k=formula - 1, s=s, end=n + p, out=out))
    if fits:
        # Every input index some window tap reads; the rest are never read: the tail floor drops,
        # and the gaps a stride longer than the window (or a dilation) leaves between taps.
        read = {k * s - p + a * d for k in range(out) for a in range(f)}
        unread = [i for i in range(n) if i not in read]
        gaps = [i for i in unread if i < windows[-1][1]]
        if gaps:
            why = (_("the stride is longer than the window, so the pixels between windows are "
                     "never read.") if s > f_eff else
                   _("the dilated taps leave holes that no window reads."))
            explanation.append(ngettext("The windows also skip input index {indices}: {why}",
                                        "The windows also skip input indices {indices}: {why}",
                                        len(gaps)).format(indices=", ".join(map(str, gaps)),
                                                          why=why))
    return Explanation({
        "n": n, "f": f, "stride": s, "padding": p, "dilation": d, "ceil_mode": ceil_mode,
        "f_eff": f_eff, "steps": steps, "output": out, "fits": fits,
        "exact": fits and remainder == 0, "remainder": remainder, "unread": unread,
        "windows": windows, "explanation": explanation,
    }, render_size)


def render_size(r: dict):
    """rich renderables for :func:`explain_size`'s dict."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from .pool import titled

    lines = Text()
    for i, step in enumerate(r["steps"]):
        indent = "" if i == 0 or step.startswith(("f_eff", "out")) else "    "
        last = i == len(r["steps"]) - 1
        lines.append(indent + step + ("" if last else "\n"), style="bold" if last else "")
    title = (_("output size") + f": n={r['n']}, f={r['f']}, s={r['stride']}, p={r['padding']}"
             + (f", d={r['dilation']}" if r["dilation"] > 1 else "")
             + (", " + _("ceil mode") if r["ceil_mode"] else ""))
    parts = [Panel(lines, title=title, expand=False)]
    if r["windows"]:
        table = titled(_("windows (input indices; < 0 or >= n: padding)"))
        table.add_column(_("window"), justify="right")
        table.add_column(_("first"), justify="right")
        table.add_column(_("last"), justify="right")
        shown = list(enumerate(r["windows"]))
        if len(shown) > MAX_LISTED_WINDOWS:
            shown = shown[:3] + [None] + shown[-3:]
        for item in shown:
            if item is None:
                table.add_row("...", "", "")
            else:
                k, (a, b) = item
                table.add_row(str(k), str(a), str(b))
        parts.append(table)
    answer = (_("no output") if r["output"] is None else
              _("output size {n}").format(n=r["output"]))
    parts.append(Text(answer, style="bold green" if r["fits"] else "bold red"))
    parts += [Text(line) for line in r["explanation"]]
    return Group(*parts)
