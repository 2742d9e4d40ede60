"""The plain-loop oracle, checked two ways that do not involve the fast ops.

1. Small cases worked out by hand: every expected number below is a literal derived in the
   comment next to it, never an output of the code under test.
2. Agreement with PyTorch (float64, rtol 1e-10) over a small grid, for the forward and every
   gradient of conv and both pools, so the oracle itself is known to be right.
"""

import ast
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import juanji.reference as ref
from juanji.reference import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    conv2d_backward,
    conv2d_forward,
    conv_single_step,
    create_mask_from_window,
    distribute_value,
    max_pool2d_backward,
    max_pool2d_forward,
    zero_pad,
)
from tests.helpers import (
    assert_close,
    hwio_to_torch,
    nhwc_to_torch,
    torch_to_hwio,
    torch_to_nhwc,
)


def img(rows) -> np.ndarray:
    """A one-image, one-channel float64 input (1, H, W, 1) from a nested list of rows."""
    return np.array(rows, dtype=np.float64)[None, :, :, None]


def plane(a) -> np.ndarray:
    """The (H, W) plane of a (1, H, W, 1) array."""
    assert a.shape[0] == 1 and a.shape[3] == 1
    return a[0, :, :, 0]


# ---------------------------------------------------------------------------------------------
# The course's helpers
# ---------------------------------------------------------------------------------------------

def test_zero_pad_shape_and_values():
    x = np.random.default_rng(1).standard_normal((4, 3, 3, 2))
    x_pad = zero_pad(x, 2)
    assert x_pad.shape == (4, 7, 7, 2)           # 3 + 2*2 = 7; examples and channels untouched
    assert x_pad.dtype == x.dtype
    np.testing.assert_array_equal(x_pad[:, 2:5, 2:5, :], x)   # the images sit in the middle
    border = np.ones((7, 7), dtype=bool)
    border[2:5, 2:5] = False
    assert np.all(x_pad[:, border, :] == 0)      # the two-cell frame is all zeros


def test_zero_pad_asymmetric():
    x_pad = zero_pad(np.ones((1, 2, 2, 1)), ((0, 1), (2, 0)))
    assert x_pad.shape == (1, 3, 4, 1)           # 2 + 0 + 1 rows, 2 + 2 + 0 columns
    np.testing.assert_array_equal(plane(x_pad), [[0, 0, 1, 1],
                                                 [0, 0, 1, 1],
                                                 [0, 0, 0, 0]])


def test_conv_single_step():
    a = np.arange(8.0).reshape(2, 2, 2)          # 0 + 1 + ... + 7 = 28
    W = np.ones((2, 2, 2))
    assert float(conv_single_step(a, W, np.array([[[1.0]]]))) == 29.0   # 28 + bias 1
    W2 = np.zeros((2, 2, 2))
    W2[1, 0, 1] = -2.0                           # picks a[1, 0, 1] = 5 -> -10
    assert float(conv_single_step(a, W2, 0.5)) == -9.5                   # -10 + 0.5


def test_create_mask_from_window():
    np.testing.assert_array_equal(create_mask_from_window(np.array([[1.0, 3.0], [4.0, 2.0]])),
                                  [[False, False], [True, False]])
    # The course's mask marks every tied maximum.
    np.testing.assert_array_equal(create_mask_from_window(np.array([[3.0, 1.0], [3.0, 3.0]])),
                                  [[True, False], [True, True]])


