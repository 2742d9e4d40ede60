"""``juanji export`` and ``juanji import``: checkpoints to and from ONNX and PyTorch files.

Examples::

    juanji export runs/digits-digits/best.npz --to onnx digits.onnx
    juanji export runs/digits-digits/best.npz --to torch digits.pt2  # torch.export
    juanji import digits.onnx --out imported.npz
    juanji import net.onnx --dataset mnist --out net.npz              # a file from PyTorch
    juanji import weights.pt --model lenet5 --input-shape 28,28,1 --dataset mnist --out w.npz
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import (UsageError, check_data_dir, console, dataset_name, input_shape,
                      load_checkpoint_arg, model_from_arg, positive_int)

NORMALISER_NOTE = (
    "The normaliser is not baked into the exported graph: the file takes float (N, C, H, W) "
    "already normalised, x = (uint8 / 255 - mean[c]) / std[c] (torchvision: ToTensor() then "
    "Normalize(mean, std)), and the mean, std, class names and data set are stored as JSON "
    "metadata (ONNX: metadata_props['juanji']; .pt2: the extra file juanji.json).")


def add_parser(sub, common) -> None:
    """Register ``juanji export`` and ``juanji import`` on the subcommands ``sub``."""
    p = sub.add_parser(
        "export", parents=[common], help="write a checkpoint as an ONNX or PyTorch file",
        description="Write a checkpoint's model as an ONNX file (opset 17, run it in "
        "onnxruntime) or a torch.export program (.pt2: torch.export.load(FILE).module(), no "
        "juanji needed), then run the "
        "file on random inputs and report its largest difference from juanji. " + NORMALISER_NOTE)
    p.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="a .npz checkpoint")
    p.add_argument("--to", required=True, choices=("onnx", "torch"), dest="fmt",
                   help="onnx: an .onnx file; torch: a torch.export program (.pt2)")
    p.add_argument("file", type=Path, metavar="FILE", help="the file to write")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_export, parser=p)

    p = sub.add_parser(
        "import", parents=[common], help="make a checkpoint from an ONNX or PyTorch file",
        description="Make a juanji checkpoint from an ONNX file (juanji's or PyTorch's "
        "exporter), a .pt2 file from `juanji export`, a TorchScript file of an nn.Sequential, "
        "or a torch.save'd state dict "
        "(with --model). Supported layers: Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), "
        "Flatten, Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Dropout, BatchNorm2d (and their ONNX "
        "operators); anything else is refused by name. The normaliser comes from --mean/--std, "
        "else the file's juanji metadata, else is fitted on --dataset's training split. "
        "Afterwards `juanji evaluate`, `juanji predict` and `juanji explain page` work on the "
        "checkpoint.")
    p.add_argument("file", type=Path, metavar="FILE",
                   help=".onnx, .pt2, TorchScript .pt, or a state dict .pt (with --model)")
    p.add_argument("--out", type=Path, required=True, metavar="CHECKPOINT",
                   help="the .npz checkpoint to write")
    p.add_argument("--input-shape", type=input_shape, metavar="H,W,C",
                   help="the model's input (needed for TorchScript files from elsewhere and "
                   "with --model; checked against the file otherwise)")
    p.add_argument("--model", metavar="MODEL",
                   help="for a state dict: the architecture it belongs to (a built-in name or "
                   "a checkpoint)")
    p.add_argument("--classes", type=positive_int, metavar="K",
                   help="with --model NAME: number of classes (default: --dataset's, else 10)")
    p.add_argument("--dataset", type=dataset_name, metavar="NAME",
                   help="the data set the model applies to (default: the file's metadata); "
                   "evaluate and explain use it, and it gives the class names")
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="where the data files are")
    p.add_argument("--mean", type=_floats, metavar="M[,M,M]",
                   help="the normaliser's per-channel mean on the [0, 1] scale (with --std)")
    p.add_argument("--std", type=_floats, metavar="S[,S,S]",
                   help="the normaliser's per-channel std on the [0, 1] scale (with --mean)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_import, parser=p)


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be numbers separated by commas, got "
                                         f"{text!r}") from None


# --- export -------------------------------------------------------------------------------------

def cmd_export(args) -> int:
    import numpy as np

    from ..interop.files import export_model, run_file

    if not args.file.parent.is_dir() and str(args.file.parent):
        raise UsageError(f"the directory of FILE {str(args.file.parent)!r} does not exist")
    ck = load_checkpoint_arg(args.checkpoint)
    model = ck.model.eval()
    norm = ck.load_normalizer()
    meta = export_model(model, args.fmt, args.file, normalizer=norm,
                        class_names=ck.class_names, dataset=ck.dataset)
    # Check the written file in its own runtime against juanji on random inputs.
    x = np.random.default_rng(0).standard_normal((16, *model.input_shape)).astype(model.dtype)  # (16, H, W, C)
    diff = float(np.abs(run_file(args.file, args.fmt, x) - model.forward(x)).max())
    runtime = "onnxruntime" if args.fmt == "onnx" else "PyTorch"
    h, w, c = model.input_shape
    info = {"checkpoint": str(args.checkpoint), "file": str(args.file), "format": args.fmt,
            "input": f"{model.dtype.name} (N, {c}, {h}, {w})",
            "output": f"(N, {', '.join(map(str, model.output_shape))})",
            "metadata": meta, "checked_in": runtime, "max_abs_difference": diff}
    if args.json:
        print(json.dumps(info))
        return 0
    out = console()
    kind = "ONNX opset 17" if args.fmt == "onnx" else "torch.export program"
    out.print(f"wrote {args.file} ({kind}): input {info['input']}, output {info['output']}")
    if norm is None:
        out.print("inputs: the checkpoint holds no normaliser; the file takes whatever the "
                  "model was trained on")
    else:
        where = ("the file's metadata_props['juanji']" if args.fmt == "onnx"
                 else "the archive's extra file juanji.json")
        out.print(f"inputs: x = (uint8 / 255 - mean) / std with mean "
                  f"{_fmt(norm.mean)}, std {_fmt(norm.std)}; not in the graph, stored in "
                  f"{where}")
    out.print(f"checked in {runtime}: max |difference| from juanji {diff:.2g} on 16 random "
              f"inputs")
    return 0


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


# --- import -------------------------------------------------------------------------------------

def cmd_import(args) -> int:
    from ..checkpoint import save_checkpoint
    from ..data import DATASETS, Normalizer
    from ..data.registry import folder_root
    from ..interop import load_torch_state_dict
    from ..interop.files import file_format, import_model, load_state_dict_file
    from ..train import num_classes_of

    if not args.file.is_file():
        raise UsageError(f"model file {str(args.file)!r} does not exist")
    if not args.out.parent.is_dir() and str(args.out.parent):
        raise UsageError(f"the directory of --out {str(args.out.parent)!r} does not exist")
    if (args.mean is None) != (args.std is None):
        raise UsageError("--mean and --std go together")
    if args.dataset is not None:
        check_data_dir(args.dataset, args.data_dir)
    known = DATASETS.get(args.dataset) if args.dataset else None

    fmt = file_format(args.file)
    if fmt == "state_dict":
        if args.model is None:
            raise UsageError(f"{str(args.file)!r} is a state dict (weights only): give --model, "
                             f"the architecture it belongs to")
        classes = args.classes or (known.num_classes if known else None)
        model = model_from_arg(args.model, args.input_shape, classes)
        load_torch_state_dict(model, load_state_dict_file(args.file))
        model.eval()
        meta = {}
    else:
        if args.model is not None or args.classes is not None:
            raise UsageError(f"--model and --classes are for a state dict; {str(args.file)!r} "
                             f"holds its architecture")
        model, meta = import_model(args.file, input_shape=args.input_shape)

    dataset = args.dataset or meta.get("dataset")
    k = num_classes_of(model)
    info = DATASETS.get(dataset) if dataset else None
    if info is not None:
        if info.input_shape != model.input_shape:
            raise ValueError(f"the model takes {model.input_shape} images but {dataset!r} has "
                             f"{info.input_shape}")
        if info.num_classes != k:
            raise ValueError(f"the model has {k} classes but {dataset!r} has "
                             f"{info.num_classes}")

    if args.mean is not None:
        norm, norm_from = Normalizer(args.mean, args.std), "--mean/--std"
    elif meta.get("normalizer"):
        norm, norm_from = Normalizer.from_dict(meta["normalizer"]), "the file's metadata"
    elif dataset is not None:
        from ..data import load_dataset
        train, _ = load_dataset(dataset, args.data_dir) if folder_root(dataset) is None \
            else load_dataset(dataset)
        norm, norm_from = Normalizer.fit(train), f"fitted on the training split of {dataset}"
    else:
        norm, norm_from = None, None
    if norm is not None and norm.num_channels != model.input_shape[-1]:
        raise ValueError(f"the normaliser has {norm.num_channels} channel(s) but the model takes "
                         f"{model.input_shape[-1]}")
    class_names = meta.get("class_names") or (list(info.class_names) if info else None)

    save_checkpoint(args.out, model, normalizer=norm, class_names=class_names, dataset=dataset,
                    extra={"imported_from": str(args.file), "imported_format": fmt})
    result = {"file": str(args.file), "format": fmt, "out": str(args.out),
              "input_shape": list(model.input_shape), "classes": k,
              "layers": [type(layer).__name__ for layer in model.layers],
              "dataset": dataset, "normalizer": None if norm is None else norm.to_dict(),
              "normalizer_from": norm_from}
    if args.json:
        print(json.dumps(result))
        return 0
    out = console()
    out.print(f"wrote {args.out}: {len(model.layers)} layers "
              f"({', '.join(result['layers'])}), input {model.input_shape}, {k} classes")
    if norm is None:
        out.print("note: no normaliser (give --dataset or --mean/--std): `juanji predict` and "
                  "`juanji explain page` need one")
    else:
        out.print(f"normaliser: mean {_fmt(norm.mean)}, std {_fmt(norm.std)} ({norm_from})")
    if dataset is None:
        out.print(f"next: juanji evaluate {args.out} --dataset NAME")
    else:
        out.print(f"next: juanji evaluate {args.out}   (data set {dataset})")
    return 0
