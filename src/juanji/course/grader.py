"""A grader that names the mistake: run a learner's course function on cases built to expose the
classic mistakes, compare with juanji's, and say which case, which index, expected vs got, and
the likely misconception in plain words.

>>> from juanji.course import check, conv_forward
>>> check("conv_forward", conv_forward).passed
True
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import numpy as np

from . import mistakes
from ..i18n import N_, _, language
from .layers import conv_backward, conv_forward, pool_backward, pool_forward
from ..reference import conv_single_step, create_mask_from_window, distribute_value, zero_pad

_RTOL, _ATOL = 1e-7, 1e-9


@dataclass
class CheckResult:
    """The grade of one function: ``passed``, the ``diagnosis`` (empty when it passed, written
    in ``lang``) and the ``case`` that exposed the mistake (its English name, None when it
    passed)."""

    name: str
    passed: bool
    diagnosis: str = ""
    case: str | None = None
    cases_run: list = field(default_factory=list)
    lang: str = "en"

    def cases_text(self) -> str:
        """The cases run, in the result's language, ``|``-separated."""
        with language(self.lang):
            return " | ".join(_(c) for c in self.cases_run)  # names marked with N_

    def verdict(self) -> str:
        """``passed`` or ``FAILED`` in the result's language."""
        with language(self.lang):
            return _("passed") if self.passed else _("FAILED")

    def __str__(self) -> str:
        with language(self.lang):
            if self.passed:
                return _("{name}: passed ({count} cases: {cases})").format(
                    name=self.name, count=len(self.cases_run), cases=self.cases_text())
            return _("{name}: FAILED\n{diagnosis}").format(name=self.name,
                                                            diagnosis=self.diagnosis)

    def _repr_html_(self) -> str:
        return html_table([self], self.lang)


def html_table(results: list[CheckResult], lang: str) -> str:
    """The results as an HTML table (a notebook's view of the terminal table), in ``lang``."""
    with language(lang):
        passed, failed = _("passed"), _("failed")
        rows = "".join(
            f"<tr><td><code>{html.escape(r.name)}</code></td>"
            f"<td style='color:{'#1a7f37' if r.passed else '#cf222e'}'><b>"
            f"{html.escape(passed if r.passed else failed)}</b></td>"
            f"<td style='text-align:left;white-space:pre-wrap'>"
            f"{html.escape(r.cases_text() if r.passed else r.diagnosis)}</td></tr>"
            for r in results)
        head = "".join(f"<th>{html.escape(h)}</th>" for h in
                       (_("function"), _("result"), _("details")))
    return f"<table><tr>{head}</tr>{rows}</table>"


@dataclass
class _Case:
    name: str
    args: tuple
    describe: str
    kwargs: dict = field(default_factory=dict)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _conv_case(name, seed, a_shape, f, c_out, stride, pad):
    r = _rng(seed)
    A = r.standard_normal(a_shape)
    W = r.standard_normal((f, f, a_shape[3], c_out))
    b = r.standard_normal((1, 1, 1, c_out)) * 3
    hp = {"stride": stride, "pad": pad}
    return _Case(name, (A, W, b, hp), f"A_prev {a_shape}, W {W.shape}, stride {stride}, pad {pad}")


def _conv_cases():
    return [
        _conv_case(N_("overlapping windows, several images and channels"), 1, (2, 5, 5, 3), 3,
                   4, 1, 0),
        _conv_case(N_("stride larger than the kernel, odd sizes"), 2, (2, 7, 6, 2), 2, 3, 3, 0),
        _conv_case(N_("padding, stride 2, odd sizes"), 3, (2, 4, 5, 3), 3, 2, 2, 1),
    ]


def _pool_case(name, seed, a_shape, f, stride, mode, ties=False):
    r = _rng(seed)
    A = (r.integers(-3, 3, a_shape).astype(np.float64) if ties else r.standard_normal(a_shape))
    tied = _(" (integers: tied maxima)") if ties else ""
    return _Case(name, (A, {"f": f, "stride": stride}),
                 f"A_prev {a_shape}{tied}, f {f}, stride {stride}, mode {mode!r}", {"mode": mode})


def _pool_cases():
    return [
        _pool_case(N_("max, overlapping windows, several channels"), 4, (2, 5, 5, 3), 3, 1,
                   "max"),
        _pool_case(N_("average, overlapping windows, several channels"), 5, (2, 5, 5, 3), 3, 1,
                   "average"),
        _pool_case(N_("max, stride larger than the kernel, odd sizes"), 6, (2, 7, 7, 2), 2, 3,
                   "max"),
        _pool_case(N_("average, stride larger than the kernel, odd sizes"), 7, (2, 7, 7, 2), 2,
                   3, "average"),
    ]


