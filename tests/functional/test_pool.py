"""Max and average pooling: against PyTorch, against the plain-loop reference, by finite
differences, on ties, NaN and infinities, and every refused argument."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from juanji import reference
from juanji.functional import (
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward, output_size,
)
from juanji.validation import pair, resolve_padding
from tests.helpers import assert_close, assert_grad_matches_fd, nhwc_to_torch, torch_to_nhwc

DTYPES = [np.float64, np.float32]
SIZES = [(1, 5, 7), (2, 6, 6)]  # (N, H, W): odd sizes, batch 1, and sizes the 2x2/3x3 tiles divide
KERNELS = [1, 2, 3, (2, 3)]
PADDINGS = [0, 1, (1, 0), ((1, 0), (0, 1)), "same"]
C = 3


def _strides(kernel):
    """stride < kernel (overlapping windows), == kernel (None: the default), > kernel (gaps)."""
    kh, kw = pair(kernel, "kernel_size")
    smaller = [1] if min(kh, kw) > 1 else []  # a 1-pixel kernel has no smaller stride
    return smaller + [None, (kh + 1, kw + 1)]


def _accepted(hw, kernel, stride, padding):
    """The configurations the op accepts (the refused ones are tested separately below)."""
    k = pair(kernel, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    pad = resolve_padding(padding, hw, k, s, (1, 1))
    return all(max(p) <= kk // 2 and kk <= n + sum(p) for p, kk, n in zip(pad, k, hw))


def _config_id(size, kernel, stride, padding, ceil_mode):
    return f"x{size}-k{kernel}-s{stride}-p{padding}-{'ceil' if ceil_mode else 'floor'}".replace(
        " ", "")


GRID = [
    (size, kernel, stride, padding, ceil_mode)
    for size in SIZES for kernel in KERNELS for stride in _strides(kernel) for padding in PADDINGS
    for ceil_mode in (False, True)
    if _accepted(size[1:], kernel, stride, padding)
] + [
    ((1, 3, 3), 3, None, 0, False),         # kernel as large as the input
    ((2, 3, 4), (5, 6), 1, (1, 1), False),  # kernel as large as the padded input
    ((1, 3, 4), (5, 6), 2, (1, 1), True),
]

GRID_IDS = [_config_id(*c) for c in GRID]


def _expected_hw(x, kernel, stride, padding, ceil_mode):
    """(Ho, Wo) from the one output-size formula."""
    k = pair(kernel, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    pad = resolve_padding(padding, x.shape[1:3], k, s, (1, 1))
    return tuple(output_size(n, kk, stride=ss, padding=p, ceil_mode=ceil_mode)
                 for n, kk, ss, p in zip(x.shape[1:3], k, s, pad)), k, s, pad


def torch_pool(kind, x, dy, kernel, stride, padding, ceil_mode, count_include_pad=True):
    """PyTorch's y and dx, channels-last numpy.

    Symmetric padding goes straight to F.max_pool2d / F.avg_pool2d. Asymmetric padding (explicit
    or 'same') is not something torch pools with, so the input is padded by hand (-inf for max,
    0 for avg) and average pooling divides torch's window sums (``divisor_override=1``) by torch's
    window sums of a mask of the counted cells. Torch, seeing padding as input, may keep one more
    ceil-mode window (one starting in the after-padding); juanji drops it as PyTorch does for its
    own padding, so the result is cropped to the size ``output_size`` gives.
    """
    (ho, wo), k, s, ((t, b), (left, r)) = _expected_hw(x, kernel, stride, padding, ceil_mode)
    xt = nhwc_to_torch(x)
    if t == b and left == r:
        if kind == "max":
            yt = F.max_pool2d(xt, k, s, (t, left), ceil_mode=ceil_mode)
        else:
            yt = F.avg_pool2d(xt, k, s, (t, left), ceil_mode=ceil_mode,
                              count_include_pad=count_include_pad)
    else:
        if kind == "max":
            xp = F.pad(xt, (left, r, t, b), value=-np.inf)
            yt = F.max_pool2d(xp, k, s, 0, ceil_mode=ceil_mode)
        else:
            ones = torch.ones((1, 1) + x.shape[1:3], dtype=xt.dtype)
            mask = F.pad(ones, (left, r, t, b), value=1.0 if count_include_pad else 0.0)
            sums = F.avg_pool2d(F.pad(xt, (left, r, t, b)), k, s, 0, ceil_mode=ceil_mode,
                                divisor_override=1)
            counts = F.avg_pool2d(mask, k, s, 0, ceil_mode=ceil_mode, divisor_override=1)
            yt = sums / counts
        assert yt.shape[2] - ho in (0, 1) and yt.shape[3] - wo in (0, 1)
        yt = yt[:, :, :ho, :wo]
    assert tuple(yt.shape[2:]) == (ho, wo)
    yt.backward(nhwc_to_torch(dy).detach())
    return torch_to_nhwc(yt), torch_to_nhwc(xt.grad)


def _ours(kind, x, dy, kernel, stride, padding, ceil_mode, count_include_pad=True):
    if kind == "max":
        y, cache = max_pool2d_forward(x, kernel, stride=stride, padding=padding,
                                      ceil_mode=ceil_mode)
        return y, max_pool2d_backward(dy, cache), cache
    y, cache = avg_pool2d_forward(x, kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                                  count_include_pad=count_include_pad)
    return y, avg_pool2d_backward(dy, cache), cache


def _out_shape(x, kernel, stride, padding, ceil_mode):
    (ho, wo), *_ = _expected_hw(x, kernel, stride, padding, ceil_mode)
    return (x.shape[0], ho, wo, x.shape[3])


KINDS = [("max", True), ("avg", True), ("avg", False)]  # (kind, count_include_pad)


@pytest.fixture(autouse=True, scope="module")
def _torch_single_thread():
    """Tiny tensors: torch's thread pool only adds waiting (10x slower on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------------------------ 1. vs PyTorch

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size,kernel,stride,padding,ceil_mode", GRID, ids=GRID_IDS)
def test_matches_torch(size, kernel, stride, padding, ceil_mode, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(size + (C,)).astype(dtype)
    dy = rng.standard_normal(_out_shape(x, kernel, stride, padding, ceil_mode)).astype(dtype)
    for kind, count_include_pad in KINDS:  # one test per config: pytest overhead dominates
        what = f"{kind} count_include_pad={count_include_pad}"
        y, dx, _ = _ours(kind, x, dy, kernel, stride, padding, ceil_mode, count_include_pad)
        y_t, dx_t = torch_pool(kind, x, dy, kernel, stride, padding, ceil_mode,
                               count_include_pad)
        assert y.shape == y_t.shape and dx.shape == x.shape, what
        assert y.dtype == dtype and dx.dtype == dtype, what
        assert_close(y, y_t, dtype, f"y, {what}")
        assert_close(dx, dx_t, dtype, f"dx, {what}")


def test_grid_covers_the_fast_path_and_the_general_path():
    x = np.zeros((1, 6, 6, 1))
    tiled = [max_pool2d_forward(x, k, stride=s, padding=p, ceil_mode=c)[1].geometry.tiled
             for (n, h, w), k, s, p, c in GRID if (h, w) == (6, 6)]
    assert any(tiled) and not all(tiled)


# -------------------------------------------------------------------------- 2. max-pool ties

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel,stride,padding,ceil_mode", [
    (2, 1, 0, False), (3, 1, 1, False), (3, 2, 1, True), ((2, 3), 1, (1, 1), True),
    (2, 2, 0, False), (3, 1, "same", False), (2, 1, ((1, 0), (0, 1)), True),
])
def test_max_ties_route_like_torch_exactly(kernel, stride, padding, ceil_mode, dtype):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=(2, 7, 6, 4)).astype(dtype)  # values 0..2: ties everywhere
    dy = rng.integers(-4, 5, size=_out_shape(x, kernel, stride, padding, ceil_mode)).astype(dtype)
    y, dx, _ = _ours("max", x, dy, kernel, stride, padding, ceil_mode)
    y_t, dx_t = torch_pool("max", x, dy, kernel, stride, padding, ceil_mode)
    np.testing.assert_array_equal(y, y_t)
    np.testing.assert_array_equal(dx, dx_t)  # integer sums: exact, so the routing is identical
    assert dx.sum() == dy.sum()  # each output's gradient went to exactly one cell


