"""``juanji explain``: the course's numbers, computed by juanji and shown step by step.

Examples::

    juanji explain size 8 3 --stride 2                 # floor((8 - 3 + 0) / 2) + 1 = 3
    juanji explain pool --mode max --input "1 3 2 1; 2 9 1 1; 1 3 2 3; 5 6 1 2" --kernel 3 \\
        --stride 1 --dy "1 2; 3 4"
    juanji explain pool --mode avg --seed 0 --size 4 --kernel 2
    juanji explain conv --input "1 3 2 1; 2 9 1 1; 1 3 2 3; 5 6 1 2" --kernel "1 0; 0 -1" \\
        --bias 0.5 --weight 0,1 --pixel 1,1 --output 1,1
    juanji explain sharing --conv 6x5 --input-shape 32,32,3    # 456 against 14,455,392
    juanji explain sparsity course
    juanji explain network runs/digits-digits/best.npz
    juanji explain plot saliency runs/digits-digits/best.npz --out saliency.png
    juanji explain page runs/digits-digits/best.npz --out explainer/

Inline grids: rows separated by ``;``, numbers by spaces or commas, channels by ``|``
(``"1 2; 3 4 | 5 6; 7 8"`` is 2x2 with 2 channels). Without ``--input`` the input is drawn
from ``--seed`` (integers 0..9, ``--size`` and ``--channels``), and without ``--dy`` the
upstream gradient is drawn too (integers 1..4), so every number stays easy to check by hand.
Every command takes ``--json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..data.folder import read_model_image
from ..i18n import _
from ._common import (
    UsageError, console, input_shape, load_checkpoint_arg, model_from_arg, non_negative_int,
    positive_int,
)
from ..models import MODELS

__all__ = ["add_parser", "grid", "index_tuple"]

PLOTS = ("filters", "features", "confusion", "curves", "saliency")
MAX_DRAWN_SIZE = 32


# --- argument types -----------------------------------------------------------------------------

def grid(text: str) -> np.ndarray:
    """``"1 3; 2 9"`` -> a (H, W, C) float64 array; ``|`` separates channel planes.

    >>> grid("1 3; 2 9").shape, grid("1 2; 3 4 | 5 6; 7 8")[1, 0].tolist()
    ((2, 2, 1), [3.0, 7.0])
    """
    planes = []
    for c, plane in enumerate(text.split("|")):
        rows = [row.replace(",", " ").split() for row in plane.split(";")]
        rows = [row for row in rows if row] if plane.strip() else []
        if not rows:
            raise argparse.ArgumentTypeError(
                _("must be rows of numbers separated by ';' (channels by '|'), such as "
                  "'1 3 2; 2 9 1', got {text} (channel {c} is empty)").format(text=repr(text), c=c))
        widths = {len(row) for row in rows}
        if len(widths) != 1:
            raise argparse.ArgumentTypeError(
                _("every row must have the same number of values, got rows of {counts} values "
                  "in {text}").format(counts=[len(row) for row in rows], text=repr(text)))
        try:
            values = np.array([[float(v) for v in row] for row in rows])
        except ValueError:
            raise argparse.ArgumentTypeError(
                _("must hold numbers only (rows separated by ';'), got {text}").format(
                    text=repr(text))) from None
        if not np.isfinite(values).all():
            raise argparse.ArgumentTypeError(_("must hold finite numbers, got {text}").format(
                text=repr(text)))
        planes.append(values)
    if len({p.shape for p in planes}) != 1:
        raise argparse.ArgumentTypeError(
            _("every channel must have the same rows and columns, got {shapes} in "
              "{text}").format(shapes=[p.shape for p in planes], text=repr(text)))
    return np.stack(planes, axis=2)  # (H, W, C)


def index_tuple(text: str) -> tuple[int, ...]:
    """``"1,2"`` -> (1, 2); ``"0,1,2"`` -> (0, 1, 2); each an integer >= 0."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            _("must be row,column (or row,column,channel) integers >= 0 such as 1,2, got "
              "{text}").format(text=repr(text)))
    return tuple(int(p) for p in parts)


