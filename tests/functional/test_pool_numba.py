"""The compiled pools (functional/pool_numba.py): the same numbers as the NumPy path, bit for
bit, on juanji's thread count, next to PyTorch, from several Python threads, cached on disk."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from juanji.backend import set_backend
from juanji.functional import (
    avg_pool2d_backward, avg_pool2d_forward, get_num_threads, max_pool2d_backward,
    max_pool2d_forward, set_num_threads,
)


@pytest.fixture(autouse=True)
def _on_each_backend():  # overrides tests/functional/conftest.py: these tests pick the backend
    old = set_backend("numba")
    yield "numba"
    set_backend(old)


def _tricky(shape, dtype, seed=0):
    """Random values with ties, NaNs and -inf placed where windows of every kind meet them."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    x[0, 0, 0, 0] = np.nan
    x[1, :2, :2, 1] = -np.inf  # a window of -inf next to the -inf padding
    x[2, -1, -1, 2] = x[2, 0, 0, 2]  # a tie inside 5x5-wide windows
    x[2, 0, :, 0] = np.nan  # several NaNs in one window: the last takes the gradient
    x[0, 1, :, 3] = x[0, 1, 0, 3]  # a row of ties
    return x


CASES = [(k, s, p, ceil) for k in (1, 2, 3, (2, 3), 5) for s in (None, 1, 2)
         for p in (0, 1, "same") for ceil in (False, True)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode", CASES)
def test_same_numbers_as_the_numpy_path(kernel, stride, padding, ceil_mode, dtype):
    x = _tricky((3, 7, 6, 4), dtype)
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil_mode)
    try:
        set_backend("numpy")
        y_max, c_max = max_pool2d_forward(x, kernel, **kw)
    except ValueError:  # padding beyond half the kernel: refused on both paths, tested elsewhere
        return
    rng = np.random.default_rng(1)
    dy = rng.standard_normal(y_max.shape).astype(dtype)
    dx_max = max_pool2d_backward(dy, c_max)
    y_avg, c_avg = avg_pool2d_forward(x, kernel, count_include_pad=False, **kw)
    dx_avg = avg_pool2d_backward(dy, c_avg)
    # overlapping windows add into a cell in another order: a few roundings of |dy| apart
    atol = 8 * np.finfo(dtype).eps * np.abs(dy).max()
    set_backend("numba")
    y2, c2 = max_pool2d_forward(x, kernel, **kw)
    np.testing.assert_array_equal(y2, y_max)  # NaN == NaN here
    np.testing.assert_array_equal(c2.argmax, c_max.argmax)
    assert c2.argmax.dtype == c_max.argmax.dtype
    np.testing.assert_allclose(max_pool2d_backward(dy, c2), dx_max, rtol=0, atol=atol)
    z2, d2 = avg_pool2d_forward(x, kernel, count_include_pad=False, **kw)
    np.testing.assert_array_equal(z2, y_avg)
    np.testing.assert_allclose(avg_pool2d_backward(dy, d2), dx_avg, rtol=0, atol=atol)
    assert y2.dtype == z2.dtype == dtype


def test_the_winner_index_is_one_byte_per_output():
    _, cache = max_pool2d_forward(np.zeros((2, 32, 32, 3), np.float32), 16)
    assert cache.argmax.dtype == np.uint8 and cache.argmax.shape == (2, 2, 2, 3)


def test_thread_count_follows_juanji():
    import numba

    x = np.ones((4, 8, 8, 2))
    old = set_num_threads(1)
    try:
        max_pool2d_forward(x, 2)
        assert numba.get_num_threads() == 1
        set_num_threads(2)
        avg_pool2d_forward(x, 2)
        assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
    finally:
        set_num_threads(old)
    assert get_num_threads() == old


def test_calls_from_several_python_threads_at_once():
    x = np.random.default_rng(0).standard_normal((8, 12, 12, 5))
    expected = max_pool2d_forward(x, 3, stride=1)[0]
    results, errors = [], []

    def work():
        try:
            for _ in range(20):
                results.append(max_pool2d_forward(x, 3, stride=1)[0])
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 80 and all(np.array_equal(r, expected) for r in results)


def _run(code: str, env: dict) -> str:
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_workqueue_threading_layer_in_a_process_that_loaded_torch():
    code = ("import torch, numba, numpy as np\n"
            "torch.set_num_threads(2); torch.ones(64, 64) @ torch.ones(64, 64)\n"
            "from juanji.functional import max_pool2d_forward\n"
            "max_pool2d_forward(np.ones((4, 8, 8, 2)), 2)\n"
            "print(numba.threading_layer())")
    assert _run(code, {"JUANJI_BACKEND": "numba"}) == "workqueue"


def test_kernels_are_loaded_from_the_disk_cache_in_a_new_process(tmp_path):
    code = ("import numpy as np\n"
            "from juanji.functional import avg_pool2d_forward, pool_numba\n"
            "avg_pool2d_forward(np.ones((2, 4, 4, 1), np.float32), 2)\n"
            "s = pool_numba.avg_forward.stats\n"
            "print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))")
    env = {"JUANJI_BACKEND": "numba", "NUMBA_CACHE_DIR": str(tmp_path)}
    assert _run(code, env) == "0 1"  # compiled, and written to the cache
    assert _run(code, env) == "1 0"  # a new process loads it
