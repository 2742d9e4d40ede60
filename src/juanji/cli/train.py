"""``juanji train``: fit a model on a data set, write checkpoints, metrics and curves."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from ..data import DATASETS
from ..data.registry import folder_root, recipe_of
from ..models import MODELS
from ..optim import OPTIMIZERS
from ..runlock import LOCK_NAME, run_lock
from ..train import MONITORS
from ._common import (
    UsageError, check_data_dir, console, dataset_name, fraction, image_size, non_negative_int,
    positive_float, positive_int,
)

# Defaults of `juanji train`, chosen so that the bare command reaches >= 97% test accuracy on the
# embedded digits in well under a minute on 2 CPU cores (see the README for the measurement).
TRAIN_DEFAULTS = {
    "dataset": "digits", "model": "digits", "epochs": 15, "batch_size": 32, "lr": 5e-3,
    "optimizer": "adam", "seed": 0, "val_fraction": 0.1, "schedule": "cosine", "limit": None,
    "patience": None, "clip_norm": None, "augment": False, "image_size": None, "grey": False,
    "monitor": "loss",
}
# Options that define a run: on --resume they come from the checkpoint (and may only repeat it).
RUN_OPTIONS = tuple(TRAIN_DEFAULTS)
SCHEDULES = ("cosine", "step", "none")

def add_parser(sub, common) -> None:
    """Register ``juanji train`` on the subcommands ``sub``."""
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
        if not last.exists() and (out / LOCK_NAME).exists():
            # A run started here and was stopped before its first epoch ended: start it over.
            restart = (f"--resume: {str(last)!r} is missing (the run in {out} was stopped "
                       f"before its first epoch ended); starting it over")
            options = {**_defaults(given.get("dataset", TRAIN_DEFAULTS["dataset"])), **given}
            return {"options": options, "out": out, "stored": None, "note": restart}
        if not last.exists():
            raise UsageError(f"--resume: there is no {str(last)!r} to resume from")
        from ..checkpoint import load_checkpoint
        stored = load_checkpoint(last)
        saved = stored.extra.get("options")
        # Runs from before an option existed ran with its default: fill it in.
        if not isinstance(saved, dict) or not {"dataset", "model"} <= set(saved) \
                or not set(saved) <= set(RUN_OPTIONS):
            raise UsageError(f"--resume: {str(last)!r} was not written by `juanji train`")
        saved = {**TRAIN_DEFAULTS, **saved}
        # More epochs than the run was given extends it; every other option must repeat it.
        extend = given.get("epochs") is not None and given["epochs"] > saved["epochs"]
        clash = [f"--{k.replace('_', '-')} {v} (the run has {saved[k]})"
                 for k, v in given.items() if v != saved[k] and not (k == "epochs" and extend)]
        if clash:
            raise UsageError("--resume continues the stored run, but " + ", ".join(clash)
                             + "; drop these options or train into another --out")
        options = dict(saved)
        if extend:
            options["epochs"] = given["epochs"]
        _check_threads(stored, out, options["epochs"])
    else:
        options = {**_defaults(given.get("dataset", TRAIN_DEFAULTS["dataset"])), **given}
    if out is None:
        out = Path("runs") / _run_name(options["dataset"], options["model"])
    return {"options": options, "out": out, "stored": stored, "note": None}


def _check_threads(stored, out: Path, epochs: int) -> None:
    """Refuse to continue a run under another thread count than it was trained with.

    juanji splits a step's batch over its threads, and a matrix product rounds differently on a
    slice of the rows than on all of them (OpenBLAS, measured: 4 of 5 shapes differ in the last
    bits), so the same run on 1 and 2 threads ends with different weights. Making every op
    independent of the thread count would mean slicing every product the same way whatever the
    thread count; refusing keeps `--resume`'s promise (the weights of an uninterrupted run).
    """
    from ..functional import get_num_threads

    stored_threads, now = stored.extra.get("num_threads"), get_num_threads()
    history = stored.metrics if isinstance(stored.metrics, dict) else {}
    left = stored.epoch < epochs and not history.get("stopped_early")
    if not isinstance(stored_threads, int) or stored_threads == now or not left:
        return  # a run from before the thread count was stored, the same count, or done
    raise UsageError(
        f"--resume: the run in {out} was trained on {stored_threads} thread"
        f"{'s' if stored_threads > 1 else ''} and this process uses {now}; juanji's results "
        f"depend on the thread count (a step's batch is split over the threads), so the resumed "
        f"run would not end with the weights of an uninterrupted one. Set "
        f"JUANJI_NUM_THREADS={stored_threads} to resume it "
        f"(JUANJI_NUM_THREADS={stored_threads} juanji train --resume --out {out})")


def _defaults(dataset: str) -> dict:
    """TRAIN_DEFAULTS with the data set's recipe (model, augmentation) on top: the recipe is
    declared with the data set (`juanji.data.registry`)."""
    return {**TRAIN_DEFAULTS, **recipe_of(dataset)}


def _run_name(dataset: str, model: str) -> str:
    """``runs/<this>``: ``cifar10-tinyvgg``, or ``folder-<DIR's name>-signs`` for a folder."""
    root = folder_root(dataset)
    if root is not None:
        dataset = "folder-" + Path(root).name
    return f"{dataset}-{model}"


def load_run_data(o: dict, data_dir):
    """(train, test) of the run's data set, with the folder options where they apply."""
    from ..data import load_dataset
    if folder_root(o["dataset"]) is not None:
        return load_dataset(o["dataset"], image_size=o["image_size"], grey=bool(o["grey"]),
                            seed=o["seed"])
    if o["image_size"] is not None or o["grey"]:
        raise UsageError("--image-size and --grey apply to --dataset folder:DIR only")
    return load_dataset(o["dataset"], data_dir)


