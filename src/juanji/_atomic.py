"""Atomic file writing: a reader sees either the old file or the complete new one, never half.

The recipe: write to a temporary file in the *same directory* (so the final rename stays on one
filesystem), flush and fsync it, ``os.replace`` it over the target (atomic on POSIX and Windows),
then fsync the directory so the rename itself survives a power cut. On any exception the
temporary file is removed and the previous file is left untouched. A process killed mid-write
(no exception runs) leaves its temporary file, named with its pid: the next write of the same
file removes it once that pid is gone.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write_bytes(d / "a.bin", b"abc")
>>> (d / "a.bin").read_bytes()
b'abc'
>>> with atomic_open(d / "a.txt", "w") as f:
...     _ = f.write("hello")
>>> (d / "a.txt").read_text(), sorted(p.name for p in d.iterdir())
('hello', ['a.bin', 'a.txt'])
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text"]

# mkstemp creates files readable by the owner only; give the result the mode a plain open() would.
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable. Directories cannot be opened on Windows: skip there."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the data is still replaced
        pass
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # another user's process; nonsense
        return pid > 0
    return True


def _remove_stale_temps(directory: Path, name: str) -> None:
    """Delete ``.{name}.{pid}.*.tmp`` files whose writer ``pid`` is gone (killed mid-write: the
    ``except`` below never ran). Others' live temporary files are left alone."""
    prefix = f".{name}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        pid = entry[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(directory / entry)


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", encoding: str | None = None):
    """Open a temporary file next to ``path``; on a clean exit it replaces ``path`` atomically.

    Args:
        path: the final file. Its directory must exist.
        mode: ``"wb"`` or ``"w"`` (text, UTF-8 unless ``encoding`` is given).

    Yields:
        the open temporary file object.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"`mode` must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} of `path` does not exist")
    _remove_stale_temps(directory, path.name)
    # The writer's pid in the name: a later write can tell a dead writer's leftover from a live one
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=directory)
    if mode == "w" and encoding is None:
        encoding = "utf-8"
    try:
        if hasattr(os, "fchmod"):  # POSIX only
            os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"`data` must be bytes, got {type(data).__name__}")
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically, encoded with ``encoding``."""
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str, got {type(text).__name__}")
    atomic_write_bytes(path, text.encode(encoding))
