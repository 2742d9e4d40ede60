"""Fast ops vs ``juanji.reference`` (plain loops) on the same conv, fwd+bwd, float32.

    python benchmarks/bench_reference.py
    python benchmarks/bench_reference.py --batch 2 --size 16

The conv is issue 5's geometry (3x3, padding 1, 32 -> 64 channels) at a batch and image size the
loops finish in seconds (default 1x32x32). Issue 5's goal: the fast op >= 500x faster.
"""

from __future__ import annotations

import argparse

import numpy as np

from _common import report, time_interleaved
from juanji import functional as jf
from juanji import reference as ref


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    n, s = args.batch, args.size
    x = rng.standard_normal((n, s, s, 32), dtype=np.float32)
    w = rng.standard_normal((3, 3, 32, 64), dtype=np.float32)
    b = rng.standard_normal(64, dtype=np.float32)
    dy = rng.standard_normal((n, s, s, 64), dtype=np.float32)

    def run(mod):
        y, c = mod.conv2d_forward(x, w, b, padding=1)
        return mod.conv2d_backward(dy, c)

    t = time_interleaved({"fast": lambda: run(jf), "reference": lambda: run(ref)},
                         repeats=args.repeats, warmup=1)
    rows = [{"workload": f"fast conv speed-up over juanji.reference, {n}x{s}x{s}x32 -> 64, 3x3 "
                         f"pad 1, fwd+bwd (goal >= 500x; fast {t['fast'] * 1e3:.2f} ms, "
                         f"reference {t['reference'] * 1e3:.0f} ms)",
             "value": t["reference"] / t["fast"], "unit": "x"}]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
