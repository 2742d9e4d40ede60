"""One training step (forward, loss, backward, Adam update) of a built-in model vs its torch twin.

    python benchmarks/bench_steps.py                         # LeNet-5 and tinyvgg, issue 5's sizes
    python benchmarks/bench_steps.py --model lenet5 --batch 64 --shape 28,28,1 --repeats 30

Issue 18 bars (ratio = juanji time / PyTorch time, float32, same threads, same batch):
  lenet5  28x28x1, batch 64      bar <= 1.0, goal <= 0.8
  tinyvgg 64x64x3, batch 32      bar <= 1.2, goal <= 1.0
Both start from the same weights (copied) and see the same batch.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from _common import add_common_args, parse_shape, report, same_threads, time_interleaved
from juanji.functional._threads import one_blas_thread
from juanji.functional.losses import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from juanji.models import build_model
from juanji.optim import Adam
from torch_twin import build_twin, copy_from_juanji, nhwc_to_nchw

# issue 18's bars and goals
WORKLOADS = {"lenet5": ((28, 28, 1), 64, 1.0, 0.8), "tinyvgg": ((64, 64, 3), 32, 1.2, 1.0)}


def juanji_step(model, opt):
    """A closure: one juanji training step on (x, y)."""
    def step(x, y):
        with one_blas_thread():  # as fit(): one BLAS thread for the step, juanji splits the batch
            logits = model.forward(x)  # (B, K)
            loss, cache = softmax_cross_entropy_forward(logits, y)
            model.backward(softmax_cross_entropy_backward(1.0, cache), input_grad=False)
            opt.step()
        return loss
    return step


def torch_step(twin, opt):
    """A closure: one PyTorch training step on (xt, yt)."""
    def step(xt, yt):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(twin(xt), yt)
        loss.backward()
        opt.step()
        return loss
    return step


def make_pair(name: str, shape: tuple, lr: float = 1e-3):
    """juanji model + Adam and its twin + Adam, starting from the same weights."""
    jm = build_model(name, shape, 10)
    twin = build_twin(name, shape, 10)
    copy_from_juanji(twin, jm)
    return juanji_step(jm, Adam(jm.parameters(), lr=lr)), \
        torch_step(twin, torch.optim.Adam(twin.parameters(), lr=lr))


def bench_step(name: str, shape: tuple, batch: int, repeats: int, bar=None, goal=None) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    xt, yt = nhwc_to_nchw(x), torch.from_numpy(y)
    jstep, tstep = make_pair(name, shape)
    t = time_interleaved({"juanji": lambda: jstep(x, y), "torch": lambda: tstep(xt, yt)},
                         repeats=repeats, warmup=3)
    h, w, c = shape
    return {"workload": f"{name} training step {h}x{w}x{c}, batch {batch}", "bar": bar,
            "goal": goal, **t}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(WORKLOADS), action="append",
                        help="repeatable; default: both")
    parser.add_argument("--shape", type=parse_shape, help="H,W,C (default: the issue's)")
    parser.add_argument("--batch", type=int, help="default: the issue's")
    add_common_args(parser)
    args = parser.parse_args(argv)
    same_threads()
    rows = []
    for name in args.model or sorted(WORKLOADS):
        shape, batch, bar, goal = WORKLOADS[name]
        custom = args.shape is not None or args.batch is not None
        rows.append(bench_step(name, args.shape or shape, args.batch or batch, args.repeats,
                               None if custom else bar, None if custom else goal))
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
