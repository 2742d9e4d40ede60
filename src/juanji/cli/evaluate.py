"""``juanji evaluate`` and ``juanji predict``: use a checkpoint on a test split or on image files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..data.folder import read_model_image
from ..data.registry import DATASETS
from ._common import (
    UsageError, check_data_dir, console, dataset_name, load_checkpoint_arg, normalizer_of,
    positive_int,
)
from .train import TRAIN_DEFAULTS, load_run_data


def add_parser(sub, common) -> None:
    """Register ``juanji evaluate`` and ``juanji predict`` on the subcommands ``sub``."""
    p = sub.add_parser("evaluate", parents=[common], help="test accuracy and confusion matrix",
                       description="Evaluate a checkpoint on a data set's test split.")
    p.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="a .npz checkpoint")
    p.add_argument("--dataset", type=dataset_name, metavar="NAME",
                   help="data set (default: the one the checkpoint was trained on, when "
                   "it is a named set; a folder:DIR is read only when given here)")
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="where the data files are")
    p.add_argument("--batch-size", type=positive_int, default=256, metavar="N")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_evaluate, parser=p)

    p = sub.add_parser("predict", parents=[common], help="classify image files",
                       description="Classify PNG/JPG images with a checkpoint. Images are "
                       "converted to the model's channels (grey or RGB), resized to its input "
                       "size and normalised as in training.")
    p.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="a .npz checkpoint")
    p.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="PNG or JPG files")
    p.add_argument("--top-k", type=positive_int, default=3, metavar="K",
                   help="show the K most likely classes (default 3)")
    p.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                   help="invert the image's levels (255 - x) first, or --no-invert never. "
                   "Default: inverted when its polarity (dark ink on light paper, or the "
                   "reverse) is opposite to the training images', which the checkpoint "
                   "records; a note on stderr says so")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_predict, parser=p)



# --- evaluate -----------------------------------------------------------------------------------

def cmd_evaluate(args) -> int:
    from ..train import evaluate, num_classes_of

    ck = load_checkpoint_arg(args.checkpoint)
    run = {**TRAIN_DEFAULTS, **(ck.extra.get("options") or {})}
    dataset = args.dataset or ck.dataset
    if dataset is None:
        raise UsageError(f"{str(args.checkpoint)!r} does not say which data set it was trained "
                         f"on; give --dataset")
    if args.dataset is None and dataset not in DATASETS:
        # A checkpoint is a file from anywhere: its word alone never makes juanji read a
        # directory (a tampered "folder:/etc" would scan /etc). Registered names only.
        raise UsageError(f"{str(args.checkpoint)!r} was trained on {dataset!r}; a folder is "
                         f"read only when you name it: give --dataset {dataset}")
    _check_run_options(args.checkpoint, run, ck.input_shape)
    check_data_dir(dataset, args.data_dir)
    same = dataset == run["dataset"]  # a folder is re-read with the run's size, mode and split
    train, test = load_run_data({**run, "dataset": dataset, "image_size": run["image_size"] if same
                              else None, "grey": run["grey"] if same else False}, args.data_dir)
    if test.input_shape != ck.input_shape:
        raise ValueError(f"the checkpoint's model takes {ck.input_shape} images but {dataset!r} "
                         f"has {test.input_shape}")
    k = num_classes_of(ck.model)
    if test.num_classes != k:
        raise ValueError(f"the checkpoint's model has {k} classes but {dataset!r} has "
                         f"{test.num_classes}")
    normalizer = normalizer_of(ck, train, console(stderr=True))
    from ..distributed import world_if_launched
    comm = world_if_launched()  # under mpiexec, each rank evaluates its share of every batch
    result = evaluate(ck.model, test, normalizer, args.batch_size, comm=comm)
    if comm is not None and not comm.is_root:
        return 0
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "dataset": dataset,
                          "num_images": len(test), "class_names": list(test.class_names),
                          **result.to_dict()}))
        return 0

    from rich.table import Table
    names = list(test.class_names)
    table = Table(title=f"{dataset} test: accuracy {result.accuracy:.2%}, loss "
                  f"{result.loss:.4f} ({len(test)} images)",
                  caption="rows: true class, columns: predicted class")
    table.add_column("true \\ pred", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("accuracy", justify="right")
    for i, name in enumerate(names):
        cells = [f"[bold]{v}[/bold]" if j == i else (str(v) if v else "[dim]0[/dim]")
                 for j, v in enumerate(result.confusion[i])]
        acc = result.per_class_accuracy[i]
        table.add_row(name, *cells, "-" if acc != acc else f"{acc:.1%}")
    console().print(table)
    return 0


def _invert_or_not(images, args, polarity, dataset) -> list[bool]:
    """Whether to invert each image: as --invert/--no-invert say, else when its polarity is
    opposite to the training images' (a checkpoint without the statistics: never). An automatic
    inversion is said in one line on stderr."""
    if args.invert is not None:
        return [args.invert] * len(images)
    if polarity is None:
        return [False] * len(images)
    flips = [polarity.is_opposite(im) for im in images]
    err = console(stderr=True)
    for path, im, flip in zip(args.images, images, flips):
        if flip:
            err.print(f"note: {path} is {polarity.image_kind(im)} but the training images"
                      f"{f' ({dataset})' if dataset else ''} are {polarity.kind}: inverted it "
                      f"(--no-invert keeps it as it is)", markup=False, soft_wrap=True)
    return flips


def _check_run_options(checkpoint, run: dict, input_shape: tuple) -> None:
    """The stored `juanji train` options evaluate re-uses for a folder: ``image_size`` must be
    the model's own input size (a tampered [20000, 20000] made evaluate allocate 5 GB) and
    ``grey`` a bool."""
    size, grey = run.get("image_size"), run.get("grey")
    if size is not None and (not isinstance(size, list) or list(size) != list(input_shape[:2])):
        raise ValueError(f"{str(checkpoint)!r}: the stored option image_size "
                         f"{str(size)[:40]} is not the model's input size "
                         f"{list(input_shape[:2])}; the checkpoint is damaged or tampered with")
    if not isinstance(grey, bool):
        raise ValueError(f"{str(checkpoint)!r}: the stored option grey must be true or false, "
                         f"got {str(grey)[:40]}")


def cmd_predict(args) -> int:
    import numpy as np

    for path in args.images:
        if not path.is_file():
            raise UsageError(f"image file {str(path)!r} does not exist")
    from ..train import num_classes_of, predict_proba

    ck = load_checkpoint_arg(args.checkpoint)
    k = num_classes_of(ck.model)
    if args.top_k > k:
        raise UsageError(f"--top-k {args.top_k} exceeds the model's {k} classes")
    normalizer = ck.load_normalizer()
    if normalizer is None:
        raise ValueError(f"{str(args.checkpoint)!r} holds no normaliser, so its inputs are "
                         f"unknown; save it with `normalizer=`")
    names = ck.class_names or [str(i) for i in range(k)]
    images = [read_model_image(p, ck.input_shape) for p in args.images]  # each (H, W, C) uint8
    inverted = _invert_or_not(images, args, ck.load_polarity(), ck.dataset)
    x = np.stack([255 - im if flip else im for im, flip in zip(images, inverted)])  # (N, H, W, C)
    probs = predict_proba(ck.model, normalizer(x))  # (N, K)
    top = np.argsort(-probs, axis=1, kind="stable")[:, :args.top_k]  # (N, top_k)
    results = [{"image": str(path), "inverted": inverted[n],
                "predictions": [{"class": names[j], "index": int(j),
                                 "probability": float(probs[n, j])} for j in top[n]]}
               for n, path in enumerate(args.images)]
    if args.json:
        print(json.dumps(results))
        return 0
    from rich.table import Table
    table = Table(title=f"top-{args.top_k} predictions")
    table.add_column("image", no_wrap=True)  # a path cut in two would be hard to copy
    for col in ("rank", "class", "probability"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for r in results:
        for rank, p in enumerate(r["predictions"], 1):
            table.add_row(r["image"] if rank == 1 else "", str(rank), p["class"],
                          f"{p['probability']:.2%}")
        table.add_section()
    console().print(table)
    return 0


