"""The ``juanji`` command: train, evaluate, predict and summarise CNNs built from first principles.

Examples::

    juanji train                                   # the digits model on the embedded digits
    juanji train --dataset fashion-mnist --data-dir ~/data --model lenet5 --epochs 5
    juanji train --resume --out runs/digits-digits  # continue an interrupted run exactly
    juanji train --dataset cifar10 --download      # tinyvgg + crop/flip augmentation
    juanji train --dataset signs --data-dir ~/course  # the course's SIGNS .h5 files
    juanji train --dataset folder:photos --image-size 64  # DIR/<class>/*.jpg, your own photos
    juanji data list                               # data sets, licences, what is on disk
    juanji evaluate runs/digits-digits/best.npz --json
    juanji predict runs/digits-digits/best.npz seven.png --top-k 3
    juanji summary course --input-shape 32,32,3    # the course's table, parameter counts included

Also ``python -m juanji ...``. Exit codes:

- 0: success;
- 1: the work failed (an unreadable checkpoint or image, missing data files, diverging training):
  one line ``juanji <command>: error: ...`` on stderr (``--debug`` shows the traceback);
- 2: the command line is wrong (an unknown name, a malformed value, a named file or directory
  that does not exist, options that contradict a resumed run): argparse's usage message.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .data import DATASETS
from .models import MODELS
from .optim import OPTIMIZERS
from .train import MONITORS

__all__ = ["main", "build_parser"]

# Defaults of `juanji train`, chosen so that the bare command reaches >= 97% test accuracy on the
# embedded digits in well under a minute on 2 CPU cores (see the README for the measurement).
TRAIN_DEFAULTS = {
    "dataset": "digits", "model": "digits", "epochs": 15, "batch_size": 32, "lr": 5e-3,
    "optimizer": "adam", "seed": 0, "val_fraction": 0.1, "schedule": "cosine", "limit": None,
    "patience": None, "clip_norm": None, "augment": False, "image_size": None, "grey": False,
    "monitor": "loss",
}
# Per-data-set defaults that replace TRAIN_DEFAULTS where the user gave nothing.
DATASET_RECIPES = {
    "signs": {"model": "signs"}, "happy": {"model": "signs"}, "folder": {"model": "signs"},
    # The recipe measured in BENCHMARKS.md (lenet5 >= 90% test, as its PyTorch twin). Over 12
    # epochs the val loss turns up after epoch ~7 while the val accuracy still climbs, so "best"
    # follows the accuracy.
    "fashion-mnist": {"model": "lenet5", "epochs": 12, "batch_size": 64, "lr": 2e-3,
                      "monitor": "accuracy"},
    "mnist": {"model": "lenet5", "epochs": 12, "batch_size": 64, "lr": 2e-3,
              "monitor": "accuracy"},
    "cifar10": {"model": "tinyvgg", "augment": True},
    "cifar100": {"model": "tinyvgg", "augment": True},
}
# Options that define a run: on --resume they come from the checkpoint (and may only repeat it).
RUN_OPTIONS = tuple(TRAIN_DEFAULTS)
SCHEDULES = ("cosine", "step", "none")
# `juanji summary NAME` without --input-shape: the shape each architecture was designed for.
DEFAULT_INPUT_SHAPES = {"lenet5": (32, 32, 1), "course": (32, 32, 3), "signs": (64, 64, 3),
                        "tinyvgg": (28, 28, 1), "digits": (8, 8, 1)}
DEFAULT_CLASSES = {"signs": 6}


class UsageError(Exception):
    """The command line is wrong: reported by argparse with the usage line, exit code 2."""


# --- argument types -----------------------------------------------------------------------------

def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def input_shape(text: str) -> tuple[int, int, int]:
    """``"32,32,3"`` -> ``(32, 32, 3)``.

    >>> input_shape("28, 28, 1")
    (28, 28, 1)
    """
    parts = [p.strip() for p in text.split(",")]
    bad = argparse.ArgumentTypeError(
        f"must be three positive integers H,W,C such as 28,28,1, got {text!r}")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise bad
    shape = tuple(int(p) for p in parts)
    if min(shape) < 1:
        raise bad
    return shape


def dataset_name(text: str) -> str:
    """A name in DATASETS, or ``folder:DIR`` (an existing directory, made absolute)."""
    if text.startswith("folder:"):
        root = Path(text[len("folder:"):]).expanduser()
        if not text[len("folder:"):] or not root.is_dir():
            raise argparse.ArgumentTypeError(f"folder:DIR needs an existing directory, got "
                                             f"{text!r}")
        return f"folder:{root.resolve()}"
    if text not in DATASETS:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from "
                                         f"{', '.join(sorted(DATASETS))} or folder:DIR)")
    return text


def image_size(text: str) -> list[int]:
    """``"64"`` -> ``[64, 64]``; ``"48x64"`` -> ``[48, 64]`` (H x W)."""
    parts = text.lower().replace(",", "x").split("x")
    if len(parts) not in (1, 2) or not all(p.strip().isdigit() and int(p) >= 1 for p in parts):
        raise argparse.ArgumentTypeError(f"must be N or HxW with positive integers, got {text!r}")
    sizes = [int(p) for p in parts]
    return sizes * 2 if len(sizes) == 1 else sizes


# --- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="juanji", description="CNNs from first principles in NumPy: train, evaluate, "
        "predict and summarise models.",
        epilog="Run `juanji COMMAND --help` for the options of a command.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # train: run options default to None so that --resume can tell "given" from "default".
    p = sub.add_parser("train", parents=[common], help="train a model and save checkpoints",
                       description="Train a model; writes best.npz, last.npz, metrics.json and "
                       "curves.png to --out.")
    d = TRAIN_DEFAULTS
    p.add_argument("--dataset", type=dataset_name, metavar="NAME",
                   help=f"{', '.join(sorted(DATASETS))} or folder:DIR (default {d['dataset']}, "
                   f"embedded, no download)")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="directory holding the data set's files (IDX, CIFAR, .h5)")
    p.add_argument("--download", action="store_true",
                   help="first download the data set if missing (mnist, fashion-mnist, cifar10)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random crop and flip of training batches (default: on for CIFAR)")
    p.add_argument("--image-size", type=image_size, metavar="N|HxW",
                   help="folder:DIR only: resize every image to this (default 64x64)")
    p.add_argument("--grey", action="store_true", default=None,
                   help="folder:DIR only: read images as greyscale instead of RGB")
    p.add_argument("--model", choices=sorted(MODELS), help=f"architecture (default {d['model']})")
    p.add_argument("--epochs", type=positive_int, help=f"epochs (default {d['epochs']})")
    p.add_argument("--batch-size", type=positive_int, metavar="N",
                   help=f"examples per step (default {d['batch_size']})")
    p.add_argument("--lr", type=positive_float, help=f"learning rate (default {d['lr']})")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help=f"(default {d['optimizer']})")
    p.add_argument("--schedule", choices=SCHEDULES,
                   help=f"learning-rate schedule per epoch (default {d['schedule']}; step halves "
                   f"the rate every third of the epochs)")
    p.add_argument("--seed", type=non_negative_int,
                   help="seeds the initial weights, the validation split and the example order "
                   f"(default {d['seed']})")
    p.add_argument("--val-fraction", type=fraction, metavar="F",
                   help="share of the training split held out for validation, 0 for none "
                   f"(default {d['val_fraction']})")
    p.add_argument("--limit", type=positive_int, metavar="N",
                   help="use only the first N training and N test images (quick trials)")
    p.add_argument("--patience", type=positive_int, metavar="N",
                   help="stop early after N epochs without a better monitored metric")
    p.add_argument("--monitor", choices=MONITORS,
                   help="what best.npz and --patience watch on the validation split: loss or "
                   "accuracy (default loss; accuracy for fashion-mnist and mnist)")
    p.add_argument("--clip-norm", type=positive_float, metavar="F",
                   help="clip the global gradient norm to F")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output directory (default runs/<dataset>-<model>)")
    p.add_argument("--resume", action="store_true",
                   help="continue from DIR/last.npz with the run's own options (any run option "
                   "given again must match); ends with exactly the weights of an "
                   "uninterrupted run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or epoch lines")
    p.set_defaults(func=cmd_train, parser=p)

    p = sub.add_parser("evaluate", parents=[common], help="test accuracy and confusion matrix",
                       description="Evaluate a checkpoint on a data set's test split.")
    p.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="a .npz checkpoint")
    p.add_argument("--dataset", type=dataset_name, metavar="NAME",
                   help="data set (default: the one the checkpoint was trained on)")
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
    p.add_argument("--invert", action="store_true",
                   help="invert grey levels first (dark ink on light paper; the digit data "
                   "sets are light on dark)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_predict, parser=p)

    p = sub.add_parser("summary", parents=[common], help="layer table: shapes, sizes, parameters",
                       description="The layer table of a built-in model or a checkpoint: output "
                       "shapes, activation sizes, parameters, dense-equivalent parameters, "
                       "inputs per output and receptive fields.")
    p.add_argument("model", metavar="MODEL",
                   help=f"a built-in model ({', '.join(sorted(MODELS))}) or a checkpoint path")
    p.add_argument("--input-shape", type=input_shape, metavar="H,W,C",
                   help="input image shape (default: the model's usual one)")
    p.add_argument("--classes", type=positive_int, metavar="K", help="number of classes")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_summary, parser=p)

    from .explain.cli import add_parser as add_explain_parser  # imports this module: load late
    add_explain_parser(sub, common)
    from .data.cli import add_parser as add_data_parser  # juanji data list|download
    add_data_parser(sub, common)
    return parser


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 on a usage error
    try:
        return args.func(args) or 0
    except UsageError as e:
        args.parser.error(str(e))  # exits with 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        hint = " (continue with --resume)" if args.command == "train" else ""
        print(f"juanji {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the one place every failure becomes a message
        if args.debug:
            raise
        text = " ".join(str(e).split()) or type(e).__name__
        print(f"juanji {args.command}: error: {text}", file=sys.stderr)
        return 1


# --- helpers ------------------------------------------------------------------------------------

def _console(stderr: bool = False):
    """A rich Console; piped into a file it is 160 columns wide instead of rich's 80, so wide
    tables (summary, confusion matrices) are not cut."""
    from rich.console import Console
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, width=None if stream.isatty() else 160)


def _check_data_dir(dataset: str, data_dir) -> None:
    if data_dir is None:
        return
    if dataset.startswith("folder:"):
        raise UsageError("--data-dir is not used with folder:DIR, which names the images itself")
    if DATASETS[dataset].embedded:
        raise UsageError(f"--data-dir is not used by {dataset!r}, which is embedded in juanji")
    if not Path(data_dir).is_dir():
        raise UsageError(f"--data-dir {str(data_dir)!r} is not a directory")


def _load_checkpoint_arg(path: Path):
    from .checkpoint import load_checkpoint
    if not path.exists():
        raise UsageError(f"checkpoint file {str(path)!r} does not exist")
    return load_checkpoint(path)


def _normalizer_of(ck, train_split, console):
    """The checkpoint's normaliser; a checkpoint saved without one gets the training split's."""
    norm = ck.load_normalizer()
    if norm is None:
        from .data import Normalizer
        console.print("note: the checkpoint holds no normaliser; fitting one on the training "
                      "split")
        norm = Normalizer.fit(train_split)
    return norm


# --- train --------------------------------------------------------------------------------------

def _run_options(args) -> dict:
    """The run's options: given ones, else the stored run's (on --resume), else the defaults."""
    given = {k: getattr(args, k) for k in RUN_OPTIONS if getattr(args, k) is not None}
    out = Path(args.out) if args.out is not None else None
    stored = None
    if args.resume:
        if out is None:
            dataset = given.get("dataset", TRAIN_DEFAULTS["dataset"])
            out = Path("runs") / _run_name(
                dataset, given.get("model", _defaults(dataset)["model"]))
        last = out / "last.npz"
        if not last.exists():
            raise UsageError(f"--resume: there is no {str(last)!r} to resume from")
        from .checkpoint import load_checkpoint
        stored = load_checkpoint(last)
        saved = stored.extra.get("options")
        # Runs from before an option existed ran with its default: fill it in.
        if not isinstance(saved, dict) or not {"dataset", "model"} <= set(saved) \
                or not set(saved) <= set(RUN_OPTIONS):
            raise UsageError(f"--resume: {str(last)!r} was not written by `juanji train`")
        saved = {**TRAIN_DEFAULTS, **saved}
        clash = [f"--{k.replace('_', '-')} {v} (the run has {saved[k]})"
                 for k, v in given.items() if v != saved[k]]
        if clash:
            raise UsageError("--resume continues the stored run, but " + ", ".join(clash)
                             + "; drop these options or train into another --out")
        options = dict(saved)
    else:
        options = {**_defaults(given.get("dataset", TRAIN_DEFAULTS["dataset"])), **given}
    if out is None:
        out = Path("runs") / _run_name(options["dataset"], options["model"])
    return {"options": options, "out": out, "stored": stored}


def _defaults(dataset: str) -> dict:
    """TRAIN_DEFAULTS with the data set's recipe (model, augmentation) on top."""
    key = "folder" if dataset.startswith("folder:") else dataset
    return {**TRAIN_DEFAULTS, **DATASET_RECIPES.get(key, {})}


