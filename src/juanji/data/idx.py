"""`read_idx`: the IDX format of MNIST and Fashion-MNIST, read safely into a NumPy array.

An IDX file is a header followed by the raw values, all big-endian::

    bytes 0-1   0x00 0x00                    (magic)
    byte  2     dtype code                   (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                              0x0D float32, 0x0E float64)
    byte  3     ndim                         (number of dimensions)
    then        ndim x uint32                (the sizes, big-endian)
    then        prod(sizes) x itemsize bytes (the values, row-major)

The header is untrusted: the data length it claims is compared with what the file can actually
provide *before* any buffer of that size is allocated (for a raw file: its size on disk; for a
gzip file, whose unpacked size is unknown until read: the buffer grows chunk by chunk only as
the stream delivers bytes). A 100-byte file claiming a billion images is refused at once, and so
a gzip file that expands past ``MAX_GZIP_RATIO`` times its compressed size (beyond a 48 MiB
floor), read no further than that: real IDX files expand ~5x, decompression bombs ~1000x.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

# IDX dtype code -> (big-endian NumPy dtype, human name).
IDX_DTYPES = {
    0x08: (">u1", "uint8"),
    0x09: (">i1", "int8"),
    0x0B: (">i2", "int16"),
    0x0C: (">i4", "int32"),
    0x0D: (">f4", "float32"),
    0x0E: (">f8", "float64"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# Reads from a stream start at 64 KiB and double with the data received, up to 4 MiB, so what
# is allocated stays within about twice what the stream has actually delivered.
_FIRST_CHUNK, _MAX_CHUNK = 1 << 16, 1 << 22
# A gzip IDX may expand to at most max(48 MiB, 100 x its compressed size). The floor is under the
# readers' 64 MiB (docs/reliability.md): growing the buffer to it costs ~1.3x in passing (found by
# the structured fuzzer: a 112 KB file claiming 1 GiB peaked at 84 MiB with a 64 MiB floor).
MAX_GZIP_RATIO, _GZIP_FLOOR = 100, 48 << 20


class IdxFormatError(ValueError):
    """The file is not a well-formed IDX file (or not a well-formed gzip of one)."""


def read_idx(path) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into a writable native-endian array.

    Compression is detected from the content (gzip magic ``1f 8b``), not the name: browsers
    often unpack ``*.gz`` downloads but keep the suffix.

    Args:
        path: str or os.PathLike.
    Returns:
        ndarray of the header's dtype and shape, e.g. uint8 ``(60000, 28, 28)`` for images,
        uint8 ``(60000,)`` for labels.
    Raises:
        FileNotFoundError if ``path`` does not exist; IdxFormatError (a ValueError) naming the
        path for a wrong magic, an unknown dtype code, a truncated file, trailing bytes, or a
        corrupt gzip stream.

    >>> import tempfile, os
    >>> header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "tiny-idx2-ubyte")
    ...     _ = open(p, "wb").write(header + bytes(range(6)))
    ...     a = read_idx(p)
    >>> a.shape, a.dtype, a[1].tolist()
    ((2, 3), dtype('uint8'), [3, 4, 5])
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_stream(raw, path, os.fstat(raw.fileno()).st_size)
        limit = max(_GZIP_FLOOR, MAX_GZIP_RATIO * os.fstat(raw.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, path, None, limit)
        except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
            raise IdxFormatError(f"{path}: corrupt gzip stream ({err})") from err


def _read_stream(f, path: Path, file_size: int | None, limit: int = 0) -> np.ndarray:
    """Parse header and data from ``f``; ``file_size`` is the byte count, None if unknown (gzip),
    and then the stream is read no further than ``limit`` bytes."""
    head = _read_upto(f, 4)
    if len(head) < 4:
        raise IdxFormatError(f"{path}: truncated: {len(head)} bytes, shorter than the 4-byte magic")
    if head[:2] != b"\x00\x00":
        twice = head[:2] == _GZIP_MAGIC
        hint = " (the data inside the gzip is gzip-compressed again)" if twice else ""
        raise IdxFormatError(
            f"{path}: wrong magic: the first two bytes are 0x{head[0]:02x} 0x{head[1]:02x}, "
            f"an IDX file starts with 0x00 0x00{hint}"
        )
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} {n}" for c, (_, n) in IDX_DTYPES.items())
        raise IdxFormatError(f"{path}: unknown IDX dtype code 0x{code:02X}; known: {known}")
    if ndim == 0:
        raise IdxFormatError(f"{path}: the header declares 0 dimensions; IDX arrays have >= 1")
    dims_raw = _read_upto(f, 4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise IdxFormatError(
            f"{path}: truncated header: {ndim} dimensions need {4 * ndim} bytes of sizes, "
            f"got {len(dims_raw)}"
        )
    dims = struct.unpack(f">{ndim}I", dims_raw)
    dtype = np.dtype(IDX_DTYPES[code][0])
    n_bytes = math.prod(dims) * dtype.itemsize  # Python int: cannot overflow
    claim = f"the header claims shape {dims} of {IDX_DTYPES[code][1]} = {n_bytes} bytes of data"

    if file_size is not None:
        available = file_size - 4 - 4 * ndim
        if n_bytes > available:  # refuse before allocating anything of the claimed size
            raise IdxFormatError(f"{path}: truncated or corrupt: {claim}, the file has {available}")
        if n_bytes < available:
            raise IdxFormatError(
                f"{path}: {available - n_bytes} trailing bytes after the data: {claim}, "
                f"the file has {available}"
            )
        buf = bytearray(n_bytes)  # bounded by the file's real size, checked above
        got = f.readinto(buf)
        if got != n_bytes:  # the file shrank while we read it
            raise IdxFormatError(f"{path}: truncated: {claim}, read {got}")
    else:
        # One byte past the claim: reading it also drives gzip to its end, where it checks the
        # CRC, and tells trailing data apart from an exact fit. Never more than the bomb limit.
        buf = _read_upto(f, min(n_bytes, limit) + 1)
        if len(buf) > limit:
            raise IdxFormatError(
                f"{path}: {claim}, but a gzip file of this size expanding past {limit} bytes "
                f"(over {MAX_GZIP_RATIO}x) is a decompression bomb; refused")
        if len(buf) < n_bytes:
            raise IdxFormatError(
                f"{path}: truncated or corrupt: {claim}, the stream has {len(buf)}")
        if len(buf) > n_bytes:
            raise IdxFormatError(
                f"{path}: trailing bytes after the data: {claim}, the stream has more")

    flat = np.frombuffer(buf, dtype=dtype, count=n_bytes // dtype.itemsize)  # (prod(dims),)
    # Big-endian -> native (a no-op for one-byte types, whose frombuffer view stays writable).
    flat = flat.astype(dtype.newbyteorder("="), copy=False)
    return flat.reshape(dims)  # (d0, d1, ...)


def _read_upto(f, n: int) -> bytearray:
    """Read up to ``n`` bytes, allocating only as the stream delivers them (growing chunks)."""
    out = bytearray()
    while len(out) < n:
        chunk = min(max(_FIRST_CHUNK, len(out)), _MAX_CHUNK)
        piece = f.read(min(chunk, n - len(out)))
        if not piece:
            break
        out += piece
    return out
