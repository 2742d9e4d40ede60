"""Callbacks for `juanji.model.Model.fit`, called at the end of every epoch (Keras's names).

A callback has ``on_epoch_end(epoch, logs, model)`` (``epoch`` 1-based; ``logs`` the epoch's
``{"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}``, ``val_*`` None without
validation data) and ``on_train_end(model)``; setting ``model.stop_training = True`` ends the run
after this epoch.

>>> stop = EarlyStopping(monitor="val_loss", patience=2)
>>> class M: stop_training = False
>>> m = M()
>>> for epoch, v in enumerate([1.0, 0.8, 0.9, 0.85], 1):
...     stop.on_epoch_end(epoch, {"val_loss": v}, m)
>>> m.stop_training, stop.best_epoch
(True, 2)
"""

from __future__ import annotations

import math

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint"]

MONITORED = ("loss", "accuracy", "val_loss", "val_accuracy")


def _check_monitor(monitor) -> str:
    if monitor not in MONITORED:
        raise ValueError(f"`monitor` must be one of {MONITORED}, got {monitor!r}")
    return monitor


def _score(logs: dict, monitor: str) -> float:
    """The monitored value with lower = better (accuracies negated)."""
    value = logs.get(monitor)
    if value is None:
        raise ValueError(f"`monitor` {monitor!r} has no value this epoch (val_* need "
                         f"validation_data); the epoch gave {sorted(k for k, v in logs.items() if v is not None)}")
    return -value if monitor.endswith("accuracy") else value


class Callback:
    """Base class: both hooks do nothing."""

    def on_epoch_end(self, epoch: int, logs: dict, model) -> None:
        pass

    def on_train_end(self, model) -> None:
        pass


class EarlyStopping(Callback):
    """Stop once ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs
    in a row; with ``restore_best``, the weights of the best epoch are put back at the end.

    Args:
        monitor: ``"val_loss"`` (default), ``"val_accuracy"``, ``"loss"`` or ``"accuracy"``.
        patience: epochs without improvement before stopping (>= 1).
        restore_best: put the best epoch's weights back when training ends.
        min_delta: the smallest change that counts as an improvement (>= 0).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 3, *,
                 restore_best: bool = True, min_delta: float = 0.0):
        from .validation import check_bool, check_int, check_real
        self.monitor = _check_monitor(monitor)
        self.patience = check_int(patience, "patience", 1)
        self.restore_best = check_bool(restore_best, "restore_best")
        self.min_delta = check_real(min_delta, "min_delta", 0.0, math.inf)
        self.best, self.best_epoch, self.best_state = math.inf, None, None

    def on_epoch_end(self, epoch, logs, model) -> None:
        score = _score(logs, self.monitor)
        if score < self.best - self.min_delta:
            self.best, self.best_epoch = score, epoch
            if self.restore_best and hasattr(model, "state_dict"):
                self.best_state = {k: v.copy() for k, v in model.state_dict().items()}
        elif epoch - self.best_epoch >= self.patience:
            model.stop_training = True

    def on_train_end(self, model) -> None:
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Save the model (``model.save(path)``, a juanji checkpoint written atomically) after every
    epoch, or with ``save_best_only`` only when ``monitor`` improves. ``path`` may hold
    ``{epoch}``, e.g. ``"ckpt-{epoch:02d}.npz"``."""

    def __init__(self, path, *, monitor: str = "val_loss", save_best_only: bool = False):
        from .validation import check_bool
        self.path = str(path)
        self.monitor = _check_monitor(monitor)
        self.save_best_only = check_bool(save_best_only, "save_best_only")
        self.best = math.inf
        self.saved: list[str] = []  # the paths written, in order

    def on_epoch_end(self, epoch, logs, model) -> None:
        if self.save_best_only:
            score = _score(logs, self.monitor)
            if not score < self.best:
                return
            self.best = score
        path = self.path.format(epoch=epoch)
        model.save(path, epoch=epoch)
        self.saved.append(path)
