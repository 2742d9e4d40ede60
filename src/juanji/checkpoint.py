"""Checkpoints: one ``.npz`` file holding a model, its optimiser and everything needed to resume.

Layout of the file (every entry a plain numeric array, so it loads with ``allow_pickle=False``)::

    model/<key>     the model's state_dict arrays ("0.weight", "3.running_mean", ...)
    optim/<key>     the optimiser's arrays (momentum buffers, Adam moments, ...)
    __meta__        uint8 array: UTF-8 JSON with the format version, the architecture
                    (``model.config()``), input shape, class names, optimiser name and scalars,
                    scheduler state, normaliser, epoch, the numpy Generator state, the model's
                    own Generators (Dropout masks), the metrics history and any ``extra`` dict.

Arrays nested anywhere inside the optimiser state are moved out of the JSON into ``optim/<path>``
and replaced by ``{"__array__": "<path>"}``, so any state layout round-trips.

The file is written atomically (``np.savez`` into memory, then :mod:`juanji._atomic`): a crash
while saving leaves the previous checkpoint untouched.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .validation import check_int

from ._atomic import atomic_write_bytes

FORMAT = "juanji-checkpoint"
FORMAT_VERSION = 1
META_KEY = "__meta__"
MODEL_PREFIX = "model/"
OPTIM_PREFIX = "optim/"
ARRAY_REF = "__array__"
REQUIRED_META = ("format", "version", "architecture", "input_shape", "epoch")
# An entry may inflate to at most max(64 MiB, 100 x its compressed size) (juanji stores, 1x).
MAX_INFLATE_RATIO, _INFLATE_FLOOR = 100, 64 << 20

__all__ = ["Checkpoint", "CheckpointError", "load_checkpoint", "save_checkpoint"]


class CheckpointError(ValueError):
    """The file is not a readable juanji checkpoint, or does not fit the model it is loaded into."""


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    Attributes:
        model: the rebuilt ``Sequential`` with the stored weights, in eval mode.
        epoch: number of finished epochs when the checkpoint was written.
        architecture: ``model.config()`` as stored (JSON form).
        input_shape: ``(H, W, C)`` the model was built for.
        class_names: list of class names, or None.
        optimizer_name / optimizer_state: the optimiser's class name and its ``state_dict()``
            (arrays restored in place), or None.
        scheduler_state: the scheduler's state dict, or None.
        normalizer: the normaliser's ``to_dict()``, or None (rebuild with ``Normalizer.from_dict``).
        rng_state: a numpy ``bit_generator.state`` dict, or None; see :meth:`rng`.
        metrics: the metrics history as stored (JSON), or None.
        extra: any extra JSON-able dict given at save time.
        path: where it was read from.
        dataset: the data set the model was trained on (a `juanji.data.DATASETS` key or
            ``"folder:DIR"``), or None when unknown. Checkpoints written before this field
            existed give the ``juanji train`` option stored in ``extra["options"]["dataset"]``.
        polarity: the training images' `juanji.data.polarity.Polarity` as a dict (light on
            dark or the reverse; ``juanji predict`` inverts an image that is the other way
            round), or None (checkpoints written before it existed); see :meth:`load_polarity`.
    """

    model: object
    epoch: int
    architecture: dict
    input_shape: tuple
    class_names: list | None = None
    optimizer_name: str | None = None
    optimizer_state: dict | None = None
    scheduler_state: dict | None = None
    normalizer: dict | None = None
    rng_state: dict | None = None
    metrics: object = None
    extra: dict = field(default_factory=dict)
    path: Path | None = None
    dataset: str | None = None
    polarity: dict | None = None

    def rng(self) -> np.random.Generator | None:
        """A Generator continuing exactly where the saved one stopped (None if none was saved)."""
        return None if self.rng_state is None else generator_from_state(self.rng_state)

    def load_normalizer(self):
        """The stored normaliser as a ``juanji.data.Normalizer`` (None if none was saved)."""
        if self.normalizer is None:
            return None
        from .data import Normalizer
        return Normalizer.from_dict(self.normalizer)

    def load_polarity(self):
        """The training images' polarity as a `juanji.data.polarity.Polarity` (None if the
        checkpoint predates it)."""
        if self.polarity is None:
            return None
        from .data.polarity import Polarity
        return Polarity.from_dict(self.polarity)


