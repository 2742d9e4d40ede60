"""``juanji summary``: the layer table of a built-in model or a checkpoint."""

from __future__ import annotations

import json

from ..models import MODELS
from ._common import console, input_shape, model_from_arg, positive_int


def add_parser(sub, common) -> None:
    """Register ``juanji summary`` on the subcommands ``sub``."""
    p = sub.add_parser("summary", parents=[common], help="layer table: shapes, sizes, parameters",
                       description="The layer table of a built-in model or a checkpoint: output "
                       "shapes, activation sizes, parameters, dense-equivalent parameters, "
                       "inputs per output and receptive fields.")
    p.add_argument("model", metavar="MODEL",
                   help=f"a built-in model ({', '.join(sorted(MODELS))}) or a checkpoint path")
    p.add_argument("--input-shape", type=input_shape, metavar="H,W,C",
                   help="input image shape (default: the model's usual one)")
    p.add_argument("--classes", type=positive_int, metavar="K", help="number of classes")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_summary, parser=p)



def cmd_summary(args) -> int:
    from ..nn import summary

    model = model_from_arg(args.model, args.input_shape, args.classes)
    s = summary(model)
    if args.json:
        print(json.dumps(s.to_dict()))
    else:
        console().print(s.render())
    return 0