def test_max_tie_goes_to_the_first_cell_not_to_every_tied_cell():
    x = np.array([[3.0, 1.0], [3.0, 3.0]]).reshape(1, 2, 2, 1)
    y, cache = max_pool2d_forward(x, 2)
    dx = max_pool2d_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1.0, 0.0], [0.0, 0.0]])
    course_mask = reference.create_mask_from_window(x[0, :, :, 0])  # x == max(x): all three
    assert course_mask.sum() == 3


# ------------------------------------------------------------------- NaN and +-inf, as PyTorch

@pytest.mark.parametrize("kernel,stride,padding,ceil_mode", [
    (2, 2, 0, False), (3, 1, 1, False), (3, 2, 1, True), (2, 1, 1, False),
])
@pytest.mark.parametrize("specials", [[np.nan], [np.inf, -np.inf], [np.nan, np.inf, -np.inf]])
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_nan_and_inf_like_torch(kernel, stride, padding, ceil_mode, specials, dtype):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, size=(2, 7, 7, 3)).astype(dtype)
    where = rng.random(x.shape) < 0.3  # dense enough for windows with several NaNs / all -inf
    x[where] = rng.choice(specials, size=where.sum())
    x[0, :3, :3, 0] = -np.inf  # a corner of -inf: windows whose real cells are all -inf
    dy = rng.integers(1, 5, size=_out_shape(x, kernel, stride, padding, ceil_mode)).astype(dtype)
    y, dx, _ = _ours("max", x, dy, kernel, stride, padding, ceil_mode)
    y_t, dx_t = torch_pool("max", x, dy, kernel, stride, padding, ceil_mode)
    np.testing.assert_array_equal(y, y_t)  # treats NaN == NaN
    np.testing.assert_array_equal(dx, dx_t)
    if np.isnan(specials).any():
        assert np.isnan(y).any()


