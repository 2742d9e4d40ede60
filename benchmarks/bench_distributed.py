"""Data-parallel cost on this machine (#19): the per-step gradient allreduce of LeNet-5 and tinyvgg
on 2 local ranks, and one Fashion-MNIST lenet5 epoch on 1 and on 2 ranks (one thread per rank).

    python benchmarks/bench_distributed.py            # the whole table (a few minutes)
    python benchmarks/bench_distributed.py --quick    # the allreduce part only (seconds)

The allreduce part runs itself under ``mpiexec -n 2`` (``--allreduce-worker``); the epoch part
runs ``juanji train --epochs 1`` once per rank count and reads train_seconds from metrics.json
(the training epoch with its validation pass; not the start-up or the test evaluation).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MPIEXEC = str(Path(sys.executable).with_name("mpiexec"))
FASHION = "/usr/share/datasets/fashion-mnist"


def allreduce_worker(reps: int) -> None:
    from juanji.distributed import Communicator
    from juanji.models import build_model

    comm = Communicator.world()
    for name, shape in (("lenet5", (28, 28, 1)), ("tinyvgg", (32, 32, 3))):
        model = build_model(name, shape, 10)
        params = model.parameters()
        n = sum(p.grad.size for p in params)
        for p in params:
            p.grad[...] = comm.rank + 1.0
        times = []
        for _ in range(reps + 5):
            comm.comm.Barrier()
            t0 = time.perf_counter()
            comm.allreduce_grads(params, 1.0, 1, False)
            times.append(time.perf_counter() - t0)
        if comm.is_root:
            t = np.array(times[5:]) * 1e3
            print(json.dumps({"model": name, "params": int(n), "bytes": int(4 * n),
                              "median_ms": float(np.median(t)), "p90_ms": float(np.quantile(t, .9))}))


def epoch_seconds(ranks: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "juanji", "train", "--dataset", "fashion-mnist", "--model",
               "lenet5", "--epochs", "1", "--data-dir", FASHION, "--out", out, "--no-progress"]
        if ranks > 1:
            cmd = [MPIEXEC, "-n", str(ranks), *cmd]
        subprocess.run(cmd, check=True, capture_output=True,
                       env={**os.environ, "JUANJI_NUM_THREADS": "1"})
        return json.loads((Path(out) / "metrics.json").read_text())["train_seconds"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="the allreduce part only")
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--allreduce-worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.allreduce_worker:
        return allreduce_worker(a.reps)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    cpu = [line for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout
           .splitlines() if line.startswith("Model name")]
    print(cpu[0] if cpu else "CPU: unknown")
    out = subprocess.run([MPIEXEC, "-n", "2", sys.executable, __file__, "--allreduce-worker",
                          "--reps", str(a.reps)], check=True, capture_output=True, text=True,
                         env={**os.environ, "JUANJI_NUM_THREADS": "1"}).stdout
    for line in out.splitlines():
        r = json.loads(line)
        print(f"allreduce, 2 local ranks, {r['model']:8s} {r['params']:>9,} params "
              f"({r['bytes'] / 1e6:.2f} MB float32): median {r['median_ms']:.3f} ms, "
              f"p90 {r['p90_ms']:.3f} ms per step")
    if a.quick:
        return
    for ranks in (1, 2):
        print(f"fashion-mnist lenet5, 1 epoch, {ranks} rank(s) x 1 thread: "
              f"{epoch_seconds(ranks):.1f} s", flush=True)


if __name__ == "__main__":
    main()
