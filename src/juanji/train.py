"""The training loop: mini-batch gradient descent on cross-entropy, plus evaluation.

One step on a batch (x, y) of B images::

    logits = model.forward(x)                           # (B, K)
    loss   = mean_n -log softmax(logits[n])[y[n]]       # a float
    dlogits = (softmax(logits) - onehot(y)) / B         # (B, K)
    model.backward(dlogits)                             # every Parameter.grad
    optimizer.step()                                    # p -= lr * (rule)(grad)

The loss follows the model's output width: K >= 2 logits use softmax cross-entropy as above; a
single logit (``build_model(..., binary=True)``, e.g. Happy House) uses sigmoid binary
cross-entropy, ``mean_n softplus(z) - y z``, and predicts class 1 when ``z > 0``.

Reproducibility: the example order of epoch ``e`` is a function of ``(seed, e)`` only (see
`juanji.data.BatchIterator`), the initial weights of the model's seed, and Dropout draws from the
model's own Generators. With a ``checkpoint_dir``, ``last.npz`` is written after every epoch with
the weights, the optimiser and schedule state, those Generators and the history, so a run resumed
from it (:func:`restore_training_state`) ends with exactly the weights of an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from numbers import Real
from pathlib import Path

import numpy as np

from .validation import check_int

from .checkpoint import save_checkpoint
from .data import BatchIterator, Dataset, Normalizer
from .functional import get_num_threads
from .functional._threads import one_blas_thread
from .functional.memory import keep_freed_memory
from .nn import head
from .optim import clip_grad_norm
from .progress import epoch_progress

__all__ = ["EpochMetrics", "EvalResult", "History", "TrainingDiverged", "evaluate", "fit",
           "num_classes_of", "predict_proba", "restore_training_state"]

BEST, LAST = "best.npz", "last.npz"


# A mean loss (nats per example) above this is a divergence even while every number is finite:
# the logits are thousands apart. Adam at lr 1e6 gets there with finite weights and state (each
# step moves a weight by at most ~lr), e.g. loss 1e20 and then 1e6 at 10% accuracy.
LOSS_LIMIT = 1e4


class TrainingDiverged(FloatingPointError):
    """The loss, a gradient, the weights or the optimiser's state became NaN or infinite, or the
    loss went over `LOSS_LIMIT`; the message names the layer (e.g. ``3.Conv2D.weight``), the
    epoch and the step."""


@dataclass
class EpochMetrics:
    """What one epoch measured. ``val_*`` are None without validation data."""

    epoch: int                    # 1-based
    train_loss: float             # mean over the epoch's examples, in train mode, as trained
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float                # wall time of the epoch (training + validation)
    lr: float                     # the learning rate used during the epoch


@dataclass
class History:
    """Per-epoch metrics plus where the best epoch was and whether early stopping ended the run.

    >>> h = History([EpochMetrics(1, 0.9, 0.7, 0.8, 0.75, 1.0, 0.01)], best_epoch=1)
    >>> History.from_dict(h.to_dict()) == h
    True
    """

    epochs: list[EpochMetrics] = field(default_factory=list)
    best_epoch: int | None = None      # 1-based epoch with the best monitored metric
    stopped_early: bool = False

    def best_score(self, monitor: str = "loss") -> float:
        """The best epoch's score (lower is better, see :func:`_monitored`), or inf."""
        if self.best_epoch is None:
            return math.inf
        return _monitored(self.epochs[self.best_epoch - 1], monitor)

    def to_dict(self) -> dict:
        return {"epochs": [asdict(m) for m in self.epochs], "best_epoch": self.best_epoch,
                "stopped_early": self.stopped_early}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        if not isinstance(d, dict) or not {"epochs", "best_epoch", "stopped_early"} <= set(d):
            raise ValueError(f"`d` must be a dict from History.to_dict(), got {d!r:.200}")
        return cls([EpochMetrics(**m) for m in d["epochs"]], d["best_epoch"],
                   bool(d["stopped_early"]))


