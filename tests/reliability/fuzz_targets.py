"""One fuzz target per file reader: bytes in, a result or a clear error out.

A target writes the bytes to a file, calls the reader on it and checks what happened:

- success, or an exception of the reader's allowed types (ValueError/OSError subclasses; the
  restricted unpickler's ``UnsafePickleError`` for pickles) with a non-empty message;
- no other exception type (AssertionError says which, with the traceback chained);
- memory: the peak traced allocation during the call stays under ``budget(len(data))``,
  a small multiple of the file's own size (tracemalloc counts Python and NumPy buffers), so a
  header claiming billions of images or a decompression bomb cannot allocate what it claims;
- no code execution: every malicious input in the suite calls :func:`canary_tripped`'s sentinel
  if it is ever run; it must stay untripped.

An interpreter crash kills the process; ``fuzz/run.py`` runs the targets in a child process so a
crash is reported as such. The targets are shared by ``tests/reliability/test_fuzz_readers.py``
(short runs in CI) and ``fuzz/run.py`` (long runs, atheris or hypothesis).
"""

from __future__ import annotations

import os
import pickle
import tempfile
import tracemalloc
from pathlib import Path

FLOOR = 64 << 20  # a reader may always use 64 MiB: decoded small images, zip directories, ...
RATIO = 120  # ... beyond that, at most ~100x the file (the readers' bomb limit) plus slack

_TRIPPED = []


def canary(*args):
    """What a malicious pickle asks to call; it records that code from a file was executed."""
    _TRIPPED.append(args)
    return None


def canary_tripped() -> bool:
    return bool(_TRIPPED)


def budget(size: int, target: str = "") -> int:
    """What a reader may allocate (as traced) for a file of ``size`` bytes.

    Pillow's decoded pixel buffers are not traced (its own allocator); the image loaders bound
    them by refusing more than ``Image.MAX_IMAGE_PIXELS`` (89 MP) before decoding.
    """
    return FLOOR + RATIO * size


class Outcome:
    """What a target saw: ``error`` None for success; ``peak`` bytes traced."""

    def __init__(self, error, peak):
        self.error, self.peak = error, peak


