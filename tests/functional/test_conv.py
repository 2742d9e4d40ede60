"""conv2d_forward/backward: values and gradients vs PyTorch and the loop reference, finite
differences in float64, and every refusal with its message."""

from __future__ import annotations

import contextlib
from typing import NamedTuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from juanji.functional import (
    conv2d_backward, conv2d_forward, conv_banded, conv_winograd, linear_forward,
)
from juanji.functional.conv import Conv2dCache
from tests.helpers import (
    assert_close, assert_grad_matches_fd, hwio_to_torch, nhwc_to_torch, torch_to_hwio,
    torch_to_nhwc,
)


class Case(NamedTuple):
    x_shape: tuple          # (N, H, W, C_in)
    kernel: tuple           # (kh, kw)
    c_out: int
    stride: object
    padding: object         # any form conv2d_forward accepts
    dilation: object
    groups: int
    torch_pad: tuple        # that padding as ((top, bottom), (left, right)), worked out by hand
    out_hw: tuple           # (Ho, Wo), worked out by hand


P0 = ((0, 0), (0, 0))
P1 = ((1, 1), (1, 1))
CASES = {
    "3x3_pad1": Case((2, 5, 6, 3), (3, 3), 4, 1, 1, 1, 1, P1, (5, 6)),
    "valid_2x3_stride_2x1": Case((2, 6, 5, 3), (2, 3), 2, (2, 1), "valid", 1, 1, P0, (3, 3)),
    "same_stride1": Case((1, 5, 6, 2), (3, 3), 3, 1, "same", 1, 1, P1, (5, 6)),
    # even kernel: total padding 1, the odd pixel goes bottom/right
    "same_even_kernel": Case((2, 5, 4, 2), (2, 2), 3, 1, "same", 1, 1, ((0, 1), (0, 1)), (5, 4)),
    # ceil(7/2) = 4: total (4-1)*2 + 3 - 7 = 2; ceil(6/2) = 3: total (3-1)*2 + 3 - 6 = 1
    "same_stride2_odd": Case((2, 7, 6, 3), (3, 3), 4, 2, "same", 1, 1, ((1, 1), (0, 1)), (4, 3)),
    # span 5: H total 3*2 + 5 - 7 = 4, W total 3*2 + 5 - 8 = 3
    "same_stride2_dilation2": Case((1, 7, 8, 2), (3, 3), 3, 2, "same", 2, 1, ((2, 2), (1, 2)),
                                   (4, 4)),
    "asymmetric_explicit": Case((2, 5, 6, 3), (3, 2), 4, 1, ((1, 0), (2, 1)), 1, 1,
                                ((1, 0), (2, 1)), (4, 8)),
    "pair_padding": Case((2, 4, 5, 2), (3, 3), 3, 1, (2, 0), 1, 1, ((2, 2), (0, 0)), (6, 3)),
    "stride_gt_kernel": Case((2, 8, 7, 3), (2, 2), 2, 3, 0, 1, 1, P0, (3, 2)),
    "stride_eq_kernel": Case((2, 6, 7, 2), (2, 2), 3, 2, 0, 1, 1, P0, (3, 3)),
    "stride_lt_kernel": Case((2, 7, 7, 2), (3, 3), 3, 2, 1, 1, 1, P1, (4, 4)),
    "dilation2": Case((2, 7, 6, 2), (3, 3), 3, 1, 2, 2, 1, ((2, 2), (2, 2)), (7, 6)),
    "dilation_2x1_stride2": Case((1, 9, 7, 3), (3, 2), 2, 2, 1, (2, 1), 1, P1, (4, 4)),
    "groups2": Case((2, 5, 6, 4), (3, 3), 6, 1, 1, 1, 2, P1, (5, 6)),
    "groups2_same_stride2": Case((2, 7, 5, 4), (3, 3), 4, 2, "same", 1, 2, P1, (4, 3)),
    "depthwise": Case((2, 6, 5, 3), (3, 3), 3, 1, 1, 1, 3, P1, (6, 5)),
    "depthwise_multiplier2": Case((2, 6, 5, 3), (3, 3), 6, 2, 0, 1, 3, P0, (2, 2)),
    "depthwise_dilation_asym": Case((1, 7, 7, 4), (2, 2), 4, 1, ((0, 1), (1, 0)), 2, 4,
                                    ((0, 1), (1, 0)), (6, 6)),
    "batch1_1x1": Case((1, 4, 5, 3), (1, 1), 5, 1, 0, 1, 1, P0, (4, 5)),
    "1x1_stride2_pad1": Case((2, 5, 5, 3), (1, 1), 2, 2, 1, 1, 1, P1, (4, 4)),
    "kernel_fills_padded_input": Case((2, 4, 3, 2), (6, 5), 3, 1, 1, 1, 1, P1, (1, 1)),
    "kernel_fills_input_valid": Case((1, 5, 5, 3), (5, 5), 2, 2, "valid", 1, 1, P0, (1, 1)),
    "1x1_input_3x3_same": Case((2, 1, 1, 3), (3, 3), 2, 1, "same", 1, 1, P1, (1, 1)),
}
BIASES = [None, "vector", "4d"]


