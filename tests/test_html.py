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


def test_html_is_shown_once_in_a_notebook():
    """rich, inside a kernel, would display() what it prints as well as return the HTML."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from juanji.models import build_model\nfrom juanji.nn import summary\n"
        "summary(build_model('digits', (8, 8, 1), 10))")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert [o["output_type"] for o in outputs] == ["execute_result"]
    assert "Conv2D" in outputs[0]["data"]["text/html"]