def run_reader(read, data: bytes, *, suffix: str = "", allowed=(ValueError, OSError),
               directory: str | None = None, target: str = "") -> Outcome:
    """Write ``data`` to a temporary file and call ``read(path)`` with the checks above."""
    fd, name = tempfile.mkstemp(suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        error = None
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        tracemalloc.reset_peak()
        try:
            read(Path(name))
        except allowed as e:
            error = e
            assert str(e).strip(), f"{type(e).__name__} without a message"
        except Exception as e:  # noqa: BLE001 - the finding: report the type and the input
            raise AssertionError(f"{read.__name__}: {type(e).__name__}: {e} "
                                 f"(input of {len(data)} bytes: {data[:64]!r}...)") from e
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            if started:
                tracemalloc.stop()
        assert peak <= budget(len(data), target), (
            f"{read.__name__}: {peak / 2**20:.1f} MiB allocated for a {len(data)}-byte file "
            f"(budget {budget(len(data), target) / 2**20:.1f} MiB)")
        assert not canary_tripped(), f"{read.__name__}: the file ran code: {_TRIPPED}"
        return Outcome(error, peak)
    finally:
        os.unlink(name)


# --- the readers, as one-argument callables ------------------------------------------------------

def read_idx(path):
    from juanji.data import read_idx as reader
    return reader(path)


def read_checkpoint(path):
    from juanji.checkpoint import load_checkpoint
    return load_checkpoint(path)


def read_image(path):
    """The image loader of ``juanji predict``, for a grey 8x8 model and an RGB 32x32 one."""
    from juanji.data.folder import read_model_image
    read_model_image(path, (8, 8, 1), False)
    return read_model_image(path, (32, 32, 3), True)


def read_folder_image(path):
    """The image reader of ``load_image_folder`` (training on a folder of PNG/JPG files)."""
    from juanji.data.folder import read_image
    read_image(path, (8, 8), "grey")
    return read_image(path, (16, 16), "rgb")


def read_cifar_binary(path):
    from juanji.data.cifar import read_cifar_binary as reader
    if path.stat().st_size % 3073 == 0:
        return reader(path)
    return reader(path, label_bytes=2, label_index=1, num_classes=100)  # CIFAR-100 records


def read_cifar_pickle(path):
    from juanji.data.cifar import read_cifar_python_batch
    return read_cifar_python_batch(path)


def read_h5(path):
    from juanji.data.h5 import read_course_h5
    return read_course_h5(path, "train")


def pickle_allowed():
    from juanji.data.safe_pickle import UnsafePickleError
    return (ValueError, OSError, UnsafePickleError)


TARGETS = {
    "idx": (read_idx, "", (ValueError, OSError)),
    "checkpoint": (read_checkpoint, ".npz", (ValueError, OSError)),
    "image": (read_image, ".png", (ValueError, OSError)),
    "folder-image": (read_folder_image, ".png", (ValueError, OSError)),
    "cifar-binary": (read_cifar_binary, ".bin", (ValueError, OSError)),
    "cifar-pickle": (read_cifar_pickle, "", None),  # None: pickle_allowed()
    "hdf5": (read_h5, ".h5", (ValueError, OSError)),
}


def run_target(name: str, data: bytes) -> Outcome:
    read, suffix, allowed = TARGETS[name]
    return run_reader(read, data, suffix=suffix, allowed=allowed or pickle_allowed(),
                      target=name)


# --- valid seeds (mutated by the fuzzers) --------------------------------------------------------

def idx_bytes(shape=(3, 4, 5), code=0x08, gz=False) -> bytes:
    import gzip

    import numpy as np
    dtype = {0x08: ">u1", 0x0D: ">f4", 0x0B: ">i2"}[code]
    header = bytes([0, 0, code, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
    body = np.arange(int(np.prod(shape)), dtype=dtype).tobytes()
    return gzip.compress(header + body, mtime=0) if gz else header + body


def checkpoint_bytes() -> bytes:
    import numpy as np

    from juanji.checkpoint import save_checkpoint
    from juanji.data import Normalizer
    from juanji.nn import BatchNorm2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
    from juanji.optim import make_optimizer
    model = Sequential([Conv2D(2, 3, padding=1), BatchNorm2D(), ReLU(), MaxPool2D(2), Flatten(),
                        Dense(3)], (4, 4, 1))
    opt = make_optimizer("adam", model.parameters(), 0.01)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "ck.npz"
        save_checkpoint(p, model, optimizer=opt, normalizer=Normalizer([0.5], [0.2]), epoch=1,
                        rng_state=np.random.default_rng(0), class_names=["a", "b", "c"])
        return p.read_bytes()


def image_bytes(fmt="PNG", mode="RGB", size=(5, 4)) -> bytes:
    import io

    import numpy as np
    from PIL import Image
    arr = np.arange(size[0] * size[1] * len(mode), dtype=np.uint8).reshape(size[1], size[0],
                                                                           len(mode))
    img = Image.fromarray(arr.squeeze(-1) if mode == "L" else arr, mode)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def cifar_binary_bytes(n=2, label_bytes=1) -> bytes:
    import numpy as np
    rec = np.zeros((n, label_bytes + 3072), np.uint8)
    rec[:, :label_bytes] = 1
    rec[:, label_bytes:] = np.arange(3072) % 251
    return rec.tobytes()


def cifar_pickle_bytes(protocol=2) -> bytes:
    import numpy as np
    return pickle.dumps({"data": np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072) % 200,
                         "labels": [1, 2], "batch_label": "x"}, protocol)


def h5_bytes() -> bytes:
    import h5py
    import numpy as np
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.h5"
        with h5py.File(p, "w") as f:
            f["train_set_x"] = np.zeros((2, 4, 4, 3), np.uint8)
            f["train_set_y"] = np.array([0, 1])
            f["list_classes"] = np.array([0, 1])
        return p.read_bytes()


SEEDS = {
    "idx": lambda: [idx_bytes(), idx_bytes(gz=True), idx_bytes((2, 3), 0x0D)],
    "checkpoint": lambda: [checkpoint_bytes()],
    "image": lambda: [image_bytes("PNG"), image_bytes("JPEG"), image_bytes("GIF", "L"),
                      image_bytes("BMP"), image_bytes("PNG", "L")],
    "folder-image": lambda: [image_bytes("PNG"), image_bytes("JPEG"), image_bytes("GIF", "L")],
    "cifar-binary": lambda: [cifar_binary_bytes(), cifar_binary_bytes(1, 2)],
    "cifar-pickle": lambda: [cifar_pickle_bytes(2), cifar_pickle_bytes(5)],
    "hdf5": lambda: [h5_bytes()],
}


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, value) edits: 0 flip a byte, 1 insert, 2 delete, 3 truncate."""
    out = bytearray(data)
    for kind, pos, value in edits:
        if not out:
            break
        i = pos % len(out)
        if kind == 0:
            out[i] ^= (value % 255) + 1
        elif kind == 1:
            out[i:i] = bytes([value % 256]) * (1 + value % 7)
        elif kind == 2:
            del out[i:i + 1 + value % 16]
        else:
            del out[i:]
    return bytes(out)
