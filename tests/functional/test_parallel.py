"""Batch-split threading: slices, thread counts, errors, nesting, and every op that splits its batch
giving bit-for-bit the single-thread result (forced to split tiny inputs three ways)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from juanji import functional as jf
from juanji.functional import _parallel
from tests.functional.test_pool import GRID, GRID_IDS


@pytest.fixture
def threads():
    """Set the thread count (and split any work, however small) for one test; restore after."""
    old_count, old_min = jf.get_num_threads(), _parallel.MIN_WORK

    def set_threads(n, min_work=1):
        jf.set_num_threads(n)
        _parallel.MIN_WORK = min_work

    yield set_threads
    jf.set_num_threads(old_count)
    _parallel.MIN_WORK = old_min


@pytest.mark.parametrize("n, parts", [(10, 3), (2, 2), (7, 1), (3, 5), (64, 2)])
def test_slices_cover_the_batch_in_order_with_near_equal_sizes(n, parts):
    got = _parallel.slices(n, parts)
    assert len(got) == min(parts, n)
    assert [i for s in got for i in range(n)[s]] == list(range(n))
    sizes = [s.stop - s.start for s in got]
    assert max(sizes) - min(sizes) <= 1


def test_big_work_runs_on_several_threads_and_small_work_on_the_caller(threads):
    threads(2, min_work=100)
    seen = []
    out = np.zeros(8)

    def body(s):
        seen.append(threading.get_ident())
        out[s] = np.arange(8)[s] ** 2

    _parallel.over_batch(body, 8, work=200)  # two slices of 100
    assert len(set(seen)) == 2 and threading.get_ident() in seen
    np.testing.assert_array_equal(out, np.arange(8) ** 2)
    seen.clear()
    _parallel.over_batch(body, 8, work=199)  # under two slices' worth: one call, this thread
    assert seen == [threading.get_ident()]


def test_one_thread_never_splits(threads):
    threads(1)
    calls = []
    _parallel.over_batch(calls.append, 10, work=10**9)
    assert calls == [slice(0, 10)]


def test_nested_steps_run_serially_inside_a_body(threads):
    threads(2)
    inner = []

    def body(s):
        _parallel.over_batch(inner.append, 6, work=10**9)

    _parallel.over_batch(body, 4, work=10**9)
    assert inner == [slice(0, 6), slice(0, 6)]  # each outer slice ran the inner step whole


def test_an_error_in_any_slice_reaches_the_caller_after_all_finish(threads):
    threads(3)
    done = []

    def body(s):
        if s.start > 0:
            raise ValueError(f"slice {s.start} failed")
        done.append(s)

    with pytest.raises(ValueError, match="slice"):
        _parallel.over_batch(body, 9, work=10**9)
    assert done == [slice(0, 3)]


def test_sum_over_batch_adds_partials_in_slice_order(threads):
    threads(3)
    parts = _parallel.sum_over_batch(lambda s: [s.start], 9, work=10**9)  # list + list: order
    assert parts == [0, 3, 6]


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True, None])
def test_set_num_threads_refuses(bad):
    with pytest.raises(ValueError, match=r"`n` must be an int >= 1 \(threads\), got"):
        jf.set_num_threads(bad)


def test_thread_count_from_the_environment(monkeypatch):
    monkeypatch.setenv("JUANJI_NUM_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert _parallel._threads_from_env() == 3
    monkeypatch.delenv("JUANJI_NUM_THREADS")
    assert _parallel._threads_from_env() == 5  # what PyTorch reads
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert _parallel._threads_from_env() >= 1
    for bad in ("many", "0"):
        monkeypatch.setenv("JUANJI_NUM_THREADS", bad)
        with pytest.raises(ValueError, match=r"`JUANJI_NUM_THREADS` must be a whole number of "
                                             r"threads >= 1, got"):
            _parallel._threads_from_env()


def _pools(x, dy_seed, kernel, stride, padding, ceil_mode):
    y, cache = jf.max_pool2d_forward(x, kernel, stride=stride, padding=padding,
                                     ceil_mode=ceil_mode)
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape)
    z, acache = jf.avg_pool2d_forward(x, kernel, stride=stride, padding=padding,
                                      ceil_mode=ceil_mode)
    return (y, cache.argmax, jf.max_pool2d_backward(dy, cache), z,
            jf.avg_pool2d_backward(dy, acache))


@pytest.mark.parametrize("config", GRID, ids=GRID_IDS)
def test_pools_split_three_ways_equal_one_thread_bit_for_bit(threads, config):
    (n, h, w), kernel, stride, padding, ceil_mode = config
    x = np.random.default_rng(1).standard_normal((5, h, w, 3))  # 5 images: slices 1, 2, 2
    x[0, 0, :2] = 7.0  # a tie
    x[3, -1, -1, 1] = np.nan  # a NaN wins its window (PyTorch's rule), applied after the split
    threads(1)
    want = _pools(x, 2, kernel, stride, padding, ceil_mode)
    threads(3)
    got = _pools(x, 2, kernel, stride, padding, ceil_mode)
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("path, groups, c_in", [
    ("shifted", 1, 3), ("banded", 1, 3), ("tiled", 1, 3), ("cut", 1, 3), ("im2col", 1, 3),
    ("im2col", 3, 3),
    ("im2col", 1, 1),  # tap-major columns
])
@pytest.mark.parametrize("padding, dilation", [(1, 1), (0, 1), (((2, 0), (1, 2))), (2, 2)])
def test_conv_split_three_ways_equals_one_thread(threads, monkeypatch, path, groups, c_in,
                                                 padding, dilation):
    from juanji.functional import conv_banded, conv_shifted
    from tests.helpers import assert_close

    from tests.functional.test_conv import forced_tile

    monkeypatch.setattr(conv_banded, "tile_width", forced_tile(path if path != "shifted"
                                                               else "im2col"))
    if path == "shifted":
        monkeypatch.setattr(conv_shifted, "MIN_CHANNELS", 1)
        monkeypatch.setattr(conv_shifted, "MAX_GRID_RATIO", float("inf"))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7, 6, c_in))  # slices of 1, 2, 2 images; tails reach the next
    w = rng.standard_normal((3, 2, c_in // groups, 6))
    b = rng.standard_normal(6)
    results = []
    for n in (1, 3):
        threads(n)
        y, cache = jf.conv2d_forward(x, w, b, padding=padding, dilation=dilation, groups=groups)
        assert (cache.rows is not None) == (path == "shifted")
        assert (cache.band is not None) == (path in ("banded", "tiled", "cut"))
        assert (cache.tile is not None) == (path in ("tiled", "cut"))
        dy = np.random.default_rng(1).standard_normal(y.shape)
        results.append((y, *jf.conv2d_backward(dy, cache)))
    for got, want in zip(*results):
        assert_close(got, want, np.float64)


def test_relu_split_three_ways_equals_one_thread_bit_for_bit(threads):
    x = np.random.default_rng(0).standard_normal((5, 4, 3, 2)).astype(np.float32)
    x[1, 0, 0, 0], x[4, 1, 1, 1], x[2, 2, 2, 0] = np.nan, 0.0, -0.0
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    dy[3, 0, 0, 0] = np.inf  # under a False mask it must give +0, not NaN
    results = []
    for n in (1, 3):
        threads(n)
        y, cache = jf.relu_forward(x)
        results.append((y, cache.mask, jf.relu_backward(dy, cache)))
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype


def test_the_blas_lookup_is_safe_from_several_threads_at_once(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from juanji.functional import _blas
    monkeypatch.setattr(_blas, "_funcs", _blas._UNSET)  # as on the first call of a process
    barrier = threading.Barrier(4)

    def first_call(_):
        barrier.wait()
        return _blas.available(np.float32)

    with ThreadPoolExecutor(4) as pool:
        seen = list(pool.map(first_call, range(4)))
    assert len(set(seen)) == 1  # every thread saw the finished lookup
    assert seen[0] == bool(_blas._candidates())


def test_blas_bodies_run_on_one_blas_thread_unless_too_short_to_split(threads):
    from juanji.functional import _threads
    blas = _threads._controller()
    assert blas is not None  # threadpoolctl comes with the test extras and sees NumPy's BLAS
    outside = blas.num_threads
    threads(2, min_work=10)
    seen = {}

    def body(s):
        seen[s.stop - s.start] = blas.num_threads

    _parallel.over_batch(body, 4, work=1000, blas=True)  # split: 2 + 2 images
    assert seen == {2: 1}
    seen.clear()
    _parallel.over_batch(body, 1, work=1000, blas=True)  # one image, large: the BLAS's threads
    assert seen == {1: outside}
    seen.clear()
    _parallel.over_batch(body, 1, work=15, blas=True)  # one image, small: one BLAS thread
    assert seen == {1: 1}
    assert blas.num_threads == outside  # restored
