"""Attacks from the adversarial review (issue 14), each reproduced with a small file built here
and checked to end in a clear error within a memory and time bound."""

from __future__ import annotations

import io
import pickle
import re
import subprocess
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from juanji.checkpoint import CheckpointError, load_checkpoint
from juanji.data.cifar import CifarFormatError, read_cifar_python_batch
from juanji.data.folder import read_image
from juanji.data.safe_pickle import UnsafePickleError, safe_load, safe_loads


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


# --- row 1: what a pickle's BUILD may do -------------------------------------------------------

def _array_pickle(dtype_state: bytes, array_state: bytes) -> bytes:
    """{'data': <array>, 'labels': [0]} in protocol 0, with the dtype's and the array's BUILD
    states given as protocol-0 text (``(I3\\nS'|'\\n...t`` ...)."""
    return (b"(dp0\nVdata\np1\ncnumpy._core.multiarray\n_reconstruct\np2\n(cnumpy\nndarray\n"
            b"p3\n(I0\ntp4\nc_codecs\nencode\np5\n(Vb\nVlatin1\ntp6\nRp7\ntp8\nRp9\n"
            b"(I1\n(I1\nI3072\ntp10\ncnumpy\ndtype\np11\n(Vu1\nI00\nI01\ntp12\nRp13\n"
            + dtype_state + b"bp14\n" + array_state + b"\ntp15\nbsVlabels\np16\n(lp17\nI0\nas.")


U1_STATE = b"(I3\nV|\nNNNI-1\nI-1\nI0\ntp20\n"
DATA_3072 = b"I00\nV" + b"a" * 3072


def test_array_pickle_in_protocol_0_is_what_the_helper_builds(tmp_path):
    # the helper's pickle is a real one: with NumPy's own states it loads as a CIFAR batch
    path = tmp_path / "data_batch_1"
    path.write_bytes(_array_pickle(U1_STATE, DATA_3072))
    x, y = read_cifar_python_batch(path)
    assert x.shape == (1, 32, 32, 3) and int(x[0, 0, 0, 0]) == ord("a") and y.tolist() == [0]


@pytest.mark.parametrize("dtype_state, array_state, message", [
    # the dtype's BUILD turning u1 into a 4-byte flexible type (alignment, flags changed)
    (b"(I3\nV|\nNNNI4\nI255\nI16777215\ntp20\n", DATA_3072, "refused a BUILD of numpy.dtype"),
    # a dtype's BUILD with a byte order that is not one
    (b"(I3\nVx\nNNNI-1\nI-1\nI0\ntp20\n", DATA_3072, "refused a BUILD of numpy.dtype"),
    # the array's shape claiming 200000 rows over 3072 bytes
    (U1_STATE, b"I00\nV" + b"a" * 3072, None),
], ids=["dtype-build-changes-the-dtype", "dtype-build-bad-byte-order", "shape-beyond-the-data"])
def test_build_that_changes_an_array_is_refused(tmp_path, dtype_state, array_state, message):
    blob = _array_pickle(dtype_state, array_state)
    if message is None:
        blob = blob.replace(b"(I1\nI3072\ntp10", b"(I200000\nI3072\ntp10")
        message = "needs 614400000 bytes, the pickle holds 3072"
    path = tmp_path / "data_batch_1"
    path.write_bytes(blob)
    err = _bounded(lambda: read_cifar_python_batch(path), max_bytes=4 << 20, max_seconds=2.0)
    assert isinstance(err, UnsafePickleError) and message in str(err), err
    assert str(err).startswith(str(path))


def test_second_build_and_object_dtype_are_refused():
    arr = pickle.dumps(np.zeros((1, 3072), np.uint8), 2)
    # a second BUILD with another state on the same array object
    state = pickle.dumps((1, (1,), np.dtype("u1"), False, b"a"), 2)[2:-1]  # the state's opcodes
    twice = arr[:-1] + state + b"b."
    with pytest.raises(UnsafePickleError, match="second BUILD"):
        safe_loads(twice)
    with pytest.raises(UnsafePickleError, match=r"refused numpy.dtype\('O8'\)"):
        safe_loads(pickle.dumps({"data": np.array([1, None], object)}, 2))
    with pytest.raises(UnsafePickleError, match=r"refused numpy.dtype\('U3'\)"):
        safe_loads(pickle.dumps(np.array(["abc"]), 2))
    # an array that never gets its data, and one used as a dict key
    empty = (b"cnumpy._core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I0\ntVb\ntR.")
    with pytest.raises(UnsafePickleError, match="without its data"):
        safe_loads(empty)
    keyed = (b"(dcnumpy._core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I0\ntVb\ntR"
             b"I1\ns.")
    with pytest.raises(UnsafePickleError, match="used as a dict key"):
        safe_loads(keyed)