@dataclass
class EvalResult:
    """Loss and accuracy over a data set, and where the mistakes are.

    Attributes:
        loss: mean cross-entropy (softmax, or sigmoid binary for a one-logit model).
        accuracy: fraction of correct predictions.
        confusion: int64 (K, K); ``confusion[i, j]`` counts examples of true class i predicted j.
        per_class_accuracy: float64 (K,), ``confusion[i, i] / confusion[i].sum()`` (NaN for a class
            with no examples).
    """

    loss: float
    accuracy: float
    confusion: np.ndarray
    per_class_accuracy: np.ndarray

    def _repr_html_(self) -> str:
        """Loss, accuracy and per-class accuracy as an HTML table (Jupyter)."""
        rows = "".join(f"<tr><td>{k}</td><td>{'-' if math.isnan(a) else f'{a:.2%}'}</td></tr>"
                       for k, a in enumerate(self.per_class_accuracy))
        return (f"<table><tr><th>loss</th><td>{self.loss:.4f}</td></tr>"
                f"<tr><th>accuracy</th><td>{self.accuracy:.2%}</td></tr></table>"
                f"<table><tr><th>class</th><th>accuracy</th></tr>{rows}</table>")

    def to_dict(self) -> dict:
        """JSON-able (NaN per-class accuracies become None)."""
        return {"loss": self.loss, "accuracy": self.accuracy,
                "confusion": self.confusion.tolist(),
                "per_class_accuracy": [None if math.isnan(a) else float(a)
                                       for a in self.per_class_accuracy]}


MONITORS = ("loss", "accuracy")


def _monitored(m: EpochMetrics, monitor: str = "loss") -> float:
    """The score early stopping and best-checkpoint keeping watch; lower is better.

    ``"loss"``: the val loss (the train loss without validation data). ``"accuracy"``: minus the
    val accuracy (train accuracy without validation). On long runs the val loss can start rising
    (the model grows over-confident on the examples it gets wrong) while the accuracy still climbs;
    ``"accuracy"`` keeps the checkpoint that classifies best.
    """
    if monitor == "loss":
        return m.train_loss if m.val_loss is None else m.val_loss
    elif monitor == "accuracy":
        return -(m.train_accuracy if m.val_accuracy is None else m.val_accuracy)
    else:
        raise ValueError(f"`monitor` must be one of {MONITORS}, got {monitor!r}")


# --- the loss, chosen by the output width -------------------------------------------------------

def num_classes_of(model) -> int:
    """K, the classes a model tells apart: its output width, or 2 for a single (sigmoid) logit
    (the rule lives in :mod:`juanji.nn.head`)."""
    return head.num_classes(model.output_shape[0])


def _loss_forward(logits: np.ndarray, labels: np.ndarray):
    """``(loss, cache, predictions)`` through the model's head (:mod:`juanji.nn.head`)."""
    loss, cache = head.loss_forward(logits, labels)
    return loss, cache, head.predictions(logits)  # (B,)


_loss_backward = head.loss_backward  # dlogits for dloss = 1


def predict_proba(model, x: np.ndarray, batch_size: int = 256, *, comm=None) -> np.ndarray:
    """Class probabilities ``(N, K)`` with K >= 2 (a single logit p gives ``[1 - p, p]``).

    With ``comm``, each rank predicts its share of the rows and every rank returns all N rows.
    """
    if comm is None:
        probs = model.predict(x, batch_size)  # (N, K) or (N, 1)
    else:
        part = comm.shard(len(x))
        mine = model.predict(x[part], batch_size)  # (n_rank, K) or (n_rank, 1)
        probs = np.zeros((len(x), int(model.output_shape[0])), mine.dtype)  # (N, K)
        probs[part] = mine
        probs = comm.allreduce_sum(probs, "the prediction gather")  # others' rows are zeros
    if head.is_binary(probs.shape[1]):
        return np.concatenate([1 - probs, probs], axis=1)  # (N, 2)
    return probs


# --- evaluation ---------------------------------------------------------------------------------