def hw(text: str) -> tuple[int, int]:
    """``"4"`` -> (4, 4); ``"4,5"`` -> (4, 5)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (1, 2) or not all(p.isdigit() and 1 <= int(p) <= MAX_DRAWN_SIZE
                                           for p in parts):
        raise argparse.ArgumentTypeError(
            _("must be N or H,W with each in 1..{most}, got {text}").format(
                most=MAX_DRAWN_SIZE, text=repr(text)))
    return (int(parts[0]), int(parts[-1]))


def conv_spec(text: str) -> tuple[int, int]:
    """``"6x5"`` -> (filters 6, kernel 5)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) >= 1 for p in parts):
        raise argparse.ArgumentTypeError(
            _("must be FILTERSxKERNEL such as 6x5 (six 5x5 kernels), got {text}").format(
                text=repr(text)))
    return int(parts[0]), int(parts[1])


# --- parser -------------------------------------------------------------------------------------

def add_parser(sub, common) -> None:
    """Register ``juanji explain`` and its topics on the top-level subparsers ``sub``."""
    p = sub.add_parser("explain", help=_("see every number: sizes, pooling, conv, models, plots"),
                       description=_("Explain the course's computations step by step, with "
                       "numbers computed by juanji and checked against the loop reference."),
                       epilog=_("Run `juanji explain TOPIC --help` for the options of a topic."))
    topics = p.add_subparsers(dest="topic", required=True, metavar="TOPIC")

    def topic(name, help_, description, func, *, json_flag=True):
        q = topics.add_parser(name, parents=[common], help=help_, description=description)
        if json_flag:
            q.add_argument("--json", action="store_true", help=_("print JSON only"))
        q.set_defaults(func=func, parser=q)
        return q

    q = topic("size", _("the output-size formula, step by step"),
              _("out = floor((n - f + 2p) / s) + 1 with your numbers, and what floor throws "
                "away."), cmd_size)
    q.add_argument("n", type=positive_int, help=_("input size along one axis"))
    q.add_argument("f", type=positive_int, help=_("window (kernel) size"))
    q.add_argument("--stride", "-s", type=positive_int, default=1, metavar="S")
    q.add_argument("--padding", "-p", type=non_negative_int, default=0, metavar="P")
    q.add_argument("--dilation", "-d", type=positive_int, default=1, metavar="D")
    q.add_argument("--ceil", action="store_true", help=_("round up (PyTorch's ceil_mode)"))

    def input_options(q):
        q.add_argument("--input", type=grid, metavar="GRID",
                       help=_("the input, e.g. \"1 3 2 1; 2 9 1 1; 1 3 2 3; 5 6 1 2\" "
                       "(rows by ';', channels by '|')"))
        q.add_argument("--seed", type=non_negative_int, default=0,
                       help=_("draws the input (without --input) and dy (without --dy); default 0"))
        q.add_argument("--size", type=hw, default=(4, 4), metavar="N|H,W",
                       help=_("size of a drawn input (default 4)"))
        q.add_argument("--channels", type=positive_int, default=1, metavar="C",
                       help=_("channels of a drawn input (default 1)"))
        q.add_argument("--stride", "-s", type=positive_int, metavar="S")
        q.add_argument("--padding", "-p", type=non_negative_int, default=0, metavar="P")
        q.add_argument("--dy", type=grid, metavar="GRID",
                       help=_("upstream gradient, the output's shape (default: drawn)"))

    q = topic("pool", _("max/average pooling: windows, results, backward routing"),
              _("Each window and its result; backward: the max mask (and the tie rule) or the "
                "dz/(f*f) split, with the sums where windows overlap."), cmd_pool)
    q.add_argument("--mode", choices=("max", "avg"), default="max")
    q.add_argument("--kernel", "-f", type=positive_int, default=2, metavar="F",
                   help=_("window size (default 2)"))
    q.add_argument("--ceil", action="store_true",
                   help=_("round the output size up (PyTorch's ceil_mode)"))
    q.add_argument("--no-count-pad", action="store_true",
                   help=_("avg: divide by the window's real cells only (count_include_pad=False)"))
    input_options(q)

    q = topic("conv", _("one conv output pixel; dW, db and dX as sums"),
              _("An output pixel as window x kernel + bias; backward: a weight's gradient as the "
                "sum over the outputs it touched, db as the sum of dZ, an input pixel's gradient "
                "as the sum over the windows holding it."), cmd_conv)
    q.add_argument("--kernel", "-k", type=grid, metavar="GRID",
                   help=_("the filter, e.g. \"1 0; 0 -1\" (default: drawn, integers -2..2)"))
    q.add_argument("--kernel-size", type=positive_int, default=2, metavar="F",
                   help=_("size of a drawn kernel (default 2)"))
    q.add_argument("--bias", "-b", type=float, default=0.0)
    q.add_argument("--dilation", "-d", type=positive_int, default=1, metavar="D")
    q.add_argument("--output", type=index_tuple, default=(0, 0), metavar="I,J",
                   help=_("the output pixel to write out (default 0,0)"))
    q.add_argument("--weight", type=index_tuple, default=(0, 0), metavar="A,B[,K]",
                   help=_("the kernel weight whose gradient to list (default 0,0)"))
    q.add_argument("--pixel", type=index_tuple, metavar="R,C[,K]",
                   help=_("the input pixel whose gradient to list (default: the centre)"))
    input_options(q)

    for name, help_, description, func in (
            ("sharing", _("conv vs dense parameter counts per layer"),
             _("Parameter sharing: each conv layer's parameters against a dense layer between "
               "the same sizes."), cmd_sharing),
            ("sparsity", _("inputs per output and receptive field per layer"),
             _("Sparse connectivity: how many inputs one output depends on, and the receptive "
               "field at each depth."), cmd_sparsity),
            ("network", _("the course table: shapes, activation sizes, parameters, cliffs"),
             _("The layer table with activation sizes and parameters, and activation-cliff "
               "warnings."), cmd_network)):
        q = topic(name, help_, description, func)
        q.add_argument("model", nargs="?", metavar="MODEL",
                       help=_("a built-in model ({names}) or a checkpoint").format(
                           names=", ".join(sorted(MODELS))))
        q.add_argument("--input-shape", type=input_shape, metavar="H,W,C")
        q.add_argument("--classes", type=positive_int, metavar="K")
        q.add_argument("--conv", type=conv_spec, action="append", metavar="FxK",
                       help=_("instead of MODEL: conv layers in order, e.g. --conv 6x5 "
                       "(repeatable; default input 32,32,3)"))

    q = topic("plot", _("filters, feature maps, confusion matrix, curves, saliency"),
              _("Draw a picture of a trained model as PNG or SVG (by the --out suffix)."),
              cmd_plot)
    q.add_argument("kind", choices=PLOTS, metavar="KIND", help=" | ".join(PLOTS))
    q.add_argument("checkpoint", type=Path, metavar="CHECKPOINT")
    q.add_argument("--out", type=Path, required=True, metavar="FILE", help=_(".png or .svg"))
    q.add_argument("--image", type=Path, metavar="IMG",
                   help=_("features/saliency: a PNG/JPG (default: a test image of the "
                   "checkpoint's data set)"))
    q.add_argument("--index", type=non_negative_int, default=0, metavar="N",
                   help=_("which test image without --image (default 0)"))
    q.add_argument("--invert", action="store_true", help=_("invert the grey levels of --image"))
    q.add_argument("--layer", type=non_negative_int, metavar="N",
                   help=_("filters: the conv layer's index (default: the first conv)"))
    q.add_argument("--channels", type=channel_spec, metavar="all|LIST",
                   help=_("features: which channels of each layer, 'all' or indices and ranges "
                          "such as 0-3,8 (default: the first 8)"))
    q.add_argument("--label", type=non_negative_int, metavar="K",
                   help=_("saliency: the class (default: the predicted one)"))
    q.add_argument("--dataset", help=_("confusion/test images: the data set (default: the "
                   "checkpoint's)"))
    q.add_argument("--data-dir", type=Path, metavar="DIR")

    q = topic("page", _("the interactive HTML explainer page"),
              _("Write one self-contained HTML page explaining the model forward and backward."),
              cmd_page, json_flag=False)
    q.add_argument("checkpoint", type=Path, metavar="CHECKPOINT")
    q.add_argument("--image", type=Path, action="append", default=[], metavar="IMG",
                   help=_("a PNG/JPG to explain (repeatable; default: test images)"))
    q.add_argument("--label", type=non_negative_int, metavar="K",
                   help=_("the class whose loss the backward view shows first (default: the "
                        "predicted one; the page can switch to any other)"))
    q.add_argument("--out", type=Path, required=True, metavar="DIR")


