"""Property tests of the public ops against PyTorch, over random shapes, options and dtypes.

The rule every property checks: for a configuration PyTorch accepts, juanji returns the same
values and gradients (float64 to 1e-10, float32 to 1e-4, ``tests.helpers.assert_close``); when
either refuses, juanji raises ValueError/TypeError whose message names the argument in
backticks; never another exception type, never a hang (deadline-free but tiny shapes), never a
NaN that the inputs did not contain.

juanji's deliberate extensions are compared through their PyTorch equivalent: ``'same'`` padding
with stride > 1 and asymmetric padding ``((top, bottom), (left, right))`` become an explicit
``F.pad`` (the TensorFlow/Keras rule, worked out here independently of juanji's helper).
Deliberate refusals where PyTorch computes something (a non-finite ``negative_slope``, bools as
sizes) are listed in :data:`DELIBERATE_REFUSALS` and still must name their argument.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from juanji.functional import (
    avg_pool2d_backward, avg_pool2d_forward, batch_norm2d_backward, batch_norm2d_forward,
    conv2d_backward, conv2d_forward, flatten_backward, flatten_forward, leaky_relu_backward,
    leaky_relu_forward, linear_backward, linear_forward, log_softmax, max_pool2d_backward,
    max_pool2d_forward, relu_backward, relu_forward, sigmoid_backward, sigmoid_forward,
    softmax, softmax_cross_entropy_backward, softmax_cross_entropy_forward, tanh_backward,
    tanh_forward,
)
from tests.helpers import assert_close, hwio_to_torch, nhwc_to_torch, torch_to_hwio, torch_to_nhwc

from .support import assert_clear_refusal, count, prop_settings

torch.set_num_threads(1)  # tiny tensors: torch's thread pool only adds overhead

DTYPES = st.sampled_from([np.float32, np.float64])
DELIBERATE_REFUSALS = {
    "negative_slope": "nan/inf slopes turn -x * inf into NaN; refused at the boundary",
    "bool sizes": "True is not a stride of 1; PyTorch takes it, juanji refuses",
    "bias shape": "F.linear broadcasts a (1,) bias over D_out; juanji wants (D_out,)",
}


def int_or_pair(lo: int, hi: int):
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


def padding_forms(lo: int, hi: int, nested: bool = True):
    forms = [st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)),
             st.sampled_from(["same", "valid"])]
    if nested:
        side = st.tuples(st.integers(lo, hi), st.integers(lo, hi))
        forms.append(st.tuples(side, side))
    return st.one_of(*forms)


def as_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_1d(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow 'same': output ceil(n / s), total padding split with the extra after."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def explicit_padding(padding, hw, kernel, stride, dilation):
    """juanji's padding argument as ((top, bottom), (left, right)), or None for 'valid'."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        return tuple(same_1d(n, k, s, d) for n, k, s, d in zip(hw, kernel, stride, dilation))
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    if isinstance(padding[0], int):
        return ((padding[0], padding[0]), (padding[1], padding[1]))
    return tuple(tuple(p) for p in padding)


def torch_outcome(fn):
    """(result, None) or (None, the exception): PyTorch's verdict on a configuration."""
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - torch refuses with RuntimeError, ValueError, ...
        return None, e


def juanji_outcome(fn):
    """Like :func:`torch_outcome`, but only a clear ValueError/TypeError may escape."""
    try:
        return fn(), None
    except (ValueError, TypeError) as e:
        assert_clear_refusal(e)
        return None, e


def agree(ours, theirs, what: str):
    """Both accept or both refuse; juanji's refusal must be clear (checked in juanji_outcome)."""
    (_, our_err), (_, their_err) = ours, theirs
    assert (our_err is None) == (their_err is None), (
        f"{what}: juanji {'refused' if our_err else 'accepted'} ({our_err}), PyTorch "
        f"{'refused' if their_err else 'accepted'} ({their_err})")
    count("ops: refusals agreed" if our_err else "ops: values agreed")
    return our_err is None


def no_new_nan(inputs, outputs, what: str):
    """Finite inputs give NaN-free outputs (inf - inf = NaN is arithmetic, not a bug)."""
    if all(np.isfinite(a).all() for a in inputs if a is not None):
        for o in outputs:
            if o is not None:
                assert not np.isnan(o).any(), f"{what}: NaN from NaN-free inputs"


def rand(rng, shape, dtype):
    return rng.uniform(-1, 1, shape).astype(dtype)


# --- convolution ---------------------------------------------------------------------------------

