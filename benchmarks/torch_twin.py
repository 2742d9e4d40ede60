"""PyTorch twins of juanji's built-in models, with juanji's init scheme and training recipe.

    python benchmarks/torch_twin.py --model lenet5 --shape 28,28,1     # print the twin, check it

A twin has the same layers as ``juanji.models.build_model(name, ...)`` in PyTorch's NCHW layout;
before its first Dense layer it flattens in juanji's (H, W, C) order, so a juanji state_dict loads
into it unchanged apart from the kernel layout, (kh, kw, C_in, C_out) -> (C_out, C_in, kh, kw).

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


class HWCFlatten(nn.Module):
    """(N, C, H, W) -> (N, H*W*C): flatten in juanji's channels-last order."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)  # (N, H, W, C) -> (N, H*W*C)


def _same(k: int) -> int:
    """'same' padding of a stride-1 odd kernel: (k - 1) / 2 on each side."""
    return (k - 1) // 2


def build_twin(name: str, input_shape: tuple, num_classes: int) -> nn.Sequential:
    """The PyTorch twin of ``juanji.models.build_model(name, input_shape, num_classes)``."""
    h, w, c = input_shape
    if name == "lenet5":
        pad = _same(5) if min(h, w) < 32 else 0  # juanji: 'same' on the first conv below 32x32
        feats = [nn.Conv2d(c, 6, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
                 nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)]
        head = [120, 84]
    elif name == "tinyvgg":
        feats, cin = [], c
        for f in (32, 64):
            feats += [nn.Conv2d(cin, f, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(f, f, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            cin = f
        head = []
    elif name == "digits":
        feats = [nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                 nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        head = [64]
    else:
        raise ValueError(f"`name` must be one of 'lenet5', 'tinyvgg', 'digits', got {name!r}")
    with torch.no_grad():
        d = nn.Sequential(*feats)(torch.zeros(1, c, h, w)).numel()  # flattened size
    layers = feats + [HWCFlatten()]
    for units in head:
        layers += [nn.Linear(d, units), nn.ReLU()]
        d = units
    layers.append(nn.Linear(d, num_classes))
    return nn.Sequential(*layers)


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
    """Copy a juanji Sequential's weights into its twin (same layer order)."""
    jlayers = [l for l in jmodel.layers if l.params]
    tlayers = [m for m in twin if isinstance(m, (nn.Conv2d, nn.Linear))]
    if len(jlayers) != len(tlayers):
        raise ValueError(f"{len(jlayers)} juanji layers with weights but {len(tlayers)} in torch")
    with torch.no_grad():
        for jl, tl in zip(jlayers, tlayers):
            w = jl.params["weight"].data
            if w.ndim == 4:
                w = w.transpose(3, 2, 0, 1)  # (kh, kw, Ci, Co) -> (Co, Ci, kh, kw)
            else:
                w = w.T  # (D_in, D_out) -> (D_out, D_in)
            tl.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            tl.bias.copy_(torch.from_numpy(jl.params["bias"].data))


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
    parser.add_argument("--model", default="lenet5", choices=("lenet5", "tinyvgg", "digits"))
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