# --- helpers ------------------------------------------------------------------------------------

def _emit(args, result: dict, render) -> int:
    if args.json:
        print(json.dumps(result))
    else:
        console().print(render(result))
    return 0


# The explainers work small examples through by hand, every window shown: an input (and its
# padded form) of more numbers than this is refused (--channels 100000 ran past 60 s and 3.4 GB).
MAX_EXPLAIN_VALUES = 10_000


def _draw(args, rng: np.random.Generator) -> np.ndarray:
    """The --input, or integers 0..9 of --size and --channels from the seeded ``rng``."""
    if args.input is not None:
        return args.input
    h, w = args.size
    if h * w * args.channels > MAX_EXPLAIN_VALUES:
        raise UsageError(_("--size {h}x{w} with --channels {c} is {n} numbers; the explainers "
                           "work through small examples by hand, at most {most} (H x W x C)")
                         .format(h=h, w=w, c=args.channels, n=f"{h * w * args.channels:,}",
                                 most=f"{MAX_EXPLAIN_VALUES:,}"))
    return rng.integers(0, 10, size=(h, w, args.channels)).astype(np.float64)  # (H, W, C)


def _usage(fn, *a, **kw):
    """Run an explainer; a ValueError/TypeError there is a wrong command line (exit 2)."""
    try:
        return fn(*a, **kw)
    except (ValueError, TypeError) as e:
        raise UsageError(str(e)) from None