def test_deeply_nested_pickle_is_walked_without_recursion():
    deep = b"\x80\x02" + b"]" * 200_000 + b"a" * 199_999 + b"."  # 200 000 nested lists
    out = safe_loads(deep)
    depth = 0
    while out:
        out, depth = out[0], depth + 1
    assert depth == 199_999


def test_cli_refuses_a_hostile_cifar_pickle_with_a_message(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    good = pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}, 2)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(good)
    (folder / "data_batch_3").write_bytes(
        _array_pickle(b"(I3\nV|\nNNNI4\nI255\nI16777215\ntp20\n", DATA_3072))
    run = subprocess.run([sys.executable, "-m", "juanji", "train", "--dataset", "cifar10",
                          "--data-dir", str(tmp_path), "--epochs", "1", "--no-progress",
                          "--out", str(tmp_path / "run")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run
    assert "Traceback" not in run.stderr
    assert "data_batch_3: refused a BUILD of numpy.dtype('|u1')" in run.stderr, run.stderr
    assert not (tmp_path / "run" / "last.npz").exists()


# --- row 2: .h5 files read only what they store ------------------------------------------------

def _signs_file(path, x_kwargs=None, extra=None):
    """A tiny SIGNS-shaped training file; ``x_kwargs`` rebuilds ``train_set_x``, ``extra`` may
    replace keys after writing (links)."""
    import h5py
    with h5py.File(path, "w") as f:
        if x_kwargs is None:
            f["train_set_x"] = np.zeros((2, 4, 4, 3), np.uint8)
        else:
            f.create_dataset("train_set_x", **x_kwargs)
        f["train_set_y"] = np.array([0, 1])
        f["list_classes"] = np.arange(6)
        if extra:
            extra(f)
    return path


def _no_hang(fn, seconds=10):
    """``fn()`` under an alarm: a reader blocked on a FIFO fails the test instead of hanging."""
    import signal

    def timeout(*_):
        raise TimeoutError(f"still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        return _bounded(fn, max_seconds=seconds)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_h5_dataset_with_external_storage_is_refused(tmp_path):
    import os

    from juanji.data.h5 import H5FormatError, read_course_h5
    secret = tmp_path / "passwd"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 3)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (secret, fifo):
        path = _signs_file(tmp_path / f"train_{target.name}.h5", dict(
            shape=(1, 4, 4, 3), dtype="u1", external=[(str(target), 0, 48)]))
        err = _no_hang(lambda: read_course_h5(path, "train"))
        assert isinstance(err, H5FormatError), err
        assert "'train_set_x' keeps its data in external file(s)" in str(err)
        assert str(target) in str(err)
        assert "root:x" not in str(err)


@pytest.mark.parametrize("kind", ["virtual", "external-link", "soft-link", "vlen"])
def test_h5_datasets_from_elsewhere_are_refused(tmp_path, kind):
    import h5py

    from juanji.data.h5 import H5FormatError, read_course_h5
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as g:
        g["x"] = np.full((2, 4, 4, 3), 7, np.uint8)

    def links(f):
        del f["train_set_x"]
        if kind == "virtual":
            layout = h5py.VirtualLayout(shape=(2, 4, 4, 3), dtype="u1")
            layout[:] = h5py.VirtualSource(str(other), "x", shape=(2, 4, 4, 3))
            f.create_virtual_dataset("train_set_x", layout)
        elif kind == "external-link":
            f["train_set_x"] = h5py.ExternalLink(str(other), "/x")
        elif kind == "soft-link":
            f["elsewhere"] = np.zeros((2, 4, 4, 3), np.uint8)
            f["train_set_x"] = h5py.SoftLink("/elsewhere")
        else:
            f.create_dataset("train_set_x", (2,), dtype=h5py.vlen_dtype(np.uint8))
    path = _signs_file(tmp_path / "train.h5", extra=links)
    err = _no_hang(lambda: read_course_h5(path, "train"))
    assert isinstance(err, H5FormatError), err
    assert {"virtual": "is a virtual dataset", "external-link": "is an external link",
            "soft-link": "is a soft link", "vlen": "a course file holds arrays of numbers"}[kind] \
        in str(err), err


def test_h5_path_that_is_a_fifo_is_refused_without_waiting(tmp_path):
    import os

    from juanji.data.h5 import H5FormatError, read_course_h5
    fifo = tmp_path / "train_signs.h5"
    os.mkfifo(fifo)
    err = _no_hang(lambda: read_course_h5(fifo, "train"), seconds=5)
    assert isinstance(err, H5FormatError) and "not a regular file (a FIFO)" in str(err), err


def test_h5_plain_file_still_reads(tmp_path):
    from juanji.data.h5 import read_course_h5
    x, y, classes = read_course_h5(_signs_file(tmp_path / "train.h5"), "train")
    assert x.shape == (2, 4, 4, 3) and y.tolist() == [0, 1] and classes.tolist() == list(range(6))


def test_cli_train_on_signs_with_external_storage_exits_with_a_message(tmp_path):
    _signs_file(tmp_path / "train_signs.h5", dict(shape=(1, 4, 4, 3), dtype="u1",
                                                  external=[("/etc/passwd", 0, 48)]))
    _signs_file(tmp_path / "test_signs.h5")
    import h5py
    with h5py.File(tmp_path / "test_signs.h5", "a") as f:  # test_set_* keys for the test file
        for k in ("x", "y"):
            f[f"test_set_{k}"] = f[f"train_set_{k}"][()]
    run = subprocess.run([sys.executable, "-m", "juanji", "train", "--dataset", "signs",
                          "--data-dir", str(tmp_path), "--epochs", "1", "--no-progress",
                          "--out", str(tmp_path / "run")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run
    assert "keeps its data in external file(s) ['/etc/passwd']" in run.stderr, run.stderr


# --- rows 3 and 4: a checkpoint names what is read, and its metadata is bounded ------------------

def _small_checkpoint(path, **save):
    from juanji.checkpoint import save_checkpoint
    from juanji.data import Normalizer
    from juanji.nn import Conv2D, Dense, Flatten, ReLU, Sequential
    model = Sequential([Conv2D(2, 3), ReLU(), Flatten(), Dense(3)], (6, 6, 1))
    save_checkpoint(path, model, normalizer=Normalizer([0.5], [0.2]), class_names=list("abc"),
                    **save)
    return path


def _rewrite(path, change_meta=None, add=None):
    """Rewrite the checkpoint at ``path`` with its metadata changed and entries added."""
    import json
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    if change_meta is not None:
        meta = json.loads(arrays["__meta__"].tobytes())
        change_meta(meta)
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, value, allow_pickle=False)
            z.writestr(key + ".npy", buf.getvalue())
        for name, data in (add or {}).items():
            z.writestr(name, data)


def test_checkpoint_entries_its_architecture_does_not_name_are_refused_unread(tmp_path,
                                                                             monkeypatch):
    path = _small_checkpoint(tmp_path / "ck.npz")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (8 << 20,)})
    _rewrite(path, add={"junk.npy": header.getvalue() + bytes(8 << 20),
                        "optim/unnamed.npy": header.getvalue() + bytes(8 << 20)})
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, name, *a, **k: opened.append(getattr(name, "filename", name))
                        or real_open(self, name, *a, **k))
    err = _bounded(lambda: load_checkpoint(path), max_bytes=4 << 20)
    assert isinstance(err, CheckpointError), err
    assert "entries ['junk', 'optim/unnamed'] are not part of this checkpoint" in str(err)
    assert opened == ["__meta__.npy", "__meta__.npy"]  # header, then data: nothing else opened