# --- numpy Generator state <-> JSON -----------------------------------------------------------

def generator_state(rng: np.random.Generator) -> dict:
    """``rng.bit_generator.state`` as JSON-able data (PCG64's state is plain Python ints)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng_state` must be a numpy.random.Generator, got {type(rng).__name__}")
    return _to_json(rng.bit_generator.state)


def generator_from_state(state: dict) -> np.random.Generator:
    """Inverse of :func:`generator_state`.

    >>> g = np.random.default_rng(3); _ = g.random(5)
    >>> h = generator_from_state(json.loads(json.dumps(generator_state(g))))
    >>> bool(h.random() == g.random())
    True
    """
    name = state.get("bit_generator") if isinstance(state, dict) else None
    bit_generator_cls = getattr(np.random, str(name), None)
    if bit_generator_cls is None or not isinstance(bit_generator_cls, type):
        raise CheckpointError(f"unknown numpy bit generator {name!r} in the stored RNG state")
    bit_generator = bit_generator_cls()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _to_json(value):
    """numpy scalars/arrays inside plain state dicts -> Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# --- arrays nested in a state dict <-> flat npz entries ----------------------------------------

def _split_arrays(tree, path: str, out: dict):
    """Replace every ndarray in ``tree`` by ``{"__array__": path}``, collecting it in ``out``."""
    if isinstance(tree, np.ndarray):
        out[path] = tree
        return {ARRAY_REF: path}
    if isinstance(tree, dict):
        return {str(k): _split_arrays(v, f"{path}.{k}" if path else str(k), out)
                for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_split_arrays(v, f"{path}.{i}" if path else str(i), out)
                for i, v in enumerate(tree)]
    return _to_json(tree)