def _check_fits(x, kernel, dilation: int, padding: int, flag: str) -> None:
    """A window larger than the padded input is a wrong command line, said in its terms."""
    span = [dilation * (k - 1) + 1 for k in kernel]
    room = [n + 2 * padding for n in x.shape[:2]]
    channels = x.shape[2] if x.ndim == 3 else 1
    for what, cells in ((_("the input padded by --padding"), room[0] * room[1] * channels),
                        (flag, kernel[0] * kernel[1] * channels)):
        if cells > MAX_EXPLAIN_VALUES:
            raise UsageError(_("{what} holds {n} numbers; the explainers work through small "
                               "examples by hand, at most {most}").format(
                what=what, n=f"{cells:,}", most=f"{MAX_EXPLAIN_VALUES:,}"))
    if span[0] > room[0] or span[1] > room[1]:
        spanning = "" if dilation == 1 else _(", spanning {h}x{w}").format(h=span[0], w=span[1])
        raise UsageError(_("{flag} {kh}x{kw}{spanning} is larger than the input {h}x{w} padded "
                           "by {p} ({ph}x{pw}): the window does not fit anywhere").format(
            flag=flag, kh=kernel[0], kw=kernel[1], spanning=spanning, h=x.shape[0], w=x.shape[1],
            p=padding, ph=room[0], pw=room[1]))


def _dy(args, rng, shape) -> np.ndarray:
    """--dy, or integers 1..4 of ``shape`` (Ho, Wo, C)."""
    if args.dy is not None:
        if args.dy.shape != shape:
            raise UsageError(_("--dy must have the output's shape {shape} (rows x columns x "
                               "channels), got {got}").format(
                shape="x".join(map(str, shape)), got="x".join(map(str, args.dy.shape))))
        return args.dy
    return rng.integers(1, 5, size=shape).astype(np.float64)


# --- handlers -----------------------------------------------------------------------------------

def cmd_size(args) -> int:
    from ..explain.size import explain_size, render_size
    r = _usage(explain_size, args.n, args.f, stride=args.stride, padding=args.padding,
               dilation=args.dilation, ceil_mode=args.ceil)
    return _emit(args, r, render_size)


def cmd_pool(args) -> int:
    from ..explain.pool import explain_pool, render_pool
    rng = np.random.default_rng(args.seed)
    x = _draw(args, rng)
    _check_fits(x, (args.kernel, args.kernel), 1, args.padding, "--kernel")
    options = dict(stride=args.stride, padding=args.padding, ceil_mode=args.ceil,
                   count_include_pad=not args.no_count_pad)
    forward = _usage(explain_pool, x, args.mode, args.kernel, **options)
    dy = _dy(args, rng, tuple(forward["output_shape"]))
    r = _usage(explain_pool, x, args.mode, args.kernel, dy=dy, **options)
    return _emit(args, r, render_pool)


