"""One ``juanji train`` per run directory: an exclusive lock on ``DIR/.juanji-train.lock``.

Two runs writing into one ``--out`` would interleave their checkpoints (``best.npz`` of one seed,
``metrics.json`` of the other). The first run takes ``fcntl.flock(LOCK_EX)`` on the lock file and
writes who it is into it (pid, host, start time, command line); a second run finds the lock taken
and stops with :class:`RunLockedError` naming that holder. The kernel drops a ``flock`` when its
file is closed, which includes every way a process ends (``kill -9`` too), so a killed run never
leaves a lock behind: ``--resume`` after a kill just takes it again. The file itself stays (its
holder text is overwritten by the next run); removing it on exit would race with a run opening it.

Taking the lock is also the check that ``DIR`` is writable: creating the lock file and a scratch
file there fails at once, before any data is loaded or any epoch is trained.

``flock`` locks are advisory and local: they keep ``juanji train`` runs apart on one machine (and
on filesystems that pass ``flock`` through, as NFSv4 does), not other programs.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with run_lock(d):
...     try:
...         run_lock(d).__enter__()
...     except RunLockedError as e:
...         print("refused:", "is in use by another `juanji train`" in str(e))
refused: True
>>> with run_lock(d):  # released on exit
...     pass
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["LOCK_NAME", "RunDirError", "RunLockedError", "run_lock", "holder_of"]

LOCK_NAME = ".juanji-train.lock"


class RunLockedError(RuntimeError):
    """Another process holds the run directory's lock; the message names it."""


def _holder_text() -> str:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                       "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                       "argv": sys.argv[1:]})


def holder_of(directory) -> dict | None:
    """What the lock file of ``directory`` says about its last holder (None if unreadable).
    Only small JSON is read: the file is not trusted to be ours."""
    try:
        with open(Path(directory) / LOCK_NAME, "rb") as f:
            raw = f.read(4096)
        holder = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _describe(holder: dict | None) -> str:
    if holder is None:
        return "holder unknown: it is starting, or its lock file is not juanji's"
    pid, host, started = (holder.get(k, "?") for k in ("pid", "host", "started"))
    return f"pid {pid} on host {host}, started {started}"


class RunDirError(OSError):
    """The run directory cannot be created or written to; ``errno`` is the cause's."""


def _lock_error(directory: Path, e: OSError) -> RunDirError:
    err = RunDirError(f"--out {str(directory)!r} is not a writable directory "
                      f"({e.strerror or e}); choose another --out")
    err.errno = e.errno
    return err


@contextlib.contextmanager
def run_lock(directory):
    """Hold the lock of run directory ``directory`` (created if missing) for the ``with`` body.

    Raises:
        RunLockedError: another process holds it (the message gives its pid, host, start time).
        RunDirError: (an OSError) ``directory`` cannot be created or written to (read-only, no
            permission).
    """
    import fcntl  # POSIX; imported here so that importing juanji works everywhere

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise _lock_error(directory, e) from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(
                f"--out {str(directory)!r} is in use by another `juanji train` "
                f"({_describe(holder_of(directory))}); wait for it to end, stop it, or train "
                f"into another --out") from None
        try:
            # The checkpoints are written through temporary files beside them: a directory that
            # takes the lock file but no new file (e.g. a read-only remount) must fail now.
            with tempfile.TemporaryFile(dir=directory):
                pass
            os.ftruncate(fd, 0)
            os.pwrite(fd, _holder_text().encode("utf-8"), 0)
        except OSError as e:
            raise _lock_error(directory, e) from e
        yield directory
    finally:
        os.close(fd)  # releases the flock
