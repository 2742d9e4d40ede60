"""The memory budget: a conv over the budget runs in chunks of images with the same results, and a
request that cannot fit even one image is refused with how much it needs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from juanji import functional as jf
from juanji.functional.memory import MemoryBudgetError, batch_chunk


@pytest.fixture
def budget():
    """Set a budget for one test and restore the previous one afterwards."""
    old = jf.get_memory_budget()
    yield jf.set_memory_budget
    jf.set_memory_budget(old)


def _ints(rng, shape):
    # small integers in float64: every sum is exact, so any summation order gives the same bits
    return rng.integers(-3, 4, size=shape).astype(np.float64)


GEOMETRIES = [  # (kernel, stride, padding, dilation, groups, C_in, C_out)
    (3, 1, 1, 1, 1, 3, 4), (3, 2, "same", 1, 1, 4, 6), (2, 1, 0, 2, 2, 4, 6),
    (3, 1, 1, 1, 4, 4, 4), (1, 1, 0, 1, 1, 3, 5),
]


@pytest.mark.parametrize("geo, chunk", list(itertools.product(GEOMETRIES, [1, 2, 3])))
def test_chunked_conv_equals_unchunked_exactly(budget, geo, chunk, monkeypatch):
    monkeypatch.setattr(jf.conv_banded, "MAX_BAND_BYTES", 0)  # chunking is the im2col path's
    k, s, p, d, g, c_in, c_out = geo
    rng = np.random.default_rng(0)
    x = _ints(rng, (7, 9, 8, c_in))
    w = _ints(rng, (k, k, c_in // g, c_out))
    b = _ints(rng, (c_out,))
    y_full, cache_full = jf.conv2d_forward(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    dy = _ints(rng, y_full.shape)
    grads_full = jf.conv2d_backward(dy, cache_full)
    assert cache_full.chunk == 7 and cache_full.xp is None

    _, ho, wo, _ = y_full.shape
    per_image = ho * wo * k * k * c_in * 8
    budget(per_image * chunk + per_image - 1)  # room for `chunk` images, not chunk + 1
    y, cache = jf.conv2d_forward(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    assert cache.chunk == chunk and cache.cols is None
    np.testing.assert_array_equal(y, y_full)
    for got, want in zip(jf.conv2d_backward(dy, cache), grads_full):
        np.testing.assert_array_equal(got, want)


def test_one_image_over_budget_says_how_much_it_needs(budget, monkeypatch):
    monkeypatch.setattr(jf.conv_banded, "MAX_BAND_BYTES", 0)  # im2col's columns are budgeted
    x = np.zeros((2, 10, 10, 3), np.float32)
    w = np.zeros((3, 3, 3, 8), np.float32)
    need = 8 * 8 * 3 * 3 * 3 * 4  # Ho*Wo*kh*kw*C_in float32 bytes for one image
    budget(need - 1)
    with pytest.raises(ValueError, match=rf"conv2d needs .*\({need} bytes\).*single image.*"
                                         rf"budget of .*\({need - 1} bytes\).*set_memory_budget"):
        jf.conv2d_forward(x, w)
    with pytest.raises(MemoryError):  # MemoryBudgetError is both
        jf.conv2d_forward(x, w)
    budget(need)  # exactly one image fits: chunks of one
    assert jf.conv2d_forward(x, w)[1].chunk == 1


@pytest.mark.parametrize("n, per, limit, want", [(10, 300, 1000, 3), (10, 100, 1000, 10),
                                                 (4, 250, 1000, 4), (5, 250, 1000, 4)])
def test_batch_chunk(budget, n, per, limit, want):
    budget(limit)
    assert batch_chunk(n, per, "op") == want


@pytest.mark.parametrize("bad", [0, -5, 1.5, "1e6", True, None])
def test_set_memory_budget_refuses(bad):
    with pytest.raises(ValueError, match=r"`nbytes` must be an int >= 1 \(bytes\), got"):
        jf.set_memory_budget(bad)


def test_set_memory_budget_returns_the_old_one(budget):
    old = jf.get_memory_budget()
    assert budget(12345) == old
    assert jf.get_memory_budget() == 12345


def test_environment_variable(monkeypatch):
    from juanji.functional import memory
    monkeypatch.setenv("JUANJI_MEMORY_BUDGET", "4096")
    assert memory._parse_env() == 4096
    monkeypatch.delenv("JUANJI_MEMORY_BUDGET")
    assert memory._parse_env() == memory.DEFAULT_BUDGET
    for bad in ("lots", "0", "-1"):
        monkeypatch.setenv("JUANJI_MEMORY_BUDGET", bad)
        with pytest.raises(ValueError, match=r"`JUANJI_MEMORY_BUDGET` must be a whole number"):
            memory._parse_env()
    assert isinstance(MemoryBudgetError("x"), ValueError)


def test_banded_conv_stays_under_the_budget_or_leaves_it_to_im2col(budget):
    x = np.zeros((4, 10, 10, 3), np.float32)
    w = np.zeros((3, 3, 3, 8), np.float32)
    rows = 4 * 8 * 3 * 10 * 3 * 4  # N*Ho*kh*Wp*C_in float32 bytes of the banded row windows
    budget(rows)
    assert jf.conv2d_forward(x, w)[1].band is not None  # fits: banded, whole batch
    budget(rows - 1)
    cache = jf.conv2d_forward(x, w)[1]
    assert cache.band is None and cache.chunk < 4  # over: im2col, in chunks


def test_keep_freed_memory_on_glibc():
    import platform

    from juanji.functional import memory
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert memory.keep_freed_memory() is glibc
    assert memory.keep_freed_memory() is glibc  # idempotent
