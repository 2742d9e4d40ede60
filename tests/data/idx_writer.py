"""Write IDX files for the tests, independently of the reader under test (struct + tobytes)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

# dtype -> IDX code, written out here rather than imported so the reader's table is checked too.
CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
         np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(a: np.ndarray) -> bytes:
    """The IDX encoding of ``a``: magic, dims as big-endian uint32, big-endian values."""
    code = CODES[a.dtype.type]
    header = bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write_idx(path, a: np.ndarray, *, gz: bool = False) -> Path:
    """Write ``a`` to ``path`` (gzip-compressed when ``gz``); returns the path."""
    data = idx_bytes(a)
    path = Path(path)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def write_idx_set(folder, n_train: int, n_test: int, *, hw=(5, 4), gz: bool = True,
                  seed: int = 0, n_classes: int = 10) -> dict[str, np.ndarray]:
    """The four MNIST-style files in ``folder`` (created); returns the arrays written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, *hw), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, n_classes, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, *hw), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, n_classes, n_test, dtype=np.uint8),
    }
    for base, a in arrays.items():
        write_idx(folder / (base + (".gz" if gz else "")), a, gz=gz)
    return arrays
