"""read_idx: every dtype and rank, raw and gzip, and every way a file can be broken."""

import gzip
import time
import tracemalloc

import numpy as np
import pytest

from juanji.data import IdxFormatError, read_idx
from tests.data.idx_writer import CODES, idx_bytes, write_idx

SHAPES = [(7,), (3, 4, 5), (2, 3), (0, 28, 28), (1, 1, 1, 2)]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", list(CODES))
def test_round_trip(tmp_path, dtype, shape, gz):
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    else:
        a = rng.standard_normal(shape).astype(dtype)
    got = read_idx(write_idx(tmp_path / "a.idx", a, gz=gz))
    assert got.dtype == np.dtype(dtype)  # native byte order, so == the plain dtype
    assert got.dtype.isnative and got.flags.writeable
    assert got.shape == shape
    np.testing.assert_array_equal(got, a)


@pytest.mark.parametrize("code,payload,expected", [
    (0x08, b"\x01\xff", [1, 255]),
    (0x09, b"\x01\xff", [1, -1]),
    (0x0B, b"\x01\x02\xff\xfe", [258, -2]),                  # big-endian int16
    (0x0C, b"\x00\x01\x00\x00\xff\xff\xff\xff", [65536, -1]),
    (0x0D, b"\x3f\x80\x00\x00\xc0\x00\x00\x00", [1.0, -2.0]),  # IEEE big-endian float32
    (0x0E, b"\x3f\xf0" + bytes(6) + b"\xc0\x00" + bytes(6), [1.0, -2.0]),
])
def test_hand_written_bytes(tmp_path, code, payload, expected):
    """Bytes written by hand, so the expected values do not come from any code under test."""
    p = tmp_path / "h.idx"
    p.write_bytes(bytes([0, 0, code, 1]) + (2).to_bytes(4, "big") + payload)
    assert read_idx(p).tolist() == expected


def test_gzip_detected_by_content_not_name(tmp_path):
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    p = tmp_path / "unpacked-by-a-browser.gz"
    write_idx(p, a, gz=False)  # raw bytes under a .gz name
    np.testing.assert_array_equal(read_idx(p), a)
    q = tmp_path / "no-suffix"
    write_idx(q, a, gz=True)  # gzip without the suffix
    np.testing.assert_array_equal(read_idx(str(q)), a)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path, gz):
    data = idx_bytes(np.zeros((4, 3, 3), np.uint8))[:-1]
    p = tmp_path / "t.idx"
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(IdxFormatError, match=r"truncated.*\(4, 3, 3\).*36 bytes.* 35"):
        read_idx(p)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("data,match", [
    (b"", r"truncated: 0 bytes"),
    (b"\x00\x00", r"truncated: 2 bytes"),
    (bytes([0, 0, 8, 3]) + bytes(8), r"truncated header: 3 dimensions need 12 bytes.*got 8"),
])
def test_truncated_header(tmp_path, gz, data, match):
    p = tmp_path / "h.idx"
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(IdxFormatError, match=match):
        read_idx(p)


@pytest.mark.parametrize("gz", [False, True])
def test_wrong_magic(tmp_path, gz):
    data = b"\x01\x00" + idx_bytes(np.zeros(3, np.uint8))[2:]
    p = tmp_path / "m.idx"
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(IdxFormatError, match=r"wrong magic.*0x01 0x00.*0x00 0x00"):
        read_idx(p)


def test_gzip_inside_gzip_is_named(tmp_path):
    p = tmp_path / "twice.gz"
    p.write_bytes(gzip.compress(gzip.compress(idx_bytes(np.zeros(3, np.uint8)))))
    with pytest.raises(IdxFormatError, match="wrong magic.*gzip-compressed again"):
        read_idx(p)


@pytest.mark.parametrize("code", [0x00, 0x07, 0x0A, 0x0F, 0xFF])
def test_unknown_dtype_code(tmp_path, code):
    p = tmp_path / "c.idx"
    p.write_bytes(bytes([0, 0, code, 1]) + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(IdxFormatError, match=f"unknown IDX dtype code 0x{code:02X}.*0x08 uint8"):
        read_idx(p)


def test_zero_dimensions(tmp_path):
    p = tmp_path / "z.idx"
    p.write_bytes(bytes([0, 0, 8, 0]) + b"\x05")
    with pytest.raises(IdxFormatError, match="0 dimensions"):
        read_idx(p)


@pytest.mark.parametrize("gz", [False, True])
def test_trailing_bytes(tmp_path, gz):
    data = idx_bytes(np.zeros((2, 2), np.uint8)) + b"\x00\x00\x00"
    p = tmp_path / "tr.idx"
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(IdxFormatError, match="trailing bytes"):
        read_idx(p)


@pytest.mark.parametrize("gz", [False, True])
def test_absurd_header_refused_without_allocating(tmp_path, gz):
    """10^9 images of 28x28 claimed (784 GB) in a tiny file: refused fast, nothing big allocated."""
    header = bytes([0, 0, 8, 3]) + (10**9).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    data = header + bytes(100 - len(header))
    p = tmp_path / "absurd.idx"
    p.write_bytes(gzip.compress(data) if gz else data)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(IdxFormatError, match=r"truncated or corrupt.*784000000000 bytes"):
            read_idx(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 1.0
    assert peak < 1 << 20, f"read_idx allocated {peak} bytes for a 100-byte file"


def test_gzip_allocation_grows_with_the_stream_not_the_header(tmp_path):
    """A gzip (size unknown until unpacked) of 3 MB claiming 784 GB: memory tracks the 3 MB."""
    header = bytes([0, 0, 8, 3]) + (10**9).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    p = tmp_path / "bomb.gz"
    p.write_bytes(gzip.compress(header + bytes(3 << 20)))
    tracemalloc.start()
    try:
        with pytest.raises(IdxFormatError, match="the stream has 3145728"):
            read_idx(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20


def _compressed(tmp_path):
    data = idx_bytes(np.random.default_rng(1).integers(0, 256, (20, 28, 28), dtype=np.uint8))
    return bytearray(gzip.compress(data, mtime=0)), tmp_path / "c.gz"


def test_corrupt_gzip_flipped_bytes(tmp_path):
    packed, p = _compressed(tmp_path)
    middle = len(packed) // 2
    packed[middle:middle + 16] = bytes(b ^ 0xFF for b in packed[middle:middle + 16])
    p.write_bytes(bytes(packed))
    with pytest.raises(IdxFormatError, match=f"{p.name}: corrupt gzip stream"):
        read_idx(p)


def test_corrupt_gzip_cut_short(tmp_path):
    packed, p = _compressed(tmp_path)
    p.write_bytes(bytes(packed[: len(packed) // 2]))
    with pytest.raises(IdxFormatError, match="corrupt gzip stream"):
        read_idx(p)


def test_corrupt_gzip_bad_crc(tmp_path):
    """The data inflates fine but the CRC in the trailer is wrong: only reading to the end sees it."""
    packed, p = _compressed(tmp_path)
    packed[-8] ^= 0xFF  # first byte of the CRC32
    p.write_bytes(bytes(packed))
    with pytest.raises(IdxFormatError, match="corrupt gzip stream.*CRC"):
        read_idx(p)


def test_idx_format_error_is_a_value_error():
    assert issubclass(IdxFormatError, ValueError)


def test_missing_file_and_bad_path_type(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")
    with pytest.raises(TypeError, match="`path` must be a str or os.PathLike, got int"):
        read_idx(3)
