"""explain_conv: one output pixel as window x kernel + bias, and dW, db, dX as sums."""

import itertools

import numpy as np
import pytest

import juanji.explain.conv as conv_module
from juanji.explain import ExplainInternalError
from juanji.explain.conv import explain_conv
from juanji.functional import conv2d_backward, conv2d_forward
from tests.helpers import assert_close


def test_small_case_by_hand():
    x = np.arange(9.0).reshape(3, 3, 1)           # 0 1 2 / 3 4 5 / 6 7 8
    r = explain_conv(x, np.ones((2, 2, 1)), 1.0, dy=np.ones((2, 2)), weight=(0, 0, 0),
                     pixel=(1, 1, 0))
    f = r["forward"]
    assert [t["x"] for t in f["taps"]] == [0, 1, 3, 4]
    assert f["sum"] == 8 and f["value"] == 9       # 0 + 1 + 3 + 4, plus the bias 1
    assert r["output"] == [[9, 13], [21, 25]]
    bw = r["backward"]
    # W[0, 0] met the top-left cell of every window: x[0,0], x[0,1], x[1,0], x[1,1]
    assert [t["x"] for t in bw["weight"]["terms"]] == [0, 1, 3, 4]
    assert bw["weight"]["dw"] == 8
    assert bw["db"] == 4 and bw["bias"]["sum"] == 4
    # the centre lies in all four windows, meeting a different weight in each
    assert [t["kernel"][:2] for t in bw["pixel"]["terms"]] == [[1, 1], [1, 0], [0, 1], [0, 0]]
    assert bw["pixel"]["dx"] == 4
    assert bw["dx"] == [[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]


def test_padding_taps_are_zero_and_marked():
    r = explain_conv(np.ones((2, 2, 1)), np.ones((3, 3, 1)), padding=1, dy=np.ones((2, 2)))
    taps = r["forward"]["taps"]
    assert sum(t["x"] is None for t in taps) == 5 and r["forward"]["value"] == 4
    w_terms = r["backward"]["weight"]["terms"]  # W[0,0] meets padding except at output (1,1)
    assert [t["x"] for t in w_terms] == [None, None, None, 1.0]


@pytest.mark.parametrize("stride, padding, dilation, channels, k", list(itertools.product(
    (1, 2), (0, 1), (1, 2), (1, 2), (1, 2))))
def test_every_weight_and_pixel_sum_to_functional(stride, padding, dilation, channels, k):
    rng = np.random.default_rng(stride * 1000 + padding * 100 + dilation * 10 + channels)
    x = rng.integers(-3, 4, size=(5, 5, channels)).astype(np.float64)
    kernel = rng.standard_normal((k, k + 1, channels))
    bias = 0.75
    y, cache = conv2d_forward(x[None], kernel[:, :, :, None], np.array([bias]), stride=stride,
                              padding=padding, dilation=dilation)
    dy = rng.standard_normal(y.shape[1:3])
    dx, dw, db = conv2d_backward(dy[None, :, :, None], cache)
    kw = dict(stride=stride, padding=padding, dilation=dilation, dy=dy)
    for i, j in itertools.product(range(y.shape[1]), range(y.shape[2])):
        r = explain_conv(x, kernel, bias, output=(i, j), **kw)
        f = r["forward"]
        assert_close(f["value"], y[0, i, j, 0])
        assert_close(sum(t["product"] for t in f["taps"]) + bias, y[0, i, j, 0])
    for a, b, c in itertools.product(range(k), range(k + 1), range(channels)):
        wt = explain_conv(x, kernel, bias, weight=(a, b, c), **kw)["backward"]["weight"]
        assert len(wt["terms"]) == y.shape[1] * y.shape[2]  # every output pixel it touched
        assert_close(sum(t["contribution"] for t in wt["terms"]), dw[a, b, c, 0])
        assert wt["dw"] == pytest.approx(dw[a, b, c, 0])
    for rr, qq, c in itertools.product(range(5), range(5), range(channels)):
        px = explain_conv(x, kernel, bias, pixel=(rr, qq, c), **kw)["backward"]["pixel"]
        assert_close(sum(t["contribution"] for t in px["terms"]) if px["terms"] else 0.0,
                     dx[0, rr, qq, c])
    r = explain_conv(x, kernel, bias, **kw)
    assert_close(r["backward"]["db"], db[0])
    assert_close(r["backward"]["db"], dy.sum())


def test_disagreement_is_an_internal_error(monkeypatch):
    def wrong(dy, cache):
        dx, dw, db = conv2d_backward(dy, cache)
        return dx, dw + 1, db
    monkeypatch.setattr(conv_module, "conv2d_backward", wrong)
    with pytest.raises(ExplainInternalError, match="disagree on dW"):
        explain_conv(np.ones((3, 3, 1)), np.ones((2, 2, 1)), dy=np.ones((2, 2)))


@pytest.mark.parametrize("kwargs, match", [
    (dict(output=(2, 0)), "`output`"),
    (dict(weight=(0, 2, 0)), "`weight`"),
    (dict(pixel=(0, 0, 1)), "`pixel`"),
    (dict(dy=np.ones((3, 3))), "`dy`"),
    (dict(kernel=np.ones((2, 2, 2))), "`kernel` must have the input's 1 channel"),
    (dict(kernel=np.ones((4, 4, 1))), "`kernel_size`"),
    (dict(bias=np.inf), "`bias`"),
])
def test_bad_arguments(kwargs, match):
    kernel = kwargs.pop("kernel", np.ones((2, 2, 1)))
    bias = kwargs.pop("bias", 0.0)
    kwargs.setdefault("dy", np.ones((2, 2)))
    with pytest.raises(ValueError, match=match):
        explain_conv(np.ones((3, 3, 1)), kernel, bias, **kwargs)