@st.composite
def conv_configs(draw):
    """Mostly valid configurations; one in three breaks exactly one argument."""
    broken = draw(st.sampled_from([None, None, "stride", "dilation", "padding", "groups"]))
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    if broken == "groups":
        c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return dict(
        n=draw(st.integers(0, 2)), h=draw(st.integers(1, 7)), w=draw(st.integers(1, 7)),
        c_in=c_in, c_out=c_out, kernel=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
        groups=groups, stride=draw(int_or_pair(0 if broken == "stride" else 1, 3)),
        dilation=draw(int_or_pair(0 if broken == "dilation" else 1, 3)),
        padding=draw(padding_forms(-1 if broken == "padding" else 0, 3)),
        bias=draw(st.sampled_from([None, "vector", "4d"])), dtype=draw(DTYPES),
        seed=draw(st.integers(0, 2**16)))


def torch_conv(cfg, x, w, b, dy):
    stride, dilation = as_pair(cfg["stride"]), as_pair(cfg["dilation"])
    pad = cfg["padding"]
    xt, wt = nhwc_to_torch(x), hwio_to_torch(w)
    bt = None if b is None else torch.tensor(b.reshape(-1), requires_grad=True)
    if pad == "same" and stride == (1, 1) or pad == "valid" or isinstance(pad, int) or (
            isinstance(pad, tuple) and isinstance(pad[0], int)):
        yt = F.conv2d(xt, wt, bt, stride=stride, padding=pad, dilation=dilation,
                      groups=cfg["groups"])  # torch's own padding rules and checks
    else:  # 'same' with stride > 1 or asymmetric: torch's equivalent is an explicit F.pad
        if min(stride) < 1 or min(dilation) < 1:
            raise ValueError("stride and dilation must be >= 1")
        (t, bo), (le, r) = explicit_padding(pad, (cfg["h"], cfg["w"]), cfg["kernel"], stride,
                                            dilation)
        if min(t, bo, le, r) < 0:
            raise ValueError("negative padding is not supported")  # as F.conv2d(padding=-1)
        yt = F.conv2d(F.pad(xt, (le, r, t, bo)), wt, bt, stride=stride, dilation=dilation,
                      groups=cfg["groups"])
    yt.backward(nhwc_to_torch(dy).detach())
    db = None if b is None else bt.grad.numpy().reshape(b.shape)
    return torch_to_nhwc(yt), torch_to_nhwc(xt.grad), torch_to_hwio(wt.grad), db


def conv_out_shape(cfg):
    """The output shape by the formula, typed here independently, for dy."""
    stride, dilation = as_pair(cfg["stride"]), as_pair(cfg["dilation"])
    if min(stride) < 1 or min(dilation) < 1:
        return None
    pads = explicit_padding(cfg["padding"], (cfg["h"], cfg["w"]), cfg["kernel"], stride,
                            dilation)
    out = []
    for n, k, s, d, (lo, hi) in zip((cfg["h"], cfg["w"]), cfg["kernel"], stride, dilation, pads):
        room = n + lo + hi - d * (k - 1) - 1
        if room < 0:
            return None
        out.append(room // s + 1)
    return (cfg["n"], *out, cfg["c_out"])


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")  # torch's
@given(cfg=conv_configs())
@prop_settings()
def test_conv2d_agrees_with_torch_or_both_refuse(cfg):
    count("ops: conv2d examples")
    rng = np.random.default_rng(cfg["seed"])
    dtype = cfg["dtype"]
    x = rand(rng, (cfg["n"], cfg["h"], cfg["w"], cfg["c_in"]), dtype)
    w = rand(rng, (*cfg["kernel"], max(cfg["c_in"] // cfg["groups"], 1), cfg["c_out"]), dtype)
    b = None if cfg["bias"] is None else rand(rng, cfg["c_out"], dtype)
    if cfg["bias"] == "4d":
        b = b.reshape(1, 1, 1, -1)
    out_shape = conv_out_shape(cfg)
    dy = rand(rng, out_shape, dtype) if out_shape else np.zeros((1, 1, 1, 1), dtype)

    def ours():
        y, cache = conv2d_forward(x, w, b, stride=cfg["stride"], padding=cfg["padding"],
                                  dilation=cfg["dilation"], groups=cfg["groups"])
        return (y, *conv2d_backward(dy, cache))

    mine, theirs = juanji_outcome(ours), torch_outcome(lambda: torch_conv(cfg, x, w, b, dy))
    if agree(mine, theirs, f"conv2d {cfg}"):
        for name, a, e in zip(("y", "dx", "dw", "db"), mine[0], theirs[0]):
            if e is None:
                assert a is None
                continue
            assert a.shape == e.shape and a.dtype == dtype, name
            assert_close(a, e, dtype, f"conv2d {name} {cfg}")
        no_new_nan((x, w, b, dy), mine[0], "conv2d")


JUNK = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=3),
                 st.lists(st.integers(-2, 3), max_size=3), st.just((1, 2, 3)),
                 st.just(((1, 1), (1,))), st.just(np.float64(1.0)))


@given(arg=st.sampled_from(["stride", "padding", "dilation", "groups"]), value=JUNK)
@prop_settings(0.5)
def test_conv2d_junk_arguments_are_refused_by_name(arg, value):
    count("ops: junk arguments")
    x, w = np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 2))
    try:
        conv2d_forward(x, w, **{arg: value})
    except (ValueError, TypeError) as e:
        assert_clear_refusal(e)
    else:  # only the junk that is a valid value in disguise may pass
        assert value in ("same", "valid") or (isinstance(value, list) and len(value) == 2
                                              and min(value) >= (0 if arg == "padding" else 1))


