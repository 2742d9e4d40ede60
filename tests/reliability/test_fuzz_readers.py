"""Fuzz every file reader (IDX, checkpoints, images, CIFAR binary and pickle, HDF5).

Short runs for CI: arbitrary bytes (also behind each format's magic, so they reach the header
parser), mutated valid files, and the hand-made attacks: decompression bombs, headers claiming
billions of images, and files that ask to run code. The checks are in ``fuzz_targets.run_reader``.
Long runs: ``python fuzz/run.py --minutes N``.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from juanji.data.safe_pickle import UnsafePickleError

from . import fuzz_targets as ft
from .support import count, prop_settings

MAGIC = {
    "idx": [b"\x00\x00\x08\x01", b"\x00\x00\x08\x03", b"\x00\x00\x0d\x02", b"\x1f\x8b\x08\x00"],
    "checkpoint": [b"PK\x03\x04", b"\x93NUMPY"],
    "image": [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM"],
    "folder-image": [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a"],
    "cifar-binary": [b""],
    "cifar-pickle": [b"\x80\x02}q\x00", b"\x80\x05\x95"],
    "hdf5": [b"\x89HDF\r\n\x1a\n"],
}


@functools.cache
def seeds(name):
    return ft.SEEDS[name]()


def record(name: str, outcome) -> None:
    count(f"fuzz {name}: inputs")
    if outcome.error is not None:
        count(f"fuzz {name}: refused with a clear error")


@pytest.mark.parametrize("name", sorted(ft.TARGETS))
def test_arbitrary_bytes_give_a_clear_error(name):
    @given(prefix=st.sampled_from(MAGIC[name]), body=st.binary(max_size=600))
    @prop_settings(0.5)
    def fuzz(prefix, body):
        record(name, ft.run_target(name, prefix + body))
    fuzz()


EDITS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**20), st.integers(0, 255)),
                 min_size=1, max_size=6)


@pytest.mark.parametrize("name", sorted(ft.TARGETS))
def test_mutated_valid_files_give_a_result_or_a_clear_error(name):
    @given(which=st.integers(0, 10), edits=EDITS)
    @prop_settings(0.5)
    def fuzz(which, edits):
        base = seeds(name)[which % len(seeds(name))]
        record(name, ft.run_target(name, ft.mutate(base, edits)))
    fuzz()


def test_the_seeds_are_read():
    """The mutation fuzzers start from files the readers accept."""
    for name in ft.TARGETS:
        for data in seeds(name):
            assert ft.run_target(name, data).error is None, name


# --- IDX ----------------------------------------------------------------------------------------

def idx_header(dims, code=0x08) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def gzip_bomb(header: bytes, gib: float) -> bytes:
    """A gzip stream: ``header`` then ``gib`` GiB of zeros, built from repeated 1 MiB members
    (gzip readers concatenate members), so building it costs nothing."""
    zeros = gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0)
    return gzip.compress(header, mtime=0) + zeros * int(gib * 1024)


@pytest.mark.parametrize("dims", [(4_000_000_000, 28, 28), (60000, 28, 28), (2**32 - 1,) * 3])
def test_idx_header_claiming_billions_of_images(dims):
    out = ft.run_target("idx", idx_header(dims) + bytes(100))
    assert "truncated or corrupt" in str(out.error) and out.peak < 1 << 20
    count("fuzz idx: bombs and huge claims")


@pytest.mark.parametrize("claimed_gib, delivered_gib", [(4, 1), (1, 1), (0.001, 1)])
def test_idx_gzip_decompression_bomb_stays_bounded(claimed_gib, delivered_gib):
    """A ~1 MiB gzip IDX expanding to 1 GiB: refused, and memory stays near the file's size."""
    n = int(claimed_gib * 2**30)
    data = gzip_bomb(idx_header((n // 1024, 1024)), delivered_gib)
    assert len(data) < 2 << 20
    out = ft.run_target("idx", data)  # checks peak <= 64 MiB + 120 x the file, not the claim
    message = "decompression bomb" if claimed_gib >= 1 else "trailing bytes"
    assert message in str(out.error)
    count("fuzz idx: bombs and huge claims")


# --- checkpoints --------------------------------------------------------------------------------

def npz_bytes(entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def npy_header(shape, descr="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("shape", [(10**9,), (2**62,), (10**5, 10**5, 10**5),
                                   (3_000_000_000, 784)])
def test_checkpoint_entry_claiming_a_huge_array(shape):
    data = npz_bytes({"__meta__.npy": npy_header(shape, "|u1") + bytes(100)})
    out = ft.run_target("checkpoint", data)
    assert "claims" in str(out.error) and out.peak < 1 << 20
    count("fuzz checkpoint: bombs and huge claims")


def test_checkpoint_deflate_bomb_stays_bounded():
    """A compressed .npz entry of 1 KiB that inflates to 256 MiB is refused before inflating."""
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("model/0.weight.npy", "w", force_zip64=True) as f:
            f.write(npy_header((256 << 20,), "|u1"))
            for _ in range(256):
                f.write(bytes(1 << 20))
    data = zbuf.getvalue()
    out = ft.run_target("checkpoint", data)
    assert "expands" in str(out.error) and out.peak < 16 << 20
    count("fuzz checkpoint: bombs and huge claims")


class _Canary:
    def __reduce__(self):
        return (ft.canary, ("code from a file ran",))


def test_checkpoint_with_a_pickle_inside_runs_nothing():
    payload = pickle.dumps(np.array([_Canary()], dtype=object))
    arr = io.BytesIO()
    np.save(arr, np.array([_Canary()], dtype=object), allow_pickle=True)
    for entry in (arr.getvalue(), payload):
        out = ft.run_target("checkpoint", npz_bytes({"model/0.weight.npy": entry}))
        assert out.error is not None and not ft.canary_tripped()
        count("fuzz checkpoint: code-execution attempts")


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 10**12) | st.floats() |
                    st.text(max_size=5), lambda c: st.lists(c, max_size=3) |
                    st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8)


@given(field=st.sampled_from(["epoch", "input_shape", "architecture", "optimizer", "scheduler",
                              "normalizer", "rng_state", "model_rng", "metrics", "extra",
                              "class_names", "version", "format"]), value=JSON)
@prop_settings(0.5)
def test_checkpoint_with_fuzzed_metadata_gives_a_clear_error(field, value):
    """A structurally valid .npz whose JSON metadata has a field of any JSON type."""
    arrays = dict(np.load(io.BytesIO(seeds("checkpoint")[0]), allow_pickle=False))
    meta = json.loads(arrays["__meta__"].tobytes())
    meta[field] = value
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    record("checkpoint", ft.run_target("checkpoint", buf.getvalue()))


@given(layer=st.integers(0, 5), key=st.sampled_from(["type", "filters", "kernel_size", "stride",
                                                      "padding", "units", "p", "momentum"]),
       value=JSON)
@prop_settings(0.5)
def test_checkpoint_with_fuzzed_architecture_gives_a_clear_error(layer, key, value):
    arrays = dict(np.load(io.BytesIO(seeds("checkpoint")[0]), allow_pickle=False))
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["architecture"]["layers"][layer][key] = value
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    record("checkpoint", ft.run_target("checkpoint", buf.getvalue()))


# --- images -------------------------------------------------------------------------------------

def png_claiming(width: int, height: int, mode: int = 0) -> bytes:
    """A PNG whose header claims width x height pixels, with a tiny zero IDAT (a pixel bomb)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("width, height", [(100_000, 100_000), (30_000, 10_000), (12_000, 9_000),
                                           (2**31 - 1, 1)])
@pytest.mark.parametrize("target", ["image", "folder-image"])
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # expected: then refused
def test_image_pixel_bombs_are_refused_with_bounded_memory(target, width, height):
    out = ft.run_target(target, png_claiming(width, height))
    assert out.error is not None
    count(f"fuzz {target}: bombs and huge claims")


@pytest.mark.parametrize("target", ["image", "folder-image"])
def test_png_chunk_claiming_784_mib_stays_bounded(target):
    """Found by atheris: a 5x4 PNG whose IDAT length reads 0x31000004 made Pillow's read(n) on
    the file allocate 784 MiB. The loaders now read the file's bytes first."""
    data = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000050000000408020000"
                         "00c95162173100000449444154789c63640049454e44e5426082")
    out = ft.run_target(target, data)
    assert out.error is not None and out.peak < 32 << 20
    count(f"fuzz {target}: bombs and huge claims")


