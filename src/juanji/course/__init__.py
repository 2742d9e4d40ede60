"""The course companion: the CNN assignment's functions and a grader that names the mistake.

``juanji.course`` has the functions of the course's "Convolution model - Step by Step"
assignment with its names, signatures, layouts and caches, running on juanji's fast ops
(:mod:`juanji.course.layers`), and :func:`check`, which runs a learner's function on cases
built to expose the classic mistakes and says which one it likely is (:mod:`juanji.course.grader`).
"""
from ..reference import conv_single_step, create_mask_from_window, distribute_value, zero_pad
from .grader import CheckResult, check
from .layers import conv_backward, conv_forward, pool_backward, pool_forward
from .report import COURSE_NAMES, Report, check_all

__all__ = ["COURSE_NAMES", "CheckResult", "Report", "check", "check_all", "conv_backward", "conv_forward",
           "conv_single_step", "create_mask_from_window", "distribute_value", "pool_backward",
           "pool_forward", "zero_pad"]
