"""HTML for Jupyter (``_repr_html_``): a rich renderable exported as an inline-styled block."""
from __future__ import annotations

import io


def rich_html(renderable, width: int = 110) -> str:
    """The HTML of ``renderable`` as rich draws it in a terminal ``width`` columns wide."""
    from rich.console import Console

    # force_jupyter=False: inside a kernel rich would also display() what it prints, so a cell
    # showing one object would show it twice
    console = Console(record=True, file=io.StringIO(), width=width, force_terminal=True,
                      force_jupyter=False)
    console.print(renderable)
    return console.export_html(inline_styles=True, code_format=(
        "<pre style=\"font-family:Menlo,'DejaVu Sans Mono',monospace;line-height:1.2\">"
        "<code>{code}</code></pre>"))