def _run_name(dataset: str, model: str) -> str:
    """``runs/<this>``: ``cifar10-tinyvgg``, or ``folder-<DIR's name>-signs`` for a folder."""
    if dataset.startswith("folder:"):
        dataset = "folder-" + Path(dataset[len("folder:"):]).name
    return f"{dataset}-{model}"


def _load_data(o: dict, data_dir):
    """(train, test) of the run's data set, with the folder options where they apply."""
    from .data import load_dataset
    if o["dataset"].startswith("folder:"):
        return load_dataset(o["dataset"], image_size=o["image_size"], grey=bool(o["grey"]),
                            seed=o["seed"])
    if o["image_size"] is not None or o["grey"]:
        raise UsageError("--image-size and --grey apply to --dataset folder:DIR only")
    return load_dataset(o["dataset"], data_dir)


def _make_scheduler(name: str, optimizer, epochs: int):
    from .optim import CosineLR, StepLR
    if name == "cosine":
        return CosineLR(optimizer, t_max=epochs)
    elif name == "step":
        return StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.5)
    elif name == "none":
        return None
    else:
        raise ValueError(f"`schedule` must be one of {SCHEDULES}, got {name!r}")


def cmd_train(args) -> int:
    from .checkpoint import load_checkpoint
    from .data import Normalizer
    from .data.augment import recipe_augment
    from .models import build_model
    from .optim import make_optimizer
    from .plots import plot_history
    from .train import BEST, LAST, evaluate, fit, restore_training_state
    from ._atomic import atomic_write_text

    t_start = time.perf_counter()
    run = _run_options(args)
    o, out = run["options"], run["out"]
    _check_data_dir(o["dataset"], args.data_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} exists and is not a directory")

    if args.download:
        from .data import download as dl
        if o["dataset"] not in dl.DOWNLOADABLE:
            raise UsageError(f"--download works for {', '.join(dl.DOWNLOADABLE)}, not "
                             f"{o['dataset']!r}")
        dl.download(o["dataset"], args.data_dir, progress=not args.no_progress)
    train, test = _load_data(o, args.data_dir)
    if o["limit"] is not None:
        train = train.subset(range(min(o["limit"], len(train))))
        test = test.subset(range(min(o["limit"], len(test))))
    val = None
    if o["val_fraction"] > 0:
        train, val = train.split(o["val_fraction"], seed=o["seed"])

    if run["stored"] is None:
        info = DATASETS.get(o["dataset"])
        model = build_model(o["model"], train.input_shape, train.num_classes, seed=o["seed"],
                            binary=bool(info and info.binary))
        normalizer = Normalizer.fit(train)
        optimizer = make_optimizer(o["optimizer"], model.parameters(), o["lr"])
        scheduler = _make_scheduler(o["schedule"], optimizer, o["epochs"])
        start_epoch, history = 0, None
    else:
        ck = run["stored"]
        model, normalizer = ck.model, ck.load_normalizer()
        optimizer = make_optimizer(o["optimizer"], model.parameters(), o["lr"])
        scheduler = _make_scheduler(o["schedule"], optimizer, o["epochs"])
        start_epoch, history = restore_training_state(ck, optimizer, scheduler)

    augment = recipe_augment(o["dataset"], train.input_shape) if o["augment"] else None
    show = not args.no_progress
    err = _console(stderr=True)
    if show:
        what = "resuming after epoch " + str(start_epoch) if start_epoch else "training"
        err.print(f"{what}: model {o['model']} on {o['dataset']} ({len(train)} train, "
                  f"{0 if val is None else len(val)} val, {len(test)} test images) -> {out}",
                  soft_wrap=True)
    history = fit(model, train, val=val, epochs=o["epochs"], batch_size=o["batch_size"],
                  optimizer=optimizer, scheduler=scheduler, seed=o["seed"],
                  normalizer=normalizer, checkpoint_dir=out,
                  early_stopping_patience=o["patience"], clip_norm=o["clip_norm"],
                  progress=show, start_epoch=start_epoch, history=history,
                  checkpoint_extra={"options": o, "argv": sys.argv[1:]}, augment=augment,
                  monitor=o["monitor"])

    best = load_checkpoint(out / BEST)  # the test score of the best epoch, not the last
    result = evaluate(best.model, test, normalizer)
    curves = plot_history(history, out / "curves.png")
    metrics = {
        "options": o,
        "argv": sys.argv[1:],
        "augment": None if augment is None else augment.to_dict(),
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                      if k not in ("func", "parser")},
        "epochs": history.to_dict()["epochs"],
        "best_epoch": history.best_epoch,
        "stopped_early": history.stopped_early,
        "test_accuracy": result.accuracy,
        "test_loss": result.loss,
        "test_per_class_accuracy": result.to_dict()["per_class_accuracy"],
        "train_seconds": sum(m.seconds for m in history.epochs),
        "total_seconds": time.perf_counter() - t_start,
        "files": {"best": str(out / BEST), "last": str(out / LAST), "curves": str(curves)},
    }
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")

    from rich.table import Table
    table = Table(title=f"juanji train: {o['model']} on {o['dataset']}", show_header=False)
    table.add_row("test accuracy", f"{result.accuracy:.2%} ({len(test)} images, best epoch "
                  f"{history.best_epoch} of {len(history.epochs)})")
    table.add_row("time", f"{metrics['total_seconds']:.1f} s")
    for name in ("best.npz", "last.npz", "metrics.json", "curves.png"):
        table.add_row(name, str(out / name))
    _console().print(table)
    return 0


