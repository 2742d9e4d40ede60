"""Inverted dropout: mask statistics, scaling, the backward's mask, p = 0, refusals."""

import numpy as np
import pytest

from juanji.functional import dropout_backward, dropout_forward, relu_forward
from tests.helpers import assert_close, assert_grad_matches_fd

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_fraction_and_scaling(p, dtype):
    x = np.ones((100, 10, 10, 2), dtype=dtype)  # 20000 units
    y, cache = dropout_forward(x, p, np.random.default_rng(0))
    assert y.shape == x.shape and y.dtype == dtype
    kept = y != 0
    np.testing.assert_array_equal(kept, cache.keep)
    # The kept fraction is a mean of 20000 Bernoulli(1 - p): within 5 standard deviations.
    sd = np.sqrt(p * (1 - p) / x.size)
    assert abs(kept.mean() - (1 - p)) < 5 * sd
    # Every kept unit is scaled by exactly 1 / (1 - p), so E[y] = x.
    np.testing.assert_array_equal(y[kept], dtype(1 / (1 - p)))
    assert abs(y.mean() - 1) < 5 * sd / (1 - p)


def test_the_mask_is_independent_of_the_values_and_of_position():
    x = np.random.default_rng(1).normal(size=(400, 50))
    y, cache = dropout_forward(x, 0.3, np.random.default_rng(2))
    assert_close(y, np.where(cache.keep, x / 0.7, 0))  # x * (1/0.7): within a rounding of x/0.7
    # no row or column is systematically dropped
    sd_rows, sd_cols = np.sqrt(0.21 / 50), np.sqrt(0.21 / 400)
    assert np.abs(cache.keep.mean(axis=1) - 0.7).max() < 5 * sd_rows
    assert np.abs(cache.keep.mean(axis=0) - 0.7).max() < 5 * sd_cols


def test_same_seed_same_mask_other_seed_other_mask():
    x = np.ones((8, 16))
    a, _ = dropout_forward(x, 0.5, np.random.default_rng(42))
    b, _ = dropout_forward(x, 0.5, np.random.default_rng(42))
    c, _ = dropout_forward(x, 0.5, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_successive_calls_with_one_rng_draw_fresh_masks():
    rng = np.random.default_rng(0)
    a, _ = dropout_forward(np.ones((8, 16)), 0.5, rng)
    b, _ = dropout_forward(np.ones((8, 16)), 0.5, rng)
    assert (a != b).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.2, 0.75])
def test_backward_uses_the_forward_mask(p, dtype):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4, 4, 3)).astype(dtype)
    dy = rng.normal(size=x.shape).astype(dtype)
    _, cache = dropout_forward(x, p, np.random.default_rng(9))
    dx = dropout_backward(dy, cache)
    assert dx.shape == x.shape and dx.dtype == dtype
    assert (dx[~cache.keep] == 0).all()
    assert_close(dx[cache.keep], dy[cache.keep] / (1 - p), dtype)
    # With x = 1 the forward output *is* the mask times the scale, and so is dx for dy = 1.
    ones = np.ones_like(x)
    y1, cache1 = dropout_forward(ones, p, np.random.default_rng(9))
    np.testing.assert_array_equal(dropout_backward(ones, cache1), y1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_p_zero_is_the_identity(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 5, 2)).astype(dtype)
    dy = rng.normal(size=x.shape).astype(dtype)
    y, cache = dropout_forward(x, 0.0, rng)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(dropout_backward(dy, cache), dy)
    assert dropout_forward(x, 0, rng)[1].keep.all()  # an int 0 is accepted too


@pytest.mark.parametrize("p", [0.0, 0.4])
def test_finite_differences_with_a_fixed_mask(p):
    x = np.random.default_rng(5).normal(size=(3, 4))
    dy = np.random.default_rng(6).normal(size=(3, 4))
    _, cache = dropout_forward(x, p, np.random.default_rng(7))
    # a fresh generator with the same seed on every call draws the same mask
    assert_grad_matches_fd(dropout_backward(dy, cache),
                           lambda v: dropout_forward(v, p, np.random.default_rng(7))[0], x, dy)


@pytest.mark.parametrize("p,exc,match", [
    (1.0, ValueError, r"`p` must be in \[0, 1\) \(the probability of dropping a unit\), got 1.0"),
    (1, ValueError, r"`p` must be in \[0, 1\) .* got 1$"),
    (-0.1, ValueError, r"`p` must be in \[0, 1\) .* got -0.1"),
    (float("nan"), ValueError, r"`p` must be in \[0, 1\) .* got nan"),
    ("0.5", TypeError, r"`p` must be a real number in \[0, 1\), got '0.5'"),
    (True, TypeError, r"`p` must be a real number in \[0, 1\), got True"),
    (None, TypeError, r"`p` must be a real number in \[0, 1\), got None"),
])
def test_bad_p_is_refused(p, exc, match):
    with pytest.raises(exc, match=match):
        dropout_forward(np.ones(3), p, np.random.default_rng(0))


@pytest.mark.parametrize("rng,got", [(None, "NoneType"), (0, "int"),
                                     (np.random.RandomState(0), "RandomState")])
def test_bad_rng_is_refused(rng, got):
    with pytest.raises(TypeError, match=r"`rng` must be a numpy.random.Generator "
                                        rf"\(np.random.default_rng\(seed\)\), got {got}"):
        dropout_forward(np.ones(3), 0.5, rng)


@pytest.mark.parametrize("x,match", [
    (np.ones(3, dtype=np.int64), r"`x` must have dtype float32 or float64, got int64"),
    ([1.0, 2.0], r"`x` must be a numpy.ndarray, got list"),
])
def test_bad_x_is_refused(x, match):
    with pytest.raises(TypeError, match=match):
        dropout_forward(x, 0.5, np.random.default_rng(0))


def test_bad_backward_inputs_are_refused():
    _, cache = dropout_forward(np.ones((2, 3)), 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"`dy` of dropout_backward must have the forward output's "
                                         r"shape \(2, 3\), got \(6,\)"):
        dropout_backward(np.ones(6), cache)
    _, other = relu_forward(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"`cache` of dropout_backward must be the cache returned "
                                        r"by dropout_forward \(DropoutCache\), got ReluCache"):
        dropout_backward(np.ones((2, 3)), other)
