"""The memory budget for column buffers, and how many images fit in it at once.

A convolution's column matrix holds every window of the batch: N*Ho*Wo rows of kh*kw*C_in
values, kh*kw times the input's size for a stride-1 conv. When that matrix (or its gradient)
would exceed the budget, the conv processes the batch in chunks of

    chunk = floor(budget / bytes of one image's columns)

images, each chunk's buffer under the budget; the results are the same numbers. A budget too
small for even one image is refused with a message saying how much is needed.

The budget is ``JUANJI_MEMORY_BUDGET`` (bytes) from the environment when set, else 256 MiB;
:func:`set_memory_budget` changes it for the process.

>>> old = set_memory_budget(1000)
>>> batch_chunk(10, 300, "conv2d")      # 3 images of 300 bytes fit in 1000 bytes
3
>>> _ = set_memory_budget(old)
"""

from __future__ import annotations

import ctypes

from juanji.validation import check_int, env_positive_int

DEFAULT_BUDGET = 256 * 2**20  # bytes


class MemoryBudgetError(ValueError, MemoryError):
    """One image's buffer alone is larger than the memory budget (a ValueError and a
    MemoryError, so either ``except`` catches it)."""


def _parse_env() -> int:
    value = env_positive_int("JUANJI_MEMORY_BUDGET", "bytes")
    return DEFAULT_BUDGET if value is None else value


_budget = _parse_env()


def get_memory_budget() -> int:
    """The current budget in bytes for one column buffer."""
    return _budget


def set_memory_budget(nbytes: int) -> int:
    """Set the budget (bytes, >= 1) for one column buffer; returns the previous budget.

    >>> old = set_memory_budget(64 * 2**20)
    >>> get_memory_budget()
    67108864
    >>> _ = set_memory_budget(old)
    """
    global _budget
    check_int(nbytes, "nbytes", unit="bytes")
    old, _budget = _budget, int(nbytes)
    return old


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.1f} MiB"


def batch_chunk(n: int, bytes_per_image: int, what: str) -> int:
    """How many of ``n`` images to process at once so their buffer stays within the budget.

    Returns ``n`` when the whole batch fits; raises :class:`MemoryBudgetError` when one image
    does not.
    """
    if bytes_per_image * n <= _budget:
        return n
    if bytes_per_image > _budget:
        raise MemoryBudgetError(
            f"{what} needs {_mib(bytes_per_image)} ({bytes_per_image} bytes) for the column "
            f"buffer of a single image, more than the memory budget of {_mib(_budget)} "
            f"({_budget} bytes); raise it with juanji.functional.set_memory_budget(nbytes) or the "
            f"JUANJI_MEMORY_BUDGET environment variable, or use a smaller input or kernel")
    return _budget // bytes_per_image


# glibc's mallopt parameters (malloc.h) and the values keep_freed_memory sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20   # glibc's largest: blocks below this come from the heap
TRIM_THRESHOLD = 512 * 2**20  # free heap memory kept for reuse instead of given back
_kept = False


def keep_freed_memory() -> bool:
    """Let freed NumPy buffers be reused by the next training step instead of faulted in afresh.

    Every step allocates the same large arrays (columns, activations, gradients) and frees them.
    By default glibc serves blocks over a moving threshold with ``mmap`` and gives freed heap
    memory back to the OS, so the next step page-faults every page of them in again: measured
    1.5 ms of an 8.5 ms LeNet-5 step (PyTorch's own step, in the same process, 7.2 -> 5.1 ms).
    This fixes glibc's ``M_MMAP_THRESHOLD`` at 32 MiB and ``M_TRIM_THRESHOLD`` at 512 MiB (the
    ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` settings) for this process; freed
    memory then stays with the process for reuse (peak memory is unchanged, the memory is not
    returned until exit). :func:`juanji.train.fit` calls it. Returns False, changing nothing,
    where the C library is not glibc.
    """
    global _kept
    if _kept:
        return True
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _kept = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _kept
