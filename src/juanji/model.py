"""`Model`: a `Sequential` with ``fit``, ``evaluate``, ``predict``, ``save`` and ``summary``,
thin methods over `juanji.train` and `juanji.checkpoint`; `load` reads a checkpoint back.

What the methods take (the rule is the array's dtype):

- **uint8 arrays** ``(N, H, W, C)`` (0..255) **or a** `juanji.data.Dataset`: images. juanji
  normalises them, ``(x / 255 - mean[c]) / std[c]``, with ``model.normalizer``: fitted on the
  training images by the first ``fit`` and kept (saved with the model).
- **float arrays** ``(N, H, W, C)``: the model's inputs *as they are*, already normalised by you
  (``x / 255.0`` is fine), exactly what ``model.forward`` takes. Values that look like raw
  pixels (beyond +-50) are refused: pass them as uint8 instead.
- labels ``y``: integers ``(N,)`` in ``[0, K)``.

>>> import numpy as np
>>> from juanji.nn import Conv2D, Dense, Flatten, ReLU
>>> model = Model([Conv2D(4, 3), ReLU(), Flatten(), Dense(2)], (6, 6, 1))
>>> x = np.random.default_rng(0).integers(0, 256, (20, 6, 6, 1), dtype=np.uint8)
>>> history = model.fit(x, np.arange(20) % 2, epochs=2, batch_size=5, verbose=0)
>>> len(history.epochs), model.predict(x).shape
(2, (20, 2))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .nn import Sequential
from .nn.sequential import nchw_hint

__all__ = ["Model", "load"]

RAW_PIXELS = 50.0  # |float input| beyond this is taken for unnormalised pixels


class Model(Sequential):
    """A :class:`~juanji.nn.Sequential` (same constructor, same layers) that trains itself.

    Attributes:
        normalizer: the `juanji.data.Normalizer` applied to uint8 images (None until the first
            ``fit`` on uint8 data, or from the checkpoint).
        class_names: names of the K classes (from a Dataset, ``fit(class_names=)`` or the
            checkpoint), or None.
        history: the `juanji.train.History` of the last ``fit``.
        stop_training: set by a callback to end ``fit`` after the current epoch.
    """

    def __init__(self, layers, input_shape, *, seed=0, dtype=np.float32):
        super().__init__(layers, input_shape, seed=seed, dtype=dtype)
        self.normalizer = None
        self.class_names = None
        self.history = None
        self.stop_training = False

    @classmethod
    def from_sequential(cls, model: Sequential) -> Model:
        """A Model sharing ``model``'s layers and weights (no copy): e.g. of ``build_model``."""
        if not isinstance(model, Sequential):
            raise TypeError(f"`model` must be a juanji Sequential, got {type(model).__name__}")
        out = cls.__new__(cls)
        out.__dict__.update(model.__dict__)
        out.normalizer, out.class_names, out.history = None, None, None
        out.stop_training = False
        return out

    @classmethod
    def builtin(cls, name: str, input_shape, num_classes: int, *, seed: int = 0) -> Model:
        """A built-in architecture (`juanji.models.build_model`) as a Model."""
        from .models import build_model
        return cls.from_sequential(build_model(name, input_shape, num_classes, seed=seed))

    # --- data --------------------------------------------------------------------------------
    def _dataset(self, x, y, what: str, fitting: bool = False):
        """(Dataset or NormalizedDataset, normaliser) for ``x``, ``y`` as the module docstring
        describes; ``fitting``: a uint8 set may fit the normaliser."""
        from .data import Dataset, InputsAsGiven, Normalizer, NormalizedDataset

        if isinstance(x, Dataset):
            if y is not None:
                raise ValueError(f"`{what}` is a Dataset, which holds its labels: drop `y`")
            data = x
        else:
            if not isinstance(x, np.ndarray):
                raise TypeError(f"`{what}` x must be a numpy array (N, H, W, C) or a Dataset, "
                                f"got {type(x).__name__}")
            if x.ndim != len(self.input_shape) + 1 or tuple(x.shape[1:]) != self.input_shape:
                raise ValueError(f"`{what}` x must have shape (N, "
                                 f"{', '.join(map(str, self.input_shape))}), got {x.shape}"
                                 f"{nchw_hint(x.shape, self.input_shape)}")
            y = self._labels(y, len(x), what)
            names = tuple(self.class_names or (str(k) for k in range(self.num_classes)))
            if x.dtype == np.uint8:
                data = Dataset(x, y, names, what)
            elif x.dtype.kind == "f":
                x = x.astype(self.dtype, copy=False)
                if not np.isfinite(x).all():
                    raise ValueError(f"`{what}` x holds NaN or infinite values")
                peak = float(np.abs(x).max()) if x.size else 0.0
                if peak > RAW_PIXELS:
                    raise ValueError(
                        f"`{what}` x is float with values up to {peak:g}: float arrays are "
                        f"taken as normalised model inputs; pass raw pixels as uint8 "
                        f"(x.astype(np.uint8)) for juanji to normalise, or scale them yourself "
                        f"(x / 255.0)")
                return NormalizedDataset(x, y, names, what), InputsAsGiven(x.shape[-1])
            else:
                raise TypeError(f"`{what}` x must be uint8 images or float inputs, got dtype "
                                f"{x.dtype}")
        if data.input_shape != self.input_shape:
            raise ValueError(f"`{what}` has images {data.input_shape} but the model takes "
                             f"{self.input_shape}{nchw_hint((0, *data.input_shape), self.input_shape)}")
        if isinstance(data, NormalizedDataset):
            return data, InputsAsGiven(data.input_shape[-1])
        if self.normalizer is None:
            if not fitting:
                raise ValueError(f"`{what}` holds uint8 images but the model has no normaliser "
                                 f"yet: fit it on uint8 images first, or set model.normalizer")
            self.normalizer = Normalizer.fit(data)
        return data, self.normalizer

    def _labels(self, y, n: int, what: str) -> np.ndarray:
        if y is None:
            raise ValueError(f"`{what}` needs labels y (N,) with the images")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == self.num_classes:
            raise ValueError(f"`{what}` y looks one-hot {y.shape}; pass class indices "
                             f"y.argmax(axis=1)")
        if y.ndim != 1 or len(y) != n or y.dtype.kind not in "iu":
            raise ValueError(f"`{what}` y must be integer class indices (N,) = ({n},), got "
                             f"{y.dtype} {y.shape}")
        if n and (y.min() < 0 or y.max() >= self.num_classes):
            raise ValueError(f"`{what}` y must lie in [0, {self.num_classes}) for this model's "
                             f"{self.num_classes} classes, got [{y.min()}, {y.max()}]")
        return y

    # --- the API -----------------------------------------------------------------------------
    def fit(self, x, y=None, *, epochs: int = 1, batch_size: int = 32, validation_data=None,
            callbacks=(), verbose: int = 1, optimizer="adam", lr: float = 1e-3, seed: int = 0,
            class_names=None):
        """Train with `juanji.train.fit` (the same loop, progress bar and checks as
        ``juanji train``); returns its `juanji.train.History`.

        Args:
            x, y: uint8 images and labels, float (normalised) inputs and labels, or a Dataset
                (then no ``y``); see the module docstring.
            epochs: epochs to run now (each call starts a new History).
            batch_size: examples per step.
            validation_data: ``(x_val, y_val)`` or a Dataset, evaluated after every epoch
                (``val_loss``, ``val_accuracy``), in the same form as ``x``.
            callbacks: `juanji.callbacks` objects, called at every epoch's end.
            verbose: 1 shows the progress bar and a line per epoch (stderr), 0 nothing.
            optimizer: a name (``"adam"``, ``"sgd"``, ``"momentum"``, ...) built with ``lr``, or a
                `juanji.optim` optimiser built on ``model.parameters()``.
            seed: fixes the example order of every epoch.
            class_names: names of the classes, kept with the model.
        """
        from .optim import Optimizer, make_optimizer
        from .train import fit as train_fit
        from .validation import check_int

        epochs = check_int(epochs, "epochs", 1)
        batch_size = check_int(batch_size, "batch_size", 1)
        if verbose not in (0, 1, True, False):
            raise ValueError(f"`verbose` must be 0 or 1, got {verbose!r}")
        if class_names is not None:
            if len(class_names) != self.num_classes:
                raise ValueError(f"`class_names` must name the model's {self.num_classes} "
                                 f"classes, got {len(class_names)}")
            self.class_names = [str(c) for c in class_names]
        train, norm = self._dataset(x, y, "x", fitting=True)
        val = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
                val, val_norm = self._dataset(*validation_data, "validation_data")
            else:
                val, val_norm = self._dataset(validation_data, None, "validation_data")
            if type(val_norm) is not type(norm):
                raise ValueError("`validation_data` must be of the same kind as `x` (both uint8 "
                                 "images or both float inputs)")
        if self.class_names is None and not isinstance(x, np.ndarray):
            self.class_names = list(train.class_names)  # a Dataset's own names
        callbacks = list(callbacks or ())
        for cb in callbacks:
            if not callable(getattr(cb, "on_epoch_end", None)):
                raise TypeError(f"`callbacks` must hold objects with on_epoch_end(epoch, logs, "
                                f"model), got {type(cb).__name__}")
        if isinstance(optimizer, str):
            optimizer = make_optimizer(optimizer, self.parameters(), lr)
        elif not isinstance(optimizer, Optimizer):
            raise TypeError(f"`optimizer` must be a name or a juanji.optim optimiser, got "
                            f"{type(optimizer).__name__}")

        self.stop_training = False

        def on_epoch_end(m) -> bool:
            logs = {"loss": m.train_loss, "accuracy": m.train_accuracy, "val_loss": m.val_loss,
                    "val_accuracy": m.val_accuracy, "lr": m.lr, "seconds": m.seconds}
            for cb in callbacks:
                cb.on_epoch_end(m.epoch, logs, self)
            return self.stop_training

        self.history = train_fit(self, train, val=val, epochs=epochs, batch_size=batch_size,
                                 optimizer=optimizer, seed=seed, normalizer=norm,
                                 progress=bool(verbose), on_epoch_end=on_epoch_end)
        for cb in callbacks:
            if callable(getattr(cb, "on_train_end", None)):
                cb.on_train_end(self)
        self.eval()
        return self.history

    def evaluate(self, x, y=None, *, batch_size: int = 256):
        """Loss, accuracy, confusion matrix (`juanji.train.EvalResult`) on ``x``, ``y`` (or a
        Dataset), in eval mode; the model's mode is kept."""
        from .train import evaluate
        data, norm = self._dataset(x, y, "x")
        return evaluate(self, data, norm, batch_size)

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(N, K)`` (one sigmoid output: ``(N, 1)``). uint8 images are
        normalised with ``model.normalizer`` first; float inputs are used as they are (as in
        :meth:`juanji.nn.Sequential.predict`)."""
        if isinstance(x, np.ndarray) and x.dtype == np.uint8:
            if self.normalizer is None:
                raise ValueError("`x` holds uint8 images but the model has no normaliser yet: "
                                 "fit it on uint8 images first, or set model.normalizer")
            if tuple(x.shape[1:]) != self.input_shape:
                raise ValueError(f"`x` must have shape (N, {', '.join(map(str, self.input_shape))}"
                                 f"), got {x.shape}{nchw_hint(x.shape, self.input_shape)}")
            x = self.normalizer(x)  # (N, H, W, C) float32
        return super().predict(x, batch_size)

    def save(self, path, *, epoch: int | None = None) -> Path:
        """Write a juanji checkpoint (``.npz``, atomically) with the weights, the normaliser,
        the class names and the last history; ``juanji.load(path)`` and the ``juanji`` commands
        (``evaluate``, ``predict``, ``explain``) read it."""
        from .checkpoint import save_checkpoint
        if epoch is None:
            epoch = len(self.history.epochs) if self.history is not None else 0
        return save_checkpoint(path, self, normalizer=self.normalizer, epoch=epoch,
                               metrics=self.history, class_names=self.class_names)

    def summary(self) -> None:
        """Print the layer table (`juanji.nn.summary`): shapes, sizes, parameters."""
        from rich.console import Console

        from .nn import summary
        Console(highlight=False).print(summary(self).render())


def load(path) -> Model:
    """A :class:`Model` from a juanji checkpoint (``model.save``, ``juanji train``, ``juanji
    import``), with its normaliser, class names and history; in eval mode."""
    from .checkpoint import load_checkpoint
    from .train import History

    ck = load_checkpoint(path)
    model = Model.from_sequential(ck.model)
    model.normalizer = ck.load_normalizer()
    model.class_names = ck.class_names
    if isinstance(ck.metrics, dict):
        try:
            model.history = History.from_dict(ck.metrics)
        except (ValueError, TypeError):
            model.history = None
    return model
