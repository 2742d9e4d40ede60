"""Training curves: loss and accuracy per epoch, train against validation, as one PNG.

matplotlib (the ``cli`` extra) is imported inside the function with the non-interactive Agg
backend, so the core needs only NumPy and no display is ever required. The PNG is rendered into
memory and written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

from ._atomic import atomic_write_bytes

__all__ = ["plot_history"]


def plot_history(history, path) -> Path:
    """Write loss (left) and accuracy (right) against epoch to the PNG file ``path``.

    Args:
        history: a ``juanji.train.History`` (validation curves drawn when present).
        path: destination ``.png``.

    Returns:
        ``path`` as a Path.
    """
    if not getattr(history, "epochs", None):
        raise ValueError("`history` must hold at least one epoch to plot")
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # a Figure without pyplot: no global state, no GUI
    from matplotlib.ticker import MaxNLocator

    epochs = [m.epoch for m in history.epochs]
    has_val = all(m.val_loss is not None for m in history.epochs)
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for ax, what, label in ((loss_ax, "loss", "cross-entropy loss"),
                            (acc_ax, "accuracy", "accuracy")):
        ax.plot(epochs, [getattr(m, f"train_{what}") for m in history.epochs], "o-",
                label="train")
        if has_val:
            ax.plot(epochs, [getattr(m, f"val_{what}") for m in history.epochs], "s-",
                    label="validation")
        if history.best_epoch is not None:
            ax.axvline(history.best_epoch, color="grey", linestyle=":", label="best epoch")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    loss_ax.set_title("loss")
    acc_ax.set_title("accuracy")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    path = Path(path)
    atomic_write_bytes(path, buffer.getvalue())
    return path
