"""How a LeNet-5 training step's time grows with batch size and image size, juanji vs PyTorch.

    python benchmarks/bench_scaling.py
    python benchmarks/bench_scaling.py --batches 16,64,256 --sizes 28,128 --repeats 5

Rows: batch 16..256 at 28x28x1, then image size 28..128 px at batch 64 (lenet5 adapts its dense
layer to the image size). Per row: median step time of each and the ratio juanji / PyTorch.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from _common import report, same_threads, time_interleaved
from bench_steps import make_pair
from torch_twin import nhwc_to_nchw


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def step_times(batch: int, size: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    shape = (size, size, 1)
    x = rng.standard_normal((batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    xt, yt = nhwc_to_nchw(x), torch.from_numpy(y)
    jstep, tstep = make_pair("lenet5", shape)
    t = time_interleaved({"juanji": lambda: jstep(x, y), "torch": lambda: tstep(xt, yt)},
                         repeats=repeats, warmup=2)
    return {"workload": f"lenet5 step, batch {batch}, {size}x{size}x1", **t}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=_ints, default=[16, 32, 64, 128, 256])
    parser.add_argument("--sizes", type=_ints, default=[28, 56, 96, 128])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    same_threads()
    rows = [step_times(b, 28, args.repeats) for b in args.batches]
    rows += [step_times(64, s, args.repeats) for s in args.sizes if s != 28]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
