"""Train a built-in model with juanji and its PyTorch twin on Fashion-MNIST; print both test
accuracies (issue 3: within 0.5 points).

    python benchmarks/accuracy_vs_torch.py --epochs 1 --limit 5000          # a quick check
    python benchmarks/accuracy_vs_torch.py --model lenet5 --epochs 15       # the real comparison
    python benchmarks/accuracy_vs_torch.py --model tinyvgg --epochs 10 --batch-size 64

Same recipe on both sides (``juanji train``'s defaults unless given): Adam, lr 5e-3, cosine
schedule stepped per epoch over the run, batch 32, softmax cross-entropy; the same initial weights
(He normal, drawn by juanji from ``--seed`` and copied into the twin), the same example order
(epoch e's permutation is a function of (seed, e)) and the same normaliser fitted on the training
images. The test set is the official 10000 (first ``--limit`` of them with ``--limit``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F

from _common import atomic_write_text, blas_threads
from juanji.data import BatchIterator, Normalizer, load_dataset
from juanji.models import build_model
from juanji.optim import Adam, CosineLR
from juanji.train import evaluate, fit
from torch_twin import build_twin, copy_from_juanji, make_recipe


def train_juanji(model, train, test, norm, args) -> float:
    opt = Adam(model.parameters(), lr=args.lr)
    fit(model, train, epochs=args.epochs, batch_size=args.batch_size, optimizer=opt,
        scheduler=CosineLR(opt, t_max=args.epochs), seed=args.seed, normalizer=norm,
        progress=False)
    return evaluate(model, test, norm).accuracy


def _torch_batch(x_uint8: np.ndarray, mean, std) -> torch.Tensor:
    xb = torch.tensor(x_uint8).permute(0, 3, 1, 2).float().contiguous()  # (B, C, H, W), NCHW
    return (xb / 255 - mean) / std


def train_torch(twin, train, test, norm, args) -> float:
    opt, sched = make_recipe(twin, lr=args.lr, epochs=args.epochs)
    mean = torch.tensor(norm.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(norm.std, dtype=torch.float32).view(1, -1, 1, 1)
    orders = BatchIterator(train, args.batch_size, seed=args.seed, normalizer=norm)
    twin.train()
    for epoch in range(args.epochs):
        order = orders.order(epoch)  # the permutation juanji's fit uses in this epoch
        for s in range(0, len(order), args.batch_size):
            idx = order[s:s + args.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(twin(_torch_batch(train.x[idx], mean, std)),
                                   torch.from_numpy(train.y[idx].astype(np.int64)))
            loss.backward()
            opt.step()
        sched.step()
    twin.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(test), 1000):
            logits = twin(_torch_batch(test.x[s:s + 1000], mean, std))
            correct += int((logits.argmax(1).numpy() == test.y[s:s + 1000]).sum())
    return correct / len(test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet5", choices=("lenet5", "tinyvgg", "digits"))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="use the first N train and test images")
    parser.add_argument("--data-dir", help="where the IDX files are (default: standard places)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(blas_threads())
    dataset = "digits" if args.model == "digits" else "fashion-mnist"
    train, test = load_dataset(dataset, args.data_dir)
    if args.limit:
        train = train.subset(range(min(args.limit, len(train))))
        test = test.subset(range(min(args.limit, len(test))))
    norm = Normalizer.fit(train)
    model = build_model(args.model, train.input_shape, train.num_classes, seed=args.seed)
    twin = build_twin(args.model, train.input_shape, train.num_classes)
    copy_from_juanji(twin, model)  # the same initial weights

    t0 = time.perf_counter()
    acc_j = train_juanji(model, train, test, norm, args)
    t1 = time.perf_counter()
    acc_t = train_torch(twin, train, test, norm, args)
    t2 = time.perf_counter()
    gap = 100 * (acc_j - acc_t)
    verdict = "ok" if abs(gap) <= 0.5 else "GAP ABOVE 0.5 POINTS"
    print(f"{args.model} on {dataset}, {len(train)} train / {len(test)} test images, "
          f"{args.epochs} epoch(s), Adam lr {args.lr}, cosine, batch {args.batch_size}, "
          f"seed {args.seed}")
    print(f"juanji test accuracy {100 * acc_j:.2f}% ({t1 - t0:.0f} s), "
          f"torch twin {100 * acc_t:.2f}% ({t2 - t1:.0f} s), "
          f"difference {gap:+.2f} points ({verdict})")
    if args.json:
        atomic_write_text(args.json, json.dumps({"juanji": acc_j, "torch": acc_t,
                                                 "gap_points": gap, "args": vars(args)}, indent=2))
    return acc_j, acc_t


if __name__ == "__main__":
    main()
