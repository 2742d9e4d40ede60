"""Grade every course function found in a namespace (a learner's module or notebook globals)."""
from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from rich.table import Table

from ..i18n import _, language, ngettext
from .grader import CheckResult, check, html_table

COURSE_NAMES = ("zero_pad", "conv_single_step", "conv_forward", "conv_backward", "pool_forward",
                "create_mask_from_window", "distribute_value", "pool_backward")


@dataclass
class Report:
    """The results of :func:`check_all`, one per course function found, shown in ``lang``."""

    results: list[CheckResult]
    lang: str = "en"

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def render(self) -> Table:
        """A rich table: function, result, details (the diagnosis when it failed). rich measures
        Chinese characters as two columns, so the table fits the terminal in both languages."""
        with language(self.lang):
            table = Table(title=_("juanji check"), show_lines=True)
            table.add_column(_("function"), style="bold")
            table.add_column(_("result"))
            table.add_column(_("details"), overflow="fold")
            passed, failed = _("passed"), _("FAILED")
            for r in self.results:
                verdict = f"[green]{passed}[/]" if r.passed else f"[red]{failed}[/]"
                detail = (ngettext("{n} case", "{n} cases", len(r.cases_run)).format(
                    n=len(r.cases_run)) if r.passed else r.diagnosis)
                table.add_row(r.name, verdict, escape(detail))
        return table

    def _repr_html_(self) -> str:
        return html_table(self.results, self.lang)


def check_all(namespace, *, lang: str | None = None) -> Report:
    """Grade every callable in ``namespace`` (a module or a dict such as ``globals()``) whose
    name is one of the course's functions, in the course's order; diagnoses in ``lang``
    (None: the current language)."""
    ns = namespace if isinstance(namespace, dict) else vars(namespace)
    with language(lang) as lang:
        return Report([check(n, ns[n]) for n in COURSE_NAMES if callable(ns.get(n))], lang)