def test_png_zlib_bomb_stays_bounded():
    """A 4000x4000 PNG (16 MP, under Pillow's pixel limit) whose IDAT is a zlib bomb."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    raw = zlib.compress(bytes(4001 * 4000), 9)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4000, 4000, 8, 0, 0,
                                                                0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    out = ft.run_target("image", data)
    assert out.error is None or isinstance(out.error, ValueError)
    count("fuzz image: bombs and huge claims")


# --- CIFAR pickles: never run code --------------------------------------------------------------

@pytest.mark.parametrize("payload", [
    pickle.dumps(_Canary()),
    pickle.dumps({"data": _Canary(), "labels": [0]}),
    b"cos\nsystem\n(S'echo pwned'\ntR.",
    b"cbuiltins\neval\n(S'1+1'\ntR.",
    b"ctests.reliability.fuzz_targets\ncanary\n(S'x'\ntR.",
    b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06getpid\x93)R.",
])
def test_cifar_pickle_that_asks_to_run_code_is_refused(payload):
    out = ft.run_target("cifar-pickle", payload)
    assert out.error is not None and not ft.canary_tripped()
    assert "refused" in str(out.error)
    count("fuzz cifar-pickle: code-execution attempts")


@pytest.mark.parametrize("opcode, claim", [(b"\x8e", 1 << 40), (b"\x8e", 1 << 33),
                                           (b"B", (1 << 31) - 1), (b"X", 1 << 30)])
def test_cifar_pickle_claiming_huge_bytes_stays_bounded(opcode, claim):
    """BINBYTES8 / BINBYTES / BINUNICODE claiming up to 1 TiB, followed by 10 bytes."""
    size = struct.pack("<Q" if opcode == b"\x8e" else "<I", claim)
    data = b"\x80\x04" + opcode + size + bytes(10)
    out = ft.run_target("cifar-pickle", data)
    assert out.error is not None and out.peak < 16 << 20
    count("fuzz cifar-pickle: bombs and huge claims")


def test_cifar_pickle_with_a_huge_memo_index_is_refused_before_allocating():
    """Found by atheris (libFuzzer's RSS limit; the C unpickler's memo array is not traced): a
    6 KB pickle with LONG_BINPUT 680825748 grew the memo to 5 GB."""
    data = b"\x80\x02}r" + struct.pack("<I", 680_825_748) + b"."
    out = ft.run_target("cifar-pickle", data)
    assert "memo index 680825748" in str(out.error)
    count("fuzz cifar-pickle: bombs and huge claims")


def test_cifar_pickle_hitting_a_numpy_internal_error_is_a_clear_error():
    """Found by atheris: a mutated batch whose dtype BUILD (alignment 255, flags 0xffffff) made
    NumPy's __setstate__ raise RuntimeError ("get_clear_loop not set") and then SystemError.
    The dtype's BUILD now never reaches NumPy: only NumPy's own state for 'u1' is accepted."""
    data = (Path(__file__).parent / "findings" / "cifar-pickle-e99f99c708f94f5d.bin").read_bytes()
    out = ft.run_target("cifar-pickle", data)
    assert isinstance(out.error, UnsafePickleError), out.error
    assert "refused a BUILD of numpy.dtype('|u1')" in str(out.error)
    count("fuzz cifar-pickle: inputs")


@pytest.mark.parametrize("padding", [1005, 30_000])
def test_checkpoint_whose_architecture_would_allocate_gigabytes_is_refused_first(padding):
    """Found by the fuzzed-architecture property in CI: a padding of 30000 in a 3.6 KB
    checkpoint's JSON made its Dense layer 1.8e9 inputs wide, and rebuilding the model allocated
    (and filled) 21.6 GB until the worker was killed. The stored weights bound what may be built."""
    arrays = dict(np.load(io.BytesIO(seeds("checkpoint")[0]), allow_pickle=False))
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["architecture"]["layers"][0]["padding"] = padding
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    out = ft.run_target("checkpoint", buf.getvalue())
    assert "cannot rebuild the stored architecture" in str(out.error)
    assert "parameter values" in str(out.error)
    assert f"more than the {55 + (1 << 20):,} allowed" in str(out.error)  # 55 stored + slack
    assert out.peak < 1 << 20
    count("fuzz checkpoint: bombs and huge claims")
