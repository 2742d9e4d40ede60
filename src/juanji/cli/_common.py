"""What every ``juanji`` command shares: the usage error, argument types, the console, and
loading a checkpoint or a model named on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data import DATASETS
from ..data.registry import FOLDER_PREFIX, folder_root
from ..models import MODELS
from ..validation import check_int

# `juanji summary NAME` without --input-shape: the shape each architecture was designed for.
DEFAULT_INPUT_SHAPES = {"lenet5": (32, 32, 1), "course": (32, 32, 3), "signs": (64, 64, 3),
                        "tinyvgg": (28, 28, 1), "digits": (8, 8, 1)}
DEFAULT_CLASSES = {"signs": 6}


class UsageError(Exception):
    """The command line is wrong: reported by argparse with the usage line, exit code 2."""


# --- the parser ---------------------------------------------------------------------------------

def wrap_cells(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` terminal columns, a Chinese character counting two (as rich
    and terminals count them; argparse's textwrap counts one), words longer than a line folded.

    >>> wrap_cells("abc de 一二三四五", 6)
    ['abc de', '一二三', '四五']
    """
    from rich.cells import cell_len, chop_cells

    width = max(width, 2)
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        *full, line = chop_cells(word, width)
        lines += full
    return lines + ([line] if line else [])


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help text wrapped by display width, so Chinese help fits the terminal."""

    def _split_lines(self, text, width):
        return wrap_cells(text, width)

    def _fill_text(self, text, width, indent):
        return "\n".join(indent + line for line in wrap_cells(text, width - len(indent)))


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with :class:`HelpFormatter`; its subparsers are of this class too."""

    def __init__(self, *args, formatter_class=HelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


# --- argument types -----------------------------------------------------------------------------

def int_at_least(minimum: int):
    """An argparse ``type``: the text as an int >= ``minimum`` (checked by
    `juanji.validation.check_int`), else argparse's usage error naming the option."""
    def parse(text: str) -> int:
        try:
            return check_int(int(text), "value", minimum)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}, got {text!r}") from None
    parse.__name__ = f"int_at_least_{minimum}"  # argparse names the type in some messages
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


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
    folder = folder_root(text)
    if folder is not None:
        root = Path(folder).expanduser()
        if not folder or not root.is_dir():
            raise argparse.ArgumentTypeError(f"folder:DIR needs an existing directory, got "
                                             f"{text!r}")
        return f"{FOLDER_PREFIX}{root.resolve()}"
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


# --- helpers ------------------------------------------------------------------------------------

def console(stderr: bool = False):
    """A rich Console; piped into a file it is 160 columns wide instead of rich's 80, so wide
    tables (summary, confusion matrices) are not cut."""
    from rich.console import Console
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, width=None if stream.isatty() else 160)


def check_data_dir(dataset: str, data_dir) -> None:
    if data_dir is None:
        return
    if folder_root(dataset) is not None:
        raise UsageError("--data-dir is not used with folder:DIR, which names the images itself")
    if DATASETS[dataset].embedded:
        raise UsageError(f"--data-dir is not used by {dataset!r}, which is embedded in juanji")
    if not Path(data_dir).is_dir():
        raise UsageError(f"--data-dir {str(data_dir)!r} is not a directory")


def load_checkpoint_arg(path: Path):
    from ..checkpoint import load_checkpoint
    if not path.exists():
        raise UsageError(f"checkpoint file {str(path)!r} does not exist")
    return load_checkpoint(path)


def normalizer_of(ck, train_split, console):
    """The checkpoint's normaliser; a checkpoint saved without one gets the training split's."""
    norm = ck.load_normalizer()
    if norm is None:
        from ..data import Normalizer
        console.print("note: the checkpoint holds no normaliser; fitting one on the training "
                      "split")
        norm = Normalizer.fit(train_split)
    return norm



def model_from_arg(name: str, input_shape, classes):
    """MODEL on a command line: a built-in name (built for ``input_shape``/``classes``, or the
    shape it was designed for) or a checkpoint file; anything else is a usage error."""
    from ..models import build_model

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
        return load_checkpoint_arg(Path(name)).model
    elif looks_like_path:
        raise UsageError(f"checkpoint file {name!r} does not exist")
    else:
        raise UsageError(f"MODEL must be one of {', '.join(sorted(MODELS))} or a checkpoint "
                         f"file, got {name!r}")


