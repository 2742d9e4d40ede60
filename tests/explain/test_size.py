"""explain_size: the formula's steps, the result of output_size, and what floor throws away."""

import itertools
import math

import pytest

from juanji.explain.size import explain_size
from juanji.functional import output_size


def test_course_example_floor_explained_by_hand():
    r = explain_size(8, 3, stride=2)
    assert r["steps"] == ["out = floor((n - f + 2p) / s) + 1",
                          "= floor((8 - 3 + 2*0) / 2) + 1",
                          "= floor(5 / 2) + 1",
                          "= floor(2.5) + 1",
                          "= 2 + 1",
                          "= 3"]
    assert r["output"] == 3 and r["fits"] and not r["exact"]
    assert r["remainder"] == 1
    assert r["windows"] == [[0, 2], [2, 4], [4, 6]]
    assert r["unread"] == [7]  # the last column is never read
    assert "never read" in r["explanation"][0] and "index 7" in r["explanation"][0]


def test_exact_division_says_so():
    r = explain_size(7, 3, stride=2, padding=1)
    assert r["output"] == 4 and r["exact"] and r["unread"] == []
    assert "whole number" in r["explanation"][0]
    assert "floor(6 / 2)" in r["steps"][2]


def test_window_that_does_not_fit():
    r = explain_size(3, 5)
    assert r["output"] is None and not r["fits"]
    assert r["steps"][-1] == "= -1"  # the formula itself gives a number < 1
    assert "does not fit" in r["explanation"][0]
    with pytest.raises(ValueError):
        output_size(3, 5)


def test_ceil_mode_last_window_dropped_by_pytorch_rule():
    r = explain_size(5, 2, stride=2, padding=1, ceil_mode=True)
    assert r["steps"][-1] == "= 4" and r["output"] == 3 == output_size(
        5, 2, stride=2, padding=1, ceil_mode=True)
    assert "dropped" in r["explanation"][-1]


def test_stride_longer_than_window_leaves_gaps():
    r = explain_size(7, 2, stride=3)   # windows 0..1 and 3..4; 2 and 5, 6 are never read
    assert r["output"] == 2 and r["unread"] == [2, 5, 6]
    assert "index 2" in r["explanation"][-1] and "stride is longer" in r["explanation"][-1]


def test_dilation_shows_effective_window():
    r = explain_size(10, 3, stride=3, dilation=2)
    assert r["steps"][0] == "f_eff = d*(f - 1) + 1 = 2*(3 - 1) + 1 = 5"
    assert r["output"] == 2 and r["unread"] == [1, 6, 8, 9]  # taps 0, 2, 4 and 3, 5, 7
    assert "holes" in r["explanation"][-1]


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_grid_against_output_size_and_window_coverage(ceil_mode):
    for n, f, s, p, d in itertools.product(range(1, 11), range(1, 5), range(1, 4), range(3),
                                           (1, 2)):
        r = explain_size(n, f, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
        f_eff = d * (f - 1) + 1
        rounding = math.ceil if ceil_mode else math.floor
        assert r["steps"][-1] == f"= {rounding((n - f_eff + 2 * p) / s) + 1}"
        try:
            expected = output_size(n, f, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
        except ValueError:
            expected = None
        assert r["output"] == expected, (n, f, s, p, d)
        if expected is None:
            assert not r["fits"] and r["windows"] is None
            continue
        assert len(r["windows"]) == expected
        assert all(b - a == f_eff - 1 for a, b in r["windows"])
        taps = {i for a, b in r["windows"] for i in range(a, b + 1, d)}
        assert r["unread"] == [i for i in range(n) if i not in taps], (n, f, s, p, d)
        assert r["exact"] == ((n - f_eff + 2 * p) % s == 0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0, f=3), "`n`"), (dict(n=4, f=0), "`f`"), (dict(n=4, f=2, stride=0), "`stride`"),
    (dict(n=4, f=2, padding=-1), "`padding`"), (dict(n=4, f=2, dilation=0), "`dilation`"),
])
def test_bad_arguments_named(kwargs, match):
    n, f = kwargs.pop("n"), kwargs.pop("f")
    with pytest.raises(ValueError, match=match):
        explain_size(n, f, **kwargs)


def test_ceil_mode_must_be_bool():
    with pytest.raises(TypeError, match="`ceil_mode`"):
        explain_size(4, 2, ceil_mode=1)
