"""Safe downloads of the public data sets whose licences allow it: MNIST, Fashion-MNIST, CIFAR-10.

``download(name)`` fetches the files of ``name`` into its data directory (`juanji.data.cache`:
``--data-dir``/``$JUANJI_DATA_DIR``/the per-user cache, the first place every reader searches),
so the readers find them afterwards without any option. Every file is

1. streamed into ``<file>.part`` with a progress bar (tqdm, on stderr);
2. resumed after a dropped connection: the next request asks ``Range: bytes=<have>-`` and
   appends, so a 170 MB archive is never fetched twice (a server that ignores Range and answers
   200 simply restarts the file);
3. checked against its pinned SHA-256 (and size): a mismatch deletes the part file and stops with
   both digests, so a corrupt or tampered file is never used;
4. renamed atomically into place (``os.replace``, then the directory is fsynced): a reader sees
   the whole verified file or none.

The CIFAR-10 archive (the *binary* release: plain records, no pickle) is then unpacked member by
member, by exact name (no path from the archive is trusted), each written atomically.

Offline, or when the server cannot be reached, the error lists the URLs to fetch by hand and the
folder to put them in; running the command again then verifies them and carries on without
network. ``$JUANJI_MIRROR`` replaces every base URL with ``$JUANJI_MIRROR/<name>/<file>`` (a
local mirror, or a test server on 127.0.0.1).

Checksums: the SHA-256 digests and sizes pinned below are those published for these exact
files (TensorFlow Datasets' download records and several independent projects agree on each);
they were not recomputed here, as this code was written on a machine without internet access.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from juanji._atomic import _fsync_dir, atomic_open
from juanji.data import cache
from juanji.data.registry import DATASETS, Remote

MIRROR_ENV = "JUANJI_MIRROR"
CHUNK = 1 << 16  # bytes per read: small enough for a smooth bar, large enough to be cheap
# Seconds one file may take in all (connects, reads and resumes), whatever the per-read timeout:
# a server that drips a byte every few seconds never trips the read timeout. An hour is 47 kB/s
# on average for the 170 MB CIFAR-10 archive.
DEADLINE = 3600.0


# The files of each downloadable data set, declared with the rest of it in the registry.
REMOTES: dict[str, tuple[Remote, ...]] = {name: info.remotes for name, info in DATASETS.items()
                                           if info.remotes}
DOWNLOADABLE = tuple(REMOTES)
# What the CIFAR-10 archive must contain (all under its folder), unpacked next to it.
CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR10_MEMBERS = (*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin",
                   "batches.meta.txt")


class DownloadError(RuntimeError):
    """A download failed (HTTP error, dropped connection, a file in the way)."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not match the pinned SHA-256; the partial file was removed."""


class OfflineError(DownloadError):
    """The server cannot be reached; the message says which files to fetch by hand and where."""


