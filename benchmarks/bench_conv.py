"""conv 3x3, padding 1, 64x32x32x32 -> 64 channels, forward + backward, juanji vs PyTorch; and the
share of the machine's float32 GEMM peak (a large sgemm measured in the same run) it reaches.

    python benchmarks/bench_conv.py
    python benchmarks/bench_conv.py --repeats 30 --json conv.json

Issue 5: ratio bar <= 1.3, goal <= 1.0. PyTorch is timed in its default layout (NCHW) and
channels_last (juanji's NHWC memory order); as in bench_pool.py, the bar is judged against the
FASTER of the two. The GEMM share counts the three products of a conv
(forward cols @ w, dw = cols.T @ dy, dx = dy @ w.T), 3 * 2*M*K*C_out flops with M = N*Ho*Wo and
K = kh*kw*C_in, over the measured fwd+bwd time, against ``A @ B`` for 4096x4096 float32.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from _common import add_common_args, layout_rows, report, same_threads, time_interleaved
from juanji import functional as jf

N, H, W, C_IN, C_OUT, K = 64, 32, 32, 32, 64, 3


def conv_data(rng):
    x = rng.standard_normal((N, H, W, C_IN), dtype=np.float32)
    w = rng.standard_normal((K, K, C_IN, C_OUT), dtype=np.float32) * 0.1
    b = rng.standard_normal(C_OUT, dtype=np.float32)
    dy = rng.standard_normal((N, H, W, C_OUT), dtype=np.float32)
    return x, w, b, dy


def juanji_conv(x, w, b, dy):
    y, cache = jf.conv2d_forward(x, w, b, padding=1)
    return jf.conv2d_backward(dy, cache)


def torch_conv(xt, wt, bt, dyt):
    xt.grad = wt.grad = bt.grad = None
    F.conv2d(xt, wt, bt, padding=1).backward(dyt)


def gemm_peak(size: int = 4096, repeats: int = 5) -> float:
    """Measured float32 GEMM throughput of NumPy's BLAS, flop/s (best of ``repeats``)."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser)
    args = parser.parse_args(argv)
    same_threads()
    x, w, b, dy = conv_data(np.random.default_rng(0))
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)  # (N, C, H, W)
    wt = torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)  # (Co, Ci, kh, kw)
    bt = torch.tensor(b, requires_grad=True)
    dyt = torch.tensor(dy.transpose(0, 3, 1, 2).copy())  # (N, Co, H, W)
    xt_cl = xt.detach().to(memory_format=torch.channels_last).requires_grad_()
    dyt_cl = dyt.to(memory_format=torch.channels_last)
    t = time_interleaved({"juanji": lambda: juanji_conv(x, w, b, dy),
                          "nchw": lambda: torch_conv(xt, wt, bt, dyt),
                          "channels_last": lambda: torch_conv(xt_cl, wt, bt, dyt_cl)},
                         repeats=args.repeats)
    best = min(t["nchw"], t["channels_last"])
    peak = gemm_peak()
    flops = 3 * 2 * (N * H * W) * (K * K * C_IN) * C_OUT
    rows = layout_rows(f"conv 3x3 pad 1, {N}x{H}x{W}x{C_IN} -> {C_OUT}, fwd+bwd", t, 1.3, 1.0)
    rows += [{"workload": "float32 GEMM peak (4096^2 sgemm)", "value": peak / 1e9,
              "unit": "GFLOP/s"},
             {"workload": "conv fwd+bwd share of the GEMM peak (juanji)",
              "value": 100 * flops / t["juanji"] / peak, "unit": "%"},
             {"workload": "conv fwd+bwd share of the GEMM peak (torch, the faster layout)",
              "value": 100 * flops / best / peak, "unit": "%"}]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
