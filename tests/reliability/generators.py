"""Structure-aware generators of hostile files, one per reader: each draws a file that is valid in
its outer structure (so it reaches deep into the reader) with one or more hostile features.

``GENERATORS[target](rng) -> (feature, bytes)``, ``target`` a key of ``fuzz_targets.TARGETS``;
``rng`` a ``random.Random``. Used by ``test_adversarial.py`` (a few dozen cases per reader, each
in a forked child under a memory and time cap) and by ``fuzz/run.py --engine structured``.

- pickle: opcode programs built from the globals a CIFAR pickle may name and ones it may not,
  REDUCE/BUILD with shapes, dtypes and states drawn from edge values, deep nesting, memo indices
  and length fields claiming more than the file;
- HDF5 (built with h5py): external storage, virtual datasets, external/soft links, declared
  shapes beyond the file, gzip-compressed chunks of zeros, variable-length and compound dtypes,
  groups where arrays belong;
- zip (checkpoints): extra entries, deflated entries inflating 1000x, ``.npy`` headers claiming
  other sizes, metadata JSON nested deep, huge ``input_shape``, wrong types;
- IDX: type codes, dimension counts and sizes claiming far more than the file, gzip bombs;
- images: PNG/GIF/BMP/JPEG/WebP headers claiming huge or zero sizes, chunk lengths beyond the
  file, other formats (PostScript, TIFF, PSD) under an image's name.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import fuzz_targets as ft

EDGE_INTS = (0, 1, 2, 3072, 2**16, 2**31 - 1, 2**31, 2**32 + 1, 2**63 - 1, 2**70, -1)


# --- pickle ----------------------------------------------------------------------------------

def _p_int(v: int) -> bytes:
    return b"I%d\n" % v  # protocol-0 INT: any size


def _p_global(rng) -> bytes:
    name = rng.choice([
        ("numpy._core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy._core.numeric", "_frombuffer"), ("_codecs", "encode"), ("os", "system"),
        ("builtins", "eval"), ("numpy", "frombuffer"), ("numpy.lib.format", "read_array"),
        ("builtins", "getattr"), ("numpy", "load"), ("subprocess", "Popen"),
        ("tests.reliability.fuzz_targets", "canary")])
    return b"c%s\n%s\n" % (name[0].encode(), name[1].encode())


def _p_dtype(rng) -> bytes:
    code = rng.choice(["u1", "i8", "f4", "O", "O8", "V4", "S3", "u1,u1", "(2,)u1", "M8", "?"])
    return b"cnumpy\ndtype\n(V%s\nI00\nI01\ntR" % code.encode()


def _p_dtype_state(rng) -> bytes:
    order = rng.choice(["|", "<", ">", "=", "x", ""])
    elsize, align, flags = (rng.choice([-1, 0, 1, 4, 255, 2**31]) for _ in range(3))
    return b"(I3\nV%s\nNNN%s%s%stb" % (order.encode(), _p_int(elsize), _p_int(align),
                                        _p_int(flags))


def _p_array(rng) -> bytes:
    """_reconstruct(ndarray, (0,), b'b') then a BUILD with a drawn state."""
    shape = tuple(rng.choice(EDGE_INTS) for _ in range(rng.choice([0, 1, 2, 2, 3, 40])))
    nbytes = rng.choice([0, 1, 3072, 6144, 100])
    dtype = _p_dtype(rng) + (_p_dtype_state(rng) if rng.random() < 0.5 else b"")
    state = (b"(I1\n(" + b"".join(_p_int(d) for d in shape) + b"t" + dtype
             + rng.choice([b"I00\n", b"I01\n", b"N"]) + b"V" + b"a" * nbytes + b"\ntb")
    head = (b"cnumpy._core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I0\ntVb\ntR")
    return head + (state if rng.random() < 0.9 else b"") + (state if rng.random() < 0.1 else b"")


def pickle_case(rng) -> tuple[str, bytes]:
    kind = rng.choice(["array", "global-call", "deep", "memo", "claim", "dtype", "frombuffer"])
    if kind == "array":
        body = _p_array(rng)
    elif kind == "global-call":
        body = _p_global(rng) + b"(" + rng.choice([b"Vecho hi\n", b"I1\n", b""]) + b"tR"
    elif kind == "deep":
        n = rng.choice([1000, 20_000])  # 200 000: test_attacks.py
        return kind, b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b"."
    elif kind == "memo":
        return kind, b"\x80\x02}r" + struct.pack("<I", rng.choice([2**31, 680_825_748])) + b"."
    elif kind == "claim":
        op = rng.choice([b"\x8e", b"B", b"X", b"\x96"])  # BINBYTES8, BINBYTES, BINUNICODE, ...
        wide = op in (b"\x8e", b"\x96")  # 8-byte length fields
        size = struct.pack("<Q" if wide else "<I", 2**rng.choice([31, 40]) if wide else 2**31)
        return kind, b"\x80\x05" + op + size + bytes(rng.choice([0, 10]))
    elif kind == "dtype":
        body = _p_dtype(rng) + _p_dtype_state(rng)
    else:
        shape = b"(" + b"".join(_p_int(rng.choice(EDGE_INTS)) for _ in range(2)) + b"t"
        body = (b"cnumpy._core.numeric\n_frombuffer\n(V" + b"a" * rng.choice([0, 6144])
                + b"\n" + _p_dtype(rng) + shape + b"VC\ntR")
    return kind, b"(dVdata\n" + body + b"sVlabels\n(lI0\nas."


# --- HDF5 ------------------------------------------------------------------------------------

def h5_case(rng) -> tuple[str, bytes]:
    import h5py
    kind = rng.choice(["external", "external-fifo", "virtual", "external-link", "soft-link",
                       "claim", "bomb", "vlen", "compound", "group", "plain"])
    with tempfile.TemporaryDirectory() as d:
        p, other = Path(d) / "t.h5", Path(d) / "other.h5"
        with h5py.File(other, "w") as g:
            g["x"] = np.ones((2, 4, 4, 3), np.uint8)
        secret = Path(d) / "secret"
        secret.write_bytes(b"root:x:0:0\n" * 20)
        fifo = Path(d) / "fifo"
        os.mkfifo(fifo)
        with h5py.File(p, "w") as f:
            if kind in ("external", "external-fifo"):
                target = fifo if kind == "external-fifo" else secret
                f.create_dataset("train_set_x", (1, 4, 4, 3), "u1",
                                 external=[(str(target), 0, 48)])
            elif kind == "virtual":
                layout = h5py.VirtualLayout((2, 4, 4, 3), "u1")
                layout[:] = h5py.VirtualSource(str(other), "x", shape=(2, 4, 4, 3))
                f.create_virtual_dataset("train_set_x", layout)
            elif kind == "external-link":
                f["train_set_x"] = h5py.ExternalLink(str(rng.choice([other, fifo, secret])), "/x")
            elif kind == "soft-link":
                f["elsewhere"] = np.zeros((2, 4, 4, 3), np.uint8)
                f["train_set_x"] = h5py.SoftLink(rng.choice(["/elsewhere", "/nowhere"]))
            elif kind == "claim":  # declared, never written: a sparse chunked dataset
                side = rng.choice([2**12, 2**15])
                f.create_dataset("train_set_x", (side, side, 64, 3), "u1", chunks=(1, 1, 64, 3))
            elif kind == "bomb":
                f.create_dataset("train_set_x", data=np.zeros((400, 64, 64, 3), np.uint8),
                                 compression="gzip", compression_opts=9, chunks=True)
            elif kind == "vlen":
                f.create_dataset("train_set_x", (2,), dtype=h5py.vlen_dtype(np.uint8))
            elif kind == "compound":
                f["train_set_x"] = np.zeros(2, dtype=[("a", "u1"), ("b", "f8")])
            elif kind == "group":
                f.create_group("train_set_x")
            else:
                f["train_set_x"] = np.zeros((2, 4, 4, 3), np.uint8)
            f["train_set_y"] = np.array([0, 1])
            f["list_classes"] = np.arange(rng.choice([0, 2, 6]))
        return kind, p.read_bytes()


# --- zip (checkpoints) -----------------------------------------------------------------------

_CHECKPOINT = []


def _npy(array=None, header=None, extra=b"") -> bytes:
    buf = io.BytesIO()
    if header is not None:
        np.lib.format.write_array_header_1_0(buf, header)
        return buf.getvalue() + extra
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue() + extra


def checkpoint_case(rng) -> tuple[str, bytes]:
    if not _CHECKPOINT:
        _CHECKPOINT.append(ft.checkpoint_bytes())
    with zipfile.ZipFile(io.BytesIO(_CHECKPOINT[0])) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    meta = json.loads(np.load(io.BytesIO(entries["__meta__.npy"])).tobytes())
    kind = rng.choice(["extra-entry", "inflating-entries", "header-claim", "deep-json",
                       "input-shape", "wrong-type", "object-entry", "duplicate", "plain"])
    deflate = set()
    if kind == "extra-entry":
        entries[rng.choice(["junk.npy", "optim/x.npy", "../../etc/passwd", "model/9.w.npy"])] = \
            _npy(np.zeros(rng.choice([3, 1 << 20]), np.uint8))
    elif kind == "inflating-entries":
        for i in range(rng.choice([1, 3])):
            name = f"{rng.choice(['junk', 'model/0.weight', '__meta__'])}{i}.npy"
            entries[name] = _npy(header={"descr": "|u1", "fortran_order": False,
                                         "shape": (8 << 20,)}, extra=bytes(8 << 20))
            deflate.add(name)
    elif kind == "header-claim":
        name = rng.choice([n for n in entries if n != "__meta__.npy"])
        entries[name] = _npy(header={"descr": "<f4", "fortran_order": False,
                                     "shape": (rng.choice(EDGE_INTS[1:-1]),) * 2})
    elif kind == "deep-json":
        depth = rng.choice([100, 200_000])
        text = json.dumps({**meta, "extra": "@"}).replace('"@"', "[" * depth + "]" * depth)
        entries["__meta__.npy"] = _npy(np.frombuffer(text.encode(), np.uint8))
    elif kind in ("input-shape", "wrong-type"):
        if kind == "input-shape":
            meta["input_shape"] = [rng.choice([60000, 2**31, 1]) for _ in range(3)]
            if rng.random() < 0.5:
                meta["architecture"]["input_shape"] = meta["input_shape"]
        else:
            key = rng.choice(["epoch", "input_shape", "architecture", "optimizer", "dataset"])
            meta[key] = rng.choice([None, "x", 1e300, [[]], {"a": 1}, -1, True])
        entries["__meta__.npy"] = _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))
    elif kind == "object-entry":
        entries["model/0.weight.npy"] = _npy(header={"descr": "|O", "fortran_order": False,
                                                     "shape": (2,)}, extra=b"\x80\x02N.")
    elif kind == "duplicate":
        entries["__meta__.npy "] = entries["__meta__.npy"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data, zipfile.ZIP_DEFLATED if name in deflate
                       else zipfile.ZIP_STORED)
    return kind, buf.getvalue()


# --- IDX -------------------------------------------------------------------------------------

def idx_case(rng) -> tuple[str, bytes]:
    kind = rng.choice(["claim", "type-code", "ndim", "gzip-bomb", "short", "plain"])
    code, dims, body = 0x08, [3, 4, 5], bytes(60)
    if kind == "claim":
        dims = [rng.choice([2**31 - 1, 2**32 - 1, 60000]), 28, 28]
    elif kind == "type-code":
        code = rng.choice([0x00, 0x07, 0x0A, 0x0C, 0x0E, 0xFF])
    elif kind == "ndim":
        dims = [1] * rng.choice([0, 200, 255])
        body = b"\0"
    elif kind == "short":
        body = body[:rng.choice([0, 1, 59])]
    header = bytes([0, 0, code, len(dims) % 256]) + b"".join(struct.pack(">I", d) for d in dims)
    data = header + body
    if kind == "gzip-bomb":
        raw = bytes([0, 0, 8, 1]) + struct.pack(">I", 1 << 30)
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        out = [comp.compress(raw)]
        chunk = bytes(1 << 20)
        for _ in range(rng.choice([80, 300])):
            out.append(comp.compress(chunk))
        data = b"".join(out) + comp.flush()
    elif rng.random() < 0.3:
        data = gzip.compress(data, mtime=0)
    return kind, data


# --- images ----------------------------------------------------------------------------------

def _png_chunk(kind: bytes, data: bytes, length: int | None = None) -> bytes:
    n = len(data) if length is None else length
    return struct.pack(">I", n) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def image_case(rng) -> tuple[str, bytes]:
    kind = rng.choice(["png-size", "png-chunk-length", "gif-size", "bmp-size", "jpeg-size",
                       "webp-size", "postscript", "tiff", "psd", "plain"])
    big = rng.choice([0, 1, 2**16 - 1, 2**31 - 1, 100_000])
    if kind == "png-size":
        ihdr = struct.pack(">IIBBBBB", big, rng.choice([big, 1]), 8, 2, 0, 0, 0)
        idat = zlib.compress(bytes(64))
        return kind, (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                      + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))
    if kind == "png-chunk-length":
        ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
        return kind, (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                      + _png_chunk(rng.choice([b"IDAT", b"zTXt", b"iCCP"]), b"x" * 8,
                                   length=rng.choice([2**31 - 1, 784 << 20])))
    if kind == "gif-size":
        return kind, (b"GIF89a" + struct.pack("<HHBBB", big & 0xFFFF, big & 0xFFFF, 0x80, 0, 0)
                      + bytes(6) + b"," + struct.pack("<HHHHB", 0, 0, big & 0xFFFF,
                                                      big & 0xFFFF, 0) + b"\x02\x02\x44\x01\x00;")
    if kind == "bmp-size":
        w, h = big, rng.choice([big, -big, 1])
        info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 0, 0, 0, 0)
        return kind, b"BM" + struct.pack("<IHHI", 54 + 16, 0, 0, 54) + info + bytes(16)
    if kind == "jpeg-size":
        base = bytearray(ft.image_bytes("JPEG"))
        at = base.find(b"\xff\xc0")
        if at > 0:
            base[at + 5:at + 9] = struct.pack(">HH", big & 0xFFFF, big & 0xFFFF)
        return kind, bytes(base)
    if kind == "webp-size":
        vp8l = b"\x2f" + struct.pack("<I", (big & 0x3FFF) | ((big & 0x3FFF) << 14))
        body = b"WEBP" + b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
        return kind, b"RIFF" + struct.pack("<I", len(body)) + body
    if kind == "postscript":
        return kind, b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n%%EOF\n"
    if kind == "tiff":
        return kind, b"II*\x00" + struct.pack("<I", 8) + bytes(64)
    if kind == "psd":
        return kind, b"8BPS\x00\x01" + bytes(6) + struct.pack(">HIIHH", 3, big, big, 8, 3)
    return kind, ft.image_bytes(rng.choice(["PNG", "JPEG", "GIF", "BMP"]))


GENERATORS = {
    "cifar-pickle": pickle_case,
    "hdf5": h5_case,
    "checkpoint": checkpoint_case,
    "idx": idx_case,
    "image": image_case,
    "folder-image": image_case,
}
