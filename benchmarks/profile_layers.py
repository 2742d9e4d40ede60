"""Where a training step's time goes: forward and backward time of every layer of a built-in model.

    python benchmarks/profile_layers.py --model lenet5 --shape 28,28,1 --batch 64
    python benchmarks/profile_layers.py --model tinyvgg --shape 64,64,3 --batch 32 --repeats 20

Each layer is timed on its own (its real input, a random upstream gradient of its output's shape),
median of ``--repeats`` runs (the first layer skips dx, as in a training step); the table is what
the profile-driven note in BENCHMARKS.md quotes.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _common import cpu_name, ms, parse_shape, blas_threads
from juanji.functional import keep_freed_memory
from juanji.models import build_model


def profile(model_name: str, shape: tuple, batch: int, repeats: int) -> list[dict]:
    """Median forward and backward seconds of each layer of ``model_name`` on one batch."""
    rng = np.random.default_rng(0)
    model = build_model(model_name, shape, 10)
    x = rng.standard_normal((batch, *shape), dtype=np.float32)
    rows = []
    for i, layer in enumerate(model.layers):
        y = layer.forward(x)
        dy = rng.standard_normal(y.shape, dtype=np.float32)
        fwd, bwd = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            layer.forward(x)
            t1 = time.perf_counter()
            if i == 0 and hasattr(layer, "backward_params_only"):
                layer.backward_params_only(dy)  # as in a training step: no dx for the input
            else:
                layer.backward(dy)
            t2 = time.perf_counter()
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
        rows.append({"layer": f"{i} {type(layer).__name__}", "out": y.shape[1:],
                     "forward": statistics.median(fwd), "backward": statistics.median(bwd)})
        x = y
    return rows


def render(rows: list[dict]) -> str:
    total = sum(r["forward"] + r["backward"] for r in rows)
    lines = ["| layer | output | forward | backward | share |", "|---|---|---|---|---|"]
    for r in rows:
        share = (r["forward"] + r["backward"]) / total
        lines.append(f"| {r['layer']} | {r['out']} | {ms(r['forward'])} | {ms(r['backward'])} "
                     f"| {share:.0%} |")
    lines.append(f"| total | | | | {ms(total)} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--shape", type=parse_shape, default=(28, 28, 1), help="H,W,C")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    keep_freed_memory()  # as fit() does
    rows = profile(args.model, args.shape, args.batch, args.repeats)
    print(f"{args.model} {args.shape} batch {args.batch}; CPU {cpu_name()}, "
          f"BLAS threads {blas_threads()}")
    print(render(rows))
    return rows


if __name__ == "__main__":
    main()