def test_a_nan_wins_the_max_and_takes_the_gradient():
    x = np.array([[1.0, np.nan], [5.0, 2.0]]).reshape(1, 2, 2, 1)
    y, cache = max_pool2d_forward(x, 2)
    dx = max_pool2d_backward(np.ones_like(y), cache)
    assert np.isnan(y).all()
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0.0, 1.0], [0.0, 0.0]])


def test_padding_never_wins_even_over_minus_inf():
    x = np.full((1, 2, 2, 1), -np.inf)
    y, cache = max_pool2d_forward(x, 2, stride=1, padding=1)
    dx = max_pool2d_backward(np.ones_like(y), cache)
    assert (y == -np.inf).all()
    assert dx.sum() == y.size  # nothing was lost in the padding


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # inf + -inf = NaN, as torch
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_inf_and_nan_like_torch(count_include_pad):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 6, 6, 2))
    x[0, 1, 1, 0], x[0, 4, 4, 1], x[0, 2, 4, 1] = np.nan, np.inf, -np.inf
    dy = rng.standard_normal(_out_shape(x, 3, 1, 1, False))
    y, dx, _ = _ours("avg", x, dy, 3, 1, 1, False, count_include_pad)
    y_t, dx_t = torch_pool("avg", x, dy, 3, 1, 1, False, count_include_pad)
    np.testing.assert_allclose(y, y_t, rtol=1e-10, atol=1e-12)  # NaN where torch has NaN
    np.testing.assert_allclose(dx, dx_t, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ 3. vs the loop reference

@pytest.mark.parametrize("size,kernel,stride,padding,ceil_mode", GRID[::2], ids=GRID_IDS[::2])
def test_matches_reference(size, kernel, stride, padding, ceil_mode):
    rng = np.random.default_rng(4)
    x = np.round(rng.standard_normal(size + (2,)))  # ties: the reference's default rule is also
    dy = rng.standard_normal(_out_shape(x, kernel, stride, padding, ceil_mode))  # the first max
    y, dx, _ = _ours("max", x, dy, kernel, stride, padding, ceil_mode)
    y_r, cache_r = reference.max_pool2d_forward(x, kernel, stride=stride, padding=padding,
                                                ceil_mode=ceil_mode)
    assert_close(y, y_r, np.float64, "max y")
    assert_close(dx, reference.max_pool2d_backward(dy, cache_r), np.float64, "max dx")
    for count_include_pad in (True, False):
        y, dx, _ = _ours("avg", x, dy, kernel, stride, padding, ceil_mode, count_include_pad)
        y_r, cache_r = reference.avg_pool2d_forward(x, kernel, stride=stride, padding=padding,
                                                    ceil_mode=ceil_mode,
                                                    count_include_pad=count_include_pad)
        assert_close(y, y_r, np.float64, f"avg y, count_include_pad={count_include_pad}")
        assert_close(dx, reference.avg_pool2d_backward(dy, cache_r), np.float64,
                     f"avg dx, count_include_pad={count_include_pad}")


# ---------------------------------------------------------------- 4. finite differences (f64)

FD_GRID = [
    ((1, 5, 5), 2, None, 0, False), ((1, 4, 4), 2, None, 0, False), ((1, 5, 4), 3, 1, 1, False),
    ((2, 5, 5), 3, 2, 1, True), ((1, 5, 6), (2, 3), 1, "same", False),
    ((1, 5, 5), 2, 1, ((1, 0), (0, 1)), True), ((1, 4, 5), 2, 3, 0, True),
]


@pytest.mark.parametrize("kind,count_include_pad", KINDS)
@pytest.mark.parametrize("size,kernel,stride,padding,ceil_mode", FD_GRID,
                         ids=[_config_id(*c) for c in FD_GRID])
def test_finite_differences(size, kernel, stride, padding, ceil_mode, kind, count_include_pad):
    rng = np.random.default_rng(5)
    shape = size + (2,)
    if kind == "max":  # tie-free: a scaled permutation keeps every max 0.1 above the runner-up
        x = rng.permutation(np.prod(shape)).reshape(shape) * 0.1 - 1.0
    else:
        x = rng.standard_normal(shape)
    dy = rng.standard_normal(_out_shape(x, kernel, stride, padding, ceil_mode))
    _, dx, _ = _ours(kind, x, dy, kernel, stride, padding, ceil_mode, count_include_pad)

    def f(x_):
        return _ours(kind, x_, dy, kernel, stride, padding, ceil_mode, count_include_pad)[0]

    assert_grad_matches_fd(dx, f, x, dy, what=f"{kind} dx")


# -------------------------------------------------------------------------- 5. refused input

def _max(x, k=2, **kw):
    return max_pool2d_forward(x, k, **kw)


def _avg(x, k=2, **kw):
    return avg_pool2d_forward(x, k, **kw)


X = np.zeros((1, 4, 4, 2))


@pytest.mark.parametrize("forward", [_max, _avg])
@pytest.mark.parametrize("call,error,message", [
    (lambda fw: fw(np.zeros((4, 4, 2))), ValueError,
     r"`x` must have 4 dimensions \(N, H, W, C\), got shape \(4, 4, 2\)"),
    (lambda fw: fw(np.zeros((1, 4, 4, 2), dtype=np.int64)), TypeError,
     r"`x` must have dtype float32 or float64, got int64"),
    (lambda fw: fw(X.tolist()), TypeError, r"`x` must be a numpy.ndarray, got list"),
    (lambda fw: fw(X, 0), ValueError, r"`kernel_size` must be >= 1 in both dimensions, got 0"),
    (lambda fw: fw(X, (2, -1)), ValueError,
     r"`kernel_size` must be >= 1 in both dimensions, got \(2, -1\)"),
    (lambda fw: fw(X, 2, stride=0), ValueError, r"`stride` must be >= 1 in both dimensions"),
    (lambda fw: fw(X, 2, stride=1.5), TypeError, r"`stride` must be an int or a pair of ints"),
    (lambda fw: fw(X, 6), ValueError, r"`kernel_size` 6 .* larger than the padded input 4"),
    (lambda fw: fw(X, (1, 7), padding=(0, 1)), ValueError,
     r"`kernel_size` 7 .* larger than the padded input 4 \+ 1 \+ 1 = 6"),
    (lambda fw: fw(X, 2, padding=2), ValueError,
     r"`padding` 2 \(resolved to \(\(2, 2\), \(2, 2\)\)\) must be at most half of `kernel_size` "
     r"\(2, 2\) on every side \(pad <= 1 along the height\)"),
    (lambda fw: fw(X, 3, padding=((0, 2), (0, 0))), ValueError,
     r"`padding` \(\(0, 2\), \(0, 0\)\) .* at most half of `kernel_size` \(3, 3\)"),
    (lambda fw: fw(X, (3, 1), padding=(0, 1)), ValueError,
     r"pad <= 0 along the width"),
    (lambda fw: fw(X, 2, padding="full"), ValueError,
     r"Invalid padding string 'full', should be one of"),
    (lambda fw: fw(X, 2, padding=-1), ValueError, r"`padding` must be >= 0 everywhere, got -1"),
    (lambda fw: fw(X, 2, padding=1.0), TypeError, r"`padding` must be an int, a pair"),
    (lambda fw: fw(X, 2, ceil_mode="yes"), TypeError, r"`ceil_mode` must be True or False, got 'yes'"),
])
def test_refused_forward_arguments(forward, call, error, message):
    with pytest.raises(error, match=message):
        call(forward)


def test_refused_count_include_pad():
    with pytest.raises(TypeError, match=r"`count_include_pad` must be True or False, got 1"):
        avg_pool2d_forward(X, 2, count_include_pad=1)


def test_backward_refuses_a_cache_from_another_op():
    y, max_cache = max_pool2d_forward(X, 2)
    _, avg_cache = avg_pool2d_forward(X, 2)
    _, ref_cache = reference.max_pool2d_forward(X, 2)
    dy = np.ones_like(y)
    with pytest.raises(TypeError, match=r"`cache` of max_pool2d_backward must be the cache "
                                        r"returned by max_pool2d_forward \(MaxPool2dCache\), "
                                        r"got AvgPool2dCache"):
        max_pool2d_backward(dy, avg_cache)
    with pytest.raises(TypeError, match=r"`cache` of avg_pool2d_backward .* got MaxPool2dCache"):
        avg_pool2d_backward(dy, max_cache)
    with pytest.raises(TypeError, match=r"`cache` of max_pool2d_backward .* got "
                                        r"MaxPoolReferenceCache"):
        max_pool2d_backward(dy, ref_cache)
    with pytest.raises(TypeError, match=r"`cache` of avg_pool2d_backward .* got tuple"):
        avg_pool2d_backward(dy, (X, 2))


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_backward_refuses_dy_of_the_wrong_shape(kind):
    forward, backward = ((max_pool2d_forward, max_pool2d_backward) if kind == "max"
                         else (avg_pool2d_forward, avg_pool2d_backward))
    y, cache = forward(X, 2)
    with pytest.raises(ValueError, match=rf"`dy` of {kind}_pool2d_backward must have the forward "
                                         r"output's shape \(1, 2, 2, 2\), got \(1, 2, 2, 1\)"):
        backward(np.ones((1, 2, 2, 1)), cache)
    with pytest.raises(TypeError, match=rf"`dy` of {kind}_pool2d_backward must be a numpy"):
        backward(y.tolist(), cache)


# ------------------------------------------------------------------------ what the cache keeps

def test_max_cache_keeps_argmax_and_geometry_not_x():
    x = np.random.default_rng(6).standard_normal((2, 8, 8, 3))
    _, cache = max_pool2d_forward(x, 2)
    arrays = [getattr(cache, f) for f in cache.__slots__
              if isinstance(getattr(cache, f), np.ndarray)]
    assert [a.shape for a in arrays] == [(2, 4, 4, 3)] and arrays[0].dtype == np.uint8


@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_path_agrees_with_the_general_path(dtype):
    # stride (2, 2) with an explicit zero padding pair still tiles; a 9x8 input does not
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 8, 8, 3)).astype(dtype)
    x9 = np.concatenate([x, x[:, :1]], axis=1)  # (2, 9, 8, 3): the last row is never read
    for kind, (fw, bw) in {"max": (max_pool2d_forward, max_pool2d_backward),
                           "avg": (avg_pool2d_forward, avg_pool2d_backward)}.items():
        y, cache = fw(x, 2)
        y9, cache9 = fw(x9, 2)
        assert cache.geometry.tiled and not cache9.geometry.tiled
        dy = rng.standard_normal(y.shape).astype(dtype)
        np.testing.assert_array_equal(y9, y)
        dx9 = bw(dy, cache9)
        np.testing.assert_array_equal(dx9[:, :8], bw(dy, cache))
        assert not dx9[:, 8:].any(), kind


def test_grid_is_a_real_grid():
    strides = {(k, s) for (_, k, s, _, _) in GRID}
    assert {(2, 1), (2, None), (2, (3, 3)), (1, None), (1, (2, 2))} <= strides
    assert {p for (*_, p, _) in GRID if not isinstance(p, tuple)} == {0, 1, "same"}
    assert {p for (*_, p, _) in GRID if isinstance(p, tuple)} >= {(1, 0), ((1, 0), (0, 1))}


def test_avg_pool_of_opposite_infinities_is_nan_without_a_warning():
    import warnings

    x = np.array([np.inf, -np.inf, 1.0, 2.0], dtype=np.float32).reshape(1, 2, 2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        y, _ = avg_pool2d_forward(x, 2)
    assert np.isnan(y).all()  # PyTorch: (inf - inf + 1 + 2) / 4 = nan, silently
    t = F.avg_pool2d(torch.from_numpy(x).permute(0, 3, 1, 2), 2)
    assert torch.isnan(t).all()