def test_checkpoint_model_entry_outside_the_architecture_is_refused_before_reading(tmp_path):
    path = _small_checkpoint(tmp_path / "ck.npz")
    buf = io.BytesIO()
    np.save(buf, np.zeros(3, np.float32))
    _rewrite(path, add={"model/9.weight.npy": buf.getvalue()})
    with pytest.raises(CheckpointError, match=r"unexpected \['9.weight'\]"):
        load_checkpoint(path)


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(input_shape=[60000, 60000, 1]),
     "has 3,600,000,000 values per example, more than the 16,777,216"),
    (lambda m: m.update(input_shape=[7, 6, 1]),
     r"metadata 'input_shape' \[7, 6, 1\] differs from the architecture's input_shape \[6, 6, 1\]"),
    (lambda m: m["architecture"].update(input_shape=[60000, 60000, 1])
     or m.update(input_shape=[60000, 60000, 1]), "more than the 16,777,216"),
    (lambda m: m.update(extra={"deep": _deep(200_000)}), "nested too deeply"),
    (lambda m: m.update(extra={"deep": _deep(100)}), "nested more than 64 levels deep"),
], ids=["input-shape-huge", "input-shape-not-the-architectures", "both-huge", "json-200k-deep",
        "json-100-deep"])
def test_checkpoint_metadata_is_bounded_and_cross_checked(tmp_path, change, message):
    path = _small_checkpoint(tmp_path / "ck.npz")
    if "200k" in message or "too deeply" in message:
        _rewrite_raw_meta(path, change)
    else:
        _rewrite(path, change)
    err = _bounded(lambda: load_checkpoint(path), max_bytes=16 << 20)
    assert isinstance(err, CheckpointError), err
    assert re.search(message, str(err)), err


def _deep(n):
    """A JSON-able list nested ``n`` deep, built without recursion."""
    out = []
    for _ in range(n - 1):
        out = [out]
    return out