def _join_arrays(tree, arrays: dict):
    """Inverse of :func:`_split_arrays`."""
    if isinstance(tree, dict):
        if set(tree) == {ARRAY_REF}:
            key = tree[ARRAY_REF]
            if key not in arrays:
                raise CheckpointError(f"optimiser array {key!r} is missing from the checkpoint")
            return arrays[key]
        return {k: _join_arrays(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_join_arrays(v, arrays) for v in tree]
    return tree


def _metrics_json(metrics):
    if metrics is None:
        return None
    if hasattr(metrics, "to_dict"):
        return _to_json(metrics.to_dict())
    return _to_json(metrics)


def _input_shape(model) -> list:
    cfg = model.config()
    shape = cfg.get("input_shape") if isinstance(cfg, dict) else None
    if shape is None:
        shape = getattr(model, "input_shape", None)
    if shape is None:
        raise TypeError("`model` must know its input shape (Sequential.config()['input_shape'])")
    return [int(v) for v in shape]


# --- save ---------------------------------------------------------------------------------------

def save_checkpoint(path, model, *, optimizer=None, scheduler=None, normalizer=None, epoch=0,
                    rng_state=None, metrics=None, class_names=None, extra=None,
                    dataset=None, polarity=None) -> Path:
    """Write ``model`` (+ training state) to one ``.npz`` file at ``path``, atomically.

    Args:
        path: destination file; ``.npz`` is the convention (the name is used as given).
        model: a ``juanji.nn.Sequential``.
        optimizer: optional optimiser; its ``state_dict()`` and class name are stored.
        scheduler: optional LR schedule; its ``state_dict()`` is stored.
        normalizer: optional ``juanji.data.Normalizer`` (stored via ``to_dict()``) or a dict.
        epoch: number of finished epochs.
        rng_state: optional ``numpy.random.Generator`` (its state is stored) or a state dict.
        metrics: optional history (an object with ``to_dict()``, or JSON-able data).
        class_names: optional list of class names, shown by ``juanji predict``.
        dataset: optional name of the data set the model is trained on (``"mnist"``,
            ``"folder:DIR"``): what ``juanji evaluate`` and the explainers load by default.
        polarity: optional `juanji.data.polarity.Polarity` of the training images (or its
            dict): lets ``juanji predict`` invert an image drawn the other way round.
        extra: optional JSON-able dict (e.g. the command-line arguments).

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: a weight or optimiser buffer holds NaN or inf (nothing is written).
        OSError: the file cannot be written (the previous one there is unchanged).
    """
    path = Path(path)
    if not hasattr(model, "state_dict") or not hasattr(model, "config"):
        raise TypeError(f"`model` must be a Sequential, got {type(model).__name__}")
    epoch = check_int(epoch, "epoch", minimum=0)
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"`extra` must be a dict, got {type(extra).__name__}")

    arrays: dict[str, np.ndarray] = {}
    for key, value in model.state_dict().items():
        arrays[MODEL_PREFIX + key] = np.asarray(value)

    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "architecture": _to_json(model.config()),
        "input_shape": _input_shape(model),
        "class_names": None if class_names is None else [str(c) for c in class_names],
        "epoch": int(epoch),
        "optimizer": None,
        "scheduler": None,
        "normalizer": None,
        "rng_state": None,
        # Dropout layers own Generators; a resumed run must continue their streams exactly.
        "model_rng": _to_json(model.rng_state()) if hasattr(model, "rng_state") else {},
        "metrics": _metrics_json(metrics),
        "extra": _to_json(extra or {}),
        "dataset": None if dataset is None else str(dataset),
        "polarity": None,
    }
    if optimizer is not None:
        optim_arrays: dict[str, np.ndarray] = {}
        state = _split_arrays(optimizer.state_dict(), "", optim_arrays)
        arrays.update({OPTIM_PREFIX + k: np.asarray(v) for k, v in optim_arrays.items()})
        meta["optimizer"] = {"name": type(optimizer).__name__, "state": state}
    if scheduler is not None:
        meta["scheduler"] = {"name": type(scheduler).__name__,
                             "state": _to_json(scheduler.state_dict())}
    if normalizer is not None:
        meta["normalizer"] = _to_json(normalizer if isinstance(normalizer, dict)
                                      else normalizer.to_dict())
    if polarity is not None:
        from .data.polarity import Polarity
        meta["polarity"] = (Polarity.from_dict(polarity) if isinstance(polarity, dict)
                            else polarity).to_dict()
    if isinstance(rng_state, np.random.Generator):
        meta["rng_state"] = generator_state(rng_state)
    elif isinstance(rng_state, dict):
        meta["rng_state"] = _to_json(rng_state)
    elif rng_state is not None:
        raise TypeError(f"`rng_state` must be a numpy.random.Generator or its "
                        f"bit_generator.state dict, got {type(rng_state).__name__}")

    for key, value in arrays.items():
        if value.dtype.hasobject:
            raise TypeError(f"state array {key!r} has dtype object; only numeric arrays are saved")
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            # A diverged run must not overwrite a good checkpoint with weights or optimiser
            # state that can never train again (Adam's inf exp_avg_sq freezes its weights).
            raise ValueError(f"refusing to save {str(path)!r}: state array {key!r} holds NaN "
                             f"or inf; a checkpoint holds finite numbers only")
    try:
        text = json.dumps(meta, ensure_ascii=False)
    except TypeError as e:
        raise TypeError(f"checkpoint metadata must be JSON-able (check `metrics` and `extra`): "
                        f"{e}") from None
    arrays[META_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)  # (n_bytes,)

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as e:  # a full disk says only "[Errno 28] No space left on device"
        text = (f"could not write checkpoint {str(path)!r} ({e.strerror or e}); the previous "
                f"checkpoint there, if any, is unchanged")
        raise (OSError(e.errno, text) if e.errno is not None else OSError(text)) from e
    return path


