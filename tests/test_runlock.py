"""One `juanji train` per --out (issue 14 row 5), and a --out that cannot be written refused before
the first epoch (row 11): the lock of `juanji.runlock`, met as the review met it, through the
command line in separate processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from juanji.checkpoint import load_checkpoint
from juanji.runlock import LOCK_NAME, RunLockedError, holder_of, run_lock

TRAIN = [sys.executable, "-m", "juanji", "train", "--limit", "300", "--no-progress"]
# Holds the lock of argv[1] until killed, as a `juanji train` in its first epoch does.
HOLDER = ("import sys, time\nfrom juanji.runlock import run_lock\n"
          "with run_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(600)\n")


def start_holder(directory: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def train(*args, timeout=120, **kwargs):
    return subprocess.run([*TRAIN, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def test_lock_is_exclusive_and_released_on_exit(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(RunLockedError, match=rf"pid {os.getpid()} on host "):
            with run_lock(tmp_path):
                pass
        holder = holder_of(tmp_path)
        assert holder["pid"] == os.getpid() and holder["started"].endswith("UTC")
    with run_lock(tmp_path):  # released
        pass


def test_second_train_into_the_same_out_is_refused_naming_the_holder(tmp_path):
    """The review: two runs into one --out both exited 0, best.npz from one, metrics from the
    other. Now the second stops at once, exit 1, naming pid, host and start time."""
    out = tmp_path / "run"
    holder = start_holder(out)
    try:
        t0 = time.monotonic()
        second = train("--epochs", "1", "--out", out)
        seconds = time.monotonic() - t0
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 1
    assert (f"juanji train: error: --out {str(out)!r} is in use by another `juanji train` "
            f"(pid {holder.pid} on host ") in second.stderr
    assert ", started 20" in second.stderr and "train into another --out" in second.stderr
    assert "Traceback" not in second.stderr
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # wrote nothing
    assert seconds < 30  # refused before loading data (the holder never ends)


def test_two_real_runs_the_second_refused_then_the_first_resumed_after_kill_9(tmp_path):
    """A real `juanji train` holds the lock; a second one is refused; SIGKILL the first (the kernel
    drops its lock) and `--resume` trains to the end."""
    out = tmp_path / "run"
    first = subprocess.Popen([*TRAIN, "--epochs", "3", "--out", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while (holder_of(out) or {}).get("pid") != first.pid:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        second = train("--epochs", "3", "--out", out)
        assert second.returncode == 1 and f"(pid {first.pid} on host" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    resumed = train("--epochs", "3", "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(out / "last.npz").epoch == 3
    assert json.loads((out / "metrics.json").read_text())["options"]["epochs"] == 3


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    holder = start_holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert holder_of(tmp_path)["pid"] == holder.pid  # the file stays, the lock does not
    with run_lock(tmp_path):
        assert holder_of(tmp_path)["pid"] == os.getpid()


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_over(tmp_path):
    """The review: killed before the first last.npz, `--resume` exited 2. A directory holding the
    lock file of a run (what such a kill leaves) now starts the run over, with a note."""
    out = tmp_path / "run"
    holder = start_holder(out)  # a run that got as far as taking the lock
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    done = subprocess.run([*TRAIN[:-1], "--epochs", "1", "--out", str(out), "--resume"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (f"--resume: {str(out / 'last.npz')!r} is missing (the run in {out} was stopped "
            f"before its first epoch ended); starting it over") in " ".join(done.stderr.split())
    assert load_checkpoint(out / "last.npz").epoch == 1
    # A directory no run ever started in is still a mistake (a typo in --out), exit 2.
    typo = train("--out", tmp_path / "no-such-run", "--resume")
    assert typo.returncode == 2 and "there is no" in typo.stderr


def _unprivileged() -> list[str]:
    """A command prefix that runs the child without root's right to write anywhere: as root,
    setpriv drops CAP_DAC_OVERRIDE (root writes into read-only directories otherwise)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root: the read-only test needs setpriv (util-linux)"
    return [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_read_only_out_fails_at_start_before_the_first_epoch(tmp_path):
    """The review: a read-only --out failed only after the first epoch's training."""
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    t0 = time.monotonic()
    done = subprocess.run([*_unprivileged(), *TRAIN[:-1], "--epochs", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert (f"juanji train: error: --out {str(out)!r} is not a writable directory (Permission "
            f"denied); choose another --out") in done.stderr, done.stderr
    assert "epoch" not in done.stderr  # nothing was trained
    assert list(out.iterdir()) == []
    assert time.monotonic() - t0 < 30