def make(case: Case, bias, dtype, seed=0):
    """Random x, w, b, dy for a case; values in [-1, 1) keep float32 sums well-conditioned."""
    rng = np.random.default_rng(seed)
    c_in = case.x_shape[3]
    x = rng.uniform(-1, 1, case.x_shape).astype(dtype)
    w = rng.uniform(-1, 1, (*case.kernel, c_in // case.groups, case.c_out)).astype(dtype)
    b = None
    if bias is not None:
        b = rng.uniform(-1, 1, case.c_out).astype(dtype)
        b = b if bias == "vector" else b.reshape(1, 1, 1, case.c_out)
    dy = rng.uniform(-1, 1, (case.x_shape[0], *case.out_hw, case.c_out)).astype(dtype)
    return x, w, b, dy


def run(case: Case, x, w, b, dy, module=None):
    """Forward and backward of ``module`` (juanji.functional by default) for a case."""
    fwd, bwd = (conv2d_forward, conv2d_backward) if module is None else (
        module.conv2d_forward, module.conv2d_backward)
    y, cache = fwd(x, w, b, stride=case.stride, padding=case.padding, dilation=case.dilation,
                   groups=case.groups)
    return (y, *bwd(dy, cache))


def torch_run(case: Case, x, w, b, dy):
    """The same conv in PyTorch, padding explicitly first (torch has no 'same' with stride 2)."""
    (top, bottom), (left, right) = case.torch_pad
    xt, wt = nhwc_to_torch(x), hwio_to_torch(w)
    bt = None if b is None else torch.tensor(b.reshape(-1), requires_grad=True)
    yt = F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, bt, stride=case.stride,
                  dilation=case.dilation, groups=case.groups)
    yt.backward(nhwc_to_torch(dy).detach())
    db = None if b is None else bt.grad.numpy().reshape(b.shape)
    return torch_to_nhwc(yt), torch_to_nhwc(xt.grad), torch_to_hwio(wt.grad), db


# the GEMM formulations every groups-1 case runs through; "winograd" takes every 3x3, stride-1,
# undilated groups-1 case (whatever its channels or size) and leaves the rest to the cost model
PATHS = ["banded", "tiled", "cut", "im2col", "winograd"]


def forced_tile(path: str):
    """A stand-in for conv_banded.tile_width that takes one path wherever it applies (groups 1):
    one band per output row ("banded"), the largest divisor of Wo below Wo ("tiled": at least
    two tiles, 1-column tiles when Wo is prime, one band when Wo == 1), tiles of Wo // 2 + 1
    columns ("cut": two tiles whose last one reaches past Wo, when Wo >= 3), or none
    ("im2col")."""
    def tile_width(x_shape, w_shape, padded_hw, out_hw, stride_w, dilation_w, groups, itemsize):
        wo = out_hw[1]
        if path == "im2col" or groups != 1 or x_shape[0] * out_hw[0] * wo == 0 \
                or w_shape[3] == 0:
            return None
        if path == "banded":
            return wo
        if path == "cut":
            return wo // 2 + 1 if wo >= 3 else wo
        return max([t for t in range(1, wo) if wo % t == 0], default=wo)

    return tile_width


def winograd_applies(case: Case) -> bool:
    """Whether conv_winograd can run a case (3x3, stride 1, dilation 1, groups 1)."""
    return (case.kernel == (3, 3) and case.groups == 1
            and all(v in (1, (1, 1)) for v in (case.stride, case.dilation)))


def test_the_winograd_path_is_exercised_by_the_grid():
    assert sum(winograd_applies(c) for c in CASES.values()) >= 4


@contextlib.contextmanager
def conv_path(path: str):
    """Force one of the conv's GEMM formulations wherever it applies (see forced_tile)."""
    saved = conv_banded.tile_width, conv_winograd.MIN_CHANNELS, conv_winograd.MIN_OUT
    if path == "winograd":
        conv_winograd.MIN_CHANNELS = conv_winograd.MIN_OUT = 1
    else:
        conv_banded.tile_width = forced_tile(path)
    try:
        yield
    finally:
        conv_banded.tile_width, conv_winograd.MIN_CHANNELS, conv_winograd.MIN_OUT = saved


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, bias, dtype, path):
    case = CASES[name]
    x, w, b, dy = make(case, bias, dtype)
    with conv_path(path):
        _, cache = conv2d_forward(x, w, b, stride=case.stride, padding=case.padding,
                                  dilation=case.dilation, groups=case.groups)
        if path == "winograd":  # every 3x3, stride-1, undilated groups-1 case takes it
            assert (cache.wino is not None) == winograd_applies(case)
        else:
            assert cache.wino is None
            assert (cache.band is not None) == (path != "im2col" and case.groups == 1)
        if path == "tiled" and case.groups == 1 and case.out_hw[1] > 1:
            assert cache.tile is not None and cache.tile[0] < case.out_hw[1]
        if path == "cut" and case.groups == 1 and case.out_hw[1] >= 3:
            assert 2 * cache.tile[0] > case.out_hw[1]  # two tiles, the last reaching past Wo
        got = run(case, x, w, b, dy)
    assert_like_torch(case, got, x, w, b, dy, dtype)


