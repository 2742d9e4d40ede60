"""juanji.course reproduces the published values of the course's "Convolution model - Step by
Step" notebook from the same np.random.seed(1) inputs: v2 (the 2017-2018 copies, values printed to
11-13 digits) and the later release (2021 on, "Convolution_model_Step_by_Step_v1", full repr)."""
import numpy as np
import pytest

from juanji import course
from juanji.functional import max_pool2d_backward, max_pool2d_forward


def _seeded_conv_v2():
    np.random.seed(1)
    A_prev = np.random.randn(10, 4, 4, 3)
    W = np.random.randn(2, 2, 3, 8)
    b = np.random.randn(1, 1, 1, 8)
    return course.conv_forward(A_prev, W, b, {"pad": 2, "stride": 2})


def test_v2_zero_pad_and_single_step():
    np.random.seed(1)
    x = np.random.randn(4, 3, 3, 2)
    x_pad = course.zero_pad(x, 2)
    assert x_pad.shape == (4, 7, 7, 2) and not x_pad[1, 1].any()
    np.testing.assert_array_equal(np.round(x[1, 1], 8), [[0.90085595, -0.68372786],
                                                         [-0.12289023, -0.93576943],
                                                         [-0.26788808, 0.53035547]])
    np.random.seed(1)
    a, W, b = np.random.randn(4, 4, 3), np.random.randn(4, 4, 3), np.random.randn(1, 1, 1)
    assert round(float(course.conv_single_step(a, W, b)), 11) == -6.99908945068


def test_v2_conv_forward_and_backward():
    Z, cache = _seeded_conv_v2()
    assert round(float(np.mean(Z)), 13) == 0.0489952035289
    np.testing.assert_array_equal(np.round(Z[3, 2, 1], 8), [
        -0.61490741, -6.7439236, -2.55153897, 1.75698377, 3.56208902, 0.53036437, 5.18531798,
        8.75898442])
    np.testing.assert_array_equal(np.round(cache[0][1][2][3], 8), [-0.20075807, 0.18656139,
                                                                   0.41005165])
    dA, dW, db = course.conv_backward(Z, cache)
    assert dA.shape == (10, 4, 4, 3) and dW.shape == (2, 2, 3, 8) and db.shape == (1, 1, 1, 8)
    assert round(float(np.mean(dA)), 11) == 1.45243777754
    assert round(float(np.mean(dW)), 11) == 1.72699145831
    assert round(float(np.mean(db)), 11) == 7.83923256462
    # the later release prints the full repr of the same numbers; the last 1-2 digits depend on
    # the order of the sums (the course's loops vs juanji's matrix products): 1e-13 relative
    assert np.isclose(np.mean(dA), 1.4524377775388075, rtol=1e-13, atol=0)
    assert np.isclose(np.mean(dW), 1.7269914583139097, rtol=1e-13, atol=0)
    assert np.isclose(np.mean(db), 7.839232564616838, rtol=1e-13, atol=0)


def test_v2_pool_forward():
    np.random.seed(1)
    A_prev = np.random.randn(2, 4, 4, 3)
    hp = {"stride": 2, "f": 3}
    A, _ = course.pool_forward(A_prev, hp)
    np.testing.assert_array_equal(np.round(A, 8).reshape(2, 3), [
        [1.74481176, 0.86540763, 1.13376944], [1.13162939, 1.51981682, 2.18557541]])
    A, _ = course.pool_forward(A_prev, hp, mode="average")
    np.testing.assert_array_equal(np.round(A, 8).reshape(2, 3), [
        [0.02105773, -0.20328806, -0.40389855], [-0.22154621, 0.51716526, 0.48155844]])


def test_v2_mask_distribute_and_pool_backward():
    np.random.seed(1)
    x = np.random.randn(2, 3)
    np.testing.assert_array_equal(course.create_mask_from_window(x),
                                  [[True, False, False], [False, False, False]])
    np.testing.assert_array_equal(course.distribute_value(2, (2, 2)), [[0.5, 0.5], [0.5, 0.5]])
    np.random.seed(1)
    A_prev = np.random.randn(5, 5, 3, 2)
    A, cache = course.pool_forward(A_prev, {"stride": 1, "f": 2})
    dA = np.random.randn(5, 4, 2, 2)
    assert round(float(np.mean(dA)), 12) == 0.145713902729
    np.testing.assert_array_equal(np.round(course.pool_backward(dA, cache, mode="max")[1, 1], 8),
                                  [[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]])
    np.testing.assert_array_equal(np.round(course.pool_backward(dA, cache, "average")[1, 1], 8),
                                  [[0.08485462, 0.2787552], [1.26461098, -0.25749373],
                                   [1.17975636, -0.53624893]])


def test_later_release_conv_forward():
    np.random.seed(1)
    A_prev = np.random.randn(2, 5, 7, 4)
    W = np.random.randn(3, 3, 4, 8)
    b = np.random.randn(1, 1, 1, 8)
    Z, cache = course.conv_forward(A_prev, W, b, {"pad": 1, "stride": 2})
    assert Z.shape == (2, 3, 4, 8)
    assert np.isclose(np.mean(Z), 0.5511276474566768, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(np.round(Z[0, 2, 1], 8), [
        -2.17796037, 8.07171329, -0.5772704, 3.36286738, 4.48113645, -2.89198428, 10.99288867,
        3.03171932])
    np.testing.assert_array_equal(np.round(cache[0][1][2][3], 8), [-1.1191154, 1.9560789,
                                                                   -0.3264995, -1.34267579])


def test_later_release_pool_forward():
    np.random.seed(1)
    A_prev = np.random.randn(2, 5, 5, 3)
    A, _ = course.pool_forward(A_prev, {"stride": 1, "f": 3})
    assert A.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(np.round(A[1, 1], 8), [[1.96710175, 0.84616065, 1.27375593],
                                                         [1.96710175, 0.84616065, 1.23616403],
                                                         [1.62765075, 1.12141771, 1.2245077]])
    A, _ = course.pool_forward(A_prev, {"stride": 1, "f": 3}, mode="average")
    np.testing.assert_array_equal(np.round(A[1, 1], 8), [[0.44497696, -0.00261695, -0.31040307],
                                                         [0.50811474, -0.23493734, -0.23961183],
                                                         [0.11872677, 0.17255229, -0.22112197]])


def test_ties_follow_the_course_not_pytorch():
    x = np.array([[1.0, 3.0], [3.0, 0.0]]).reshape(1, 2, 2, 1)
    dA = np.ones((1, 1, 1, 1))
    A, cache = course.pool_forward(x, {"f": 2, "stride": 2})
    course_grad = course.pool_backward(dA, cache)
    np.testing.assert_array_equal(course_grad[0, ..., 0], [[0, 1], [1, 0]])  # both tied cells
    _, jcache = max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(max_pool2d_backward(dA, jcache)[0, ..., 0], [[0, 1], [0, 0]])


def test_bad_hparameters_and_mode():
    A = np.zeros((1, 4, 4, 1))
    with pytest.raises(ValueError, match="'f'"):
        course.pool_forward(A, {"stride": 1})
    with pytest.raises(ValueError, match="'maximum'"):
        course.pool_forward(A, {"stride": 1, "f": 2}, mode="maximum")
    with pytest.raises(ValueError, match="'pad'"):
        course.conv_forward(A, np.zeros((2, 2, 1, 1)), np.zeros((1, 1, 1, 1)), {"stride": 1})
