"""explain_pool: windows, results and the backward routing, against hand-worked answers and the
real ops."""

import itertools

import numpy as np
import pytest

import juanji.explain.pool as pool_module
from juanji.explain import ExplainInternalError
from juanji.explain.pool import explain_pool
from juanji.functional import (
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
)
from tests.helpers import assert_close

# The 4x4 example: 9 appears twice, so every 3x3 window (stride 1, overlapping) ties.
X = np.array([[1, 3, 2, 1],
              [2, 9, 9, 1],
              [1, 3, 2, 3],
              [5, 6, 1, 2]], dtype=np.float64)[:, :, None]
DY = np.array([[1, 2], [3, 4]], dtype=np.float64)[:, :, None]


def test_overlapping_max_pool_with_a_tie_by_hand():
    r = explain_pool(X, "max", 3, stride=1, dy=DY)
    ch = r["channels"][0]
    assert r["overlapping"] and r["ties"] and r["output_shape"] == [2, 2, 1]
    assert ch["output"] == [[9, 9], [9, 9]]
    for win in ch["windows"]:
        assert win["tied"] == [[1, 1], [1, 2]]  # every window holds both 9s
        assert win["winner"] == [1, 1]          # PyTorch: the first in row-major order
    assert ch["windows"][0]["values"] == [[1, 3, 2], [2, 9, 9], [1, 3, 2]]
    # PyTorch's rule: all four windows send their dy to (1, 1): 1 + 2 + 3 + 4 = 10.
    expected = np.zeros((4, 4))
    expected[1, 1] = 10
    assert ch["dx"] == expected.tolist()
    # The course's mask marks both tied cells: each receives the whole 10.
    expected[1, 2] = 10
    assert ch["dx_all_ties"] == expected.tolist()
    cell = next(c for c in ch["cells"] if c["cell"] == [1, 1])
    assert [(g["from"], g["amount"]) for g in cell["receives"]] == [
        ([0, 0], 1.0), ([0, 1], 2.0), ([1, 0], 3.0), ([1, 1], 4.0)]
    assert cell["total"] == 10


def test_non_overlapping_max_pool_by_hand():
    r = explain_pool(X, "max", 2, dy=DY)
    ch = r["channels"][0]
    assert not r["overlapping"] and not r["ties"]
    assert ch["output"] == [[9, 9], [6, 3]]
    assert [w["winner"] for w in ch["windows"]] == [[1, 1], [1, 2], [3, 1], [2, 3]]
    assert all(len(c["receives"]) <= 1 for c in ch["cells"])
    dx = np.zeros((4, 4))
    dx[1, 1], dx[1, 2], dx[3, 1], dx[2, 3] = 1, 2, 3, 4
    assert ch["dx"] == dx.tolist()


def test_average_pool_split_by_hand():
    x = np.arange(16.0).reshape(4, 4, 1)
    r = explain_pool(x, "avg", 2, dy=np.full((2, 2, 1), 4.0))
    ch = r["channels"][0]
    assert ch["output"] == [[2.5, 4.5], [10.5, 12.5]]
    assert ch["windows"][0]["sum"] == 0 + 1 + 4 + 5 and ch["windows"][0]["divisor"] == 4
    assert ch["dx"] == np.ones((4, 4)).tolist()  # dz / (f*f) = 4 / 4 everywhere
    # overlapping: each cell gets 1/4 from every window it lies in
    r = explain_pool(np.zeros((3, 3, 1)), "avg", 2, stride=1, dy=np.ones((2, 2, 1)))
    assert r["channels"][0]["dx"] == [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]
    centre = next(c for c in r["channels"][0]["cells"] if c["cell"] == [1, 1])
    assert [g["amount"] for g in centre["receives"]] == [0.25] * 4


def test_average_pool_with_padding_drops_the_padding_share():
    r = explain_pool(np.ones((2, 2, 1)), "avg", 3, stride=1, padding=1, dy=np.ones((2, 2, 1)))
    win = r["channels"][0]["windows"][0]
    assert win["divisor"] == 9 and win["values"][0] == [None, None, None]
    assert win["result"] == pytest.approx(4 / 9)
    assert [s[2] for s in win["sends"]] == [pytest.approx(1 / 9)] * 4  # only real cells


@pytest.mark.parametrize("mode, k, s, p, c", [
    (mode, k, s, p, c) for mode, k, s, p, c in itertools.product(
        ("max", "avg"), (1, 2, 3), (1, 2, 3), (0, 1), (1, 2)) if p <= k // 2])
def test_grid_matches_functional(mode, k, s, p, c):
    rng = np.random.default_rng(k * 100 + s * 10 + p)
    x = rng.permutation(5 * 6 * c).reshape(5, 6, c).astype(np.float64)  # tie-free
    fwd, bwd = ((max_pool2d_forward, max_pool2d_backward) if mode == "max"
                else (avg_pool2d_forward, avg_pool2d_backward))
    y, cache = fwd(x[None], k, stride=s, padding=p)
    dy = rng.integers(1, 5, size=y.shape[1:]).astype(np.float64)
    dx = bwd(dy[None], cache)[0]
    r = explain_pool(x, mode, k, stride=s, padding=p, dy=dy)
    assert r["output_shape"] == list(y.shape[1:])
    for ch, e in enumerate(r["channels"]):
        assert_close(e["output"], y[0, :, :, ch])
        assert_close(e["dx"], dx[:, :, ch])
        summed = np.zeros(x.shape[:2])
        for cell in e["cells"]:
            summed[tuple(cell["cell"])] = sum(g["amount"] for g in cell["receives"])
        assert_close(summed, dx[:, :, ch])
        for win in e["windows"]:
            real = [v for row in win["values"] for v in row if v is not None]
            expected = max(real) if mode == "max" else sum(real) / win["divisor"]
            assert win["result"] == pytest.approx(expected)
            if mode == "max":
                assert x[win["winner"][0], win["winner"][1], ch] == win["result"]


def test_forward_only_without_dy():
    r = explain_pool(X, "max", 2)
    assert not r["has_backward"] and "dx" not in r["channels"][0]


def test_disagreement_is_an_internal_error(monkeypatch):
    def wrong(dy, cache):
        return max_pool2d_backward(dy, cache) * 2
    monkeypatch.setattr(pool_module, "max_pool2d_backward", wrong)
    with pytest.raises(ExplainInternalError, match="disagree on the max-pool gradient"):
        explain_pool(X, "max", 2, dy=DY)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(mode="min"), ValueError, "`mode`"),
    (dict(mode="max", kernel_size=5), ValueError, "`kernel_size`"),
    (dict(mode="max", dy=np.ones((3, 3, 1))), ValueError, "`dy`"),
    (dict(mode="max", padding=-1), ValueError, "`padding`"),
    (dict(mode="max", stride=0), ValueError, "`stride`"),
])
def test_bad_arguments(kwargs, error, match):
    mode = kwargs.pop("mode")
    with pytest.raises(error, match=match):
        explain_pool(X, mode, kwargs.pop("kernel_size", 2), **kwargs)


def test_non_finite_input_refused():
    with pytest.raises(ValueError, match="`x` must hold finite numbers"):
        explain_pool(np.full((2, 2, 1), np.nan), "max", 2)
