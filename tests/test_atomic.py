"""Atomic writes: a crash at any point leaves the previous file intact and no temporary file."""

import os
import stat

import pytest

from juanji import _atomic
from juanji._atomic import atomic_open, atomic_write_bytes, atomic_write_text


def _names(d):
    return sorted(p.name for p in d.iterdir())


def test_write_creates_and_replaces(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second, longer")
    assert target.read_bytes() == b"second, longer"
    assert _names(tmp_path) == ["f.bin"]


def test_text_is_utf8(tmp_path):
    atomic_write_text(tmp_path / "t.json", "卷积")
    assert (tmp_path / "t.json").read_bytes() == "卷积".encode("utf-8")


def test_file_gets_ordinary_permissions(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"x")
    # mkstemp would leave 0o600; the result must be readable by others like a plain open().
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~_atomic._UMASK


@pytest.mark.parametrize("crash_in", ["write", "fsync", "replace"])
def test_crash_leaves_previous_file_and_no_temp(tmp_path, monkeypatch, crash_in):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"previous")

    def boom(*args, **kwargs):
        raise OSError(f"simulated crash in {crash_in}")

    if crash_in == "replace":
        monkeypatch.setattr(_atomic.os, "replace", boom)
    elif crash_in == "fsync":
        monkeypatch.setattr(_atomic.os, "fsync", boom)
    with pytest.raises(OSError, match="simulated crash"):
        with atomic_open(target, "wb") as f:
            f.write(b"half of the new con")
            if crash_in == "write":
                boom()
            f.write(b"tent")
    assert target.read_bytes() == b"previous"
    assert _names(tmp_path) == ["f.bin"]


def test_keyboard_interrupt_also_cleans_up(tmp_path):
    target = tmp_path / "f.bin"
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(target, "wb") as f:
            f.write(b"partial")
            raise KeyboardInterrupt
    assert _names(tmp_path) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="`mode` must be 'wb' or 'w', got 'a'"):
        with atomic_open(tmp_path / "f", "a"):
            pass
    with pytest.raises(TypeError, match="`data` must be bytes, got str"):
        atomic_write_bytes(tmp_path / "f", "text")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_bytes(tmp_path / "missing" / "f", b"x")


def test_a_temp_file_left_by_a_writer_killed_mid_write_is_removed_by_the_next_write(tmp_path):
    """Issue 14 row 11: kill -9 during a write leaves `.f.bin.<pid>.*.tmp` (no exception handler
    runs); the next write of f.bin removes it, since that pid is gone. A live writer's temporary
    file (here this process's own pid) is left alone."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"previous")
    child = subprocess.run(
        [sys.executable, "-c", "import os, signal, sys\nfrom juanji._atomic import atomic_open\n"
         "with atomic_open(sys.argv[1]) as f:\n    f.write(b'half')\n    f.flush()\n"
         "    os.kill(os.getpid(), signal.SIGKILL)\n", str(target)])
    assert child.returncode == -signal.SIGKILL
    left = [n for n in _names(tmp_path) if n != "f.bin"]
    assert len(left) == 1 and left[0].startswith(".f.bin.") and left[0].endswith(".tmp")
    live = tmp_path / f".f.bin.{os.getpid()}.writing.tmp"
    live.write_bytes(b"someone is writing")
    other = tmp_path / ".g.bin.1.x.tmp"  # another file's: not this write's business
    other.write_bytes(b"")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert _names(tmp_path) == sorted([".g.bin.1.x.tmp", live.name, "f.bin"])
