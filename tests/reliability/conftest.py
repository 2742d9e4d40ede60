"""Write the reliability counters at the end of the session, summed over xdist workers.

Each process writes its own counts next to the others of the same test run, then (under a file
lock) sums every file of that run into ``test-artifacts/reliability-counts.json``; the last
process to finish therefore writes the complete total.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from .support import COUNTS, profile_name

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_sessionfinish(session, exitstatus):
    if not COUNTS:
        return
    worker = getattr(session.config, "workerinput", None)
    run_id = worker["testrunuid"] if worker else f"solo-{os.getpid()}"
    name = worker["workerid"] if worker else "main"
    parts = ARTIFACTS / "reliability-counts.d"
    parts.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / ".reliability-counts.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        (parts / f"{run_id}-{name}.json").write_text(json.dumps(dict(COUNTS)))
        total: dict[str, int] = {}
        for part in parts.glob(f"{run_id}-*.json"):
            for key, value in json.loads(part.read_text()).items():
                total[key] = total.get(key, 0) + value
        out = {"profile": profile_name(), "run": run_id, "counts": dict(sorted(total.items()))}
        (ARTIFACTS / "reliability-counts.json").write_text(json.dumps(out, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter):
    if COUNTS:
        terminalreporter.write_sep("-", f"reliability counts ({profile_name()} profile, this "
                                        "process)")
        for key, value in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{key:40s} {value}")