def cmd_conv(args) -> int:
    from ..explain.conv import explain_conv, render_conv
    rng = np.random.default_rng(args.seed)
    x = _draw(args, rng)
    if args.kernel is not None:
        kernel = args.kernel
    else:
        f = args.kernel_size
        kernel = rng.integers(-2, 3, size=(f, f, x.shape[2])).astype(np.float64)  # (f, f, C)
    if kernel.shape[2] != x.shape[2]:
        raise UsageError(_("--kernel has {k} channel(s) but the input has {c}; separate the "
                           "kernel's channels with '|'").format(k=kernel.shape[2], c=x.shape[2]))
    _check_fits(x, kernel.shape[:2], args.dilation, args.padding, "--kernel")
    weight = args.weight if len(args.weight) == 3 else (*args.weight, 0)
    pixel = None if args.pixel is None else (
        args.pixel if len(args.pixel) == 3 else (*args.pixel, 0))
    if len(args.output) != 2:
        raise UsageError(_("--output must be I,J (one filter: no channel), got {got}").format(
            got=args.output))
    kwargs = dict(stride=args.stride or 1, padding=args.padding, dilation=args.dilation,
                  output=args.output, weight=weight, pixel=pixel)
    forward = _usage(explain_conv, x, kernel, args.bias, **kwargs)
    ho, wo = np.shape(forward["output"])
    dy = _dy(args, rng, (ho, wo, 1))[:, :, 0]  # (Ho, Wo): one filter
    r = _usage(explain_conv, x, kernel, args.bias, dy=dy, **kwargs)
    return _emit(args, r, render_conv)


def _model(args):
    """MODEL (a built-in name or a checkpoint path) or the --conv layers, built."""
    from ..nn import Conv2D, Sequential
    from ..nn.sequential import LayerShapeError

    if args.conv:
        if args.model is not None or args.classes is not None:
            raise UsageError(_("--conv builds its own model; drop MODEL and --classes"))
        shape = args.input_shape or (32, 32, 3)
        try:
            return Sequential([Conv2D(f, k) for f, k in args.conv], shape)
        except LayerShapeError as e:
            raise UsageError(_("--conv layers do not fit --input-shape {shape}: {error}").format(
                shape=shape, error=e)) from None
    if args.model is None:
        raise UsageError(_("give a MODEL (a built-in name or a checkpoint) or --conv FxK"))
    return model_from_arg(args.model, args.input_shape, args.classes)


def cmd_sharing(args) -> int:
    from ..explain.model import explain_sharing, render_sharing
    return _emit(args, explain_sharing(_model(args)), render_sharing)


def cmd_sparsity(args) -> int:
    from ..explain.model import explain_sparsity, render_sparsity
    return _emit(args, explain_sparsity(_model(args)), render_sparsity)


def cmd_network(args) -> int:
    from ..explain.model import explain_network, render_network
    return _emit(args, explain_network(_model(args)), render_network)


def _dataset_name(args, ck) -> str:
    name = args.dataset or ck.dataset
    if name is None:
        raise UsageError(_("{path} does not say which data set it was trained on; give "
                           "--dataset (or --image)").format(path=repr(str(args.checkpoint))))
    from ..data import DATASETS
    if name not in DATASETS:
        raise UsageError(_("--dataset must be one of {names}, got {name}").format(
            names=sorted(DATASETS), name=repr(name)))
    return name


def _one_input(args, ck):
    """(normalised image (H, W, C), description, true label or None)."""
    norm = ck.load_normalizer()
    if norm is None:
        raise ValueError(f"{str(args.checkpoint)!r} holds no normaliser, so the model's inputs "
                         f"are unknown")
    if args.image is not None:
        if not args.image.is_file():
            raise UsageError(_("image file {path} does not exist").format(
                path=repr(str(args.image))))
        raw = read_model_image(args.image, ck.input_shape, args.invert)  # (H, W, C) uint8
        return norm(raw[None])[0], str(args.image), None
    from ..data import load_dataset
    name = _dataset_name(args, ck)
    _train, test = load_dataset(name, args.data_dir)
    if args.index >= len(test):
        raise UsageError(_("--index {index} is beyond the {n} test images").format(
            index=args.index, n=len(test)))
    if test.input_shape != ck.input_shape:
        raise ValueError(f"the model takes {ck.input_shape} images but {name!r} has "
                         f"{test.input_shape}")
    return (norm(np.asarray(test.x[args.index:args.index + 1]))[0],
            f"{name} test image {args.index}", int(test.y[args.index]))


