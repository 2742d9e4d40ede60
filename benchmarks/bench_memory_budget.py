"""Peak memory of a tinyvgg forward + backward on 64x64x3 for batch sizes 64..1024, with the
column buffers kept under juanji's memory budget (issue 7 point 4).

    python benchmarks/bench_memory_budget.py
    python benchmarks/bench_memory_budget.py --batches 64,256 --budget 67108864
    python benchmarks/bench_memory_budget.py --batches 64,256 --without   # also unchunked

Each batch size runs in a fresh subprocess (``--run N``) that reports its peak RSS; the conv layers
process the batch in chunks whenever their column matrix would exceed the budget (default:
juanji's, 256 MiB, or ``--budget`` bytes), so the peak grows with the activations, not with
kh*kw times them.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def run_one(batch: int, budget: int | None) -> dict:
    import numpy as np

    from juanji import functional as jf
    from juanji.models import build_model
    if budget:
        jf.set_memory_budget(budget)
    model = build_model("tinyvgg", (64, 64, 3), 10)
    x = np.random.default_rng(0).standard_normal((batch, 64, 64, 3), dtype=np.float32)
    t0 = time.perf_counter()
    logits = model.forward(x)
    model.backward(np.ones_like(logits) / batch)
    seconds = time.perf_counter() - t0
    return {"batch": batch, "seconds": seconds, "budget": jf.get_memory_budget(),
            "input_mib": x.nbytes / 2**20,
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=lambda t: [int(v) for v in t.split(",")],
                        default=[64, 128, 256, 512, 1024])
    parser.add_argument("--budget", type=int, help="bytes (default: juanji's budget)")
    parser.add_argument("--without", action="store_true",
                        help="also run each batch up to 512 with a budget of 1 TiB (no chunking)")
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(run_one(args.run, args.budget)))
        return None
    from _common import report
    rows = []
    budgets = [args.budget] + ([2**40] if args.without else [])
    for batch, budget in [(b, bud) for b in args.batches for bud in budgets
                          if bud != 2**40 or b <= 512]:  # unchunked 1024 would need ~10 GB
        cmd = [sys.executable, str(Path(__file__).resolve()), "--run", str(batch)]
        cmd += ["--budget", str(budget)] if budget else []
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                      text=True).stdout.strip().splitlines()[-1])
        rows.append({"workload": f"tinyvgg fwd+bwd 64x64x3, batch {batch}: peak RSS (budget "
                                 f"{r['budget'] / 2**20:.0f} MiB, input {r['input_mib']:.0f} MiB, "
                                 f"{r['seconds']:.1f} s)", "value": r["rss_mib"], "unit": "MiB"})
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