def url_of(name: str, remote: Remote) -> str:
    """The URL to fetch: the official one, or ``$JUANJI_MIRROR/<name>/<file>`` when set."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    return f"{mirror.rstrip('/')}/{name}/{remote.filename}" if mirror else remote.url


def download_size(name: str) -> int:
    """Bytes fetched by ``download(name)``."""
    return sum(r.size for r in _remotes(name))


def is_downloaded(name: str, data_dir=None) -> bool:
    """Whether ``download(name, data_dir)`` has already put everything in place."""
    folder = cache.download_dir(name, data_dir)
    if name == "cifar10":
        return all((folder / CIFAR10_FOLDER / m).is_file() for m in CIFAR10_MEMBERS)
    return all((folder / r.filename).is_file() for r in _remotes(name))


def download(name: str, data_dir=None, *, progress: bool = True, retries: int = 3,
             timeout: float = 30.0, deadline: float = DEADLINE) -> Path:
    """Fetch, verify and unpack data set ``name``; returns the folder holding it.

    Args:
        name: one of `DOWNLOADABLE`.
        data_dir: download into ``data_dir/<name>`` instead of the usual data directory.
        progress: show a progress bar on stderr.
        retries: how many times a connection that dropped *after delivering bytes* is resumed
            within this call (a refused connection is not retried: that is being offline).
        timeout: seconds to wait for the server on connect and on each read.
        deadline: seconds each file may take in all; past it the part file is deleted and
            DownloadError says how far it got (may be overrun by up to one ``timeout``).
    Raises:
        OfflineError, ChecksumError, DownloadError (see the module docstring).
    """
    remotes = _remotes(name)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"`retries` must be an int >= 0, got {retries!r}")
    folder = cache.download_dir(name, data_dir)
    if is_downloaded(name, data_dir) and name == "cifar10":
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for remote in remotes:
        try:
            fetch(url_of(name, remote), folder / remote.filename, remote.sha256, remote.size,
                  progress=progress, retries=retries, timeout=timeout,
                  content_sha256=remote.content_sha256, deadline=deadline)
        except OfflineError as err:
            raise OfflineError(f"{err}\n{manual_instructions(name, folder)}") from None
    if name == "cifar10":
        _unpack_cifar10(folder / remotes[0].filename, folder / CIFAR10_FOLDER)
    return folder


def manual_instructions(name: str, folder: Path) -> str:
    """What to do by hand when this machine cannot download ``name``."""
    lines = [f"To install {name} by hand, fetch these files and put them in {folder}:"]
    lines += [f"  {url_of(name, r)}  ({r.size:,} bytes, sha256 {r.sha256})"
              for r in _remotes(name)]
    lines.append(f"then run `juanji data download {name}` again: it checks them against "
                 f"these SHA-256 digests" + (" and unpacks the archive" if name == "cifar10"
                                             else "") + " without using the network.")
    return "\n".join(lines)


# --- one file -------------------------------------------------------------------------------------

def fetch(url: str, dest, sha256: str, size: int | None = None, *, progress: bool = True,
          retries: int = 3, timeout: float = 30.0, content_sha256: str | None = None,
          deadline: float = DEADLINE) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming, verifying, renaming.

    A ``dest`` that already exists is only verified: its own SHA-256, or, for a ``.gz`` file,
    ``content_sha256``, the digest of what it decompresses to (the same images compressed by
    someone else, e.g. Debian's package, have other bytes). See the module docstring.
    """
    dest = Path(dest)
    if dest.exists():
        if _sha256(dest) == sha256:
            return dest
        if content_sha256 is not None and _content_sha256(dest) == content_sha256:
            return dest
        raise DownloadError(f"{dest} exists but its SHA-256 is not the expected {sha256}; "
                            f"delete it (or move it away) and download again")
    if not (isinstance(deadline, (int, float)) and deadline > 0):
        raise ValueError(f"`deadline` must be a number of seconds > 0, got {deadline!r}")
    part = dest.with_name(dest.name + ".part")
    give_up = time.monotonic() + deadline
    attempts_left = retries
    while True:
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have > size:  # not a prefix of the right file: start over
            part.unlink()
            have = 0
        if size is not None and have == size:
            break  # complete from an earlier run: only verify
        if time.monotonic() > give_up:  # e.g. a server that drops every connection slowly
            raise _too_slow(url, part, have, size, deadline)
        try:
            got = _transfer(url, part, have, size, progress, timeout, (give_up, deadline))
        except _Dropped as drop:
            if drop.received > 0 and attempts_left > 0:
                attempts_left -= 1
                continue  # resume at once from what arrived
            raise DownloadError(
                f"{url}: the connection dropped after {drop.total:,}"
                f"{'' if size is None else f' of {size:,}'} bytes ({drop.reason}); the part "
                f"is kept in {part}: run the same command again to resume") from None
        if got == "complete":
            break
    digest = _sha256(part)
    if digest != sha256:
        part.unlink()
        raise ChecksumError(f"{url}: SHA-256 mismatch: expected {sha256}, got {digest}; the "
                            f"download was corrupted or tampered with and has been deleted. "
                            f"Try again, or check the mirror ${MIRROR_ENV} if set")
    os.replace(part, dest)
    _fsync_dir(dest.parent)
    return dest


def _too_slow(url: str, part: Path, got: int, expected: int | None,
              seconds: float) -> DownloadError:
    """The deadline passed: delete the part file, and say how far the download got."""
    part.unlink(missing_ok=True)
    total = "" if expected is None else f" of {expected:,}"
    return DownloadError(f"{url}: not complete after {seconds:g} s (the deadline): {got:,}{total} "
                         f"bytes arrived; the server is too slow or drips bytes. The part file "
                         f"was deleted; try again later or from a mirror (${MIRROR_ENV})")


