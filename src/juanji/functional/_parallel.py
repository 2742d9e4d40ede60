"""Run one big NumPy step on several cores: the batch split into slices, one per thread.

NumPy releases the GIL inside its loops and BLAS calls, so threads that each run a *large* NumPy
call on their own slice of the batch do run at the same time (measured, 2 cores: max + avg pool
fwd+bwd on 64x24x24x32, 4.2 ms on one thread, 2.6 ms split over two). Threads that run many *small*
calls mostly wait for the GIL and lose (2000 one-thousand-element maximums: 6 ms serial, 12 ms on
two threads). So a step is split only when every slice has at least ``MIN_WORK`` elements to touch;
below that it runs on the calling thread, unchanged.

    over_batch(body, n, work)   calls body(slice) for consecutive slices covering range(n),
                                in parallel; every body writes its own rows of a preallocated
                                output, so no two threads write the same memory
    sum_over_batch(body, ...)   the same for a reduction (a conv's dw summed over the batch):
                                each slice returns its partial sum; they are added in slice order

The slices depend only on ``n`` and the thread count, and partial sums are added in a fixed
order, so a run is repeatable bit for bit with the same thread count.

Threads: ``JUANJI_NUM_THREADS``, else ``OMP_NUM_THREADS`` (what PyTorch reads), else the CPUs this
process may run on; :func:`set_num_threads` changes it. BLAS calls inside a parallel step run on
one BLAS thread each (two BLAS threads per slice would ask for four threads on two cores).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from juanji.validation import check_int, env_positive_int
from ._threads import one_blas_thread

# Elements a slice must touch for the split to pay: below this the thread hand-off (~30 us) and
# the GIL hand-offs between small calls cost more than the second core gives back. Measured on
# 2 cores, LeNet-5 training step (interleaved): 11.7 ms with 2**17, 12.3 ms with 2**19 or 2**21,
# 13.9 ms on one thread.
MIN_WORK = 1 << 17
# A matrix product's work in those units: one multiply-add costs about an eighth of a memory-
# bound element's time (~95 GFLOP/s one-thread sgemm against ~1 ns per element of a pass).
MACS_PER_ELEMENT = 8

_state = threading.local()  # .inside: a body is running (nested steps run serially)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _threads_from_env() -> int:
    for name in ("JUANJI_NUM_THREADS", "OMP_NUM_THREADS"):
        value = env_positive_int(name, "threads")
        if value is not None:
            return value
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_num_threads = _threads_from_env()


def get_num_threads() -> int:
    """How many threads juanji's batch-split steps use."""
    return _num_threads


def set_num_threads(n: int) -> int:
    """Use ``n`` (>= 1) threads for juanji's batch-split steps; returns the previous count.

    >>> old = set_num_threads(1)
    >>> get_num_threads()
    1
    >>> _ = set_num_threads(old)
    """
    global _num_threads, _executor
    check_int(n, "n", unit="threads")
    with _executor_lock:
        old, _num_threads = _num_threads, int(n)
        if _executor is not None and old != _num_threads:
            _executor.shutdown(wait=True)
            _executor = None
    return old


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=_num_threads - 1,
                                           thread_name_prefix="juanji")
        return _executor


def _forget_pool_after_fork() -> None:
    global _executor, _executor_lock
    _executor = None  # the child has none of the parent's worker threads
    _executor_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def slices(n: int, parts: int) -> list[slice]:
    """``parts`` consecutive slices covering range(n), sizes differing by at most one.

    >>> slices(10, 3)
    [slice(0, 3, None), slice(3, 6, None), slice(6, 10, None)]
    """
    parts = max(1, min(parts, n))
    edges = [n * i // parts for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(edges, edges[1:])]


def _parts(n: int, work: int) -> int:
    """How many slices: one per thread, fewer when a slice would touch under MIN_WORK elements."""
    if _num_threads == 1 or getattr(_state, "inside", False) or n < 2:
        return 1
    return max(1, min(_num_threads, n, work // MIN_WORK))


def _run(body: Callable[[slice], object], parts: list[slice]) -> list:
    def guarded(s: slice):
        _state.inside = True
        try:
            return body(s)
        finally:
            _state.inside = False

    with one_blas_thread():  # one BLAS thread per slice
        futures = [_pool().submit(guarded, s) for s in parts[1:]]
        try:
            first = guarded(parts[0])  # the calling thread takes the first slice
        finally:
            results = [f.result() for f in futures]  # waits for all; re-raises a body's error
    return [first, *results]


def blocks(s: slice, item_bytes: int, block_bytes: int) -> list[slice]:
    """``s`` cut into consecutive sub-slices of about ``block_bytes`` (at least one item each),
    for a body that builds a temporary per item and should hold only a block's worth at a time.

    >>> blocks(slice(2, 9), item_bytes=100, block_bytes=300)
    [slice(2, 5, None), slice(5, 8, None), slice(8, 9, None)]
    """
    per_block = max(1, block_bytes // max(item_bytes, 1))
    return [slice(i, min(i + per_block, s.stop)) for i in range(s.start, s.stop, per_block)]


def gemm_work(macs: int) -> int:
    """The ``work`` of a matrix product of ``macs`` multiply-adds, for :func:`over_batch`."""
    return macs // MACS_PER_ELEMENT


def _serial(body: Callable[[slice], object], n: int, work: int, blas: bool):
    """One call on the calling thread. A body that calls BLAS runs it on one thread, unless the
    step is large but too short to split (fewer items than threads, e.g. one image): then the
    BLAS's own threads take the second core."""
    if blas and not (n < _num_threads and work >= 2 * MIN_WORK):
        with one_blas_thread():
            return body(slice(0, n))
    return body(slice(0, n))


def over_batch(body: Callable[[slice], object], n: int, work: int, *, blas: bool = False) -> list:
    """Call ``body(s)`` for slices ``s`` covering ``range(n)``, on several threads when ``work``
    (elements the whole step touches) is large enough; each body writes only its own rows.
    Returns the bodies' return values in slice order. ``blas``: the body calls BLAS (see
    :func:`_serial`; split bodies always run it on one thread).

    >>> out = np.zeros(6)
    >>> _ = over_batch(lambda s: out.__setitem__(s, np.arange(6)[s] * 2), 6, work=6)
    >>> out
    array([ 0.,  2.,  4.,  6.,  8., 10.])
    """
    parts = _parts(n, work)
    if parts == 1:
        return [_serial(body, n, work, blas)]
    return _run(body, slices(n, parts))


def sum_over_batch(body: Callable[[slice], np.ndarray], n: int, work: int, *,
                   blas: bool = False) -> np.ndarray:
    """``sum(body(s) for s in slices)``, the slices of ``range(n)`` run as in :func:`over_batch`;
    the partial sums are added in slice order (repeatable with the same thread count).

    >>> float(sum_over_batch(lambda s: np.arange(10.0)[s].sum(), 10, work=10))
    45.0
    """
    parts = _parts(n, work)
    if parts == 1:
        return _serial(body, n, work, blas)
    partials = _run(body, slices(n, parts))
    total = partials[0]
    for p in partials[1:]:
        total = total + p
    return total
