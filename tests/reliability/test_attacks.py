"""Attacks from the adversarial review (issue 14), each reproduced with a small file built here
and checked to end in a clear error within a memory and time bound."""

from __future__ import annotations

import io
import pickle
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from juanji.checkpoint import CheckpointError, load_checkpoint
from juanji.data.cifar import CifarFormatError, read_cifar_python_batch
from juanji.data.folder import read_image
from juanji.data.safe_pickle import UnsafePickleError, safe_load


def _bounded(fn, max_bytes=64 << 20, max_seconds=5.0):
    """Run ``fn``; return its exception; assert the traced peak and the wall time."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - returned to the caller to check its kind
        caught = err
    else:
        caught = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < max_bytes, f"peak {peak} bytes"
    assert time.perf_counter() - t0 < max_seconds
    return caught


def test_pickle_calling_ndarray_directly_is_refused(tmp_path):
    # {'data': numpy.ndarray((200000, 3072), 'u1'), 'labels': []} in protocol 2: ~110 bytes
    blob = (b"\x80\x02}q\x00(X\x04\x00\x00\x00dataq\x01cnumpy\nndarray\nq\x02"
            b"J@\r\x03\x00M\x00\x0c\x86q\x03X\x02\x00\x00\x00u1q\x04\x86q\x05Rq\x06"
            b"X\x06\x00\x00\x00labelsq\x07]q\x08u.")
    path = tmp_path / "data_batch_1"
    path.write_bytes(blob)
    assert len(blob) < 120
    err = _bounded(lambda: safe_load(path))
    assert isinstance(err, UnsafePickleError) and "numpy.ndarray" in str(err), err


def test_real_array_pickles_still_load(tmp_path):
    for proto in (2, 4, 5):
        path = tmp_path / f"b{proto}"
        data = np.arange(2 * 3072).astype(np.uint8).reshape(2, 3072)
        path.write_bytes(pickle.dumps({b"data": data, b"labels": [0, 1],
                                       b"filenames": [b"a.png", b"b.png"]}, proto))
        x, y = read_cifar_python_batch(path)
        assert x.shape == (2, 32, 32, 3) and y.tolist() == [0, 1]


def test_huge_label_is_a_clear_value_error(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": np.zeros((1, 3072), np.uint8),
                                   "labels": [2 ** 70]}, 2))
    err = _bounded(lambda: read_cifar_python_batch(path))
    assert isinstance(err, CifarFormatError) and "2" in str(err) and "outside" in str(err), err


def test_many_inflating_checkpoint_entries_are_refused_before_decompressing(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        # the review's file held 24 x 64 MiB; 3 x 32 MiB (each under the per-entry floor,
        # ~100 KB deflated in all) is past the total bound of 64 MiB + 100 x the file's size
        for i in range(3):
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": "|u1", "fortran_order": False, "shape": (32 << 20,)})
            with z.open(f"junk{i}.npy", "w", force_zip64=True) as f:
                f.write(header.getvalue())
                chunk = bytes(1 << 20)
                for _ in range(32):
                    f.write(chunk)
    assert path.stat().st_size < 1 << 20
    err = _bounded(lambda: load_checkpoint(path), max_seconds=10.0)
    assert isinstance(err, CheckpointError) and "decompression bomb" in str(err), err


def test_postscript_named_png_is_refused(tmp_path):
    path = tmp_path / "evil.png"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
                     b"(x) print showpage\n%%EOF\n")
    with pytest.raises(ValueError, match="cannot read image") as info:
        read_image(path, 8)
    # refused when identifying the format, before any plugin beyond the allow-list sees it
    assert "cannot identify" in str(info.value) and "Ghostscript" not in str(info.value)