def _with_grad(case: _Case, forward, seed: int) -> _Case:
    out, cache = forward(*case.args, **case.kwargs)
    grad = _rng(seed).standard_normal(out.shape)
    return _Case(case.name, (grad, cache), case.describe, case.kwargs)


def _cases(name: str) -> list[_Case]:
    r = _rng(11)
    if name == "zero_pad":
        return [_Case(N_("several images and channels"), (r.standard_normal((3, 4, 5, 2)), 2),
                      "X (3, 4, 5, 2), pad 2")]
    if name == "conv_single_step":
        return [_Case(N_("negative values, bias"), (r.standard_normal((3, 3, 2)),
                                                r.standard_normal((3, 3, 2)), np.array([[[-2.5]]])),
                      "a_slice_prev (3, 3, 2), W (3, 3, 2), b [[[-2.5]]]")]
    if name == "conv_forward":
        return _conv_cases()
    if name == "conv_backward":
        return [_with_grad(c, conv_forward, 20 + k) for k, c in enumerate(_conv_cases())]
    if name == "pool_forward":
        return _pool_cases() + [_pool_case(N_("max, ties and negative values"), 8, (2, 4, 4, 2),
                                           2, 1, "max", ties=True)]
    if name == "pool_backward":
        cases = _pool_cases() + [_pool_case(N_("max, ties and negative values"), 8, (2, 4, 4, 2),
                                            2, 1, "max", ties=True)]
        return [_with_grad(c, pool_forward, 30 + k) for k, c in enumerate(cases)]
    if name == "create_mask_from_window":
        return [_Case(N_("negative values"), (np.array([[-3.0, -1.0, -4.0],
                                                         [-2.0, -5.0, -1.5]]),),
                      "x [[-3, -1, -4], [-2, -5, -1.5]]"),
                _Case(N_("ties"), (np.array([[2.0, 1.0], [0.0, 2.0]]),), "x [[2, 1], [0, 2]]")]
    if name == "distribute_value":
        return [_Case(N_("odd sizes"), (3.0, (2, 3)), "dz 3.0, shape (2, 3)")]
    raise ValueError(f"`name` must be one of the course's functions {tuple(_REFERENCE)}, "
                     f"got {name!r}")


_REFERENCE = {
    "zero_pad": zero_pad, "conv_single_step": conv_single_step, "conv_forward": conv_forward,
    "conv_backward": conv_backward, "pool_forward": pool_forward, "pool_backward": pool_backward,
    "create_mask_from_window": create_mask_from_window, "distribute_value": distribute_value,
}
_OUTPUT_NAMES = {"conv_forward": ("Z",), "conv_backward": ("dA_prev", "dW", "db"),
                 "pool_forward": ("A",), "pool_backward": ("dA_prev",), "zero_pad": ("X_pad",),
                 "conv_single_step": ("Z",), "create_mask_from_window": ("mask",),
                 "distribute_value": ("a",)}


def _copy(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else
                 (dict(a) if isinstance(a, dict) else
                  (tuple(x.copy() if isinstance(x, np.ndarray) else x for x in a)
                   if isinstance(a, tuple) else a)) for a in args)


def _outputs(name: str, value) -> tuple:
    if name == "conv_forward" or name == "pool_forward":
        value = value[0] if isinstance(value, tuple) else value  # (Z, cache): grade Z
    if name == "conv_backward":
        return tuple(value)
    return (value,)


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=_RTOL, atol=_ATOL)


def check(name: str, fn, *, lang: str | None = None) -> CheckResult:
    """Grade a learner's course function ``fn`` (named ``name``, e.g. ``"conv_backward"``).

    Runs it on each case of that function (built to expose a classic mistake: overlapping
    windows, stride larger than the kernel, padding, odd sizes, several images and channels,
    ties, negative values), compares with juanji's answer and stops at the first case that
    differs.

    Args:
        lang: the diagnosis's language, ``"en"`` or ``"zh"``; None: the current one
            (:func:`juanji.i18n.set_language`, else the locale).

    Returns:
        a :class:`CheckResult`: ``.passed``, ``.diagnosis`` (which case, which index, expected vs
        got, the likely misconception) and ``.case``.
    """
    if name not in _REFERENCE:
        raise ValueError(f"`name` must be one of the course's functions {tuple(_REFERENCE)}, "
                         f"got {name!r}")
    if not callable(fn):
        raise TypeError(f"`fn` must be a function, got {type(fn).__name__}")
    with language(lang) as lang:
        return _grade(name, fn, lang)


