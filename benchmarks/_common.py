"""Timing helpers shared by the benchmarks: interleaved repetitions, medians, one thread count."""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable

from juanji._atomic import atomic_write_text  # results: never half a file


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def blas_threads() -> int:
    """The thread count of NumPy's BLAS (OpenBLAS/MKL), as threadpoolctl reports it."""
    from threadpoolctl import threadpool_info

    blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return blas[0] if blas else os.cpu_count() or 1


def parse_shape(text: str) -> tuple[int, ...]:
    """'28,28,1' -> (28, 28, 1), for argparse."""
    return tuple(int(v) for v in text.split(","))


def same_threads() -> int:
    """Give PyTorch and juanji's batch-split steps the thread count NumPy's BLAS uses, so the
    comparison is like for like (``OPENBLAS_NUM_THREADS=1`` makes every contender one-threaded)."""
    import torch
    from juanji.functional import keep_freed_memory, set_num_threads

    n = blas_threads()
    torch.set_num_threads(n)
    set_num_threads(n)
    keep_freed_memory()  # as juanji's fit() does; the one allocator serves PyTorch too
    return n


def time_interleaved(fns: dict[str, Callable[[], object]], *, repeats: int = 15,
                     warmup: int = 2, block: int = 5, pause: float = 0.3) -> dict[str, float]:
    """Median seconds per call of each function over ``repeats`` timed calls, the contenders
    taking turns in blocks (A A A A A, B B B B B, A A A A A, ...).

    Taking turns spreads any slow phase of the machine over every contender alike. Between
    blocks the machine is left idle for ``pause`` seconds and each block starts with one untimed
    call: a library's worker threads keep spinning after a call returns (OpenBLAS's for up to
    ~0.1 s, PyTorch's OpenMP ones for a while), and on a 2-core machine the next contender would
    otherwise find the second core busy. Measured with the blocks back to back: juanji's pools
    2.7 ms alone, 4.7 ms straight after PyTorch; PyTorch's LeNet-5 step 5-7 ms alone, 15 ms
    after juanji's multi-threaded GEMMs.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    while min(len(s) for s in samples.values()) < repeats:
        for name, fn in fns.items():
            time.sleep(pause)  # the previous contender's threads go to sleep
            fn()  # wakes this contender's threads; not timed
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - t0)
    return {name: statistics.median(s[:repeats]) for name, s in samples.items()}


def layout_rows(name: str, t: dict[str, float], bar: float, goal: float) -> list[dict]:
    """Rows for juanji against PyTorch in both layouts, ``t`` holding the medians of "juanji",
    "nchw" (PyTorch's default) and "channels_last" (juanji's NHWC memory order); the bar is
    judged against the FASTER of the two, so juanji is compared with PyTorch at its best."""
    best = min(t["nchw"], t["channels_last"])
    return [{"workload": f"{name} vs torch NCHW (default)", "juanji": t["juanji"],
             "torch": t["nchw"]},
            {"workload": f"{name} vs torch channels_last", "juanji": t["juanji"],
             "torch": t["channels_last"]},
            {"workload": f"{name} (judged: vs the faster torch layout)", "juanji": t["juanji"],
             "torch": best, "bar": bar, "goal": goal}]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def report(rows: list[dict], json_path: str | None = None) -> None:
    """Print one line per result and optionally write them as JSON (read by run_all.py).

    A row holds ``workload`` and either ``juanji``/``torch`` seconds (the ratio juanji / torch is
    added, judged against ``bar`` and ``goal``) or a ready ``value`` with its ``unit``.
    """
    import json

    for r in rows:
        if "torch" in r and "juanji" in r:
            r["ratio"] = r["juanji"] / r["torch"]
            unit = r.get("unit", "s")
            fmt = ms if unit == "s" else (lambda v: f"{v:.1f} {unit}")
            verdict = ""
            if r.get("bar") is not None:
                verdict = "ok" if r["ratio"] <= r["bar"] else "ABOVE BAR"
                if r.get("goal") is not None and r["ratio"] <= r["goal"]:
                    verdict = "ok, goal met"
                verdict = f" (bar <= {r['bar']}, goal <= {r.get('goal')}) {verdict}"
            print(f"{r['workload']}: juanji {fmt(r['juanji'])}, torch {fmt(r['torch'])}, "
                  f"ratio {r['ratio']:.2f}{verdict}")
        else:
            print(f"{r['workload']}: {r['value']:.3g} {r.get('unit', '')}")
    if json_path:
        results = {"cpu": cpu_name(), "threads": blas_threads(), "results": rows}
        atomic_write_text(json_path, json.dumps(results, indent=2, default=str))


def add_common_args(parser) -> None:
    parser.add_argument("--repeats", type=int, default=15, help="interleaved repetitions")
    parser.add_argument("--json", help="also write the results to this JSON file")