# --- pooling -------------------------------------------------------------------------------------

@st.composite
def pool_configs(draw):
    """Mostly valid configurations; one in three breaks exactly one argument."""
    broken = draw(st.sampled_from([None, None, "kernel", "stride", "padding"]))
    return dict(
        kind=draw(st.sampled_from(["max", "avg"])), n=draw(st.integers(0, 2)),
        h=draw(st.integers(1, 7)), w=draw(st.integers(1, 7)), c=draw(st.integers(1, 3)),
        kernel=draw(int_or_pair(0 if broken == "kernel" else 1, 4)),
        stride=draw(st.one_of(st.none(), int_or_pair(0 if broken == "stride" else 1, 3))),
        padding=draw(padding_forms(-1 if broken == "padding" else 0, 2)),
        ceil_mode=draw(st.booleans()), count_include_pad=draw(st.booleans()),
        dtype=draw(DTYPES), specials=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def torch_pool(cfg, x, dy):
    kernel = as_pair(cfg["kernel"])
    stride = kernel if cfg["stride"] is None else as_pair(cfg["stride"])
    if min(kernel) < 1 or min(stride) < 1:
        raise ValueError("kernel and stride must be >= 1")
    (t, bo), (le, r) = explicit_padding(cfg["padding"], (cfg["h"], cfg["w"]), kernel, stride,
                                        (1, 1))
    xt = nhwc_to_torch(x)
    if t == bo and le == r:  # symmetric: torch's own padding, divisor and ceil-mode rules
        args = dict(kernel_size=kernel, stride=stride, padding=(t, le), ceil_mode=cfg["ceil_mode"])
        yt = (F.max_pool2d(xt, **args) if cfg["kind"] == "max" else
              F.avg_pool2d(xt, **args, count_include_pad=cfg["count_include_pad"]))
    else:
        # asymmetric ('same' with an even kernel, or explicit): juanji's rule is torch's
        # "at most half the kernel" on every side; the padded cells are -inf (max) or 0 counted
        # in the divisor (avg, count_include_pad=True). Other combinations have no torch form.
        if min(t, bo, le, r) < 0:
            raise ValueError("negative padding")
        if max(t, bo) > kernel[0] // 2 or max(le, r) > kernel[1] // 2:
            raise ValueError("pad should be at most half of effective kernel size")
        if cfg["ceil_mode"] or (cfg["kind"] == "avg" and not cfg["count_include_pad"]):
            return "no torch equivalent"
        if cfg["kind"] == "max" and np.isneginf(x).any():
            # a window of -inf ties with the F.pad cells, which torch sees as input and may pick;
            # with real padding (juanji, and torch's own) the first real cell takes the gradient
            return "no torch equivalent"
        fill = -math.inf if cfg["kind"] == "max" else 0.0
        xp = F.pad(xt, (le, r, t, bo), value=fill)
        pool = F.max_pool2d if cfg["kind"] == "max" else F.avg_pool2d
        yt = pool(xp, kernel, stride)
    yt.backward(nhwc_to_torch(dy).detach())
    return torch_to_nhwc(yt), torch_to_nhwc(xt.grad)


def pool_out_shape(cfg):
    kernel = as_pair(cfg["kernel"])
    stride = kernel if cfg["stride"] is None else as_pair(cfg["stride"])
    if min(kernel) < 1 or min(stride) < 1:
        return None
    pads = explicit_padding(cfg["padding"], (cfg["h"], cfg["w"]), kernel, stride, (1, 1))
    out = []
    for n, k, s, (lo, hi) in zip((cfg["h"], cfg["w"]), kernel, stride, pads):
        room = n + lo + hi - k
        o = (-(-room // s) if cfg["ceil_mode"] else room // s) + 1
        if cfg["ceil_mode"] and (o - 1) * s >= n + lo:
            o -= 1
        if room < 0 and (not cfg["ceil_mode"] or o < 1):  # ceil mode: a window may hang over
            return None
        out.append(o)
    return (cfg["n"], *out, cfg["c"])


@given(cfg=pool_configs())
@prop_settings()
def test_pooling_agrees_with_torch_or_both_refuse(cfg):
    count("ops: pool examples")
    rng = np.random.default_rng(cfg["seed"])
    dtype = cfg["dtype"]
    # distinct values (no ties, which are tested on their own in tests/functional/test_pool.py)
    size = cfg["n"] * cfg["h"] * cfg["w"] * cfg["c"]
    x = (rng.permutation(size) / max(size, 1)).astype(dtype).reshape(
        cfg["n"], cfg["h"], cfg["w"], cfg["c"])
    if cfg["specials"] and size:
        flat = x.reshape(-1)
        flat[rng.integers(0, size, 3)] = rng.choice([np.inf, -np.inf, np.nan], 3)
    out_shape = pool_out_shape(cfg)
    dy = rand(rng, out_shape, dtype) if out_shape else np.zeros((1, 1, 1, 1), dtype)

    def ours():
        if cfg["kind"] == "max":
            y, cache = max_pool2d_forward(x, cfg["kernel"], stride=cfg["stride"],
                                          padding=cfg["padding"], ceil_mode=cfg["ceil_mode"])
            return y, max_pool2d_backward(dy, cache)
        y, cache = avg_pool2d_forward(x, cfg["kernel"], stride=cfg["stride"],
                                      padding=cfg["padding"], ceil_mode=cfg["ceil_mode"],
                                      count_include_pad=cfg["count_include_pad"])
        return y, avg_pool2d_backward(dy, cache)

    mine, theirs = juanji_outcome(ours), torch_outcome(lambda: torch_pool(cfg, x, dy))
    if theirs[0] == "no torch equivalent":
        count("ops: pool examples without a torch form")
        if mine[1] is None:
            assert mine[0][0].shape == out_shape and mine[0][1].shape == x.shape
        return
    if agree(mine, theirs, f"pool {cfg}"):
        for name, a, e in zip(("y", "dx"), mine[0], theirs[0]):
            assert a.shape == e.shape and a.dtype == dtype, name
            assert_close(a, e, dtype, f"{cfg['kind']}_pool2d {name} {cfg}")
        no_new_nan((x, dy), mine[0], "pool")


@given(arg=st.sampled_from(["kernel_size", "stride", "padding", "ceil_mode",
                            "count_include_pad"]), value=JUNK)
@prop_settings(0.5)
def test_pool_junk_arguments_are_refused_by_name(arg, value):
    count("ops: junk arguments")
    x = np.zeros((1, 6, 6, 2))
    kwargs = {"kernel_size": 2, arg: value}
    kernel = kwargs.pop("kernel_size")
    try:
        avg_pool2d_forward(x, kernel, **kwargs)
    except (ValueError, TypeError) as e:
        assert_clear_refusal(e)
    else:
        assert (value in ("same", "valid") or value is None and arg == "stride"
                or isinstance(value, bool) and arg in ("ceil_mode", "count_include_pad")
                or isinstance(value, list) and len(value) == 2)


# --- linear, activations, flatten ----------------------------------------------------------------

@given(n=st.integers(0, 3), d_in=st.integers(1, 4), d_w=st.integers(1, 4), d_out=st.integers(1, 4),
       d_b=st.one_of(st.none(), st.integers(1, 4)), dtype=DTYPES, seed=st.integers(0, 2**16))
@prop_settings()
def test_linear_agrees_with_torch_or_both_refuse(n, d_in, d_w, d_out, d_b, dtype, seed):
    count("ops: linear examples")
    rng = np.random.default_rng(seed)
    x, w = rand(rng, (n, d_in), dtype), rand(rng, (d_w, d_out), dtype)
    b = None if d_b is None else rand(rng, d_b, dtype)
    dy = rand(rng, (n, d_out), dtype)

    def ours():
        y, cache = linear_forward(x, w, b)
        return (y, *linear_backward(dy, cache))

    def theirs():
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w.T.copy(), requires_grad=True)
        bt = None if b is None else torch.tensor(b, requires_grad=True)
        if b is not None and b.shape != (d_out,):  # DELIBERATE_REFUSALS["bias shape"]
            raise ValueError("nn.Linear's bias has shape (out_features,)")
        yt = F.linear(xt, wt, bt)
        yt.backward(torch.tensor(dy))
        return (yt.detach().numpy(), xt.grad.numpy(), wt.grad.numpy().T,
                None if b is None else bt.grad.numpy())

    mine, ref = juanji_outcome(ours), torch_outcome(theirs)
    if agree(mine, ref, "linear"):
        for a, e in zip(mine[0], ref[0]):
            assert (a is None) == (e is None)
            if e is not None:
                assert_close(a, e, dtype, "linear")


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward, torch.relu),
    "sigmoid": (sigmoid_forward, sigmoid_backward, torch.sigmoid),
    "tanh": (tanh_forward, tanh_backward, torch.tanh),
}
VALUES = st.one_of(st.floats(-50, 50), st.sampled_from([0.0, -0.0, 1e4, -1e4, np.inf, -np.inf,
                                                        np.nan]))