def _grade(name: str, fn, lang: str) -> CheckResult:
    run = []
    for case in _cases(name):
        expected = _outputs(name, _REFERENCE[name](*_copy(case.args), **case.kwargs))
        title = _(case.name)  # marked with N_
        head = _("Case '{case}' ({describe}):").format(case=title, describe=case.describe)

        def failed(what: str, why: str | None = None) -> CheckResult:
            text = f"{head} {what}" + ("" if why is None else "\n" + _("Likely: {why}").format(
                why=why))
            return CheckResult(name, False, text, case.name, run, lang)

        try:
            got = _outputs(name, fn(*_copy(case.args), *case.kwargs.values()))
        except Exception as e:  # the learner's code: any error is a finding
            return failed(_("your function raised {error}: {message}").format(
                error=type(e).__name__, message=e), _crash_hint(name, e))
        if len(got) != len(expected):
            return failed(_("expected {n} outputs {names}, got {got}.").format(
                n=len(expected), names=_OUTPUT_NAMES[name], got=len(got)))
        for out_name, e, g in zip(_OUTPUT_NAMES[name], expected, got):
            if not _same(e, g):
                return failed(_where(out_name, e, g), _explain(name, out_name, case, e, g))
        run.append(case.name)
    return CheckResult(name, True, "", None, run, lang)


def _where(out_name: str, e, g) -> str:
    e, g = np.asarray(e), np.asarray(g)
    if e.shape != g.shape:
        return _("{name} has shape {got}, expected {expected}.").format(
            name=out_name, got=g.shape, expected=e.shape)
    bad = np.argwhere(~np.isclose(e, g, rtol=_RTOL, atol=_ATOL))
    idx = tuple(int(i) for i in bad[0])
    at = f"{out_name}[{', '.join(map(str, idx))}]" if idx else out_name
    return _("{at} expected {expected:.6g}, got {got:.6g} ({bad} of {size} values "
             "differ).").format(at=at, expected=float(e[idx]), got=float(g[idx]), bad=len(bad),
                                size=e.size)


def _crash_hint(name: str, e: Exception) -> str:
    shapes = [tuple(int(n) for n in t.split(",") if n.strip())
              for t in re.findall(r"\(([\d, ]+)\)", str(e))]
    if (name in ("conv_forward", "conv_backward") and isinstance(e, ValueError)
            and len(shapes) >= 2 and len(shapes[0]) == len(shapes[1]) == 3
            and shapes[0][2] == shapes[1][2] and shapes[0][:2] != shapes[1][:2]):
        return _("the output size with ceil instead of floor: the last window runs past the "
                 "edge, so the slice is smaller than the filter. n_H = floor((n_H_prev + 2*pad "
                 "- f) / stride) + 1.")
    if name in ("conv_forward", "conv_backward") and isinstance(e, ValueError):
        return _("a shape mismatch inside the loops. If you padded with np.pad(X, pad), the "
                 "batch and channel axes were padded too: pad only height and width, "
                 "((0, 0), (pad, pad), (pad, pad), (0, 0)).")
    if isinstance(e, IndexError):
        return _("an index past the end: check the output size n_H = floor((n_H_prev + 2*pad - "
                 "f) / stride) + 1 and that each window starts at h * stride.")
    return _("read the error above; it happened inside your function.")


