"""PyTorch twins of juanji's built-in models, with juanji's init scheme and training recipe.

    python benchmarks/torch_twin.py --model lenet5 --shape 28,28,1     # print the twin, check it

A twin is ``juanji.interop.to_torch(build_model(name, ...))``: the same layers in PyTorch's NCHW
layout with a plain ``nn.Flatten``; juanji's weights go in through `juanji.interop` (kernels
(kh, kw, C_in, C_out) -> (C_out, C_in, kh, kw), the first Dense's rows permuted from (H, W, C) to
(C, H, W) order), so the twin computes the same function.

Init scheme (juanji.nn.init): He normal ``N(0, 2 / fan_in)`` for every conv and dense weight,
zero biases. :func:`init_like_juanji` draws that in torch; :func:`copy_from_juanji` copies a juanji
model's weights instead (the accuracy comparison starts both from the same weights).

Training recipe (``juanji train`` defaults): Adam lr 5e-3, cosine schedule per epoch over the run
(eta_min 0), batch 32, softmax cross-entropy (mean), the example order of epoch e a function of
(seed, e), and the same per-channel normaliser fitted on the training split.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from torch import nn

from _common import parse_shape


def build_twin(name: str, input_shape: tuple, num_classes: int) -> nn.Sequential:
    """The PyTorch twin of ``juanji.models.build_model(name, input_shape, num_classes)``:
    `juanji.interop.to_torch` of that architecture (its weights are then set by
    :func:`init_like_juanji` or :func:`copy_from_juanji`)."""
    from juanji.interop import to_torch
    from juanji.models import MODELS, build_model
    if name not in MODELS:
        raise ValueError(f"`name` must be one of {sorted(MODELS)}, got {name!r}")
    return to_torch(build_model(name, input_shape, num_classes))


def init_like_juanji(model: nn.Module, seed: int) -> None:
    """He normal weights ``std = sqrt(2 / fan_in)``, zero biases, as juanji.nn.init does."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()  # C_in*kh*kw (conv) or D_in (dense)
            with torch.no_grad():
                m.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=g)
                m.bias.zero_()


def copy_from_juanji(twin: nn.Module, jmodel) -> None:
    """Copy a juanji Sequential's weights into its twin (`juanji.interop.to_torch` layouts: the
    kernels transposed, the first Dense after Flatten row-permuted to (C, H, W) order)."""
    from juanji.interop import to_torch
    twin.load_state_dict(to_torch(jmodel).state_dict())


def make_recipe(model: nn.Module, *, lr: float = 5e-3, epochs: int = 15):
    """Adam + cosine annealing over ``epochs`` (stepped per epoch), as ``juanji train``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=0.0)
    return opt, sched


def nhwc_to_nchw(x: np.ndarray) -> torch.Tensor:
    """float32 (N, H, W, C) numpy -> (N, C, H, W) torch, one copy."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # (N, C, H, W)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet5",
                        choices=("lenet5", "tinyvgg", "digits", "course", "signs"))
    parser.add_argument("--shape", type=parse_shape, default=(28, 28, 1), help="H,W,C")
    parser.add_argument("--classes", type=int, default=10)
    args = parser.parse_args(argv)
    from juanji.models import build_model

    jm = build_model(args.model, args.shape, args.classes)
    twin = build_twin(args.model, args.shape, args.classes)
    copy_from_juanji(twin, jm)
    x = np.random.default_rng(0).standard_normal((4, *args.shape), dtype=np.float32)
    diff = np.abs(twin(nhwc_to_nchw(x)).detach().numpy() - jm.forward(x)).max()
    print(twin)
    print(f"max |juanji - torch| logits with copied weights: {diff:.2e}")


if __name__ == "__main__":
    main()
