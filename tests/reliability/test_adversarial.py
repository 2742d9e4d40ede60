"""The standing adversarial suite: hostile files from the structure-aware generators
(``generators.py``), each read in a forked child under a memory cap (``RLIMIT_AS``: the address
space at fork + ``CAP``) and a time cap (``SIGALRM`` after ``SECONDS``), which must end in a
result or one of the reader's documented errors with a message, within the fuzz budget of traced
memory (``fuzz_targets.budget``), without running code from the file.

A child killed by a signal (a hang past the time cap, an interpreter crash) or one whose reader
raised anything else (NumPy's ``MemoryError`` at the cap included) fails the test, naming the
generated feature and the case's seed (replay: ``generators.GENERATORS[target](Random(seed))``).
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal

import pytest

from . import fuzz_targets as ft
from .generators import GENERATORS
from .support import count

CASES = 20  # per reader
# Features whose file must never be read as data: it names code, other files or more memory.
MUST_REFUSE = {
    "cifar-pickle": {"global-call", "memo", "claim"},
    "hdf5": {"external", "external-fifo", "virtual", "external-link", "vlen", "compound",
             "group", "claim"},
    "checkpoint": {"extra-entry", "inflating-entries", "header-claim", "deep-json",
                   "input-shape", "wrong-type", "object-entry", "duplicate"},
    "idx": {"claim", "type-code", "gzip-bomb", "short"},
    "image": {"png-chunk-length", "postscript", "tiff", "psd"},
}
CAP = 512 << 20  # address space a case may add to the forked child
SECONDS = 30  # a hang, not a slow case: every case takes < 1 s on a quiet machine


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def run_capped(target: str, data: bytes) -> dict:
    """Run the reader of ``target`` on ``data`` in a forked child under the caps; the child's
    report: {"error": kind or None, "message", "peak"} or {"finding": text}; {"signal": n} if it
    was killed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        report = {}
        try:
            limit = _vm_size() + CAP
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            signal.alarm(SECONDS)  # default action: the child dies with SIGALRM
            out = ft.run_target(target, data)
            report = {"error": None if out.error is None else type(out.error).__name__,
                      "message": str(out.error or ""), "peak": out.peak}
        except BaseException as e:  # noqa: BLE001 - reported to the parent, which fails
            report = {"finding": f"{type(e).__name__}: {e}"[:2000]}
        finally:
            os.write(write_end, json.dumps(report).encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        text = f.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return json.loads(text)


@pytest.mark.parametrize("target", sorted(set(GENERATORS) - {"folder-image"}))
def test_hostile_files_end_in_a_clear_error_within_the_caps(target):
    seeds = range(CASES)
    features = {}
    for seed in seeds:
        feature, data = GENERATORS[target](random.Random(seed))
        report = run_capped(target, data)
        where = f"{target} case seed={seed} ({feature}, {len(data)} bytes)"
        assert "signal" not in report, f"{where}: child killed by signal {report}"
        assert "finding" not in report, f"{where}: {report['finding']}"
        assert report["peak"] <= ft.budget(len(data)), where
        if report["error"] is not None:
            assert report["message"].strip(), where
        features.setdefault(feature, []).append(report["error"] or "read")
        count(f"adversarial {target}: cases")
    # several features were drawn, and those that must be refused always were
    assert len(features) >= 5, features
    for feature in MUST_REFUSE[target] & set(features):
        assert "read" not in features[feature], f"{target}: {feature} was read: {features}"


def test_the_caps_catch_a_reader_that_allocates_or_hangs(monkeypatch):
    """The harness itself: a reader that allocates 2 GiB dies at the cap (MemoryError inside
    the child is reported as a finding), one that sleeps is killed by the alarm."""
    import time

    def greedy(path):
        return bytearray(2 << 30)

    def sleepy(path):
        time.sleep(60)

    monkeypatch.setitem(ft.TARGETS, "greedy", (greedy, "", (ValueError,)))
    monkeypatch.setitem(ft.TARGETS, "sleepy", (sleepy, "", (ValueError,)))
    assert "MemoryError" in run_capped("greedy", b"x")["finding"]
    globals()["SECONDS"], old = 1, SECONDS
    try:
        assert run_capped("sleepy", b"x") == {"signal": signal.SIGALRM}
    finally:
        globals()["SECONDS"] = old


def test_structured_fuzzer_finding_gzip_idx_growing_past_the_budget():
    """Found by ``fuzz/run.py --engine structured``: a mutated 112 KB gzip IDX claiming 1 GiB
    peaked at 84 MiB traced (the buffer grown to the 64 MiB floor, +1/8 over-allocation and a
    chunk), over the promised 64 MiB + 120 x the file. The floor is now 48 MiB."""
    from pathlib import Path
    data = (Path(__file__).parent / "findings" / "idx-32397277dbb8bf74.bin").read_bytes()
    report = run_capped("idx", data)
    assert report.get("error") == "IdxFormatError", report
    assert "decompression bomb" in report["message"]
    assert report["peak"] <= ft.budget(len(data))
