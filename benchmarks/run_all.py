"""Run every benchmark and write the table to BENCHMARKS.md.

    python benchmarks/run_all.py                    # full run (minutes), writes BENCHMARKS.md
    python benchmarks/run_all.py --quick            # fewer repetitions, a shorter epoch
    python benchmarks/run_all.py --out /tmp/B.md    # write elsewhere
    python benchmarks/run_all.py --one-thread       # also steps, conv, pool, epoch on 1 thread

Each script runs as its own subprocess with ``--json``; this collects their rows, adds the machine
(CPU, thread count, NumPy/PyTorch versions, date, load average before and after) and the command
lines, the per-layer profiles, and the hand-measured sections kept in ``benchmarks/TRAINING.md``
and ``benchmarks/NOTES.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from juanji._atomic import atomic_write_text  # BENCHMARKS.md: never half a file

HERE = Path(__file__).resolve().parent


def commands(quick: bool) -> list[list[str]]:
    r = ["--repeats", "7" if quick else "21"]
    return [["bench_steps.py", *r], ["bench_conv.py", *r], ["bench_lenet_stack.py", *r],
            ["bench_pool.py", *r],
            ["bench_epoch.py"] + (["--limit", "10000"] if quick else ["--rounds", "2"]),
            ["bench_reference.py"], ["bench_first_call.py"],
            ["bench_scaling.py", "--repeats", "3" if quick else "7"],
            ["bench_memory_budget.py"] + (["--batches", "64,256"] if quick else
                                           ["--batches", "64,128,256,512,1024", "--without"])]


ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run(cmd: list[str], tmp: Path, env: dict | None = None) -> tuple[list[dict], str]:
    out = tmp / (cmd[0] + ".json")
    full = [sys.executable, str(HERE / cmd[0]), *cmd[1:], "--json", str(out)]
    prefix = "".join(f"{k}={v} " for k, v in (env or {}).items())
    print(f"$ {prefix}python benchmarks/" + " ".join(cmd), flush=True)
    proc = subprocess.run(full, cwd=HERE, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    print(proc.stdout, end="", flush=True)
    if proc.returncode:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode}")
    return json.loads(out.read_text())["results"], proc.stdout


def _fmt(v: float, unit: str) -> str:
    if unit == "s":
        return f"{v * 1e3:.1f} ms" if v < 1 else f"{v:.2f} s"
    return f"{v:.3g} {unit}".strip()


def table(rows: list[dict]) -> str:
    lines = ["| workload | juanji | PyTorch | ratio | bar | goal | verdict |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "ratio" in r:
            unit = r.get("unit", "s")
            verdict = ""
            if r.get("bar") is not None:
                goal = r.get("goal")
                verdict = "goal met" if goal is not None and r["ratio"] <= goal else (
                    "bar met" if r["ratio"] <= r["bar"] else "**above bar**")
            lines.append(f"| {r['workload']} | {_fmt(r['juanji'], unit)} | "
                         f"{_fmt(r['torch'], unit)} | **{r['ratio']:.2f}** | "
                         f"{r.get('bar') or ''} | {r.get('goal') or ''} | {verdict} |")
        else:
            lines.append(f"| {r['workload']} | {_fmt(r['value'], r.get('unit', ''))} | | | | | |")
    return "\n".join(lines)


def machine() -> dict:
    import numpy
    import torch

    from _common import blas_threads, cpu_name
    from juanji.backend import get_backend

    return {"cpu": cpu_name(), "cores": os.cpu_count(), "threads": blas_threads(),
            "backend": get_backend(),
            "numpy": numpy.__version__, "torch": torch.__version__,
            "python": sys.version.split()[0],
            "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one-thread", action="store_true",
                        help="also run steps, conv, pool and the epoch with every library on "
                             "one thread")
    parser.add_argument("--out", type=Path, default=HERE.parent / "BENCHMARKS.md")
    parser.add_argument("--results", type=Path,
                        help="also keep every script's rows in this JSON file")
    parser.add_argument("--from-results", type=Path,
                        help="write the markdown from a --results file instead of measuring")
    args = parser.parse_args(argv)
    if args.from_results:
        saved = json.loads(args.from_results.read_text())
        args.quick = saved.get("quick", False)  # as the measuring run was called
        write(args, saved["info"], [tuple(s) for s in saved["sections"]],
              [tuple(p) for p in saved["profiles"]], saved["load_before"], saved["load_after"])
        return
    load_before = os.getloadavg()
    info = machine()
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        for cmd in commands(args.quick):
            rows, _ = run(cmd, Path(tmp))
            sections.append((cmd, rows))
        if args.one_thread:
            r = ["--repeats", "7" if args.quick else "21"]
            # two rounds, as with two threads: one juanji-then-torch pair can land juanji in a
            # slow minute (13.1 and 19.9 s in two runs where it takes 9.2-9.8 s alone)
            rounds = ["--limit", "10000"] if args.quick else ["--rounds", "2"]
            epoch = ["bench_epoch.py", *rounds]
            for cmd in (["bench_steps.py", *r], ["bench_conv.py", *r],
                        ["bench_lenet_stack.py", *r], ["bench_pool.py", *r], epoch):
                rows, _ = run(cmd, Path(tmp), ONE_THREAD)
                sections.append((["OPENBLAS_NUM_THREADS=1"] + cmd, rows))
        profiles = []
        for model, shape, batch in (("lenet5", "28,28,1", "64"), ("tinyvgg", "64,64,3", "32")):
            cmd = [sys.executable, str(HERE / "profile_layers.py"), "--model", model, "--shape",
                   shape, "--batch", batch]
            profiles.append(("python benchmarks/profile_layers.py " + " ".join(cmd[2:]),
                             subprocess.run(cmd, cwd=HERE, capture_output=True, text=True,
                                            check=True).stdout))
    load_after = os.getloadavg()
    if args.results:
        atomic_write_text(args.results, json.dumps({
            "info": info, "quick": args.quick, "sections": sections, "profiles": profiles,
            "load_before": load_before, "load_after": load_after}, indent=1))
    write(args, info, sections, profiles, load_before, load_after)


def write(args, info: dict, sections: list, profiles: list, load_before, load_after) -> None:
    """BENCHMARKS.md from the collected rows, the profiles and the hand-written sections."""
    one_thread = any(cmd[0].startswith("OPENBLAS") for cmd, _ in sections)
    md = ["# Benchmarks", "",
          "Written by `python benchmarks/run_all.py" + (" --quick" if args.quick else "")
          + (" --one-thread" if one_thread else "") + "`; ratio = juanji time / PyTorch "
          "time; below 1 juanji is faster.", "",
          f"- CPU: {info['cpu']}, {info['cores']} cores; threads for NumPy's BLAS, PyTorch and "
          f"juanji's batch splits: {info['threads']}",
          f"- Python {info['python']}, NumPy {info['numpy']}, PyTorch {info['torch']}; juanji "
          f"backend: {info.get('backend', 'numpy (before the numba backend)')} "
          "(`JUANJI_BACKEND`)",
          f"- Date: {info['date']}",
          f"- Load average (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in load_before)};"
          f" after: {', '.join(f'{v:.2f}' for v in load_after)} on {info['cores']} cores", "",
          "How: both libraries in the same process (the epoch: each in its own), float32, the "
          "same batch and thread count; each contender runs blocks of 5 timed calls after a "
          "0.3 s pause and one untimed call (so neither finds the other's spinning worker threads "
          "on the cores), blocks alternating, medians; the process uses "
          "`juanji.functional.keep_freed_memory()` as `fit()` does, which serves PyTorch's "
          "allocations too (see NOTES below for what it changes). Memory-bound steps on this "
          "virtual machine vary by 10-30 % from minute to minute (a fixed 16 MB elementwise pass: "
          "medians of 2-second windows between 1.64 and 2.23 ms), so ratios move by about 0.1-0.2 "
          "between runs.", "",
          "## Summary: the issue's workloads", "",
          table([r for cmd, rows in sections if not cmd[0].startswith("OPENBLAS")
                 for r in rows if r.get("bar") is not None]), ""]
    for cmd, rows in sections:
        if cmd[0].startswith("OPENBLAS"):
            md += [f"## `{cmd[0]} python benchmarks/{' '.join(cmd[1:])}` (one thread each: "
                   "juanji's BLAS and PyTorch)", "", table(rows), ""]
        else:
            md += [f"## `python benchmarks/{' '.join(cmd)}`", "", table(rows), ""]
    md += ["## Per-layer profiles", "",
           "Each layer timed on its own (its real input, a random upstream gradient), median of "
           "15 runs, this run's thread count.", ""]
    for cmd, text in profiles:
        md += [f"`{cmd}`", "", text.strip(), ""]
    for name in ("TRAINING.md", "DISTRIBUTED.md", "NOTES.md"):  # hand-measured, kept across runs
        if (HERE / name).exists():
            md += [(HERE / name).read_text().strip(), ""]
    atomic_write_text(args.out, "\n".join(md))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
