"""One rank of the distributed tests (run by tests/distributed/test_distributed.py, alone or under
``mpiexec -n P``): train the digits model in float64 and save this rank's final weights.

    python worker.py OUT [--epochs E] [--fail-at-step S] [--resume] [--batch-size B]
"""

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from juanji.checkpoint import load_checkpoint
from juanji.data import Normalizer, load_dataset
from juanji.distributed import world_if_launched
from juanji.models import build_model
from juanji.optim import make_optimizer
from juanji.train import evaluate, fit, restore_training_state

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--epochs", type=int, default=2)
p.add_argument("--stop-after", type=int, default=None, help="train only up to this epoch")
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--fail-at-step", type=int, default=None, help="rank 1 raises at this step")
p.add_argument("--resume", action="store_true")
p.add_argument("--slow", type=float, default=0.0, help="sleep this long per step (kill test)")
p.add_argument("--abort-on-error", action="store_true", help="as `juanji train` does")
a = p.parse_args()

comm = world_if_launched()
rank = 0 if comm is None else comm.rank
out = Path(a.out)
train, test = load_dataset("digits")
train = train.subset(np.arange(100))  # 100 = 3 batches of 32 + a last batch of 4
norm = Normalizer.fit(train)
model = build_model("digits", train.input_shape, train.num_classes, dtype=np.float64)
opt = make_optimizer("momentum", model.parameters(), 0.02)
start, history = 0, None
if a.resume:
    ck = load_checkpoint(out / "ckpt0" / "last.npz")  # every rank reads rank 0's checkpoint
    model = ck.model
    opt = make_optimizer("momentum", model.parameters(), 0.02)
    start, history = restore_training_state(ck, opt)
if a.fail_at_step is not None and rank == 1:  # rank 1 dies in its forward pass at that step
    forward, calls = model.forward, [0]

    def failing_forward(x):
        calls[0] += 1
        if calls[0] == a.fail_at_step:
            raise RuntimeError("rank 1 fails on purpose")
        return forward(x)
    model.forward = failing_forward
if a.slow:
    slow_forward = model.forward

    def sleepy_forward(x):
        time.sleep(a.slow)
        return slow_forward(x)
    model.forward = sleepy_forward
guard = comm.abort_on_error() if a.abort_on_error and comm else contextlib.nullcontext()
with guard:
    fit(model, train, epochs=a.stop_after or a.epochs, batch_size=a.batch_size, optimizer=opt,
        seed=0, normalizer=norm, checkpoint_dir=out / f"ckpt{rank}", progress=False,
        start_epoch=start, history=history, comm=comm)
result = evaluate(model, test, norm, 64, comm=comm)
np.savez(out / f"weights_rank{rank}.npz", **{k: p.data for k, p in model.named_parameters()})
(out / f"eval_rank{rank}.json").write_text(json.dumps(result.to_dict()))
sys.exit(0)
