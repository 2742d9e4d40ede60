"""Long fuzz runs of every juanji file reader, each target in its own child process.

Examples::

    python fuzz/run.py --minutes 10                    # all targets, 10 minutes in total
    python fuzz/run.py --minutes 60 --targets idx,checkpoint --engine atheris
    python fuzz/run.py --minutes 1 --engine hypothesis # no atheris needed
    python fuzz/run.py --minutes 5 --engine structured # hostile files by structure

The targets and their checks (clear ValueError/OSError only, memory bounded by the file size, no
code executed) are ``tests/reliability/fuzz_targets.py``, the same the CI suite runs briefly.
Engines: ``atheris`` (coverage-guided libFuzzer, ``pip install atheris``; the default when it
imports), ``hypothesis`` (arbitrary bytes and mutations of valid files) or ``structured`` (the
hostile files of ``tests/reliability/generators.py``: pickle opcodes, HDF5 features, zip entries,
IDX and image headers, each drawn with a new seed, mutated half of the time). A child that dies
(an interpreter crash: segfault, abort) is reported with its signal; a failing input is saved in
``test-artifacts/fuzz/findings/`` (libFuzzer's crash-/oom-/timeout- files too). Prints one line per
target and exits 1 if anything was found.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.reliability.fuzz_targets
ARTIFACTS = ROOT / "test-artifacts" / "fuzz"  # git-ignored: corpus, findings, stats
FINDINGS = ARTIFACTS / "findings"


def _save_finding(target: str, data: bytes, error: BaseException) -> Path:
    FINDINGS.mkdir(parents=True, exist_ok=True)
    path = FINDINGS / f"{target}-{hashlib.sha256(data).hexdigest()[:16]}.bin"
    path.write_bytes(data)
    path.with_suffix(".txt").write_text(f"{type(error).__name__}: {error}\n")
    return path


def child(target: str, seconds: float, engine: str, stats: Path) -> int:
    """Fuzz one target until ``seconds`` pass; write {"inputs": n} to ``stats`` as it goes."""
    from tests.reliability import fuzz_targets as ft

    tried = [0]
    deadline = time.monotonic() + seconds

    def one(data: bytes) -> None:
        tried[0] += 1
        if tried[0] % 200 == 0:
            stats.write_text(json.dumps({"inputs": tried[0]}))
        try:
            ft.run_target(target, data)
        except AssertionError as e:
            print(f"{target}: finding saved to {_save_finding(target, data, e)}", flush=True)
            raise

    try:
        if engine == "atheris":
            import atheris
            with atheris.instrument_imports(include=["juanji"]):  # coverage guidance
                import juanji.checkpoint  # noqa: F401
                import juanji.cli  # noqa: F401
                import juanji.data  # noqa: F401
            corpus = ARTIFACTS / "corpus" / target
            corpus.mkdir(parents=True, exist_ok=True)
            for i, seed in enumerate(ft.SEEDS[target]()):
                (corpus / f"seed-{i}").write_bytes(seed)
            atheris.Setup([sys.argv[0], f"-max_total_time={max(1, int(seconds))}",
                           "-rss_limit_mb=4096", "-timeout=30", f"-artifact_prefix={FINDINGS}/",
                           str(corpus)], one)
            atheris.Fuzz()  # exits the process when the time is up
        elif engine == "hypothesis":
            from hypothesis import HealthCheck, given, settings
            from hypothesis import strategies as st
            seeds = ft.SEEDS[target]()
            edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**20),
                                       st.integers(0, 255)), min_size=1, max_size=8)
            inputs = st.one_of(st.binary(max_size=4096),
                               st.builds(lambda i, e: ft.mutate(seeds[i % len(seeds)], e),
                                         st.integers(0, 99), edits))

            @settings(max_examples=500, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck))
            @given(inputs)
            def batch(data):
                one(data)
            while time.monotonic() < deadline:
                batch()
        elif engine == "structured":
            import random

            from tests.reliability.generators import GENERATORS
            if target not in GENERATORS:
                raise ValueError(f"no structured generator for {target!r}; have "
                                 f"{sorted(GENERATORS)}")
            rng = random.Random(int.from_bytes(os.urandom(8), "little"))
            while time.monotonic() < deadline:
                _, data = GENERATORS[target](rng)
                if rng.random() < 0.5:
                    data = ft.mutate(data, [(rng.randrange(4), rng.randrange(1 << 20),
                                             rng.randrange(256)) for _ in range(3)])
                one(data)
        else:
            raise ValueError(f"`engine` must be 'atheris', 'hypothesis' or 'structured', got "
                             f"{engine!r}")
    finally:
        stats.write_text(json.dumps({"inputs": tried[0]}))
    return 0


def main(argv=None) -> int:
    from tests.reliability.fuzz_targets import TARGETS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="total time (default 1)")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help=f"comma-separated, from {', '.join(TARGETS)} (default all)")
    parser.add_argument("--engine", choices=["atheris", "hypothesis", "structured"], default=None,
                        help="default atheris when it imports, else hypothesis")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    if args.child:
        return child(args.child, args.seconds, engine, args.stats)

    targets = [t for t in args.targets.split(",") if t]
    if engine == "structured" and args.targets == ",".join(TARGETS):
        from tests.reliability.generators import GENERATORS
        targets = [t for t in targets if t in GENERATORS]
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {sorted(TARGETS)}")
    seconds = args.minutes * 60 / len(targets)
    found = False
    summary = {}
    for target in targets:
        FINDINGS.mkdir(parents=True, exist_ok=True)
        stats = ARTIFACTS / f"stats-{target}.json"
        stats.unlink(missing_ok=True)
        proc = subprocess.run([sys.executable, __file__, "--child", target, "--seconds",
                               str(seconds), "--engine", engine, "--stats", str(stats)],
                              capture_output=True, text=True, cwd=ROOT)
        inputs = json.loads(stats.read_text())["inputs"] if stats.exists() else 0
        if proc.returncode < 0:
            verdict = f"INTERPRETER CRASH (signal {-proc.returncode})"
        elif proc.returncode != 0:
            verdict = f"FINDING (see {FINDINGS.relative_to(ROOT)}/)"
        else:
            verdict = "ok"
        found |= verdict != "ok"
        summary[target] = {"inputs": inputs, "verdict": verdict}
        print(f"{target:13s} {engine:10s} {inputs:9d} inputs  {verdict}", flush=True)
        if verdict != "ok":
            print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n")
    (ARTIFACTS / "last-run.json").write_text(json.dumps(
        {"engine": engine, "minutes": args.minutes, "targets": summary}, indent=2) + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