@given(name=st.sampled_from(sorted(ACTIVATIONS) + ["leaky_relu"]),
       shape=st.lists(st.integers(0, 3), max_size=4).map(tuple),
       slope=st.one_of(st.floats(-2, 2), st.sampled_from([np.nan, np.inf])),
       dtype=DTYPES, data=st.data())
@prop_settings()
def test_activations_agree_with_torch_including_nan_and_inf(name, shape, slope, dtype, data):
    count("ops: activation examples")
    size = math.prod(shape)
    x = np.array(data.draw(st.lists(VALUES, min_size=size, max_size=size)), dtype).reshape(shape)
    dy = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=size, max_size=size)),
                  dtype).reshape(shape)
    if name == "leaky_relu":
        fwd, bwd = leaky_relu_forward, leaky_relu_backward
        mine = juanji_outcome(lambda: fwd(x, slope))
        if not math.isfinite(slope):  # DELIBERATE_REFUSALS["negative_slope"]
            assert mine[1] is not None and "negative_slope" in str(mine[1])
            return
        y, cache = mine[0]

        def tfn(t):
            return F.leaky_relu(t, slope)
    else:
        fwd, bwd, tfn = ACTIVATIONS[name]
        y, cache = fwd(x)
    dx = bwd(dy, cache)
    xt = torch.tensor(x, requires_grad=True)
    yt = tfn(xt)
    yt.backward(torch.tensor(dy))
    assert y.shape == x.shape and y.dtype == dtype and dx.dtype == dtype
    assert_close(y, yt.detach().numpy(), dtype, f"{name} y")
    assert_close(dx, xt.grad.numpy(), dtype, f"{name} dx")
    count("ops: values agreed")


