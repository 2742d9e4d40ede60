"""The LeNet-5 conv/pool stack on 28x28x1, batch 64, forward + backward, juanji vs PyTorch.

    python benchmarks/bench_lenet_stack.py
    python benchmarks/bench_lenet_stack.py --repeats 30 --json stack.json

conv 5x5 -> 6, relu, max 2x2, conv 5x5 -> 16, relu, max 2x2, then the backward of the sum of the
output, through every layer to the input. Issue 2's bar: at most 3x PyTorch's time (float32, the
same thread count).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from _common import add_common_args, report, same_threads, time_interleaved
from juanji import functional as jf


def lenet_stack_juanji(x, w1, b1, w2, b2):
    """conv 5x5 -> 6, relu, max 2x2, conv 5x5 -> 16, relu, max 2x2; then backward of sum."""
    z1, c1 = jf.conv2d_forward(x, w1, b1)
    a1, r1 = jf.relu_forward(z1)
    p1, m1 = jf.max_pool2d_forward(a1, 2)
    z2, c2 = jf.conv2d_forward(p1, w2, b2)
    a2, r2 = jf.relu_forward(z2)
    p2, m2 = jf.max_pool2d_forward(a2, 2)
    d = jf.max_pool2d_backward(np.ones_like(p2), m2)
    d = jf.relu_backward(d, r2)
    d, _, _ = jf.conv2d_backward(d, c2)
    d = jf.max_pool2d_backward(d, m1)
    d = jf.relu_backward(d, r1)
    return jf.conv2d_backward(d, c1)


def lenet_stack_torch(xt, w1, b1, w2, b2):
    for t in (xt, w1, b1, w2, b2):
        t.grad = None
    a = F.max_pool2d(F.relu(F.conv2d(xt, w1, b1)), 2)
    a = F.max_pool2d(F.relu(F.conv2d(a, w2, b2)), 2)
    a.backward(torch.ones_like(a))


def bench_lenet(rng, repeats):
    """Issue 2: the LeNet-5 conv/pool stack, fwd+bwd, at most 3x PyTorch's time."""
    x = rng.random((64, 28, 28, 1), dtype=np.float32)
    w1 = rng.standard_normal((5, 5, 1, 6), dtype=np.float32) * 0.2
    w2 = rng.standard_normal((5, 5, 6, 16), dtype=np.float32) * 0.1
    b1, b2 = np.zeros(6, np.float32), np.zeros(16, np.float32)
    tx = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)  # (N, 1, 28, 28)
    tw1 = torch.tensor(w1.transpose(3, 2, 0, 1).copy(), requires_grad=True)  # (6, 1, 5, 5)
    tw2 = torch.tensor(w2.transpose(3, 2, 0, 1).copy(), requires_grad=True)  # (16, 6, 5, 5)
    tb1, tb2 = (torch.zeros(n, requires_grad=True) for n in (6, 16))
    t = time_interleaved({"juanji": lambda: lenet_stack_juanji(x, w1, b1, w2, b2),
                          "torch": lambda: lenet_stack_torch(tx, tw1, tb1, tw2, tb2)},
                         repeats=repeats)
    return {"workload": "LeNet-5 conv/pool stack, 64x28x28x1, fwd+bwd", "bar": 3.0, **t}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser)
    args = parser.parse_args(argv)
    same_threads()
    rows = [bench_lenet(np.random.default_rng(0), args.repeats)]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