# --- load ---------------------------------------------------------------------------------------

class _Archive:
    """The checkpoint's zip, read one named entry at a time.

    Opening it bounds the entries' declared sizes in total (64 MiB + 100 x the file's size)
    without decompressing anything; :meth:`read` then checks one entry before numpy allocates:
    its inflation ratio, and that its ``.npy`` header claims exactly the bytes it holds (numpy
    allocates the claimed array first, then reads). Only entries the loader names are read.
    """

    def __init__(self, path: Path):
        self.path, self.where = path, repr(str(path))
        self.zip = zipfile.ZipFile(path)
        infos = self.zip.infolist()
        # The sum as well as each entry: 24 entries of 64 MiB each, deflated into 1.7 MB, were
        # each under the floor but together inflated to 1.5 GB.
        total = sum(info.file_size for info in infos)
        bound = _INFLATE_FLOOR + MAX_INFLATE_RATIO * path.stat().st_size
        if total > bound:
            raise CheckpointError(
                f"{self.where}: the archive expands to {total} bytes in all, more than "
                f"{bound} (64 MiB + {MAX_INFLATE_RATIO} x the file's size): a decompression "
                f"bomb; juanji writes .npz files uncompressed")
        # entry name without ".npy" -> ZipInfo (np.savez appends .npy to every key)
        self.entries = {info.filename[:-4] if info.filename.endswith(".npy") else info.filename:
                        info for info in infos}

    def close(self) -> None:
        self.zip.close()

    def header(self, key: str) -> tuple[tuple, np.dtype]:
        """``(shape, dtype)`` from the entry's ``.npy`` header (a few hundred bytes inflated)."""
        with self._open(key) as f:
            return self._header(key, f)[:2]

    def read(self, key: str) -> np.ndarray:
        with self._open(key) as f:
            shape, dtype, fortran = self._header(key, f)
            if dtype.hasobject:
                raise CheckpointError(f"{self.where} is not a juanji checkpoint: entry {key!r} "
                                      f"holds Python objects, which are never loaded "
                                      f"(allow_pickle=False)")
            data = f.read()
        flat = np.frombuffer(data, dtype=dtype).copy()  # (prod(shape),), writable
        return flat.reshape(shape, order="F" if fortran else "C")  # shape

    def _open(self, key: str):
        info = self.entries[key]
        if info.file_size > max(_INFLATE_FLOOR, MAX_INFLATE_RATIO * info.compress_size):
            raise CheckpointError(
                f"{self.where}: entry {info.filename!r} expands from {info.compress_size} "
                f"to {info.file_size} bytes, a decompression bomb; juanji writes .npz "
                f"files uncompressed")
        return self.zip.open(info)

    def _header(self, key: str, f) -> tuple[tuple, np.dtype, bool]:
        info = self.entries[key]
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise CheckpointError(f"{self.where}: entry {info.filename!r} has .npy "
                                  f"format version {version}; juanji writes 1.0")
        claimed = math.prod(shape) * dtype.itemsize
        held = info.file_size - f.tell()
        if not dtype.hasobject and claimed != held:
            raise CheckpointError(
                f"{self.where}: entry {info.filename!r} claims shape {shape} of {dtype} "
                f"({claimed} bytes) but holds {held} bytes")
        return shape, dtype, fortran


def _open_archive(path: Path) -> _Archive:
    if not path.exists():
        raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
    if path.is_dir():
        raise CheckpointError(f"checkpoint path {str(path)!r} is a directory, not a .npz file")
    return _Archive(path)