@given(shape=st.lists(st.integers(0, 3), max_size=5).map(tuple), dtype=DTYPES)
@prop_settings(0.5)
def test_flatten_agrees_with_torch_or_both_refuse(shape, dtype):
    count("ops: flatten examples")
    x = np.arange(math.prod(shape), dtype=dtype).reshape(shape)
    mine = juanji_outcome(lambda: flatten_forward(x))
    theirs = torch_outcome(lambda: torch.flatten(torch.tensor(x), 1).numpy())
    if len(shape) == 1:  # torch.flatten(start_dim=1) of a vector is a no-op; no batch axis
        assert mine[1] is not None
        return
    if agree(mine, theirs, f"flatten {shape}"):
        y, cache = mine[0]
        np.testing.assert_array_equal(y, theirs[0])
        np.testing.assert_array_equal(flatten_backward(y, cache), x)


# --- losses and batch norm -----------------------------------------------------------------------

@given(n=st.integers(0, 4), k=st.integers(0, 5), dtype=DTYPES, data=st.data(),
       label_dtype=st.sampled_from([np.int64, np.int32, np.uint8, np.float64]))
@prop_settings()
def test_cross_entropy_agrees_with_torch_or_both_refuse(n, k, dtype, data, label_dtype):
    count("ops: loss examples")
    logits = np.array(data.draw(st.lists(
        st.one_of(st.floats(-30, 30), st.sampled_from([1e4, -1e4, 0.0])),
        min_size=n * k, max_size=n * k)), dtype).reshape(n, k)
    labels = np.array(data.draw(st.lists(st.integers(-1, max(k, 1)), min_size=n, max_size=n)),
                      dtype=np.int64)
    if label_dtype == np.uint8:
        labels = np.abs(labels).astype(np.uint8)
    else:
        labels = labels.astype(label_dtype)

    def ours():
        loss, cache = softmax_cross_entropy_forward(logits, labels)
        return loss, softmax_cross_entropy_backward(1.0, cache)

    def theirs():
        if n == 0:
            raise ValueError("mean over an empty batch is NaN in torch")
        zt = torch.tensor(logits, requires_grad=True)
        # torch wants int64 class indices; juanji takes any integer dtype (not floats: torch
        # reads float targets as probabilities, juanji refuses them)
        target = torch.tensor(labels.astype(np.int64) if labels.dtype.kind in "iu" else labels)
        loss = F.cross_entropy(zt, target)
        loss.backward()
        return float(loss.detach()), zt.grad.numpy()

    mine, ref = juanji_outcome(ours), torch_outcome(theirs)
    if agree(mine, ref, f"cross entropy n={n} k={k} labels {labels.dtype}"):
        assert math.isfinite(mine[0][0])
        assert_close(mine[0][0], ref[0][0], dtype, "loss")
        assert_close(mine[0][1], ref[0][1], dtype, "dlogits")
    if k >= 1:
        p, lp = softmax(logits), log_softmax(logits)
        assert np.isfinite(lp).all() and np.allclose(p.sum(axis=-1), 1, atol=1e-5)