class _Dropped(Exception):
    def __init__(self, received: int, total: int, reason: str):
        super().__init__(reason)
        self.received, self.total, self.reason = received, total, reason


def _transfer(url: str, part: Path, have: int, size: int | None, progress: bool,
              timeout: float, deadline: tuple[float, float]) -> str:
    """One HTTP request appending to ``part`` from byte ``have``; returns ``"complete"``.
    ``deadline``: (monotonic time to give up at, the seconds it stands for)."""
    headers = {"User-Agent": "juanji", "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the part holds the whole file
            return "complete"
        raise DownloadError(f"{url}: the server answered HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        if have:  # it worked before: report as a drop so the part is kept and resumed later
            raise _Dropped(0, have, f"cannot reconnect: {getattr(err, 'reason', err)}") from None
        raise OfflineError(f"cannot reach {url}: {getattr(err, 'reason', err)}") from None
    with response:
        if have and response.status == 206:
            start = _range_start(response.headers.get("Content-Range", ""))
            if start != have:
                raise DownloadError(f"{url}: asked for bytes from {have}, the server sent a "
                                    f"range starting at {start}")
            mode = "ab"
        elif response.status == 200:
            have, mode = 0, "wb"  # the whole file (the server ignored or was not sent Range)
        else:
            raise DownloadError(f"{url}: unexpected HTTP status {response.status}")
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length and length.isdigit() else size
        bar = _bar(size if size is not None else expected, have, part.name, progress)
        received = 0
        try:
            with open(part, mode) as out:
                while True:
                    try:
                        # read1: what one receive brings, so a dripping server is seen per drip
                        # (read(n) would wait for all n bytes, past any deadline)
                        chunk = response.read1(CHUNK)
                    except (OSError, ValueError) as err:  # reset, timeout, IncompleteRead
                        raise _Dropped(received, have + received, type(err).__name__) from None
                    if not chunk:
                        break
                    if time.monotonic() > deadline[0]:
                        out.close()
                        raise _too_slow(url, part, have + received, expected, deadline[1])
                    out.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                    if size is not None and have + received > size:
                        out.close()
                        part.unlink()
                        raise DownloadError(f"{url}: the server sent more than the expected "
                                            f"{size:,} bytes; the part file was deleted")
                out.flush()
                os.fsync(out.fileno())
        finally:
            if bar is not None:
                bar.close()
    if expected is not None and have + received < expected:
        # http.client ends a short body quietly when the peer closes: that is a drop too.
        raise _Dropped(received, have + received, "the server closed the connection early")
    return "complete"


def _range_start(content_range: str) -> int | None:
    """``"bytes 100-199/200"`` -> 100."""
    try:
        unit, spec = content_range.split(" ", 1)
        return int(spec.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


def _bar(total, initial: int, desc: str, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with the `cli` extra; downloads work without it
        return None
    return tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True,
                unit_divisor=1024, file=sys.stderr, dynamic_ncols=True)


def _content_sha256(path: Path) -> str | None:
    """SHA-256 of a gzip file's decompressed bytes; None when it is not a readable gzip file."""
    import gzip
    import zlib
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except (OSError, EOFError, zlib.error):
        return None
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- unpacking ------------------------------------------------------------------------------------

def _unpack_cifar10(archive: Path, target: Path) -> None:
    """Copy the known members of the verified archive into ``target``, then drop the archive."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member_name in CIFAR10_MEMBERS:
                try:
                    member = tar.getmember(f"{CIFAR10_FOLDER}/{member_name}")
                except KeyError:
                    raise DownloadError(f"{archive}: no {CIFAR10_FOLDER}/{member_name} inside; "
                                        f"is this the CIFAR-10 binary release?") from None
                if not member.isfile():
                    raise DownloadError(f"{archive}: {member.name} is not a regular file")
                source = tar.extractfile(member)
                with source, atomic_open(target / member_name, "wb") as out:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        out.write(block)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DownloadError(f"{archive}: cannot unpack ({err})") from None
    archive.unlink()  # 170 MB that is now unpacked; the members are what the reader uses


def _remotes(name: str) -> tuple[Remote, ...]:
    if name not in REMOTES:
        raise ValueError(f"`name` must be one of {list(DOWNLOADABLE)} (the data sets juanji "
                         f"may download), got {name!r}")
    return REMOTES[name]