def _array_refs(tree) -> set[str]:
    """Every ``{"__array__": key}`` inside the optimiser state (walked without recursion)."""
    refs, stack = set(), [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if set(node) == {ARRAY_REF} and isinstance(node[ARRAY_REF], str):
                refs.add(node[ARRAY_REF])
            else:
                stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return refs


def _read_meta(path: Path, archive: _Archive) -> dict:
    if META_KEY not in archive.entries:
        raise CheckpointError(f"{str(path)!r} is not a juanji checkpoint: no {META_KEY!r} entry")
    shape, dtype = archive.header(META_KEY)
    if dtype != np.uint8 or len(shape) != 1:
        raise CheckpointError(f"{str(path)!r}: {META_KEY!r} must be a 1-D uint8 array")
    raw = archive.read(META_KEY)
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{str(path)!r}: the metadata is not valid JSON ({e})") from None
    except RecursionError:  # 200 000 nested brackets
        raise CheckpointError(f"{str(path)!r}: the metadata JSON is nested too deeply "
                              f"(juanji writes at most {MAX_META_DEPTH} levels)") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{str(path)!r}: the metadata must be a JSON object")
    if _depth(meta) > MAX_META_DEPTH:
        raise CheckpointError(f"{str(path)!r}: the metadata JSON is nested more than "
                              f"{MAX_META_DEPTH} levels deep (juanji writes fewer than 10)")
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise CheckpointError(f"{str(path)!r}: the metadata lacks the keys {missing}")
    if meta["format"] != FORMAT:
        raise CheckpointError(f"{str(path)!r}: format {meta['format']!r} is not {FORMAT!r}")
    if meta["version"] != FORMAT_VERSION:
        raise CheckpointError(f"{str(path)!r}: checkpoint format version {meta['version']!r} is "
                              f"not supported (this juanji reads version {FORMAT_VERSION})")
    _check_meta_types(path, meta)
    if meta.get("polarity") is not None:
        from .data.polarity import Polarity
        try:
            Polarity.from_dict(meta["polarity"])
        except ValueError as e:
            raise CheckpointError(f"{str(path)!r}: metadata 'polarity': {e}") from None
    _check_input_shape(path, meta)
    return meta


# Bounds on what a checkpoint's metadata may ask for. The JSON's nesting (juanji writes < 10
# levels; the loader's own helpers recurse over it); one example's values (H * W * C): 2**24 is
# 4096 x 4096 grey or 2364 x 2364 RGB, 64 MiB of float32 per image.
MAX_META_DEPTH = 64
MAX_INPUT_VALUES = 1 << 24


def _depth(tree) -> int:
    """Nesting depth of a JSON value (counted up to ``MAX_META_DEPTH + 1``), without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_META_DEPTH:
            break
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def _check_input_shape(path: Path, meta: dict) -> None:
    """``input_shape`` within `MAX_INPUT_VALUES` and equal to the architecture's own: it sizes
    every image `juanji predict` and `evaluate` prepare (a claimed 60000 x 60000 made predict
    allocate 5.9 GB)."""
    shape = meta["input_shape"]
    values = math.prod(shape)
    if values > MAX_INPUT_VALUES:
        raise CheckpointError(f"{str(path)!r}: metadata 'input_shape' {shape} has {values:,} "
                              f"values per example, more than the {MAX_INPUT_VALUES:,} (2**24) "
                              f"juanji accepts")
    own = meta["architecture"].get("input_shape")
    if own != shape:
        raise CheckpointError(f"{str(path)!r}: metadata 'input_shape' {shape} differs from the "
                              f"architecture's input_shape {json.dumps(own)[:80]}")


def _is_count(v, minimum: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= minimum


# metadata key -> (what it must be, the check); None is allowed for every optional key.
_META_TYPES = {
    "epoch": ("an int >= 0", lambda v: _is_count(v, 0)),
    "input_shape": ("a list of ints >= 1",
                    lambda v: isinstance(v, list) and v and all(_is_count(d, 1) for d in v)),
    "architecture": ("a JSON object", lambda v: isinstance(v, dict)),
    "dataset": ("null or a string", lambda v: v is None or isinstance(v, str)),
    "class_names": ("a list of strings",
                    lambda v: v is None or isinstance(v, list) and all(isinstance(c, str)
                                                                       for c in v)),
    "optimizer": ("null or an object with a string 'name' and a 'state' object",
                  lambda v: v is None or isinstance(v, dict) and isinstance(v.get("name"), str)
                  and isinstance(v.get("state"), dict)),
    "scheduler": ("null or an object with a 'state' object",
                  lambda v: v is None or isinstance(v, dict) and isinstance(v.get("state"),
                                                                            dict)),
    **{key: ("null or a JSON object", lambda v: v is None or isinstance(v, dict))
       for key in ("normalizer", "rng_state", "model_rng", "extra", "polarity")},
}


def _check_meta_types(path: Path, meta: dict) -> None:
    """A tampered field says which one, instead of a TypeError deep inside the loader."""
    for key, (want, ok) in _META_TYPES.items():
        if key in meta and not ok(meta[key]):
            raise CheckpointError(f"{str(path)!r}: metadata {key!r} must be {want}, "
                                  f"got {json.dumps(meta[key])[:80]}")


def _check_state_fits(model, state: dict, where: str) -> None:
    """Same keys, shapes and dtypes as ``model.state_dict()``, or a CheckpointError naming them."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{where}: the stored weights do not match the architecture "
                              f"(missing {missing}, unexpected {unexpected})")
    for key, want in expected.items():
        got = state[key]
        if got.shape != want.shape:
            raise CheckpointError(f"{where}: weight {key!r} has shape {got.shape} but the "
                                  f"architecture needs {want.shape}")
        if got.dtype != want.dtype:
            raise CheckpointError(f"{where}: weight {key!r} has dtype {got.dtype} but the "
                                  f"architecture needs {want.dtype}")


