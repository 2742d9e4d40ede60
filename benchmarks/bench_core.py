"""Speed of juanji's core ops vs PyTorch CPU (float32, same threads) and vs the reference.

    python benchmarks/bench_core.py              # print the table
    python benchmarks/bench_core.py --json out.json

Workloads (issue 2):
  conv      fwd+bwd, N=64, 32x32x32 -> 64 channels, 3x3, padding 1        (bar: <= 2x PyTorch)
  lenet     LeNet-5 conv/pool stack on 28x28x1, N=64, fwd+bwd              (bar: <= 3x PyTorch)
  reference fast conv vs juanji.reference on the same small conv           (expect hundreds)
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F

from _common import cpu_name, ms, same_threads, time_interleaved
from juanji import functional as jf
from juanji import reference as ref


def conv_step_juanji(x, w, b):
    y, cache = jf.conv2d_forward(x, w, b, padding=1)
    return jf.conv2d_backward(np.ones_like(y), cache)


def conv_step_torch(xt, wt, bt):
    xt.grad = wt.grad = bt.grad = None
    y = F.conv2d(xt, wt, bt, padding=1)
    y.backward(torch.ones_like(y))


def bench_conv(rng, repeats):
    x = rng.standard_normal((64, 32, 32, 32), dtype=np.float32)
    w = rng.standard_normal((3, 3, 32, 64), dtype=np.float32) * 0.1
    b = rng.standard_normal(64, dtype=np.float32)
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)  # (N, C, H, W)
    wt = torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)  # (Co, Ci, kh, kw)
    bt = torch.tensor(b, requires_grad=True)
    t = time_interleaved({"juanji": lambda: conv_step_juanji(x, w, b),
                          "torch": lambda: conv_step_torch(xt, wt, bt)}, repeats=repeats)
    return {"workload": "conv 3x3 pad 1, 64x32x32x32 -> 64, fwd+bwd", "bar": 2.0, **t}


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


def bench_reference(rng):
    """Same conv (N=2, 16x16x8 -> 16, 3x3, pad 1) through the fast op and the plain loops."""
    x = rng.standard_normal((2, 16, 16, 8))
    w = rng.standard_normal((3, 3, 8, 16))
    b = rng.standard_normal(16)

    def fast():
        y, c = jf.conv2d_forward(x, w, b, padding=1)
        jf.conv2d_backward(np.ones_like(y), c)

    def loops():
        y, c = ref.conv2d_forward(x, w, b, padding=1)
        ref.conv2d_backward(np.ones_like(y), c)

    t = time_interleaved({"juanji": fast, "reference": loops}, repeats=3, warmup=1)
    return {"workload": "fast conv vs reference loops, 2x16x16x8 -> 16, fwd+bwd (float64)", **t}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    threads = same_threads()
    rng = np.random.default_rng(0)
    results = [bench_conv(rng, args.repeats), bench_lenet(rng, args.repeats), bench_reference(rng)]
    print(f"CPU: {cpu_name()}, threads: {threads}, numpy {np.__version__}, "
          f"torch {torch.__version__}")
    for r in results:
        if "torch" in r:
            ratio = r["juanji"] / r["torch"]
            r["ratio"] = ratio
            verdict = "ok" if ratio <= r["bar"] else "ABOVE BAR"
            print(f"{r['workload']}: juanji {ms(r['juanji'])}, torch {ms(r['torch'])}, "
                  f"ratio {ratio:.2f} (bar <= {r['bar']}) {verdict}")
        else:
            r["factor"] = r["reference"] / r["juanji"]
            print(f"{r['workload']}: fast {ms(r['juanji'])}, reference {ms(r['reference'])}, "
                  f"fast is {r['factor']:.0f}x faster")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_name(), "threads": threads, "results": results}, f, indent=2)
    return results


if __name__ == "__main__":
    main()