@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
       eval_mode=st.booleans(), eps=st.one_of(st.floats(1e-6, 1.0), st.sampled_from(
           [0.0, -1.0, np.nan, "1e-5", True])), dtype=DTYPES, seed=st.integers(0, 2**16))
@prop_settings()
def test_batch_norm_agrees_with_torch_or_both_refuse(shape, eval_mode, eps, dtype, seed):
    count("ops: batch norm examples")
    rng = np.random.default_rng(seed)
    c = shape[3]
    x, dy = rand(rng, shape, dtype), rand(rng, shape, dtype)
    gamma, beta = rand(rng, c, dtype), rand(rng, c, dtype)
    mean = rand(rng, c, dtype) if eval_mode else None
    var = rng.uniform(0.1, 2, c).astype(dtype) if eval_mode else None

    def ours():
        y, cache = batch_norm2d_forward(x, gamma, beta, eps=eps, mean=mean, var=var)
        return (y, *batch_norm2d_backward(dy, cache))

    def theirs():
        if not isinstance(eps, float) or not eps > 0:
            raise ValueError("eps must be a float > 0")  # torch divides by sqrt(0) or nan
        xt = nhwc_to_torch(x)
        gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
        yt = F.batch_norm(xt, None if mean is None else torch.tensor(mean),
                          None if var is None else torch.tensor(var), gt, bt,
                          training=not eval_mode, eps=eps)
        yt.backward(nhwc_to_torch(dy).detach())
        return torch_to_nhwc(yt), torch_to_nhwc(xt.grad), gt.grad.numpy(), bt.grad.numpy()

    mine, ref = juanji_outcome(ours), torch_outcome(theirs)
    if agree(mine, ref, f"batch norm {shape} eval={eval_mode} eps={eps!r}"):
        for name, a, e in zip(("y", "dx", "dgamma", "dbeta"), mine[0], ref[0]):
            # float32 batch statistics over few values: compare with float32 tolerance scaled
            # by 1/sqrt(var + eps), the factor every output carries
            assert_close(a, e, dtype, f"batch norm {name}") if dtype == np.float64 else \
                np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_logits_at_float_limits_stay_finite(dtype):
    """Point 5 beyond tests/functional/test_losses.py: the dtype's own max, and +-1e4 mixed."""
    big = float(np.finfo(dtype).max) / 2
    logits = np.array([[big, -big, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dtype)
    labels = np.array([1, 2, 0])
    loss, cache = softmax_cross_entropy_forward(logits, labels)
    dz = softmax_cross_entropy_backward(1.0, cache)
    zt = torch.tensor(logits.astype(np.float64), requires_grad=True)
    ref = F.cross_entropy(zt, torch.tensor(labels))
    ref.backward()
    assert math.isfinite(loss) and np.isfinite(dz).all()
    np.testing.assert_allclose(loss, float(ref.detach()), rtol=1e-6)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-6, atol=1e-7)
    count("numerics: edge cases", 1)
