"""Jupyter display: the summary and evaluation results render as HTML tables."""
import math

import numpy as np

from juanji.models import build_model
from juanji.nn import summary
from juanji.train import EvalResult


def test_summary_html_has_the_rows_and_total():
    s = summary(build_model("lenet5", (32, 32, 1), 10))
    html = s._repr_html_()
    assert "<pre" in html and "Conv2D" in html and f"{s.total_params:,}" in html


def test_eval_result_html():
    r = EvalResult(0.25, 0.5, np.array([[1, 1], [0, 0]]), np.array([0.5, math.nan]))
    html = r._repr_html_()
    assert "0.2500" in html and "50.00%" in html and "<td>1</td><td>-</td>" in html