def channel_spec(text: str):
    """``"all"`` -> ``"all"``; ``"0-3,8"`` -> ``[0, 1, 2, 3, 8]``.

    >>> channel_spec("all"), channel_spec("0-3, 8")
    ('all', [0, 1, 2, 3, 8])
    """
    if text.strip().lower() == "all":
        return "all"
    out = []
    for part in text.split(","):
        lo, _dash, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()) or (hi and int(hi) < int(lo)):
            raise argparse.ArgumentTypeError(_(
                "must be 'all' or channel indices and ranges such as 0-3,8, got {text}").format(
                    text=repr(text)))
        out.extend(range(int(lo), int(hi or lo) + 1))
    return sorted(set(out))


def cmd_plot(args) -> int:
    from ..explain import plots
    if args.out.suffix.lower() not in plots.FORMATS:
        raise UsageError(_("--out {path} must end in .png or .svg").format(
            path=repr(str(args.out))))
    if args.kind == "curves" and args.out.suffix.lower() != ".png":
        raise UsageError(_("training curves are written as PNG only; use an --out ending in "
                           ".png"))
    if not args.out.parent.is_dir() and str(args.out.parent):
        raise UsageError(_("the directory of --out {path} does not exist").format(
            path=repr(str(args.out.parent))))
    ck = load_checkpoint_arg(args.checkpoint)
    model = ck.model
    info = {"kind": args.kind, "checkpoint": str(args.checkpoint), "out": str(args.out)}
    if args.kind == "filters":
        w = _usage(plots.plot_filters, model, args.out, layer=args.layer)
        info["weight_shape"] = list(w.shape)
    elif args.kind in ("features", "saliency"):
        x, what, true = _one_input(args, ck)
        info.update(image=what, true_label=true)
        if args.kind == "features":
            from ..nn import head
            maps = plots.plot_features(model, x, args.out, channels=args.channels,
                                       class_names=ck.class_names)
            info["layers"] = [{"index": i, "layer": kind, "shape": list(a.shape)}
                              | ({"channels": plots.channel_selection(args.channels, a.shape[2])}
                                 if a.ndim == 3 else {})
                              for i, kind, a in maps]
            classes, probs = head.predicted(maps[-1][2][None])  # from the (1, K) logits
            info.update(label=int(classes[0]), probability=float(probs[0]))
        else:
            k = int(model.output_shape[0])
            if args.label is not None and args.label >= max(k, 2):
                raise UsageError(_("--label {label} is not a class of the model (0..{last})")
                                 .format(label=args.label, last=k - 1))
            s = plots.plot_saliency(model, x, args.out, label=args.label,
                                    class_names=ck.class_names)
            _s, label = plots.saliency(model, x, args.label)
            info.update(label=label, max_abs_saliency=float(np.abs(s).max()))
    elif args.kind == "confusion":
        from ..data import load_dataset
        from ..train import evaluate
        name = _dataset_name(args, ck)
        _train, test = load_dataset(name, args.data_dir)
        norm = ck.load_normalizer()
        if norm is None:
            raise ValueError(f"{str(args.checkpoint)!r} holds no normaliser")
        result = evaluate(model, test, norm)
        plots.plot_confusion(result.confusion, args.out,
                             class_names=ck.class_names or list(test.class_names))
        info.update(dataset=name, accuracy=result.accuracy,
                    confusion=result.confusion.tolist())
    elif args.kind == "curves":
        from ..train import History
        if not ck.metrics:
            raise ValueError(f"{str(args.checkpoint)!r} holds no training history to plot")
        plots.plot_curves(History.from_dict(ck.metrics), args.out)
        info["epochs"] = len(ck.metrics["epochs"])
    else:
        raise UsageError(f"KIND must be one of {PLOTS}, got {args.kind!r}")
    if args.json:
        print(json.dumps(info))
    else:
        console().print(_("wrote {path}").format(path=args.out))
    return 0


def cmd_page(args) -> int:
    from ..explain.page import write_page  # written by the explainer-page module, loaded only here
    for path in args.image:
        if not path.is_file():
            raise UsageError(_("image file {path} does not exist").format(path=repr(str(path))))
    if not args.checkpoint.exists():
        raise UsageError(_("checkpoint file {path} does not exist").format(
            path=repr(str(args.checkpoint))))
    path = write_page(args.checkpoint, args.image, args.out, label=args.label)
    console().print(_("wrote {path}").format(path=path))
    return 0