def test_distribute_value():
    np.testing.assert_array_equal(distribute_value(2.0, (2, 2)), [[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(distribute_value(3.0, (1, 2)), [[1.5, 1.5]])       # 3 / 2
    out = distribute_value(np.float32(6.0), (2, 3))                                  # 6 / 6
    assert out.dtype == np.float32 and out.shape == (2, 3) and np.all(out == 1.0)


# ---------------------------------------------------------------------------------------------
# Max pooling by hand
# ---------------------------------------------------------------------------------------------

X44 = [[1, 3, 2, 0],
       [4, 2, -1, 5],
       [7, 6, 8, 1],
       [0, 9, 3, 4]]


def test_max_pool_2x2_stride_2_by_hand():
    A, cache = max_pool2d_forward(img(X44), 2)
    # windows {1,3,4,2} {2,0,-1,5} / {7,6,0,9} {8,1,3,4}
    np.testing.assert_array_equal(plane(A), [[4, 5], [9, 8]])
    dA_prev = max_pool2d_backward(img([[1, 2], [3, 4]]), cache)
    # each dA goes to its window's max: 4 at (1,0), 5 at (1,3), 9 at (3,1), 8 at (2,2)
    np.testing.assert_array_equal(plane(dA_prev), [[0, 0, 0, 0],
                                                   [1, 0, 0, 2],
                                                   [0, 0, 4, 0],
                                                   [0, 3, 0, 0]])


def test_max_pool_2x2_stride_1_overlapping_sums_gradients():
    A, cache = max_pool2d_forward(img(X44), 2, stride=1)
    # out 3x3; max of rows i..i+1, cols j..j+1:
    # (0,0) {1,3,4,2}->4@(1,0)  (0,1) {3,2,2,-1}->3@(0,1)  (0,2) {2,0,-1,5}->5@(1,3)
    # (1,0) {4,2,7,6}->7@(2,0)  (1,1) {2,-1,6,8}->8@(2,2)  (1,2) {-1,5,8,1}->8@(2,2)
    # (2,0) {7,6,0,9}->9@(3,1)  (2,1) {6,8,9,3}->9@(3,1)   (2,2) {8,1,3,4}->8@(2,2)
    np.testing.assert_array_equal(plane(A), [[4, 3, 5], [7, 8, 8], [9, 9, 8]])
    dA_prev = max_pool2d_backward(img([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), cache)
    # (2,2) won windows (1,1),(1,2),(2,2): 5 + 6 + 9 = 20; (3,1) won (2,0),(2,1): 7 + 8 = 15
    np.testing.assert_array_equal(plane(dA_prev), [[0, 2, 0, 0],
                                                   [1, 0, 0, 3],
                                                   [4, 0, 20, 0],
                                                   [0, 15, 0, 0]])
    assert dA_prev.sum() == 45  # 1 + ... + 9: max pooling routes, it neither adds nor loses


def test_max_pool_ties_first_and_all():
    x = img([[3, 1, 2, 2],
             [3, 3, 0, 2]])
    A, cache = max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(plane(A), [[3, 2]])
    dA = img([[10, 20]])
    # "first": the first maximum in row-major window order, (0,0) and (0,2)
    np.testing.assert_array_equal(plane(max_pool2d_backward(dA, cache)),
                                  [[10, 0, 20, 0],
                                   [0, 0, 0, 0]])
    np.testing.assert_array_equal(plane(max_pool2d_backward(dA, cache, ties="first")),
                                  [[10, 0, 20, 0],
                                   [0, 0, 0, 0]])
    # "all": the course's mask x == max(x); every tied cell gets the whole dz
    np.testing.assert_array_equal(plane(max_pool2d_backward(dA, cache, ties="all")),
                                  [[10, 0, 20, 20],
                                   [10, 10, 0, 20]])


def test_max_pool_nan_wins_and_the_last_nan_takes_the_gradient():
    nan = np.nan
    A, cache = max_pool2d_forward(img([[1, nan], [5, nan]]), 2)
    assert np.isnan(A).all()                  # NaN wins the max, as in PyTorch
    dA_prev = max_pool2d_backward(img([[7]]), cache)
    # PyTorch's scan: a NaN always replaces the best so far, so the last NaN, (1,1), wins
    np.testing.assert_array_equal(plane(dA_prev), [[0, 0], [0, 7]])
    x_t = nhwc_to_torch(img([[1, nan], [5, nan]]))
    F.max_pool2d(x_t, 2).sum().backward()
    np.testing.assert_array_equal(plane(torch_to_nhwc(x_t.grad)), [[0, 0], [0, 1]])


def test_max_pool_padding_cells_never_win():
    x = img([[-1, -2, -3],
             [-4, -5, -6],
             [-7, -8, -9]])
    A, cache = max_pool2d_forward(x, 2, stride=2, padding=1)
    # padded 5x5, out floor((3 + 2 - 2) / 2) + 1 = 2; real cells per window:
    # (0,0) {-1} (0,1) {-2,-3} (1,0) {-4,-7} (1,1) {-5,-6,-8,-9}; a zero pad would have won all
    np.testing.assert_array_equal(plane(A), [[-1, -2], [-4, -5]])
    dA_prev = max_pool2d_backward(img([[1, 2], [3, 4]]), cache)
    np.testing.assert_array_equal(plane(dA_prev), [[1, 2, 0],
                                                   [3, 4, 0],
                                                   [0, 0, 0]])


def test_max_pool_same_padding_extra_cell_after():
    # width 5, kernel 2, stride 2, 'same': out ceil(5/2) = 3, padding (0, 1) on the right;
    # windows [1,-2] [3,-4] [-5,pad] -> the padding cell does not win against -5
    A, cache = max_pool2d_forward(img([[1, -2, 3, -4, -5]]), (1, 2), padding="same")
    np.testing.assert_array_equal(plane(A), [[1, 3, -5]])
    dA_prev = max_pool2d_backward(img([[1, 2, 3]]), cache)
    np.testing.assert_array_equal(plane(dA_prev), [[1, 0, 2, 0, 3]])


def test_max_pool_ceil_mode():
    x = img([[1, 2, 3],
             [4, 5, 6],
             [7, 8, 9]])
    A, cache = max_pool2d_forward(x, 2, ceil_mode=True)
    # out ceil((3 - 2) / 2) + 1 = 2; the last row/column windows hang over the input:
    # {1,2,4,5} {3,6} / {7,8} {9}
    np.testing.assert_array_equal(plane(A), [[5, 6], [8, 9]])
    dA_prev = max_pool2d_backward(img([[1, 2], [3, 4]]), cache)
    np.testing.assert_array_equal(plane(dA_prev), [[0, 0, 0], [0, 1, 2], [0, 3, 4]])
    A_floor, _ = max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(plane(A_floor), [[5]])  # floor mode drops the overhang


# ---------------------------------------------------------------------------------------------
# Average pooling by hand
# ---------------------------------------------------------------------------------------------

def test_avg_pool_2x2_stride_2_splits_dz_over_4():
    x = img(np.arange(16.0).reshape(4, 4))
    A, cache = avg_pool2d_forward(x, 2)
    # (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, (8+9+12+13)/4 = 10.5, (10+11+14+15)/4 = 12.5
    np.testing.assert_array_equal(plane(A), [[2.5, 4.5], [10.5, 12.5]])
    dA_prev = avg_pool2d_backward(img([[4, 8], [12, 16]]), cache)
    # dz / (2*2) to each cell of its window
    np.testing.assert_array_equal(plane(dA_prev), [[1, 1, 2, 2],
                                                   [1, 1, 2, 2],
                                                   [3, 3, 4, 4],
                                                   [3, 3, 4, 4]])


def test_avg_pool_overlapping_sums_gradients():
    A, cache = avg_pool2d_forward(np.zeros((1, 3, 3, 1)), 2, stride=1)
    dA_prev = avg_pool2d_backward(img([[4, 8], [12, 16]]), cache)
    # each window sends dz/4: 1, 2, 3, 4; the centre lies in all four windows: 1+2+3+4 = 10
    np.testing.assert_array_equal(plane(dA_prev), [[1, 3, 2],
                                                   [4, 10, 6],
                                                   [3, 7, 4]])


X33 = [[1, 2, 3],
       [4, 5, 6],
       [7, 8, 9]]


@pytest.mark.parametrize("count_include_pad,expected_A,expected_dA_prev", [
    # padded 5x5, kernel 2, stride 2, out 2x2; real cells per window:
    # (0,0) {1}  (0,1) {2,3}  (1,0) {4,7}  (1,1) {5,6,8,9}
    # counting padding, every window divides by 4: 1/4, 5/4, 11/4, 28/4 = 7;
    # each real cell lies in exactly one window and gets 1/4 of dz = 1
    (True, [[0.25, 1.25], [2.75, 7.0]],
     [[0.25, 0.25, 0.25], [0.25, 0.25, 0.25], [0.25, 0.25, 0.25]]),
    # not counting padding: 1/1, 5/2, 11/2, 28/4; gradients 1, 1/2, 1/2, 1/4
    (False, [[1.0, 2.5], [5.5, 7.0]],
     [[1.0, 0.5, 0.5], [0.5, 0.25, 0.25], [0.5, 0.25, 0.25]]),
])
def test_avg_pool_padding_count_include_pad(count_include_pad, expected_A, expected_dA_prev):
    A, cache = avg_pool2d_forward(img(X33), 2, padding=1, count_include_pad=count_include_pad)
    np.testing.assert_array_equal(plane(A), expected_A)
    dA_prev = avg_pool2d_backward(np.ones(A.shape), cache)
    np.testing.assert_array_equal(plane(dA_prev), expected_dA_prev)


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_ceil_mode_overhang_is_not_counted(count_include_pad):
    A, cache = avg_pool2d_forward(img(X33), 2, ceil_mode=True,
                                  count_include_pad=count_include_pad)
    # no padding, so both settings agree: (1+2+4+5)/4 = 3, (3+6)/2 = 4.5, (7+8)/2 = 7.5, 9/1
    np.testing.assert_array_equal(plane(A), [[3.0, 4.5], [7.5, 9.0]])
    dA_prev = avg_pool2d_backward(np.ones(A.shape), cache)
    np.testing.assert_array_equal(plane(dA_prev), [[0.25, 0.25, 0.5],
                                                   [0.25, 0.25, 0.5],
                                                   [0.5, 0.5, 1.0]])


@pytest.mark.parametrize("count_include_pad,expected_A,expected_dA_prev", [
    # width 4, kernel 3, stride 2, padding 1, ceil_mode: out ceil((4 + 2 - 3) / 2) + 1 = 3.
    # Padded row [0, 1, 2, 3, 4, 0]; windows cols [0,3) [2,5) [4,7): the last one holds
    # 4 and the right padding cell, and hangs one cell beyond the padded input.
    # Counting padding: 3/3 = 1, 9/3 = 3, 4/2 = 2 (the overhang is not counted);
    # gradients 1/3, 1/3 + 1/3, 1/3, 1/3 + 1/2
    (True, [[1.0, 3.0, 2.0]], [[1 / 3, 2 / 3, 1 / 3, 5 / 6]]),
    # Not counting padding: 3/2, 9/3, 4/1; gradients 1/2, 1/2 + 1/3, 1/3, 1/3 + 1
    (False, [[1.5, 3.0, 4.0]], [[1 / 2, 5 / 6, 1 / 3, 4 / 3]]),
])
def test_avg_pool_ceil_mode_with_padding(count_include_pad, expected_A, expected_dA_prev):
    A, cache = avg_pool2d_forward(img([[1, 2, 3, 4]]), (1, 3), stride=(1, 2), padding=(0, 1),
                                  ceil_mode=True, count_include_pad=count_include_pad)
    assert_close(plane(A), expected_A)
    assert_close(plane(avg_pool2d_backward(np.ones(A.shape), cache)), expected_dA_prev)


# ---------------------------------------------------------------------------------------------
# Convolution by hand
# ---------------------------------------------------------------------------------------------

def kernel(rows) -> np.ndarray:
    """A one-in, one-out kernel (kh, kw, 1, 1) from a nested list."""
    return np.array(rows, dtype=np.float64)[:, :, None, None]


def test_conv_3x3_input_2x2_kernel_by_hand():
    x = img(X33)
    W = kernel([[1, 2],
                [3, 4]])
    Z, cache = conv2d_forward(x, W, np.array([1.0]))
    # Z[h,w] = x[h,w] + 2 x[h,w+1] + 3 x[h+1,w] + 4 x[h+1,w+1] + 1
    # (0,0) 1+4+12+20 = 37   (0,1) 2+6+15+24 = 47   (1,0) 4+10+21+32 = 67   (1,1) 5+12+24+36 = 77
    np.testing.assert_array_equal(plane(Z), [[38, 48], [68, 78]])

    dZ = img([[1, -1],
              [2, 0]])
    dx, dW, db = conv2d_backward(dZ, cache)
    # dW[p,q] = sum over outputs of dZ[h,w] * x[h+p, w+q]:
    # (0,0) 1*1 - 1*2 + 2*4 = 7    (0,1) 1*2 - 1*3 + 2*5 = 9
    # (1,0) 1*4 - 1*5 + 2*7 = 13   (1,1) 1*5 - 1*6 + 2*8 = 15
    np.testing.assert_array_equal(dW[:, :, 0, 0], [[7, 9], [13, 15]])
    # db = the sum of dZ = 1 - 1 + 2 + 0
    np.testing.assert_array_equal(db, [2.0])
    # dx[r,s] = sum over the windows holding (r,s) of dZ[h,w] * W[r-h, s-w]:
    # (0,1) dZ00*W01 + dZ01*W00 = 2 - 1 = 1
    # (1,1) dZ00*W11 + dZ01*W10 + dZ10*W01 + dZ11*W00 = 4 - 3 + 4 + 0 = 5
    # (1,2) dZ01*W11 + dZ11*W01 = -4;  (2,1) dZ10*W11 + dZ11*W10 = 8
    np.testing.assert_array_equal(plane(dx), [[1, 1, -2],
                                              [5, 5, -4],
                                              [6, 8, 0]])


def test_conv_padding_1_by_hand():
    x = img([[1, 2],
             [3, 4]])
    W = kernel([[1, 2],
                [3, 4]])
    Z, cache = conv2d_forward(x, W, padding=1)
    # padded 4x4, out 3x3; e.g. (0,0) sees only x00 under W11: 1*4 = 4;
    # (0,1) x00*W10 + x01*W11 = 3 + 8 = 11; (1,1) the full overlap 1 + 4 + 9 + 16 = 30
    np.testing.assert_array_equal(plane(Z), [[4, 11, 6],
                                             [14, 30, 14],
                                             [6, 11, 4]])
    dx, dW, db = conv2d_backward(np.ones(Z.shape), cache)
    assert db is None                                  # no bias, no bias gradient
    # every input pixel meets every kernel weight exactly once: 1 + 2 + 3 + 4 = 10
    np.testing.assert_array_equal(plane(dx), [[10, 10], [10, 10]])
    # every kernel tap passes over every input pixel exactly once: 1 + 2 + 3 + 4 = 10
    np.testing.assert_array_equal(dW[:, :, 0, 0], [[10, 10], [10, 10]])


def test_conv_same_padding_stride_2_extra_pixel_after():
    # width 4, kernel 3, stride 2, 'same': out ceil(4/2) = 2, total padding 1 -> (0, 1)
    # windows [1,2,3] and [3,4,pad]: 6 and 7
    Z, cache = conv2d_forward(img([[1, 2, 3, 4]]), kernel([[1, 1, 1]]), stride=2,
                              padding="same")
    np.testing.assert_array_equal(plane(Z), [[6, 7]])
    dx, _, _ = conv2d_backward(img([[1, 10]]), cache)
    np.testing.assert_array_equal(plane(dx), [[1, 1, 11, 10]])  # x[2] is in both windows


def test_conv_dilation_by_hand():
    x = img([[1, 4, 9, 16, 25]])
    Z, cache = conv2d_forward(x, kernel([[1, -1]]), dilation=(1, 2))
    # the two taps are 2 apart: Z[j] = x[j] - x[j+2]; out 5 - 2*(2-1) = 3
    np.testing.assert_array_equal(plane(Z), [[1 - 9, 4 - 16, 9 - 25]])
    dx, dW, _ = conv2d_backward(np.ones(Z.shape), cache)
    # dx: +1 from each window's first tap (x0..x2), -1 from each second tap (x2..x4)
    np.testing.assert_array_equal(plane(dx), [[1, 1, 0, -1, -1]])
    # dW[0] = x0 + x1 + x2 = 14, dW[1] = x2 + x3 + x4 = 50
    np.testing.assert_array_equal(dW[0, :, 0, 0], [14, 50])


def test_grouped_conv_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 1, 4)
    W = np.zeros((1, 1, 2, 2))
    W[0, 0, :, 0] = [1, 10]          # output 0 reads group 0 = input channels 0, 1
    W[0, 0, :, 1] = [100, 1000]      # output 1 reads group 1 = input channels 2, 3
    b = np.array([0.5, -0.5]).reshape(1, 1, 1, 2)
    Z, cache = conv2d_forward(x, W, b, groups=2)
    # Z0 = 1*1 + 2*10 + 0.5 = 21.5; Z1 = 3*100 + 4*1000 - 0.5 = 4299.5
    np.testing.assert_array_equal(Z.reshape(2), [21.5, 4299.5])
    dx, dW, db = conv2d_backward(np.array([1.0, 2.0]).reshape(1, 1, 1, 2), cache)
    # dx = [1*1, 1*10, 2*100, 2*1000]; dW[:, 0] = 1 * [1, 2]; dW[:, 1] = 2 * [3, 4]
    np.testing.assert_array_equal(dx.reshape(4), [1, 10, 200, 2000])
    np.testing.assert_array_equal(dW[0, 0], [[1, 6], [2, 8]])
    assert db.shape == (1, 1, 1, 2)  # db comes back in b's shape
    np.testing.assert_array_equal(db.reshape(2), [1, 2])


def test_conv_bias_grad_is_the_sum_of_dz_per_channel():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 4, 3))
    Z, cache = conv2d_forward(x, rng.standard_normal((3, 3, 3, 2)), np.zeros(2))
    dZ = np.zeros(Z.shape)               # (2, 2, 2, 2)
    dZ[0, 0, 0, 0], dZ[1, 1, 0, 0] = 1.5, 2.0   # channel 0: 1.5 + 2.0 = 3.5
    dZ[0, 1, 1, 1], dZ[1, 0, 1, 1] = -1.0, 0.25  # channel 1: -1.0 + 0.25 = -0.75
    _, _, db = conv2d_backward(dZ, cache)
    np.testing.assert_array_equal(db, [3.5, -0.75])


# ---------------------------------------------------------------------------------------------
# dtypes and the boundary
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_dtype_out_as_in(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 4, 4, 2)).astype(dtype)
    Z, cache = conv2d_forward(x, rng.standard_normal((2, 2, 2, 2)).astype(dtype),
                              np.zeros(2, dtype))
    grads = conv2d_backward(np.ones(Z.shape, dtype), cache)
    assert Z.dtype == dtype and all(g.dtype == dtype for g in grads)
    for fwd, bwd in ((max_pool2d_forward, max_pool2d_backward),
                     (avg_pool2d_forward, avg_pool2d_backward)):
        A, cache = fwd(x, 2, padding=1)
        assert A.dtype == dtype
        assert bwd(np.ones(A.shape, dtype), cache).dtype == dtype