def assert_like_torch(case: Case, got: tuple, x, w, b, dy, dtype) -> None:
    """(y, dx, dw, db) of one of juanji's conv paths against PyTorch: shapes, dtypes, values."""
    y, dx, dw, db = got
    ty, tdx, tdw, tdb = torch_run(case, x, w, b, dy)
    assert y.shape == (case.x_shape[0], *case.out_hw, case.c_out) == ty.shape
    assert dx.shape == x.shape and dw.shape == w.shape
    assert y.dtype == dx.dtype == dw.dtype == dtype  # no silent float64 upcast
    assert y.flags.c_contiguous
    assert_close(y, ty, dtype, "y")
    assert_close(dx, tdx, dtype, "dx")
    assert_close(dw, tdw, dtype, "dw")
    if b is None:
        assert db is None
    else:
        assert db.shape == b.shape and db.dtype == dtype  # db comes back in b's shape
        assert_close(db, tdb, dtype, "db")


REFERENCE_CASES = ["3x3_pad1", "same_stride2_odd", "asymmetric_explicit", "stride_gt_kernel",
                   "dilation_2x1_stride2", "groups2", "depthwise_multiplier2",
                   "kernel_fills_padded_input", "batch1_1x1"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("bias", ["vector", None])
@pytest.mark.parametrize("name", REFERENCE_CASES)
def test_matches_loop_reference(name, bias, path):
    from juanji import reference  # the plain-loop oracle

    case = CASES[name]
    x, w, b, dy = make(case, bias, np.float64, seed=1)
    with conv_path(path):
        ours = run(case, x, w, b, dy)
    theirs = run(case, x, w, b, dy, module=reference)
    for what, a, e in zip(("y", "dx", "dw"), ours, theirs):
        assert_close(a, e, np.float64, what)
    if b is None:
        assert ours[3] is None and theirs[3] is None
    else:
        assert_close(ours[3], theirs[3], np.float64, "db")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", CASES)
def test_finite_differences_for_x_w_and_b_separately(name, path):
    case = CASES[name]
    x, w, b, dy = make(case, "vector", np.float64, seed=2)
    kw = dict(stride=case.stride, padding=case.padding, dilation=case.dilation,
              groups=case.groups)
    with conv_path(path):
        _, dx, dw, db = run(case, x, w, b, dy)
        assert_grad_matches_fd(dx, lambda v: conv2d_forward(v, w, b, **kw)[0], x, dy, "dx")
        assert_grad_matches_fd(dw, lambda v: conv2d_forward(x, v, b, **kw)[0], w, dy, "dw")
        assert_grad_matches_fd(db, lambda v: conv2d_forward(x, w, v, **kw)[0], b, dy, "db")


@st.composite
def random_geometry(draw):
    """Any explicit geometry torch accepts: the kernel span must fit in the padded input."""
    groups = draw(st.sampled_from([1, 2, 3]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    hw = []
    for f, d, (lo, hi) in zip(kernel, dilation, pad):
        span = d * (f - 1) + 1
        hw.append(draw(st.integers(max(1, span - lo - hi), span + 5)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    out_hw = tuple((n + lo + hi - (d * (f - 1) + 1)) // s + 1
                   for n, f, s, d, (lo, hi) in zip(hw, kernel, stride, dilation, pad))
    x_shape = (draw(st.integers(1, 2)), *hw, c_in)
    return Case(x_shape, kernel, c_out, stride, pad, dilation, groups, pad, out_hw)


@settings(max_examples=60, deadline=None)
@given(case=random_geometry(), bias=st.sampled_from(BIASES), path=st.sampled_from(PATHS))
def test_random_geometries_match_torch(case, bias, path):
    x, w, b, dy = make(case, bias, np.float64)
    with conv_path(path):
        ours = run(case, x, w, b, dy)
    theirs = torch_run(case, x, w, b, dy)
    for what, a, e in zip(("y", "dx", "dw", "db"), ours, theirs):
        if e is None:
            assert a is None
        else:
            assert a.shape == e.shape, what
            assert_close(a, e, np.float64, what)


def test_non_contiguous_input_and_dy_give_the_same_result():
    case = CASES["stride_lt_kernel"]
    x, w, b, dy = make(case, "vector", np.float64)
    # same values, another memory layout
    x_f, w_f, dy_f = np.asfortranarray(x), np.asfortranarray(w), np.asfortranarray(dy)
    for a, e in zip(run(case, x_f, w_f, b, dy_f), run(case, x, w, b, dy)):
        assert_close(a, e, np.float64)


def test_backward_twice_gives_the_same_gradients():
    case = CASES["groups2"]
    x, w, b, dy = make(case, "vector", np.float64)
    y, cache = conv2d_forward(x, w, b, padding=1, groups=2)
    first = conv2d_backward(dy, cache)
    second = conv2d_backward(dy, cache)
    for a, e in zip(first, second):
        np.testing.assert_array_equal(a, e)


def test_cache_holds_only_what_backward_needs():
    x, w = np.ones((2, 5, 5, 3)), np.ones((3, 3, 3, 4))
    with conv_path("im2col"):
        _, cache = conv2d_forward(x, w, np.zeros(4), padding=1)
    assert isinstance(cache, Conv2dCache)
    assert set(cache.__slots__) == {"cols", "xp", "chunk", "w", "padded_shape", "in_hw",
                                    "padding", "stride", "dilation", "groups", "b_shape",
                                    "out_shape", "rows", "band", "tile", "wino"}
    assert cache.cols.shape == (2 * 5 * 5, 3 * 3 * 3)  # im2col: one window per row
    assert cache.band is None and cache.rows is None and cache.tile is None
    with conv_path("banded"):
        _, cache = conv2d_forward(x, w, np.zeros(4), padding=1)
    # banded: kh padded rows per output row, and a column of 1s that meets the bias row of B
    assert cache.cols.shape == (2 * 5, 3 * 7 * 3 + 1)
    np.testing.assert_array_equal(cache.cols[:, -1], 1)
    assert cache.band.shape == (3 * 7 * 3 + 1, 5 * 4)  # (kh*Wp*C_in + 1, Wo*C_out)
    with conv_path("banded"):
        _, cache = conv2d_forward(x, w, padding=1)  # no bias: no column of 1s, no bias row
    assert cache.cols.shape == (2 * 5, 3 * 7 * 3) and cache.band.shape == (3 * 7 * 3, 5 * 4)
    assert cache.tile is None
    with conv_path("tiled"):
        _, cache = conv2d_forward(x, w, np.zeros(4), padding=1)
    # Wo = 5 in tiles of 1 column, each reading 3 padded columns: one row per (n, i, tile)
    assert cache.tile == (1, 3, 1)
    assert cache.cols.shape == (2 * 5 * 5, 3 * 3 * 3 + 1)
    assert cache.band.shape == (3 * 3 * 3 + 1, 1 * 4)  # (kh*T_in*C_in + 1, T*C_out)
    with pytest.raises(AttributeError):
        cache.w = w  # frozen
    with conv_path("winograd"):
        _, cache = conv2d_forward(x, w, np.zeros(4), padding=1)
    # Winograd: 2x2 tiles of 4x4 outputs per image, 36 transformed points each; no columns
    assert cache.cols is None and cache.band is None and cache.rows is None
    assert [v.shape for v in cache.wino.v] == [(36, 2 * 2 * 2, 3)]
    assert cache.wino.u.shape == (36, 3, 4)


# ---- refusals: each names the argument, its value and what is allowed ----------------------

X = np.zeros((2, 5, 6, 4))
W = np.zeros((3, 3, 4, 6))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(x=np.zeros((5, 6, 4))), ValueError,
     r"`x` must have 4 dimensions \(N, H, W, C_in\), got shape \(5, 6, 4\)"),
    (dict(w=np.zeros((3, 3, 4))), ValueError,
     r"`w` must have 4 dimensions \(kh, kw, C_in // groups, C_out\), got shape \(3, 3, 4\)"),
    (dict(x=X.tolist()), TypeError, r"`x` must be a numpy.ndarray, got list"),
    (dict(x=X.astype(np.int64)), TypeError, r"`x` must have dtype float32 or float64, got int64"),
    (dict(w=W.astype(np.int32)), TypeError, r"`w` must have dtype float32 or float64, got int32"),
    (dict(b=np.zeros(6, dtype=np.int64)), TypeError,
     r"`b` must have dtype float32 or float64, got int64"),
    (dict(x=X.astype(np.float32)), TypeError,
     r"`w` dtype float64 must equal `x` dtype float32"),
    (dict(b=np.zeros(6, dtype=np.float32)), TypeError,
     r"`b` dtype float32 must equal `x` dtype float64"),
    (dict(b=np.zeros(5)), ValueError,
     r"`b` must have shape \(C_out,\) = \(6,\) or \(1, 1, 1, 6\) to match `w`, got \(5,\)"),
    (dict(b=np.zeros((6, 1))), ValueError, r"`b` must have shape .* got \(6, 1\)"),
    (dict(w=np.zeros((3, 3, 3, 6))), ValueError,
     r"`x` has C_in=4 channels .* expects C_in/groups \* groups = 3 \* 1 = 3"),
    (dict(w=np.zeros((3, 3, 1, 6)), groups=2), ValueError,
     r"`x` has C_in=4 channels .* expects C_in/groups \* groups = 1 \* 2 = 2"),
    (dict(x=np.zeros((2, 5, 6, 3)), w=np.zeros((3, 3, 1, 6)), groups=2), ValueError,
     r"`in_channels` \(=3\) must be divisible by `groups` \(=2\)"),
    (dict(w=np.zeros((3, 3, 2, 5)), groups=2), ValueError,
     r"`out_channels` \(=5\) must be divisible by `groups` \(=2\)"),
    (dict(groups=0), ValueError, r"`groups` must be an int >= 1, got 0"),
    (dict(groups=1.0), TypeError, r"`groups` must be an int >= 1, got 1.0"),
    (dict(w=np.zeros((0, 3, 4, 6))), ValueError,
     r"`kernel_size` must be >= 1 in both dimensions, got \(0, 3\)"),
    (dict(stride=0), ValueError, r"`stride` must be >= 1 in both dimensions, got 0"),
    (dict(stride=(1, -2)), ValueError, r"`stride` must be >= 1 in both dimensions, got \(1, -2\)"),
    (dict(stride="2"), TypeError, r"`stride` must be an int or a pair of ints \(h, w\), got '2'"),
    (dict(dilation=0), ValueError, r"`dilation` must be >= 1 in both dimensions, got 0"),
    (dict(w=np.zeros((6, 3, 4, 6))), ValueError,
     r"`kernel_size` 6 \(spanning 6 pixels with dilation 1\) is larger than the padded input "
     r"5 \+ 0 \+ 0 = 5"),
    (dict(dilation=3), ValueError,  # 3 taps spaced 3 apart span 7 pixels: refused although 3 < 5
     r"`kernel_size` 3 \(spanning 7 pixels with dilation 3\) is larger than the padded input "
     r"5 \+ 0 \+ 0 = 5"),
    (dict(padding="full"), ValueError,
     r"Invalid padding string 'full', should be one of \{'(valid|same)', '(valid|same)'\}"),
    (dict(padding=-1), ValueError, r"`padding` must be >= 0 everywhere, got -1"),
    (dict(padding=((1, -1), (0, 0))), ValueError,
     r"`padding` must be >= 0 everywhere, got \(\(1, -1\), \(0, 0\)\)"),
    (dict(padding=1.5), TypeError, r"`padding` must be an int, a pair \(ph, pw\), .* got 1.5"),
])
def test_bad_forward_arguments_are_refused(kwargs, error, match):
    args = dict(x=X, w=W, b=np.zeros(6))
    args.update(kwargs)
    x, w, b = args.pop("x"), args.pop("w"), args.pop("b")
    with pytest.raises(error, match=match):
        conv2d_forward(x, w, b, **args)


def test_a_cache_from_another_op_is_refused():
    _, linear_cache = linear_forward(np.zeros((2, 3)), np.zeros((3, 4)))
    with pytest.raises(TypeError, match=r"`cache` of conv2d_backward must be the cache returned "
                                        r"by conv2d_forward \(Conv2dCache\), got LinearCache"):
        conv2d_backward(np.zeros((2, 4)), linear_cache)


@pytest.mark.parametrize("dy,error,match", [
    (np.zeros((2, 6, 5, 6)), ValueError,
     r"`dy` of conv2d_backward must have the forward output's shape \(2, 5, 6, 6\), "
     r"got \(2, 6, 5, 6\)"),
    (np.zeros((2, 5, 6)), ValueError, r"`dy` of conv2d_backward must have .* got \(2, 5, 6\)"),
    ([[0.0]], TypeError, r"`dy` of conv2d_backward must be a numpy.ndarray, got list"),
])
def test_bad_dy_is_refused(dy, error, match):
    _, cache = conv2d_forward(X, W, padding=1)
    with pytest.raises(error, match=match):
        conv2d_backward(dy, cache)
