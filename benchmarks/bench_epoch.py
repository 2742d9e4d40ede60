"""One Fashion-MNIST training epoch with lenet5, data pipeline included, and its peak memory.

    python benchmarks/bench_epoch.py                      # both, each in its own subprocess
    python benchmarks/bench_epoch.py --limit 10000        # a shorter epoch
    python benchmarks/bench_epoch.py --run juanji         # one side only, in this process

juanji runs its own ``juanji.train.fit`` (BatchIterator: seeded order, uint8 -> normalised float32
per batch; Adam; no validation, no checkpoint, no progress bar). The PyTorch twin runs a
DataLoader-free loop over the same uint8 arrays in the same order: per batch it indexes the uint8
images, converts and normalises them with the same statistics, and takes an Adam step.

Each side runs in a fresh subprocess that reports its epoch wall time and its peak resident set
size (``ru_maxrss``: interpreter, libraries, the data set and the training). Issue 18: time ratio
bar <= 1.2 (goal 1.0), RSS ratio bar <= 1.0 (goal 0.5).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def run_juanji(limit: int | None, batch: int, threads: int) -> dict:
    from threadpoolctl import threadpool_limits
    threadpool_limits(threads, user_api="blas")
    from juanji.data import Normalizer, load_dataset
    from juanji.functional import set_num_threads
    set_num_threads(threads)
    from juanji.models import build_model
    from juanji.optim import Adam
    from juanji.train import fit

    train, _ = load_dataset("fashion-mnist")
    if limit:
        train = train.subset(range(limit))
    model = build_model("lenet5", train.input_shape, train.num_classes, seed=0)
    norm = Normalizer.fit(train)
    opt = Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    fit(model, train, epochs=1, batch_size=batch, optimizer=opt, seed=0, normalizer=norm,
        progress=False)
    return {"seconds": time.perf_counter() - t0, "n": len(train)}


def run_torch(limit: int | None, batch: int, threads: int) -> dict:
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    from juanji.data import BatchIterator, Normalizer, load_dataset
    from juanji.functional import keep_freed_memory
    keep_freed_memory()  # the allocator setting juanji's fit() uses, for a like-for-like run
    from juanji.models import build_model
    from torch_twin import build_twin, copy_from_juanji

    train, _ = load_dataset("fashion-mnist")
    if limit:
        train = train.subset(range(limit))
    twin = build_twin("lenet5", train.input_shape, train.num_classes)
    copy_from_juanji(twin, build_model("lenet5", train.input_shape, train.num_classes, seed=0))
    norm = Normalizer.fit(train)
    mean = torch.tensor(norm.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(norm.std, dtype=torch.float32).view(1, -1, 1, 1)
    opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
    x_all, y_all = train.x, train.y
    order = BatchIterator(train, batch, seed=0, normalizer=norm).order(0)  # the same order
    t0 = time.perf_counter()
    for s in range(0, len(order), batch):
        idx = order[s:s + batch]
        xb = torch.from_numpy(x_all[idx]).permute(0, 3, 1, 2).float().contiguous()  # (B, C, H, W)
        xb = (xb / 255 - mean) / std
        yb = torch.from_numpy(y_all[idx].astype(np.int64))
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(twin(xb), yb).backward()
        opt.step()
    return {"seconds": time.perf_counter() - t0, "n": len(order)}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure(side: str, limit, batch: int, threads: int) -> dict:
    """Run one side in a fresh interpreter; return its seconds and peak RSS."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", side, "--batch", str(batch),
           "--threads", str(threads)] + (["--limit", str(limit)] if limit else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="default: NumPy's BLAS count")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate juanji/torch subprocesses this many times, take medians")
    parser.add_argument("--run", choices=("juanji", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    from _common import blas_threads, report
    threads = args.threads or blas_threads()
    if args.run:
        fn = run_juanji if args.run == "juanji" else run_torch
        r = fn(args.limit, args.batch, threads)
        r["rss_mib"] = _peak_rss_mib()
        print(json.dumps(r))
        return r
    import statistics

    runs = {"juanji": [], "torch": []}
    for _ in range(args.rounds):
        for side in runs:
            runs[side].append(measure(side, args.limit, args.batch, threads))
    med = {s: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "rss_mib", "n")}
           for s, rs in runs.items()}
    n = int(med["juanji"]["n"])
    rows = [{"workload": f"Fashion-MNIST lenet5 epoch ({n} images, batch {args.batch}, "
                         f"data pipeline included)",
             "juanji": med["juanji"]["seconds"], "torch": med["torch"]["seconds"],
             "bar": 1.2, "goal": 1.0},
            {"workload": "peak memory (max RSS) of that epoch", "unit": "MiB",
             "juanji": med["juanji"]["rss_mib"], "torch": med["torch"]["rss_mib"],
             "bar": 1.0, "goal": 0.5}]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