def test_imports_no_fast_op():
    """The oracle may not be the fast code checking itself."""
    tree = ast.parse(Path(ref.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
    assert imported == {"__future__", "dataclasses", "numpy", "validation",
                        "functional.sizes"}


X = np.zeros((1, 4, 4, 2))
W = np.zeros((2, 2, 2, 3))


@pytest.mark.parametrize("call,error,match", [
    (lambda: conv2d_forward(X.astype(int), W), TypeError,
     r"`x` must have dtype float32 or float64, got int64"),
    (lambda: conv2d_forward(X[0], W), ValueError, r"`x` must have 4 dimensions"),
    (lambda: conv2d_forward(X, W.astype(np.float32)), TypeError,
     r"`w` dtype float32 must equal `x` dtype float64"),
    (lambda: conv2d_forward(X, W, groups=3), ValueError,
     r"`in_channels` \(=2\) must be divisible by `groups` \(=3\)"),
    (lambda: conv2d_forward(X, np.zeros((2, 2, 1, 3)), groups=2), ValueError,
     r"`out_channels` \(=3\) must be divisible by `groups` \(=2\)"),
    (lambda: conv2d_forward(X, np.zeros((2, 2, 2, 4)), groups=2), ValueError,
     r"`w` must have C_in // groups = 2 // 2 = 1 input channels"),
    (lambda: conv2d_forward(X, W, groups=0), ValueError, r"`groups` must be >= 1, got 0"),
    (lambda: conv2d_forward(X, W, groups=1.0), TypeError, r"`groups` must be an int"),
    (lambda: conv2d_forward(X, W, np.zeros(2)), ValueError,
     r"`b` must be an array of shape \(3,\) or \(1, 1, 1, 3\)"),
    (lambda: conv2d_forward(X, W, [0.0, 0.0, 0.0]), TypeError,
     r"`b` must be a numpy.ndarray or None, got list"),
    (lambda: conv2d_forward(X, W, np.zeros(3, np.float32)), TypeError,
     r"`b` dtype float32 must equal `x` dtype float64"),
    (lambda: conv2d_forward(X, W, padding="full"), ValueError, r"Invalid padding string 'full'"),
    (lambda: conv2d_forward(X, W, stride=0), ValueError, r"`stride` must be >= 1"),
    (lambda: conv2d_forward(X, np.zeros((6, 6, 2, 3))), ValueError,
     r"`kernel_size` 6 .* larger than the padded input 4"),
    (lambda: conv2d_backward(np.zeros((1, 3, 3, 3)), "cache"), TypeError,
     r"`cache` of conv2d_backward must be the cache returned by conv2d_forward"),
    (lambda: conv2d_backward(np.zeros((1, 2, 2, 3)), conv2d_forward(X, W)[1]), ValueError,
     r"`dy` of conv2d_backward must have the forward output's shape \(1, 3, 3, 3\)"),
    (lambda: max_pool2d_forward(X.astype(np.int32), 2), TypeError, r"`x` must have dtype"),
    (lambda: max_pool2d_forward(X, 0), ValueError, r"`kernel_size` must be >= 1"),
    (lambda: max_pool2d_forward(X, 2, ceil_mode=1), TypeError,
     r"`ceil_mode` must be True or False, got 1"),
    (lambda: max_pool2d_forward(X, 2, padding=2), ValueError,
     r"leaves a pooling window entirely in the height padding"),
    (lambda: max_pool2d_forward(X, 2, padding=((0, 0), (0, 3))), ValueError,
     r"leaves a pooling window entirely in the width padding"),
    (lambda: max_pool2d_backward(np.zeros((1, 2, 2, 2)), max_pool2d_forward(X, 2)[1],
                                 ties="some"), ValueError,
     r"`ties` must be one of \('first', 'all'\), got 'some'"),
    (lambda: max_pool2d_backward(np.zeros((1, 2, 2, 2)), avg_pool2d_forward(X, 2)[1]),
     TypeError, r"`cache` of max_pool2d_backward must be the cache returned by max_pool2d"),
    (lambda: avg_pool2d_forward(X, 2, count_include_pad=None), TypeError,
     r"`count_include_pad` must be True or False, got None"),
    (lambda: avg_pool2d_backward(np.zeros((1, 3, 3, 2)), avg_pool2d_forward(X, 2)[1]),
     ValueError, r"`dy` of avg_pool2d_backward must have the forward output's shape"),
    (lambda: zero_pad(X, -1), ValueError, r"`pad` must be >= 0 everywhere, got -1"),
    (lambda: zero_pad(X, "same"), TypeError, r"`pad` must be an int or \(\(top, bottom\)"),
    (lambda: conv_single_step(np.ones((2, 2)), np.ones((2, 3)), 0.0), ValueError,
     r"`a_slice_prev` shape \(2, 2\) must equal `W` shape \(2, 3\)"),
    (lambda: conv_single_step(np.ones((2, 2)), np.ones((2, 2)), np.zeros(2)), ValueError,
     r"`b` must be a single bias"),
])
def test_bad_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------------------------
# Agreement with PyTorch: the oracle itself is right
# ---------------------------------------------------------------------------------------------

def torch_grads(y_t, dy, *tensors):
    """Backpropagate ``dy`` (NHWC numpy) through torch output ``y_t`` (NCHW)."""
    (y_t * nhwc_to_torch(dy).detach()).sum().backward()
    return [t.grad for t in tensors]


CONV_CASES = [
    # x shape, (kh, kw, C_out), stride, padding, torch F.pad (left, right, top, bottom), dil, groups
    ((1, 5, 5, 1), (3, 3, 1), 1, 0, (0, 0, 0, 0), 1, 1),
    ((2, 5, 4, 3), (2, 3, 2), 1, 1, (1, 1, 1, 1), 1, 1),
    ((2, 6, 5, 2), (3, 3, 4), 2, (1, 0), (0, 0, 1, 1), 1, 1),
    ((1, 7, 6, 2), (2, 2, 3), (2, 1), ((0, 1), (2, 1)), (2, 1, 0, 1), 1, 1),
    ((1, 7, 7, 2), (3, 3, 2), 1, "same", (2, 2, 2, 2), 2, 1),          # total 2*(3-1) = 4
    ((1, 5, 5, 2), (2, 2, 2), 2, "same", (0, 1, 0, 1), 1, 1),          # total 2*2 + 2 - 5 = 1
    ((1, 5, 4, 2), (3, 2, 2), 1, "valid", (0, 0, 0, 0), 1, 1),
    ((2, 5, 5, 4), (3, 3, 6), 1, 1, (1, 1, 1, 1), 1, 2),
    ((1, 5, 5, 4), (2, 2, 4), 2, "same", (0, 1, 0, 1), 1, 4),          # depthwise
    ((1, 6, 5, 2), (3, 2, 2), (1, 2), (2, 1), (1, 1, 2, 2), (2, 1), 1),
    ((1, 4, 4, 6), (1, 1, 3), 1, 0, (0, 0, 0, 0), 1, 3),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("bias", ["none", "vector", "4d"])
def test_conv_matches_torch(case, bias):
    x_shape, (kh, kw, c_out), stride, padding, torch_pad, dilation, groups = case
    rng = np.random.default_rng(hash((x_shape, kh, kw, c_out, groups)) % 2**32)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((kh, kw, x_shape[3] // groups, c_out))
    b = {"none": None, "vector": rng.standard_normal(c_out),
         "4d": rng.standard_normal((1, 1, 1, c_out))}[bias]

    Z, cache = conv2d_forward(x, w, b, stride=stride, padding=padding, dilation=dilation,
                              groups=groups)
    x_t, w_t = nhwc_to_torch(x), hwio_to_torch(w)
    b_t = None if b is None else torch.tensor(b.reshape(-1), requires_grad=True)
    z_t = F.conv2d(F.pad(x_t, torch_pad), w_t, b_t, stride=stride, dilation=dilation,
                   groups=groups)
    assert_close(Z, torch_to_nhwc(z_t), what="Z")

    dZ = rng.standard_normal(Z.shape)
    dx, dw, db = conv2d_backward(dZ, cache)
    dx_t, dw_t, *db_t = torch_grads(z_t, dZ, x_t, w_t, *([] if b is None else [b_t]))
    assert_close(dx, torch_to_nhwc(dx_t), what="dx")
    assert_close(dw, torch_to_hwio(dw_t), what="dw")
    if b is None:
        assert db is None
    else:
        assert db.shape == b.shape
        assert_close(db.reshape(-1), db_t[0].numpy(), what="db")


POOL_GRID = [
    (x_shape, k, s, p, ceil)
    for x_shape in ((2, 5, 4, 2), (1, 4, 6, 1))
    for k, s in itertools.chain(itertools.product((2, 3), (None, 1, 2)),
                                [((2, 3), (1, 2)), ((3, 1), 2)])
    for p in (0, 1, (1, 0))
    for ceil in (False, True)
    # what torch accepts: padding <= kernel // 2 on each axis
    if all(pi <= ki // 2 for pi, ki in zip(np.broadcast_to(p, 2), np.broadcast_to(k, 2)))
]


def torch_pool_args(k, s, p):
    return dict(kernel_size=k, stride=k if s is None else s, padding=p)


@pytest.mark.parametrize("x_shape,k,s,p,ceil", POOL_GRID)
def test_max_pool_matches_torch(x_shape, k, s, p, ceil):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape)             # continuous values: no ties
    A, cache = max_pool2d_forward(x, k, stride=s, padding=p, ceil_mode=ceil)
    x_t = nhwc_to_torch(x)
    a_t = F.max_pool2d(x_t, ceil_mode=ceil, **torch_pool_args(k, s, p))
    assert_close(A, torch_to_nhwc(a_t), what="A")
    dA = rng.standard_normal(A.shape)
    (dx_t,) = torch_grads(a_t, dA, x_t)
    for ties in ("first", "all"):                # without ties the two rules agree
        assert_close(max_pool2d_backward(dA, cache, ties=ties), torch_to_nhwc(dx_t),
                     what=f"dx ties={ties}")


@pytest.mark.parametrize("x_shape,k,s,p,ceil", POOL_GRID)
def test_max_pool_ties_first_matches_torch(x_shape, k, s, p, ceil):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, x_shape).astype(np.float64)  # three values: ties everywhere
    A, cache = max_pool2d_forward(x, k, stride=s, padding=p, ceil_mode=ceil)
    x_t = nhwc_to_torch(x)
    a_t = F.max_pool2d(x_t, ceil_mode=ceil, **torch_pool_args(k, s, p))
    dA = rng.standard_normal(A.shape)
    (dx_t,) = torch_grads(a_t, dA, x_t)
    assert_close(max_pool2d_backward(dA, cache, ties="first"), torch_to_nhwc(dx_t))


@pytest.mark.parametrize("x_shape,k,s,p,ceil", POOL_GRID)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_matches_torch(x_shape, k, s, p, ceil, count_include_pad):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(x_shape)
    A, cache = avg_pool2d_forward(x, k, stride=s, padding=p, ceil_mode=ceil,
                                  count_include_pad=count_include_pad)
    x_t = nhwc_to_torch(x)
    a_t = F.avg_pool2d(x_t, ceil_mode=ceil, count_include_pad=count_include_pad,
                       **torch_pool_args(k, s, p))
    assert_close(A, torch_to_nhwc(a_t), what="A")
    dA = rng.standard_normal(A.shape)
    (dx_t,) = torch_grads(a_t, dA, x_t)
    assert_close(avg_pool2d_backward(dA, cache), torch_to_nhwc(dx_t), what="dx")