def _explain(name: str, out: str, case: _Case, e, g) -> str:  # noqa: C901 - one mistake per branch
    e, g = np.asarray(e), np.asarray(g)
    args = case.args
    if name == "zero_pad" and e.ndim == 4 and g.shape == tuple(
            n + 2 * args[1] for n in args[0].shape):
        return _("padding applied to the batch and channel axes too: np.pad(X, pad) pads every "
                 "axis. Pad only height and width: ((0, 0), (pad, pad), (pad, pad), (0, 0)).")
    if name == "conv_single_step" and np.isclose(g, e - args[2].item()):
        return _("the bias forgotten: Z = sum(a_slice_prev * W) + b, with b added once.")
    if name == "conv_forward":
        A, W, b, hp = args
        if e.shape != g.shape:
            return _size_hint(g.shape, A.shape, W.shape[0], hp["pad"], hp["stride"])
        if _same(g, mistakes.conv_forward_no_bias(*args)):
            return _("the bias forgotten: each output adds its filter's bias b[0, 0, 0, c].")
        if (_same(g, mistakes.conv_forward_bias_of_channel_0(*args))
                or _same(g, mistakes.conv_forward_all_biases(*args))):
            return _("the bias added per channel wrongly: filter c adds its own bias "
                     "b[:, :, :, c], not another channel's and not the sum of all.")
        if hp["stride"] > 1 and _same(g, mistakes.conv_forward_stride_ignored(*args)):
            return _("the stride ignored in the slice: window (h, w) starts at vert_start = "
                     "h * stride, horiz_start = w * stride, not at h and w.")
    if name == "conv_backward":
        dZ, cache = args
        A, W, b, hp = cache
        if out == "dA_prev" and hp["pad"] > 0 and g.shape == (
                A.shape[0], A.shape[1] + 2 * hp["pad"], A.shape[2] + 2 * hp["pad"], A.shape[3]):
            return _("the padded border not cut off dA_prev: return "
                     "dA_prev_pad[pad:-pad, pad:-pad, :] for each image, the shape of A_prev.")
        if out == "db":
            if _same(g.reshape(-1), dZ[-1].sum(axis=(0, 1))):
                return _("db not summed over images: db[..., c] += dZ[i, h, w, c] for every "
                         "image i too, not only the last one.")
            if _same(g.reshape(-1), dZ[-1, -1, -1]) or _same(g.reshape(-1), dZ[..., :].mean(
                    axis=(0, 1, 2))):
                return _("db not summed over positions and images: db[..., c] is the sum of "
                         "dZ[i, h, w, c] over every i, h and w.")
        if out == "dW" and _same(g, mistakes.conv_backward_overwrite(dZ, cache, "dW")):
            return _("dW overwritten instead of accumulated: the same filter is used by every "
                     "window, so dW[..., c] += a_slice * dZ[i, h, w, c] sums all their parts "
                     "(like a cook adding up their share of every dish's score).")
        if out == "dA_prev" and _same(g, mistakes.conv_backward_overwrite(dZ, cache, "dA_prev")):
            return _("dA_prev overwritten instead of accumulated over overlapping windows: a "
                     "pixel in several windows gets the sum, dA_prev_pad[...] += W[..., c] * "
                     "dZ[...].")
    if name == "pool_forward":
        A, hp = args
        mode = case.kwargs["mode"]
        if e.shape != g.shape:
            return _size_hint(g.shape, A.shape, hp["f"], 0, hp["stride"])
        if mode == "average" and _same(g, mistakes.pool_forward_not_divided(A, hp)):
            return _("the average not divided by f*f: np.mean of the window, not its sum.")
        if _same(g, mistakes.pool_forward_channels_mixed(A, hp, mode)):
            return _("channels mixed in pooling: pool each channel on its own, "
                     "a_prev_slice = a_prev[vert, horiz, c], not [vert, horiz, :].")
        if hp["stride"] > 1 and _same(g, mistakes.pool_forward_stride_ignored(A, hp, mode)):
            return _("the stride ignored in the slice: window (h, w) starts at h * stride, "
                     "w * stride.")
    if name == "pool_backward":
        dA, cache = args
        mode = case.kwargs["mode"]
        if mode == "max" and _same(g, mistakes.pool_backward_variant(dA, cache, mode, "first")):
            return _("the max mask marking only the first of tied maxima (PyTorch's rule). The "
                     "course's mask is x == np.max(x): every tied cell gets the gradient.")
        if mode == "average" and _same(g, mistakes.pool_backward_variant(dA, cache, mode,
                                                                         "not_divided")):
            return _("the average not divided by f*f: each of the f*f cells contributed 1/(f*f) "
                     "of the mean, so it gets dA / (f*f) (distribute_value).")
        if _same(g, mistakes.pool_backward_variant(dA, cache, mode, "overwrite")):
            return _("dA_prev overwritten instead of accumulated over overlapping windows: "
                     "dA_prev[i, vert, horiz, c] += ...")
        if _same(g, mistakes.pool_backward_variant(dA, cache, mode, "channels_mixed")):
            return _("channels mixed in pooling: the mask of channel c must come from "
                     "a_prev_slice[:, :, c] only.")
        if mode == "max" and e.shape == g.shape and not np.array_equal(e != 0, g != 0):
            return _("the max mask marking the wrong cells: the gradient goes only to the cells "
                     "equal to the window's maximum (x == np.max(x)).")
    if name == "create_mask_from_window":
        return _("the max mask marking the wrong cells: mask = (x == np.max(x)), True at every "
                 "cell equal to the maximum (all tied ones), also when all values are "
                 "negative.")
    if name == "distribute_value":
        return _("the average not divided by n_H * n_W: a = dz / (n_H * n_W) in every cell.")
    return _("values differ from the course's formula; compare your loop with the formula "
             "above.")


def _size_hint(got_shape, a_shape, f, pad, stride) -> str:
    floor = [(n + 2 * pad - f) // stride + 1 for n in a_shape[1:3]]
    ceil = [mistakes.ceil_size(n, f, pad, stride) for n in a_shape[1:3]]
    if list(got_shape[1:3]) == ceil and ceil != floor:
        return _("the output size with ceil instead of floor: n_H = floor((n_H_prev + 2*pad - "
                 "f) / stride) + 1 = {n_H}, a window that would run past the edge is "
                 "dropped.").format(n_H=floor[0])
    return _("the output size: n_H = floor((n_H_prev + 2*pad - f) / stride) + 1 = {n_H}, "
             "n_W = {n_W}.").format(n_H=floor[0], n_W=floor[1])
