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
    juanji predict runs/digits-digits/best.npz examples/seven.png --top-k 3
    juanji summary course --input-shape 32,32,3    # the course's table, parameter counts included
    juanji check my_solution.py --lang zh          # grade course functions, diagnoses in Chinese
    juanji export runs/digits-digits/best.npz --to onnx digits.onnx  # or --to torch digits.pt2
    juanji import digits.onnx --out imported.npz   # ONNX/.pt2/TorchScript -> checkpoint

Also ``python -m juanji ...``. Exit codes:

- 0: success;
- 1: the work failed (an unreadable checkpoint or image, missing data files, diverging training):
  one line ``juanji <command>: error: ...`` on stderr (``--debug`` shows the traceback);
- 2: the command line is wrong (an unknown name, a malformed value, a named file or directory
  that does not exist, options that contradict a resumed run): argparse's usage message.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap

from . import check, data, evaluate, explain, interop, summary, train
from ..i18n import LANGUAGES, _, language
from ._common import Parser, UsageError

__all__ = ["main", "build_parser"]


# --- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="juanji", description="CNNs from first principles in NumPy: train, evaluate, "
        "predict and summarise models.",
        epilog="Run `juanji COMMAND --help` for the options of a command.")
    lang_help = _("the language of the output, en or zh (default: the locale's, zh when the "
                  "first set of LC_ALL, LC_MESSAGES, LANG starts with zh)")
    parser.add_argument("--lang", choices=LANGUAGES, default=None, help=lang_help)
    common = Parser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help=_("show the full traceback when something fails"))
    # after the command too; SUPPRESS keeps a --lang given before the command
    common.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=lang_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for group in (train, evaluate, summary, explain, data, interop, check):
        group.add_parser(sub, common)
    return parser


def _quiet_stdout() -> None:
    """Send whatever is still buffered for stdout to /dev/null (after a broken pipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test's captured stdout)
        pass


def _lang_in(argv) -> str | None:
    """The value of ``--lang`` in ``argv`` if it is a known language (argparse reports a wrong
    one), read before the parser is built so that ``--help`` speaks it too."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = (argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else
                 arg.partition("=")[2] if arg.startswith("--lang=") else None)
        if value in LANGUAGES:
            return value
    return None


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    with language(_lang_in(argv)):  # the help texts too
        parser = build_parser()
        args = parser.parse_args(argv)  # exits with 2 on a usage error
    try:
        with language(args.lang):  # None: the locale's
            return args.func(args) or 0
    except UsageError as e:
        args.parser.error(str(e))  # exits with 2
    except BrokenPipeError:
        # The reader went away (`juanji evaluate ... --json | head`): end quietly as Unix tools
        # do. Point stdout at /dev/null so the interpreter's final flush does not fail again.
        _quiet_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the pipe
    except KeyboardInterrupt:
        if args.debug:
            raise
        hint = " (continue with --resume)" if args.command == "train" else ""
        print(f"juanji {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the one place every failure becomes a message
        if args.debug:
            raise
        print(error_text(f"juanji {args.command}: error: ", str(e) or type(e).__name__,
                         _terminal_width(sys.stderr)), file=sys.stderr)
        return 1


def _terminal_width(stream) -> int | None:
    """The terminal's width when ``stream`` is one, else None (a log keeps one line per
    paragraph, so it can be searched)."""
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns


def error_text(prefix: str, message: str, width: int | None) -> str:
    """``prefix + message`` with the message's own lines kept as paragraphs (runs of spaces
    inside a line collapsed, a line's indentation kept), each wrapped to ``width`` columns
    (None: not wrapped). Long words such as URLs are never cut.

    >>> print(error_text("juanji x: error: ", "cannot reach it\\n  http://h/a  (2 bytes)", 24))
    juanji x: error: cannot
    reach it
      http://h/a  (2 bytes)
    """
    out = []
    for i, line in enumerate(message.strip("\n").split("\n")):
        indent = " " * (len(line) - len(line.lstrip(" ")))
        first, text = (prefix if i == 0 else indent), " ".join(line.split())
        if width is None:
            out.append(first + text)
        else:
            out.extend(textwrap.wrap(text, width, initial_indent=first, subsequent_indent=indent,
                                     break_long_words=False, break_on_hyphens=False) or [""])
    return "\n".join(out)