def _make_scheduler(name: str, optimizer, epochs: int):
    from ..optim import CosineLR, StepLR
    if name == "cosine":
        return CosineLR(optimizer, t_max=epochs)
    elif name == "step":
        return StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.5)
    elif name == "none":
        return None
    else:
        raise ValueError(f"`schedule` must be one of {SCHEDULES}, got {name!r}")


def cmd_train(args) -> int:
    from ..distributed import world_if_launched

    t_start = time.perf_counter()
    run = _run_options(args)
    o, out = run["options"], run["out"]
    check_data_dir(o["dataset"], args.data_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} exists and is not a directory")
    comm = world_if_launched()  # under `mpiexec -n P` (P > 1): data-parallel, rank 0 writes
    # One run per --out (rank 0 holds it for the group); also fails now on a read-only --out.
    with contextlib.ExitStack() as locked:
        if comm is None or comm.is_root:
            with contextlib.nullcontext() if comm is None else comm.abort_on_error():
                locked.enter_context(run_lock(out))  # a refusal ends every rank of the group
        return _train(args, run, comm, t_start)


def _train(args, run: dict, comm, t_start: float) -> int:
    """The body of `cmd_train`, with the run directory locked."""
    from ..checkpoint import load_checkpoint
    from ..data import Normalizer
    from ..data.augment import recipe_augment
    from ..data.polarity import Polarity
    from ..models import build_model
    from ..optim import make_optimizer
    from ..plots import plot_history
    from ..train import BEST, LAST, evaluate, fit, restore_training_state
    from .._atomic import atomic_write_text
    from ..functional import get_num_threads

    o, out = run["options"], run["out"]
    if run["note"] is not None and not args.no_progress and (comm is None or comm.is_root):
        console(stderr=True).print(run["note"], soft_wrap=True)

    if args.download:
        from ..data import download as dl
        if o["dataset"] not in dl.DOWNLOADABLE:
            raise UsageError(f"--download works for {', '.join(dl.DOWNLOADABLE)}, not "
                             f"{o['dataset']!r}")
        dl.download(o["dataset"], args.data_dir, progress=not args.no_progress)
    train, test = load_run_data(o, args.data_dir)
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
        normalizer, polarity = Normalizer.fit(train), Polarity.fit(train)
        optimizer = make_optimizer(o["optimizer"], model.parameters(), o["lr"])
        scheduler = _make_scheduler(o["schedule"], optimizer, o["epochs"])
        start_epoch, history = 0, None
    else:
        ck = run["stored"]
        model, normalizer = ck.model, ck.load_normalizer()
        polarity = ck.load_polarity() or Polarity.fit(train)  # older runs: measured now
        optimizer = make_optimizer(o["optimizer"], model.parameters(), o["lr"])
        scheduler = _make_scheduler(o["schedule"], optimizer, o["epochs"])
        start_epoch, history = restore_training_state(ck, optimizer, scheduler)
        stored_epochs = {**TRAIN_DEFAULTS, **ck.extra["options"]}["epochs"]
        err = console(stderr=True)
        if history.stopped_early or start_epoch >= o["epochs"]:
            why = ("stopped early (no improvement for --patience epochs)" if history.stopped_early
                   else f"finished all {start_epoch} epochs")
            err.print(f"--resume: the run in {out} {why}; nothing to train. Its result is "
                      f"below; give --epochs N (more than {o['epochs']}) to train it further.",
                      soft_wrap=False)
        elif o["epochs"] > stored_epochs and scheduler is not None:
            # Extending: the schedule is recomputed for the new total, continuing at the epoch
            # reached (a cosine rises again from near 0 to where the longer curve stands).
            fresh = _make_scheduler(o["schedule"], optimizer, o["epochs"])
            fresh.base_lr, fresh.last_epoch = scheduler.base_lr, scheduler.last_epoch
            optimizer.lr = fresh.lr_at(fresh.last_epoch)
            scheduler = fresh
            err.print(f"extending the run from {stored_epochs} to {o['epochs']} epochs: the "
                      f"{o['schedule']} schedule is recomputed for {o['epochs']} epochs and "
                      f"continues at epoch {start_epoch} (learning rate {optimizer.lr:.3g})",
                      soft_wrap=False)

    augment = recipe_augment(o["dataset"], train.input_shape) if o["augment"] else None
    show = not args.no_progress and (comm is None or comm.is_root)
    err = console(stderr=True)
    if show:
        what = "resuming after epoch " + str(start_epoch) if start_epoch else "training"
        err.print(f"{what}: model {o['model']} on {o['dataset']} ({len(train)} train, "
                  f"{0 if val is None else len(val)} val, {len(test)} test images) -> {out}",
                  soft_wrap=True)
    with contextlib.nullcontext() if comm is None else comm.abort_on_error():
        history = fit(model, train, val=val, epochs=o["epochs"], batch_size=o["batch_size"],
                      optimizer=optimizer, scheduler=scheduler, seed=o["seed"],
                      normalizer=normalizer, checkpoint_dir=out,
                      early_stopping_patience=o["patience"], clip_norm=o["clip_norm"],
                      progress=show, start_epoch=start_epoch, history=history,
                      checkpoint_extra={"options": o, "argv": sys.argv[1:],
                                        "num_threads": get_num_threads()}, augment=augment,
                      dataset_name=o["dataset"], polarity=polarity, monitor=o["monitor"],
                      comm=comm)
    if comm is not None and not comm.is_root:
        return 0  # rank 0 alone tests the best checkpoint and writes metrics.json and the plot

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
    console().print(table)
    return 0


