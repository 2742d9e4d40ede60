"""See every number: step-by-step explanations of sizes, pooling, convolution and whole models.

Each explainer computes its figures with the real ops in :mod:`juanji.functional`, recomputes them
with the plain-loop oracle :mod:`juanji.reference` (or, for arithmetic, an independent count), and
refuses to show anything when the two disagree (:class:`ExplainInternalError`). Each returns a
JSON-able dict (what ``juanji explain ... --json`` prints) and has a ``render_*`` function that
turns that dict into rich tables.

    size.py     the output-size formula, substituted step by step
    pool.py     max / average pooling: windows, results, and the backward routing
    conv.py     one output pixel as window x kernel + bias; dW, db and dX as sums
    model.py    parameter sharing, sparse connectivity and the course table for a model
    plots.py    filters, feature maps, confusion matrix, training curves, saliency
    (the ``juanji explain`` subcommands live in juanji.cli.explain)

The submodules are imported by name (``from juanji.explain.pool import explain_pool``), so
importing one explainer never loads the others or matplotlib.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ExplainInternalError", "Explanation", "check_agree", "to_list"]

# Both computations run in float64 on small inputs; they differ only in summation order.
RTOL, ATOL = 1e-9, 1e-12


class ExplainInternalError(RuntimeError):
    """The fast op and the reference disagree: a bug in juanji, never shown as a result."""


class Explanation(dict):
    """What every ``explain_*`` returns: the JSON-able dict ``juanji explain ... --json`` prints,
    which a notebook shows as the tables the terminal shows (``_repr_html_``).

    Args:
        data: the explainer's figures (plain dicts, lists, numbers and strings).
        render: the module's ``render_*`` function, ``dict -> rich renderable``.

    >>> from juanji.explain.size import explain_size
    >>> r = explain_size(7, 3, stride=2)
    >>> r["output"], isinstance(r, dict), "output size 3" in r._repr_html_()
    (3, True, True)
    """

    def __init__(self, data: dict, render):
        super().__init__(data)
        self._render = render

    def __reduce__(self):  # pickles and copies as the dict plus its renderer
        return (type(self), (dict(self), self._render))

    def _repr_html_(self) -> str:
        from .._html import rich_html
        return rich_html(self._render(self))


def check_agree(fast, slow, what: str) -> None:
    """Raise :class:`ExplainInternalError` unless ``fast`` equals ``slow`` (shapes and values).

    >>> check_agree(np.ones(3), np.ones(3), "y")
    >>> check_agree(np.ones(3), np.zeros(3), "y")
    Traceback (most recent call last):
    ...
    juanji.explain.ExplainInternalError: internal error: juanji.functional and juanji.reference \
disagree on y (largest difference 1); please report this
    """
    fast, slow = np.asarray(fast, dtype=np.float64), np.asarray(slow, dtype=np.float64)
    if fast.shape != slow.shape:
        raise ExplainInternalError(
            f"internal error: juanji.functional and juanji.reference disagree on the shape of "
            f"{what}: {fast.shape} vs {slow.shape}; please report this")
    if not np.allclose(fast, slow, rtol=RTOL, atol=ATOL, equal_nan=True):
        diff = float(np.nanmax(np.abs(fast - slow)))
        raise ExplainInternalError(
            f"internal error: juanji.functional and juanji.reference disagree on {what} "
            f"(largest difference {diff:g}); please report this")


def to_list(a) -> list:
    """An array as nested lists of Python floats, for JSON."""
    return np.asarray(a, dtype=np.float64).tolist()
