"""``summary(model)``: the course's table for any Sequential, computed from shapes alone.

Per layer: output shape, activation size (H*W*C), parameter count, and for a conv layer the two
reasons it beats a dense one:

- **parameter sharing**: a dense layer between the same input and output sizes would need
  ``in*out + out`` parameters (32x32x3 -> 28x28x6: 3072*4704 + 4704 against 456);
- **sparse connectivity**: each output depends on ``kh*kw*C_in/groups`` inputs (5*5*3 = 75).

The receptive field (input pixels one output pixel sees) grows through conv and pooling layers,
per axis, with the jump ``j`` (input pixels between neighbouring outputs):

    k_eff = d*(k - 1) + 1
    r_out = r_in + (k_eff - 1) * j_in          r = 1, j = 1 at the input
    j_out = j_in * s

A warning flags any layer where the activation size falls by more than ``cliff_factor`` in one
step (a 50000 -> 1 cliff): the activation size should shrink gradually.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..i18n import _
from .sequential import Sequential


@dataclass(frozen=True)
class SummaryRow:
    """One layer of the table. ``None`` where a number does not apply to the layer."""

    index: int
    layer: str                              # the layer type, e.g. "Conv2D"
    output_shape: tuple                     # no batch axis
    activation_size: int                    # prod(output_shape), e.g. H*W*C
    params: int
    dense_equivalent_params: int | None     # conv only: in*out + out
    inputs_per_output: int | None           # conv kh*kw*C_in/groups; dense D_in
    receptive_field: tuple | None           # (r_h, r_w) input pixels; None once flattened


@dataclass
class Summary:
    input_shape: tuple
    rows: list[SummaryRow]
    total_params: int
    warnings: list[str] = field(default_factory=list)

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_shape))

    def to_dict(self) -> dict:
        """JSON-able (tuples as lists), for ``--json``."""
        rows = []
        for row in self.rows:
            d = asdict(row)
            d["output_shape"] = list(row.output_shape)
            rf = row.receptive_field
            d["receptive_field"] = None if rf is None else list(rf)
            rows.append(d)
        return {"input_shape": list(self.input_shape), "input_size": self.input_size,
                "rows": rows, "total_params": self.total_params, "warnings": list(self.warnings)}

    def _repr_html_(self) -> str:
        """The table in a Jupyter notebook."""
        from .._html import rich_html

        return rich_html(self.render())

    def render(self):
        """A ``rich.table.Table`` of the rows, the total and the warnings (rich is imported here,
        so the core needs only NumPy), in the current language (:mod:`juanji.i18n`)."""
        from rich.table import Table

        def cell(v):
            return "-" if v is None else f"{v:,}"

        def shape(s):
            return "x".join(map(str, s))

        table = Table(title=_("Model summary"), caption="\n".join(self.warnings) or None,
                      caption_style="bold yellow")
        for name, justify in (("#", "right"), (_("layer"), "left"), (_("output shape"), "right"),
                              (_("activation size"), "right"), (_("params"), "right"),
                              (_("dense-equivalent params"), "right"),
                              (_("inputs per output"), "right"), (_("receptive field"), "right")):
            table.add_column(name, justify=justify)
        table.add_row("", _("input"), shape(self.input_shape), cell(self.input_size), "0",
                      "", "", "1x1" if len(self.input_shape) == 3 else "-")
        for r in self.rows:
            table.add_row(str(r.index), r.layer, shape(r.output_shape), cell(r.activation_size),
                          cell(r.params), cell(r.dense_equivalent_params),
                          cell(r.inputs_per_output),
                          "-" if r.receptive_field is None else shape(r.receptive_field))
        table.add_section()
        table.add_row("", _("total"), "", "", cell(self.total_params), "", "", "")
        return table


def _window(layer) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(k_eff_h, k_eff_w), (s_h, s_w) of a windowed layer, or None for a shape-preserving one
    (each layer says which window it reads: `juanji.nn.base.Layer.window`)."""
    try:
        window = layer.window()
    except TypeError as e:
        raise TypeError(f"summary does not know the receptive field of "
                        f"{type(layer).__name__}: {e}") from None
    return None if window is None else (window.span, window.stride)


def summary(model: Sequential, cliff_factor: float = 10.0) -> Summary:
    """Tabulate ``model`` layer by layer (shapes only, no forward pass).

    >>> from juanji.models import build_model
    >>> s = summary(build_model("course", (32, 32, 3), 10))
    >>> [r.params for r in s.rows if r.layer in ("Conv2D", "Dense")]
    [608, 3216, 48120, 10164, 850]
    >>> s.rows[0].receptive_field, s.rows[0].inputs_per_output
    ((5, 5), 75)
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a juanji.nn.Sequential, got {type(model).__name__}")
    if not (isinstance(cliff_factor, (int, float)) and cliff_factor > 1):
        raise ValueError(f"`cliff_factor` must be a number > 1, got {cliff_factor!r}")
    rows, warnings = [], []
    rf = (1, 1) if len(model.input_shape) == 3 else None   # receptive field (r_h, r_w)
    jump = (1, 1)                                          # input pixels between outputs
    prev_size = int(np.prod(model.input_shape))
    for i, layer in enumerate(model.layers):
        in_size = int(np.prod(layer.in_shape))
        size = int(np.prod(layer.out_shape))
        inputs = layer.inputs_per_output()
        # A layer with weights and a window shares them across the image: what would a dense
        # layer between the same sizes cost?
        windowed = len(layer.in_shape) == 3 and _window(layer) is not None
        dense_eq = in_size * size + size if inputs is not None and windowed else None
        if rf is not None and len(layer.out_shape) == 3:
            window = _window(layer)
            if window is not None:
                span, stride = window
                rf = tuple(r + (k - 1) * j for r, k, j in zip(rf, span, jump))
                jump = tuple(j * s for j, s in zip(jump, stride))
        else:
            rf = None  # flattened (or pooled globally): every output sees the whole image
        rows.append(SummaryRow(index=i, layer=type(layer).__name__,
                               output_shape=tuple(layer.out_shape), activation_size=size,
                               params=sum(p.size for p in layer.parameters()),
                               dense_equivalent_params=dense_eq, inputs_per_output=inputs,
                               receptive_field=rf))
        if size * cliff_factor < prev_size:
            warnings.append(_(
                "layer {i} ({layer}): activation size drops {before} -> {after} ({ratio:.0f}x in "
                "one step, more than cliff_factor={cliff:g}); shrink it gradually").format(
                    i=i, layer=type(layer).__name__, before=prev_size, after=size,
                    ratio=prev_size / size, cliff=cliff_factor))
        prev_size = size
    return Summary(input_shape=model.input_shape, rows=rows,
                   total_params=sum(r.params for r in rows), warnings=warnings)
