"""First call of each compiled (numba) kernel in a new process: with a cold and a warm disk cache.

    python benchmarks/bench_first_call.py
    python benchmarks/bench_first_call.py --json first.json

Issue 18: report the first-call time; goal < 1 s with a warm cache. Each measurement runs in a
fresh Python process (so nothing is compiled or loaded yet) with ``NUMBA_CACHE_DIR`` pointing at a
new empty directory: the first process compiles every kernel and writes the cache ("cold"), the
second loads it from there ("warm"). Rows: importing numba and juanji's kernel module, then the
first call of each op (float32, 64x24x24x32, the 2x2 pool and a 3x3 stride-2 padded one) minus
its second call, i.e. the compile or cache-load time alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from _common import report

# Runs in the fresh process: times the import, then each op's first and second call.
CHILD = r"""
import json, time
import numpy as np
t0 = time.perf_counter()
import numba  # noqa: F401
from juanji.functional import pool_numba  # noqa: F401
out = {"import numba + juanji's kernel module": time.perf_counter() - t0}
from juanji import functional as jf
from juanji.backend import set_backend
set_backend("numba")
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 24, 24, 32), dtype=np.float32)
ops = {}
for name, kw in (("2x2", {}), ("3x3 stride 2 pad 1", {"stride": 2, "padding": 1})):
    k = 2 if name == "2x2" else 3
    ops[f"max pool {name} forward"] = lambda k=k, kw=kw: jf.max_pool2d_forward(x, k, **kw)
    ops[f"avg pool {name} forward"] = lambda k=k, kw=kw: jf.avg_pool2d_forward(x, k, **kw)
for name in list(ops):
    fwd = ops[name]
    t = time.perf_counter(); y, cache = fwd(); first = time.perf_counter() - t
    t = time.perf_counter(); fwd(); second = time.perf_counter() - t
    out[name] = max(first - second, 0.0)
    back = jf.max_pool2d_backward if name.startswith("max") else jf.avg_pool2d_backward
    dy = np.ones_like(y)
    t = time.perf_counter(); back(dy, cache); first = time.perf_counter() - t
    t = time.perf_counter(); back(dy, cache); second = time.perf_counter() - t
    out[name.replace("forward", "backward")] = max(first - second, 0.0)
print(json.dumps(out))
"""


def measure(cache_dir: str) -> dict[str, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache_dir:
        cold = measure(cache_dir)
        warm = measure(cache_dir)
    rows = []
    for name in cold:
        rows.append({"workload": f"first call, cold cache (compiles): {name}",
                     "value": cold[name], "unit": "s"})
        rows.append({"workload": f"first call, warm cache (loads): {name}",
                     "value": warm[name], "unit": "s"})
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