# --- evaluate -----------------------------------------------------------------------------------

def cmd_evaluate(args) -> int:
    from .train import evaluate, num_classes_of

    ck = _load_checkpoint_arg(args.checkpoint)
    run = {**TRAIN_DEFAULTS, **(ck.extra.get("options") or {})}
    dataset = args.dataset or (ck.extra.get("options") or {}).get("dataset")
    if dataset is None:
        raise UsageError(f"{str(args.checkpoint)!r} does not say which data set it was trained "
                         f"on; give --dataset")
    _check_data_dir(dataset, args.data_dir)
    same = dataset == run["dataset"]  # a folder is re-read with the run's size, mode and split
    train, test = _load_data({**run, "dataset": dataset, "image_size": run["image_size"] if same
                              else None, "grey": run["grey"] if same else False}, args.data_dir)
    if test.input_shape != ck.input_shape:
        raise ValueError(f"the checkpoint's model takes {ck.input_shape} images but {dataset!r} "
                         f"has {test.input_shape}")
    k = num_classes_of(ck.model)
    if test.num_classes != k:
        raise ValueError(f"the checkpoint's model has {k} classes but {dataset!r} has "
                         f"{test.num_classes}")
    normalizer = _normalizer_of(ck, train, _console(stderr=True))
    result = evaluate(ck.model, test, normalizer, args.batch_size)
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
    _console().print(table)
    return 0