def _rewrite_raw_meta(path, change):
    """As `_rewrite`, but the JSON text written by hand (json.dumps recurses)."""
    import json
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    text = json.dumps({**meta, "extra": "@"}).replace('"@"', "{\"deep\": " + "[" * 200_000
                                                       + "]" * 200_000 + "}")
    arrays["__meta__"] = np.frombuffer(text.encode(), np.uint8)
    np.savez(path, **arrays)


def _evaluate(argv, monkeypatch):
    """`juanji evaluate` in-process, recording whether any data set was loaded."""
    import juanji.cli.evaluate as ev
    from juanji.cli import main
    loads = []
    monkeypatch.setattr(ev, "load_run_data", lambda *a, **k: loads.append(a) or 1 / 0)
    return main(["evaluate", *argv]), loads


def test_evaluate_never_reads_a_folder_only_the_checkpoint_names(tmp_path, monkeypatch, capsys):
    path = _small_checkpoint(tmp_path / "ck.npz", dataset="folder:/etc")
    with pytest.raises(SystemExit) as info:
        _evaluate([str(path)], monkeypatch)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "was trained on 'folder:/etc'; a folder is read only when you name it: give " \
           "--dataset folder:/etc" in err, err


def test_evaluate_refuses_stored_image_size_other_than_the_models(tmp_path, monkeypatch, capsys):
    path = _small_checkpoint(tmp_path / "ck.npz", dataset="digits",
                             extra={"options": {"dataset": "digits",
                                                "image_size": [20000, 20000]}})
    code, loads = _evaluate([str(path)], monkeypatch)
    assert code == 1 and not loads
    assert "stored option image_size [20000, 20000] is not the model's input size [6, 6]" \
        in capsys.readouterr().err


# --- row 10: only the documented exception kinds, naming the argument ----------------------------

def _conv(**kw):
    from juanji.functional import conv2d_forward
    args = dict(x=np.zeros((1, 4, 4, 1)), w=np.zeros((3, 3, 1, 2)), b=np.zeros(2))
    args.update(kw)
    x, w, b = args.pop("x"), args.pop("w"), args.pop("b")
    return conv2d_forward(x, w, b, **args)


def _pool(**kw):
    from juanji.functional import max_pool2d_forward
    return max_pool2d_forward(np.zeros((1, 4, 4, 1)), 2, **kw)


@pytest.mark.parametrize("call, kind, message", [
    (lambda: _conv(x=np.zeros((1, 4, 4, 0)), w=np.zeros((3, 3, 0, 2))), ValueError,
     r"`x` must have at least one channel \(C_in >= 1\), got shape \(1, 4, 4, 0\)"),
    (lambda: _conv(stride=10**18), ValueError, r"`stride` must be <= 2147483647"),
    (lambda: _pool(stride=10**18), ValueError, r"`stride` must be <= 2147483647"),
    (lambda: _conv(dilation=10**18), ValueError, r"`dilation` must be <= 2147483647"),
    (lambda: _conv(padding=10**18), ValueError, r"`padding` must be <= 2147483647"),
    (lambda: _conv(padding=100_000), "budget", r"`padding` \(\(100000, 100000\), .* makes the "
                                               r"padded input 1x200004x200004x1"),
], ids=["conv-0-channels", "conv-stride-1e18", "pool-stride-1e18", "conv-dilation-1e18",
        "conv-padding-1e18", "conv-padding-1e5"])
def test_ops_raise_documented_kinds_naming_the_argument(call, kind, message):
    from juanji.functional.memory import MemoryBudgetError
    err = _bounded(call, max_bytes=16 << 20, max_seconds=5.0)
    assert isinstance(err, MemoryBudgetError if kind == "budget" else kind), repr(err)
    assert isinstance(err, ValueError)  # a MemoryBudgetError is a ValueError too
    assert re.search(message, str(err)), err


@pytest.mark.parametrize("value, kind, message", [
    ("0.1", TypeError, r"`lr` must be a real number >= 0, got '0.1' \(str\)"),
    (float("inf"), ValueError, r"`lr` must be a finite number >= 0, got inf"),
    (-1, ValueError, r"`lr` must be >= 0, got -1"),
])
def test_optimiser_reals_go_through_validation_check_real(value, kind, message):
    from juanji.nn.parameter import Parameter
    from juanji.optim import SGD
    from juanji.validation import RealTypeError
    with pytest.raises(kind, match=message) as info:
        SGD([Parameter(np.zeros(2), "w")], lr=value)
    assert isinstance(info.value, ValueError)  # RealTypeError is both kinds
    assert kind is ValueError or isinstance(info.value, RealTypeError)


def test_explain_conv_with_100000_channels_is_a_quick_usage_error():
    run = subprocess.run([sys.executable, "-m", "juanji", "explain", "conv", "--channels",
                          "100000"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "--channels 100000 is 1,600,000 numbers" in run.stderr
    assert "at most 10,000" in run.stderr
