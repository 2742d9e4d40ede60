"""Progress inside a training epoch, where a person or a log can see it.

- On a terminal or in a Jupyter notebook: a tqdm bar (``tqdm.auto``: a widget in Jupyter when
  ipywidgets is installed, text otherwise) with the running loss, accuracy and images/s.
- Anywhere else (a log file, CI, ``2> train.log``): one plain line every tenth of the epoch,
  ``epoch 3/12: batch 47/469 (10%), loss 0.5123, acc 0.812, 2,345 img/s``, so a 20-second
  Fashion-MNIST epoch does not stay silent.

The per-batch cost is one call with three numbers: the bar formats its postfix without redrawing
(tqdm redraws at most every 0.1 s), the line printer compares one counter.
"""

from __future__ import annotations

import math
import sys
import time

__all__ = ["EpochProgress", "epoch_progress", "in_notebook"]

LINES_PER_EPOCH = 10  # plain lines per epoch when there is no terminal


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (the test tqdm.autonotebook makes too)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - an IPython too old or half-imported: not a notebook
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class EpochProgress:
    """One epoch's progress: `update` after every batch with the running sums, then `close`.

    Args:
        total: batches in the epoch.
        desc: the label, e.g. ``"epoch 3/12"``.
        stream: where to write (default ``sys.stderr`` at creation).
        mode: ``"bar"`` (tqdm) or ``"lines"`` (a plain line every ``total / 10`` batches).
    """

    def __init__(self, total: int, desc: str, stream=None, mode: str = "lines"):
        if mode not in ("bar", "lines"):
            raise ValueError(f"`mode` must be 'bar' or 'lines', got {mode!r}")
        self.total, self.desc, self.mode = int(total), desc, mode
        self.stream = sys.stderr if stream is None else stream
        self.every = max(1, math.ceil(self.total / LINES_PER_EPOCH))
        self.step, self.t0 = 0, time.perf_counter()
        self.bar = _tqdm_bar(self.total, desc, self.stream) if mode == "bar" else None
        if mode == "bar" and self.bar is None:  # no tqdm installed: lines instead
            self.mode = "lines"

    def update(self, loss_sum: float, correct: int, seen: int) -> None:
        """One more batch done; ``loss_sum`` and ``correct`` are over the ``seen`` examples."""
        self.step += 1
        if self.bar is not None:
            rate = seen / max(time.perf_counter() - self.t0, 1e-9)
            self.bar.set_postfix_str(f"loss {loss_sum / seen:.4f} acc {correct / seen:.3f} "
                                     f"{rate:,.0f} img/s", refresh=False)
            self.bar.update(1)
        elif self.step % self.every == 0 and self.step < self.total:  # the epoch line ends it
            rate = seen / max(time.perf_counter() - self.t0, 1e-9)
            print(f"{self.desc}: batch {self.step}/{self.total} "
                  f"({self.step / self.total:.0%}), loss {loss_sum / seen:.4f}, acc "
                  f"{correct / seen:.3f}, {rate:,.0f} img/s", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _tqdm_bar(total: int, desc: str, stream):
    """tqdm.auto's bar (Jupyter's widget in a notebook), the terminal bar if the widget cannot
    be made (no ipywidgets), None without tqdm."""
    try:
        from tqdm import tqdm as text_bar
        from tqdm.auto import tqdm as auto_bar
    except ImportError:  # tqdm comes with the `cli` extra; training works without it
        return None
    options = dict(total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                              "[{elapsed}<{remaining}{postfix}]")
    if in_notebook() and auto_bar is not text_bar:  # the widget draws itself, no stream
        try:
            return auto_bar(**options)
        except ImportError:  # "IProgress not found": ipywidgets is missing
            pass
    return text_bar(file=stream, **options)


def epoch_progress(total: int, desc: str, enabled: bool, stream=None) -> EpochProgress | None:
    """The progress of one epoch of ``total`` batches: a bar on a terminal or in a notebook,
    plain lines elsewhere, None when not ``enabled``."""
    if not enabled:
        return None
    stream = sys.stderr if stream is None else stream
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-like stream without isatty
        terminal = False
    return EpochProgress(total, desc, stream, "bar" if terminal or in_notebook() else "lines")
