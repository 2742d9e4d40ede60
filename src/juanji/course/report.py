"""Grade every course function found in a namespace (a learner's module or notebook globals)."""
from __future__ import annotations

import html
from dataclasses import dataclass

from rich.table import Table

from .grader import CheckResult, check

COURSE_NAMES = ("zero_pad", "conv_single_step", "conv_forward", "conv_backward", "pool_forward",
                "create_mask_from_window", "distribute_value", "pool_backward")


@dataclass
class Report:
    """The results of :func:`check_all`, one per course function found."""

    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def render(self) -> Table:
        """A rich table: function, result, details (the diagnosis when it failed)."""
        table = Table(title="juanji check", show_lines=True)
        table.add_column("function", style="bold")
        table.add_column("result")
        table.add_column("details", overflow="fold")
        for r in self.results:
            table.add_row(r.name, "[green]passed[/]" if r.passed else "[red]FAILED[/]",
                          f"{len(r.cases_run)} cases" if r.passed else r.diagnosis)
        return table

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{html.escape(r.name)}</code></td>"
            f"<td style='color:{'#1a7f37' if r.passed else '#cf222e'}'><b>"
            f"{'passed' if r.passed else 'failed'}</b></td>"
            f"<td style='text-align:left;white-space:pre-wrap'>"
            f"{html.escape(' | '.join(r.cases_run) if r.passed else r.diagnosis)}</td></tr>"
            for r in self.results)
        return ("<table><tr><th>function</th><th>result</th><th>details</th></tr>"
                f"{rows}</table>")


def check_all(namespace) -> Report:
    """Grade every callable in ``namespace`` (a module or a dict such as ``globals()``) whose
    name is one of the course's functions, in the course's order."""
    ns = namespace if isinstance(namespace, dict) else vars(namespace)
    return Report([check(n, ns[n]) for n in COURSE_NAMES if callable(ns.get(n))])