# --- predict ------------------------------------------------------------------------------------

def _load_image(path: Path, shape: tuple[int, int, int], invert: bool):
    """PNG/JPG -> uint8 (H, W, C) in the model's channels and size (the image-folder reader's
    loader: bounded memory, damaged files as ValueError); ``invert`` gives 255 - x."""
    from .data.folder import read_image

    h, w, c = shape
    if c not in (1, 3):
        raise ValueError(f"the model takes {c}-channel images; predict handles 1 (grey) or 3 (RGB)")
    x = read_image(path, (h, w), "grey" if c == 1 else "rgb")  # (H, W, C)
    return 255 - x if invert else x


def cmd_predict(args) -> int:
    import numpy as np

    for path in args.images:
        if not path.is_file():
            raise UsageError(f"image file {str(path)!r} does not exist")
    from .train import num_classes_of, predict_proba

    ck = _load_checkpoint_arg(args.checkpoint)
    k = num_classes_of(ck.model)
    if args.top_k > k:
        raise UsageError(f"--top-k {args.top_k} exceeds the model's {k} classes")
    normalizer = ck.load_normalizer()
    if normalizer is None:
        raise ValueError(f"{str(args.checkpoint)!r} holds no normaliser, so its inputs are "
                         f"unknown; save it with `normalizer=`")
    names = ck.class_names or [str(i) for i in range(k)]
    x = np.stack([_load_image(p, ck.input_shape, args.invert) for p in args.images])  # (N,H,W,C)
    probs = predict_proba(ck.model, normalizer(x))  # (N, K)
    top = np.argsort(-probs, axis=1, kind="stable")[:, :args.top_k]  # (N, top_k)
    results = [{"image": str(path),
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
    _console().print(table)
    return 0


# --- summary ------------------------------------------------------------------------------------

def model_from_arg(name: str, input_shape, classes):
    """MODEL on a command line: a built-in name (built for ``input_shape``/``classes``, or the
    shape it was designed for) or a checkpoint file; anything else is a usage error."""
    from .models import build_model

    looks_like_path = name.endswith(".npz") or "/" in name or "\\" in name
    if name in MODELS:
        shape = input_shape or DEFAULT_INPUT_SHAPES[name]
        classes = classes or DEFAULT_CLASSES.get(name, 10)
        if classes < 2:
            raise UsageError(f"--classes must be >= 2, got {classes}")
        try:
            return build_model(name, shape, classes)
        except ValueError as e:
            raise UsageError(str(e)) from None
    elif Path(name).is_file():
        if input_shape is not None or classes is not None:
            raise UsageError("--input-shape and --classes are fixed by the checkpoint; drop them")
        return _load_checkpoint_arg(Path(name)).model
    elif looks_like_path:
        raise UsageError(f"checkpoint file {name!r} does not exist")
    else:
        raise UsageError(f"MODEL must be one of {', '.join(sorted(MODELS))} or a checkpoint "
                         f"file, got {name!r}")


def cmd_summary(args) -> int:
    from .nn import summary

    model = model_from_arg(args.model, args.input_shape, args.classes)
    s = summary(model)
    if args.json:
        print(json.dumps(s.to_dict()))
    else:
        _console().print(s.render())
    return 0