# Parameter values an architecture may create beyond those its checkpoint stores (4 MiB of
# float32) before it is refused without being built.
SIZE_SLACK = 1 << 20


def load_checkpoint(path, *, model=None) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (numeric arrays only, no pickle).

    Args:
        path: the ``.npz`` file.
        model: optional existing ``Sequential``; when given, its architecture must equal the
            stored one and the weights are loaded into it (it becomes ``Checkpoint.model``).
            Otherwise the model is rebuilt with ``Sequential.from_config``.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError (a ValueError): not a checkpoint, tampered metadata, unsupported version,
            weights that do not fit the architecture, or a ``model`` of another architecture.
    """
    from .nn import Sequential

    path = Path(path)
    where = repr(str(path))
    try:
        archive = _open_archive(path)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
            RuntimeError, ValueError) as e:
        if isinstance(e, (CheckpointError, FileNotFoundError)):
            raise
        raise CheckpointError(f"{where} is not a juanji checkpoint (corrupted or not an .npz "
                              f"file: {e})") from None
    try:
        with _closing(archive):
            return _load(path, archive, model, Sequential)
    except CheckpointError:
        raise
    except ValueError as e:  # numpy's header parser on damaged headers
        raise CheckpointError(f"{where} is not a juanji checkpoint: {e}") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
            RuntimeError) as e:  # damaged archives: bad zip, bad deflate, unknown compression
        raise CheckpointError(f"{where} is not a juanji checkpoint (corrupted or not an "
                              f".npz file: {e})") from None


class _closing:
    def __init__(self, archive):
        self.archive = archive

    def __enter__(self):
        return self.archive

    def __exit__(self, *exc):
        self.archive.close()


def _load(path: Path, archive: _Archive, model, Sequential) -> Checkpoint:
    """`load_checkpoint` on an open archive: the metadata first, then only the entries it and
    the architecture name; any other entry is refused before it is decompressed."""
    where = repr(str(path))
    meta = _read_meta(path, archive)
    optimizer = meta.get("optimizer")
    refs = _array_refs(optimizer["state"]) if optimizer is not None else set()
    model_keys = {k for k in archive.entries if k.startswith(MODEL_PREFIX)}
    others = sorted(k for k in archive.entries
                    if k != META_KEY and k not in model_keys
                    and not (k.startswith(OPTIM_PREFIX) and k[len(OPTIM_PREFIX):] in refs))
    if others:
        raise CheckpointError(
            f"{where}: entries {others[:5]}{' ...' if len(others) > 5 else ''} are not part of "
            f"this checkpoint (it holds {META_KEY!r}, the weights its architecture names and "
            f"the optimiser arrays its state names); nothing of them was read")
    if model is None:
        try:
            # far more values than stored: refused before allocating (smaller mismatches get
            # the precise message of _check_state_fits below)
            stored = sum(math.prod(archive.header(k)[0]) for k in model_keys)
            model = Sequential.from_config(meta["architecture"],
                                           max_values=stored + SIZE_SLACK)
        except (ValueError, TypeError, KeyError) as e:
            if isinstance(e, CheckpointError):
                raise
            raise CheckpointError(f"{where}: cannot rebuild the stored architecture: {e}") from None
    else:
        mine = json.loads(json.dumps(_to_json(model.config())))
        if mine != meta["architecture"]:
            raise CheckpointError(f"{where} holds a different architecture than `model`: "
                                  f"stored {_describe(meta['architecture'])}, "
                                  f"given {_describe(mine)}")
    expected = model.state_dict()
    unexpected = sorted(k[len(MODEL_PREFIX):] for k in model_keys
                        if k[len(MODEL_PREFIX):] not in expected)
    missing = sorted(set(expected) - {k[len(MODEL_PREFIX):] for k in model_keys})
    if missing or unexpected:  # said before any weight is read
        raise CheckpointError(f"{where}: the stored weights do not match the architecture "
                              f"(missing {missing}, unexpected {unexpected})")
    weights = {k: archive.read(MODEL_PREFIX + k) for k in expected}
    optim_arrays = {}
    for key in sorted(refs):
        if OPTIM_PREFIX + key in archive.entries:
            optim_arrays[key] = archive.read(OPTIM_PREFIX + key)
    _check_state_fits(model, weights, where)
    model.load_state_dict(weights)
    if meta.get("model_rng"):
        try:
            model.set_rng_state(meta["model_rng"])
        except (ValueError, TypeError, KeyError, IndexError) as e:
            raise CheckpointError(f"{where}: the stored layer RNG state does not fit: {e}") from None
    model.eval()

    scheduler = meta.get("scheduler")
    return Checkpoint(
        model=model,
        epoch=int(meta["epoch"]),
        architecture=meta["architecture"],
        input_shape=tuple(int(v) for v in meta["input_shape"]),
        class_names=meta.get("class_names"),
        optimizer_name=None if optimizer is None else optimizer["name"],
        optimizer_state=None if optimizer is None else _join_arrays(optimizer["state"],
                                                                    optim_arrays),
        scheduler_state=None if scheduler is None else scheduler["state"],
        normalizer=meta.get("normalizer"),
        rng_state=meta.get("rng_state"),
        metrics=meta.get("metrics"),
        extra=meta.get("extra") or {},
        path=path,
        dataset=_dataset_of(meta),
        polarity=meta.get("polarity"),
    )


def _dataset_of(meta: dict) -> str | None:
    """The checkpoint's data set: its own field, else (older checkpoints) the ``juanji train``
    option kept in ``extra["options"]``."""
    if meta.get("dataset") is not None:
        return meta["dataset"]
    options = (meta.get("extra") or {}).get("options")
    name = options.get("dataset") if isinstance(options, dict) else None
    return name if isinstance(name, str) else None


def _describe(config) -> str:
    """A one-line architecture description: the layer types in order."""
    layers = config.get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list):
        return "an unreadable config"
    return "[" + ", ".join(str(d.get("type", "?")) for d in layers if isinstance(d, dict)) + "]"
