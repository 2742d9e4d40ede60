"""Model files for other frameworks, with what juanji knows around the weights: what
``juanji export`` and ``juanji import`` call.

- ``export_model(model, "onnx" | "torch", path, normalizer=..., class_names=..., dataset=...)``
  writes an ONNX file (:func:`~juanji.interop.to_onnx`) or a ``torch.export`` program
  (:func:`~juanji.interop.save_torch_program`, a ``.pt2`` file PyTorch runs with
  ``torch.export.load(path).module()``, no juanji needed).
- ``import_model(path, input_shape=None)`` reads either back, or an ONNX file from PyTorch's
  exporter, or a TorchScript file of an ``nn.Sequential``, with the metadata if there is any.

**The normaliser is stored as metadata, not baked into the graph.** The exported graph is exactly
:func:`~juanji.interop.to_onnx` / :func:`~juanji.interop.to_torch`: it takes float (N, C, H, W)
*already normalised*, ``x = (uint8 / 255 - mean[c]) / std[c]``, which is torchvision's
``ToTensor()`` followed by ``Normalize(mean, std)`` with the stored values. The JSON below sits
in the ONNX file's ``metadata_props["juanji"]`` and in the ``.pt2`` archive's extra file
``juanji.json`` (which also holds ``"architecture"``, juanji's ``model.config()``)::

    {"format": "juanji-export", "version": 1, "input_shape": [H, W, C],
     "input": "float32 (N, C, H, W), x = (uint8 / 255 - mean[c]) / std[c]",
     "normalizer": {"mean": [...], "std": [...]} or null,
     "class_names": [...] or null, "dataset": "digits" or null}

Why not a first step in the graph: the file then computes the same function as the juanji
model (the differences measured in the tests hold for it), a PyTorch user composes it with the
transforms they already use, and a file imported back is the same model, not one with an extra
layer juanji does not have.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

FORMATS = ("onnx", "torch")
METADATA_FORMAT = "juanji-export"
METADATA_VERSION = 1
ONNX_METADATA_KEY = "juanji"  # metadata_props key; the .pt2 extra file is juanji.json
INPUT_RULE = "(uint8 / 255 - mean[c]) / std[c]"


def export_metadata(model, *, normalizer=None, class_names=None, dataset=None) -> dict:
    """The JSON-able metadata written next to the weights (see the module docstring)."""
    norm = None if normalizer is None else (normalizer if isinstance(normalizer, dict)
                                            else normalizer.to_dict())
    return {"format": METADATA_FORMAT, "version": METADATA_VERSION,
            "input_shape": [int(v) for v in model.input_shape],
            "input": f"{model.dtype.name} (N, C, H, W), x = {INPUT_RULE}",
            "normalizer": norm,
            "class_names": None if class_names is None else [str(c) for c in class_names],
            "dataset": dataset}


def export_model(model, fmt: str, path, *, normalizer=None, class_names=None,
                 dataset=None) -> dict:
    """Write ``model`` to ``path`` as ``fmt`` (``"onnx"``, or ``"torch"``: a ``torch.export``
    ``.pt2`` program), atomically,
    with :func:`export_metadata`; returns that metadata."""
    from juanji.nn import Sequential
    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a juanji Sequential, got {type(model).__name__}")
    meta = export_metadata(model, normalizer=normalizer, class_names=class_names,
                           dataset=dataset)
    text = json.dumps(meta)
    if fmt == "onnx":
        from .onnx import to_onnx
        to_onnx(model, path, metadata={ONNX_METADATA_KEY: text})
    elif fmt == "torch":
        from .torch import save_torch_program
        save_torch_program(model, path, metadata=meta)
    else:
        raise ValueError(f"`fmt` must be one of {FORMATS}, got {fmt!r}")
    return meta


def run_file(path, fmt: str, x: np.ndarray) -> np.ndarray:
    """Run the exported file at ``path`` on juanji-layout ``x`` (N, H, W, C) in its own framework
    (onnxruntime or PyTorch); returns its output (N, K) as a numpy array."""
    from ._layout import images_to_nchw
    x_nchw = images_to_nchw(x)  # (N, C, H, W)
    if fmt == "onnx":
        import onnxruntime as ort
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return sess.run(None, {sess.get_inputs()[0].name: x_nchw})[0]
    elif fmt == "torch":
        import torch
        module = torch.export.load(str(path)).module()
        with torch.no_grad():
            return module(torch.from_numpy(x_nchw)).numpy()
    else:
        raise ValueError(f"`fmt` must be one of {FORMATS}, got {fmt!r}")


def file_format(path) -> str:
    """``"torch"`` for a ``torch.export`` program (``.pt2``), ``"torchscript"`` for a TorchScript
    archive, ``"state_dict"`` for a ``torch.save``'d dict of tensors, ``"onnx"`` otherwise (read
    by the ONNX parser, which says if it is not)."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.endswith("/models/model.json") for n in names):
            return "torch"
        if any("/code/" in n for n in names):
            return "torchscript"
        if any(n.endswith("data.pkl") for n in names):
            return "state_dict"
        raise ValueError(f"{str(path)!r} is a zip archive but neither a torch.export program, "
                         f"a TorchScript file nor a torch.save'd state dict")
    return "onnx"