def evaluate(model, dataset: Dataset, normalizer: Normalizer, batch_size: int = 256, *,
             comm=None) -> EvalResult:
    """Loss, accuracy and confusion matrix of ``model`` on ``dataset`` in eval mode.

    The model's train/eval mode is restored afterwards. With ``comm`` (a
    `juanji.distributed.Communicator`), each rank runs its share of every batch and the sums are
    added over ranks: every rank returns the whole data set's result.

    >>> from juanji.models import build_model
    >>> ds = Dataset(np.zeros((6, 8, 8, 1), np.uint8), np.arange(6) % 3, ("a", "b", "c"), "toy")
    >>> r = evaluate(build_model("digits", (8, 8, 1), 3), ds, Normalizer([0.5], [0.5]), 4)
    >>> r.confusion.shape, int(r.confusion.sum())
    ((3, 3), 6)
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"`dataset` must be a juanji.data.Dataset, got {type(dataset).__name__}")
    k = num_classes_of(model)
    if dataset.num_classes > k:
        raise ValueError(f"`dataset` has {dataset.num_classes} classes but the model gives {k} "
                         f"outputs")
    batches = BatchIterator(dataset, batch_size, shuffle=False, normalizer=normalizer)
    loss_sum = 0.0
    confusion = np.zeros((k, k), dtype=np.int64)
    with model.kept_state(grads=False, caches=False):
        for xb, yb in batches:
            if comm is not None:
                part = comm.shard(len(yb))
                xb, yb = xb[part], yb[part]  # this rank's share of the batch
                if len(yb) == 0:
                    continue
            logits = model.forward(xb)  # (B, K)
            loss, _, pred = _loss_forward(logits, yb)
            loss_sum += loss * len(yb)
            confusion += np.bincount(yb * k + pred, minlength=k * k).reshape(k, k)  # (K, K)
    if comm is not None:
        sums = comm.allreduce_sum(np.concatenate([[loss_sum], confusion.ravel()]),  # (1 + K*K,)
                                  "the evaluation allreduce")
        loss_sum, confusion = float(sums[0]), sums[1:].round().astype(np.int64).reshape(k, k)
    n = len(dataset)
    per_class_n = confusion.sum(axis=1)  # (K,) examples of each true class
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(per_class_n > 0, np.diag(confusion) / per_class_n, np.nan)  # (K,)
    return EvalResult(loss_sum / n, float(np.trace(confusion)) / n, confusion, per_class)


# --- the loop -----------------------------------------------------------------------------------


def _say(text: str, enabled: bool) -> None:
    if enabled:
        print(text, file=sys.stderr, flush=True)


def fit(model, train: Dataset, *, val: Dataset | None = None, epochs: int, batch_size: int,
        optimizer, scheduler=None, seed: int, normalizer: Normalizer, checkpoint_dir=None,
        early_stopping_patience: int | None = None, clip_norm: float | None = None,
        progress: bool = True, start_epoch: int = 0, history: History | None = None,
        checkpoint_extra: dict | None = None, augment=None, monitor: str = "loss",
        dataset_name: str | None = None, polarity=None,
        comm=None, on_epoch_end=None) -> History:
    """Train ``model`` on ``train`` for epochs ``start_epoch + 1 .. epochs``.

    Args:
        model: a ``juanji.nn.Sequential`` giving (N, K) logits, or (N, 1) for two classes
            with sigmoid binary cross-entropy.
        train, val: uint8 data sets; ``val`` (optional) is evaluated after every epoch.
        epochs: total number of epochs of the run (including ``start_epoch`` already done).
        batch_size: examples per step; the last batch of an epoch may be smaller.
        optimizer: built on ``model.parameters()``; ``scheduler`` (optional) steps once per epoch.
        seed: fixes the example order of every epoch, with the epoch number.
        normalizer: maps uint8 images to float32 inputs (fitted on the training split).
        checkpoint_dir: if given, ``last.npz`` is written there after every epoch and ``best.npz``
            whenever the monitored metric (see ``monitor``) improves.
        early_stopping_patience: stop once the monitored metric has not improved for this many
            epochs in a row (None: never).
        clip_norm: clip the global gradient norm to this value before each step (None: don't).
        progress: show the progress inside each epoch on stderr (`juanji.progress`: a bar on
            a terminal or in a notebook, a line every tenth of the epoch in a log) and one
            line per epoch.
        start_epoch, history: where a resumed run continues (see :func:`restore_training_state`).
        checkpoint_extra: JSON-able dict stored in every checkpoint (e.g. command-line arguments).
        dataset_name: the data set's name stored in every checkpoint (``Checkpoint.dataset``),
            e.g. ``"mnist"`` or ``"folder:DIR"``.
        polarity: the training images' `juanji.data.polarity.Polarity`, stored in every
            checkpoint (``juanji predict`` inverts an image drawn the other way round).
        augment: None, or ``augment(x_uint8, rng)`` for the training batches (e.g.
            `juanji.data.Augment`), seeded by ``(seed, epoch)`` so resuming stays exact.
        monitor: ``"loss"`` (default) or ``"accuracy"``: what "best" and early stopping watch, on
            the validation data when given, else on the training epoch.
        on_epoch_end: None, or ``on_epoch_end(metrics: EpochMetrics) -> bool`` called after each
            epoch (after its checkpoints); a true result stops the run
            (``history.stopped_early``). ``juanji.model.Model.fit`` runs its callbacks here.
        comm: None (one process), or a `juanji.distributed.Communicator`: data-parallel
            training, every rank calling fit with the same arguments. Rank 0's weights, optimiser
            state and normaliser are broadcast first; each rank runs its share of every global
            batch (same seeded order as one process), the gradients are summed over ranks, and
            every rank applies the same update. Only rank 0 writes checkpoints and prints.

    Returns:
        the :class:`History` (``history`` extended, when given).

    Raises:
        TrainingDiverged: the loss, a gradient, the weights or the optimiser's state became NaN
            or infinite, or the loss went over `LOSS_LIMIT` (the message names the layer, epoch
            and step); the last good checkpoint is kept.
    """
    if not isinstance(train, Dataset):
        raise TypeError(f"`train` must be a juanji.data.Dataset, got {type(train).__name__}")
    if val is not None and not isinstance(val, Dataset):
        raise TypeError(f"`val` must be a juanji.data.Dataset or None, got {type(val).__name__}")
    epochs = check_int(epochs, "epochs", 1)
    start_epoch = check_int(start_epoch, "start_epoch", 0)
    if start_epoch > epochs:
        raise ValueError(f"`start_epoch` (={start_epoch}) must be <= `epochs` (={epochs})")
    if early_stopping_patience is not None:
        early_stopping_patience = check_int(early_stopping_patience, "early_stopping_patience", 1)
    if monitor not in MONITORS:
        raise ValueError(f"`monitor` must be one of {MONITORS}, got {monitor!r}")
    if clip_norm is not None and (not isinstance(clip_norm, Real) or isinstance(clip_norm, bool)
                                  or not clip_norm > 0):
        raise ValueError(f"`clip_norm` must be a number > 0 or None, got {clip_norm!r}")
    if not isinstance(normalizer, Normalizer):
        raise TypeError(f"`normalizer` must be a juanji.data.Normalizer, "
                        f"got {type(normalizer).__name__}")
    history = History() if history is None else history
    if len(history.epochs) != start_epoch:
        raise ValueError(f"`history` holds {len(history.epochs)} epochs but `start_epoch` is "
                         f"{start_epoch}; they must agree")
    if comm is not None:
        normalizer = comm.broadcast_training_state(model, optimizer, normalizer)
        if not comm.is_root:  # rank 0 alone writes and prints
            checkpoint_dir, progress = None, False
    if checkpoint_dir is not None:
        checkpoint_dir = Path(checkpoint_dir)
        checkpoint_dir.mkdir(parents=True, exist_ok=True)

    batches = BatchIterator(train, batch_size, shuffle=True, seed=seed, normalizer=normalizer,
                            augment=augment)
    params = model.parameters()
    keep_freed_memory()  # every step reuses the last step's buffers instead of faulting them in
    # juanji's ops split a batch over threads, one BLAS thread each, and set that per op (~7 us,
    # two dozen times a step for LeNet-5); a step on fewer images than threads keeps the switch
    pin_blas = one_blas_thread if batch_size >= get_num_threads() else contextlib.nullcontext

    def save(name: str, epoch: int) -> None:
        save_checkpoint(checkpoint_dir / name, model, optimizer=optimizer, scheduler=scheduler,
                        normalizer=normalizer, epoch=epoch, metrics=history,
                        class_names=train.class_names, extra=checkpoint_extra,
                        dataset=dataset_name, polarity=polarity)

    for epoch in range(start_epoch, epochs):
        if history.stopped_early:  # a resumed run that had already stopped stays stopped
            break
        t0 = time.perf_counter()
        lr = float(optimizer.lr)
        model.train()
        batches.epoch = epoch  # the order is a function of (seed, epoch) alone
        bar = epoch_progress(len(batches), f"epoch {epoch + 1}/{epochs}", progress)
        loss_sum, correct, seen = 0.0, 0, 0
        for step, (xb, yb) in enumerate(batches):
            if comm is not None:
                where = (f"at epoch {epoch + 1}, step {step + 1} of {len(batches)} "
                         f"(global step {epoch * len(batches) + step + 1})")
                step_sum, step_correct = _distributed_step(model, xb, yb, comm, params, where, lr,
                                                           pin_blas)
                if clip_norm is not None:
                    clip_grad_norm(params, clip_norm)
                _check_loss_limit(step_sum / len(yb), model, where, lr, bar)
                optimizer.step()
                _check_optimizer_state(model, optimizer, where, lr, bar)
                loss_sum += step_sum
                correct += step_correct
                seen += len(yb)
                if bar is not None:
                    bar.update(loss_sum, correct, seen)
                continue
            with pin_blas():  # one BLAS thread for the whole step, not a switch per op
                logits = model.forward(xb)  # (B, K)
                loss, cache, pred = _loss_forward(logits, yb)
                where = (f"at epoch {epoch + 1}, step {step + 1} of {len(batches)} "
                         f"(global step {epoch * len(batches) + step + 1})")
                if not math.isfinite(loss):
                    if bar is not None:
                        bar.close()
                    raise TrainingDiverged(
                        f"the training loss became {loss} {where}; {_culprit(model, xb)}; "
                        f"{_hint(lr)}")
                _check_loss_limit(loss, model, where, lr, bar)
                model.backward(_loss_backward(cache), input_grad=False)  # grads; (B, K) in
                bad = _first_non_finite(model, "grad")
                if bad is not None:  # checked before the step: the weights stay as they were
                    if bar is not None:
                        bar.close()
                    raise TrainingDiverged(
                        f"the gradient of {bad} became non-finite (NaN or inf) {where}; "
                        f"{_hint(lr)}")
                if clip_norm is not None:
                    clip_grad_norm(params, clip_norm)
                optimizer.step()
                _check_optimizer_state(model, optimizer, where, lr, bar)
            loss_sum += loss * len(yb)
            correct += int((pred == yb).sum())
            seen += len(yb)
            if bar is not None:
                bar.update(loss_sum, correct, seen)
        if bar is not None:
            bar.close()
        if scheduler is not None:
            scheduler.step()
        val_result = None if val is None else evaluate(model, val, normalizer,
                                                        max(batch_size, 256), comm=comm)
        metrics = EpochMetrics(
            epoch=epoch + 1, train_loss=loss_sum / seen, train_accuracy=correct / seen,
            val_loss=None if val_result is None else val_result.loss,
            val_accuracy=None if val_result is None else val_result.accuracy,
            seconds=time.perf_counter() - t0, lr=lr)
        history.epochs.append(metrics)
        improved = _monitored(metrics, monitor) < history.best_score(monitor)
        if improved:
            history.best_epoch = epoch + 1
        if (early_stopping_patience is not None
                and epoch + 1 - history.best_epoch >= early_stopping_patience):
            history.stopped_early = True
        if checkpoint_dir is not None or comm is not None:  # every rank checks: same weights
            bad = _first_non_finite(model, "data")
            if bad is not None:  # never overwrite the last good checkpoint with broken weights
                raise TrainingDiverged(
                    f"the weights of {bad} became non-finite (NaN or inf) in the last step of "
                    f"epoch {epoch + 1}; the checkpoints of epoch {epoch} are kept; try a "
                    f"smaller learning rate (lr={lr:g})")
        if checkpoint_dir is not None:
            if improved:
                save(BEST, epoch + 1)
            save(LAST, epoch + 1)
        _say(_epoch_line(metrics, epochs, seen), progress)
        if on_epoch_end is not None and on_epoch_end(metrics):
            history.stopped_early = True
    return history


def _distributed_step(model, xb, yb, comm, params, where: str, lr: float, pin_blas):
    """Forward and backward on this rank's share of the global batch ``(xb, yb)`` of B examples,
    with the loss gradient scaled by ``1 / B``; then one allreduce sums the gradients (and the
    loss sum, correct count and non-finite flags) over ranks. Returns the global
    ``(loss sum, correct)``; raises TrainingDiverged on every rank when any rank saw NaN/inf."""
    part = comm.shard(len(yb))
    xs, ys = xb[part], yb[part]  # (b, H, W, C), (b,): this rank's share
    loss_sum, correct, bad = 0.0, 0, False
    with pin_blas():
        if len(ys):
            logits = model.forward(xs)  # (b, K)
            loss, cache, pred = _loss_forward(logits, ys)
            dlogits = _loss_backward(cache) * (len(ys) / len(yb))  # (b, K): d(sum / B)
            model.backward(dlogits, input_grad=False)
            loss_sum, correct = loss * len(ys), int((pred == ys).sum())
            bad = not math.isfinite(loss) or _first_non_finite(model, "grad") is not None
        else:  # fewer examples than ranks: this rank adds zeros
            for p in params:
                p.grad[...] = 0
        loss_sum, correct, bad_ranks = comm.allreduce_grads(params, loss_sum, correct, bad)
    if bad_ranks:
        raise TrainingDiverged(f"the training loss or a gradient became non-finite (NaN or inf) "
                               f"on {bad_ranks} of {comm.size} ranks {where}; try a smaller "
                               f"learning rate (lr={lr:g})")
    return loss_sum, correct


def _hint(lr: float) -> str:
    """What to try after a divergence: a smaller learning rate, unless the rate is already 0
    (inputs are finite: `Normalizer` refuses a std that would overflow float32)."""
    if lr == 0:
        return "the learning rate is 0, so the cause is not the step size: check the inputs"
    return f"try a smaller learning rate (lr={lr:g}) or gradient clipping"


def _check_loss_limit(loss: float, model, where: str, lr: float, bar=None) -> None:
    """Raise TrainingDiverged when a finite step loss is over `LOSS_LIMIT`."""
    if not loss > LOSS_LIMIT:
        return
    if bar is not None:
        bar.close()
    start = math.log(num_classes_of(model))
    raise TrainingDiverged(
        f"the training loss reached {loss:.3g} {where}, over {LOSS_LIMIT:g} (a fresh model "
        f"starts near ln K = {start:.2f}); {_largest_weights(model)}; {_hint(lr)}")


def _check_optimizer_state(model, optimizer, where: str, lr: float, bar=None) -> None:
    """Raise TrainingDiverged when the step left NaN/inf in the optimiser's own state (Adam's
    ``exp_avg_sq`` overflows to inf while the weights stay finite: they then stop moving)."""
    find = getattr(optimizer, "first_non_finite_state", None)
    found = None if find is None else find()
    if found is None:
        return
    if bar is not None:
        bar.close()
    index, buffer = found
    names = {id(p): key for key, p in model.named_parameters()}
    key = names.get(id(optimizer.params[index]))
    what = f"parameter {index}" if key is None else _qualified(model, key)
    raise TrainingDiverged(
        f"the {type(optimizer).__name__} state {buffer!r} of {what} became non-finite (NaN or "
        f"inf) {where}; nothing of this epoch is saved; {_hint(lr)}")


def _qualified(model, key: str) -> str:
    """``"3.weight"`` -> ``"3.Conv2D.weight"``."""
    index, name = key.split(".", 1)
    return f"{index}.{type(model.layers[int(index)]).__name__}.{name}"


def _first_non_finite(model, attr: str) -> str | None:
    """The first parameter whose ``attr`` ("grad" or "data") holds NaN or inf, named like
    ``"3.Conv2D.weight"``; None when all are finite. One float64 sum per parameter (NaN and inf
    survive a sum), the exact check only when a sum is not finite."""
    for key, p in model.named_parameters():
        a = getattr(p, attr)
        if not np.isfinite(a.sum(dtype=np.float64)) and not np.isfinite(a).all():
            index, name = key.split(".", 1)
            return f"{index}.{type(model.layers[int(index)]).__name__}.{name}"
    return None


def _largest_weights(model) -> str:
    """Where a finite divergence shows: the parameter with the largest absolute weight."""
    key, top = max(((k, float(np.abs(p.data).max(initial=0)))
                    for k, p in model.named_parameters()), key=lambda kv: kv[1])
    return f"the largest weights are in {_qualified(model, key)} (|w| up to {top:.3g})"


def _culprit(model, xb) -> str:
    """Where a non-finite loss came from: a parameter, else the first layer whose output is not
    finite (the batch is run again layer by layer; only after a divergence)."""
    bad = _first_non_finite(model, "data")
    if bad is not None:
        return f"the weights of {bad} are non-finite"
    x = xb
    for i, layer in enumerate(model.layers):
        x = layer.forward(x)
        if not np.isfinite(x).all():
            return f"layer {i}.{type(layer).__name__} is the first to output NaN or inf"
    return "every layer's output is finite, the loss itself overflowed"


def _epoch_line(m: EpochMetrics, epochs: int, n: int) -> str:
    val = "" if m.val_loss is None else f"  val loss {m.val_loss:.4f} acc {m.val_accuracy:.4f}"
    return (f"epoch {m.epoch}/{epochs}  train loss {m.train_loss:.4f} acc {m.train_accuracy:.4f}"
            f"{val}  {m.seconds:.1f}s ({n / max(m.seconds, 1e-9):,.0f} img/s)")


def restore_training_state(checkpoint, optimizer, scheduler=None) -> tuple[int, History]:
    """Load a checkpoint's optimiser (and schedule) state; return ``(start_epoch, history)``.

    ``optimizer`` must be built on ``checkpoint.model.parameters()``. Pass the results to
    :func:`fit` as ``start_epoch=`` and ``history=`` to continue the run exactly.
    """
    if checkpoint.optimizer_state is None:
        raise ValueError(f"checkpoint {str(checkpoint.path)!r} holds no optimiser state to resume")
    optimizer.load_state_dict(checkpoint.optimizer_state)
    if scheduler is not None:
        if checkpoint.scheduler_state is None:
            raise ValueError(f"checkpoint {str(checkpoint.path)!r} holds no scheduler state")
        scheduler.load_state_dict(checkpoint.scheduler_state)
    history = History() if checkpoint.metrics is None else History.from_dict(checkpoint.metrics)
    if len(history.epochs) != checkpoint.epoch:
        raise ValueError(f"checkpoint {str(checkpoint.path)!r}: its history has "
                         f"{len(history.epochs)} epochs but it was saved after epoch "
                         f"{checkpoint.epoch}")
    return checkpoint.epoch, history
