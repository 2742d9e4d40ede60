"""``juanji check FILE.py``: grade a learner's course functions and name each mistake.

Loading the file RUNS the learner's code (that is the point: their functions are graded); only
check files you would run yourself.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ..i18n import _
from ._common import UsageError, console


def add_parser(sub, common) -> None:
    """Register ``juanji check`` on the subcommands ``sub``."""
    p = sub.add_parser("check", parents=[common], help=_("grade your course functions"),
                       description=_("Grade every function of FILE named like the course's "
                                     "(zero_pad, conv_single_step, conv_forward, conv_backward, "
                                     "pool_forward, create_mask_from_window, distribute_value, "
                                     "pool_backward) and say which case failed, where, and the "
                                     "likely mistake. FILE is executed."))
    p.add_argument("file", type=Path, metavar="FILE", help=_("your solution, a .py file"))
    p.set_defaults(func=cmd_check, parser=p)


def _load(path: Path):
    if not path.is_file():
        raise UsageError(_("FILE {path} does not exist or is not a file").format(
            path=repr(str(path))))
    spec = importlib.util.spec_from_file_location(f"_juanji_check_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # runs the learner's code: that is what is graded
    return module


def cmd_check(args) -> int:
    from ..course import COURSE_NAMES, check_all

    report = check_all(_load(args.file))
    if not report.results:
        raise UsageError(_("FILE {path} defines none of the course's functions {names}").format(
            path=repr(str(args.file)), names=", ".join(COURSE_NAMES)))
    console().print(report.render())
    return 0 if report.passed else 1