def _parse_metadata(text, where: str) -> dict:
    if not text:
        return {}
    try:
        meta = json.loads(text)
    except ValueError as e:
        raise ValueError(f"{where}: the juanji metadata is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != METADATA_FORMAT:
        raise ValueError(f"{where}: the juanji metadata is not a {METADATA_FORMAT!r} object")
    return meta


def import_model(path, *, input_shape=None) -> tuple:
    """``(model, metadata)`` from an ONNX, ``.pt2`` or TorchScript file (:func:`file_format`);
    ``metadata`` is the dict :func:`export_model` wrote, or ``{}`` for a file from elsewhere.

    ``input_shape`` (H, W, C): required for a TorchScript file without metadata; for ONNX (whose
    graph fixes it) and files with metadata it must agree when given.
    """
    path = Path(path)
    where = repr(str(path))
    if not path.is_file():
        raise FileNotFoundError(f"model file {where} does not exist")
    fmt = file_format(path)
    if fmt == "onnx":
        from .onnx import from_onnx, onnx_metadata
        try:
            meta = _parse_metadata(onnx_metadata(path).get(ONNX_METADATA_KEY), where)
        except Exception as e:  # noqa: BLE001 - the protobuf parser's errors have many types
            if isinstance(e, ValueError) and "juanji metadata" in str(e):
                raise
            raise ValueError(f"{where} is neither an ONNX file nor a TorchScript file "
                             f"({type(e).__name__}: {e})") from None
        model = from_onnx(path)
    elif fmt == "torch":
        from .torch import load_torch_program
        model, meta = load_torch_program(path)
        meta = {k: v for k, v in meta.items() if k != "architecture"}
        _parse_metadata(json.dumps(meta), where)
    elif fmt == "torchscript":
        from .torch import from_torchscript
        model, text = from_torchscript(path, input_shape)
        meta = _parse_metadata(text, where)
    else:
        raise ValueError(f"{where} is a state dict (weights without an architecture); give the "
                         f"architecture it belongs to (`juanji import --model NAME`, or "
                         f"juanji.interop.load_torch_state_dict)")
    if input_shape is not None and tuple(input_shape) != model.input_shape:
        raise ValueError(f"`input_shape` {tuple(input_shape)} differs from the file's "
                         f"{model.input_shape}")
    return model, meta


def load_state_dict_file(path) -> dict:
    """A ``torch.save``'d state dict, read with ``weights_only=True`` (tensors and containers
    only: no arbitrary object is unpickled)."""
    import torch
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises several types for a bad file
        raise ValueError(f"{str(path)!r} is not a state dict torch loads with weights_only=True "
                         f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
                         ) from None
    if not isinstance(state, dict) or not all(hasattr(v, "detach") for v in state.values()):
        raise ValueError(f"{str(path)!r} does not hold a dict of tensors (a state_dict())")
    return state
