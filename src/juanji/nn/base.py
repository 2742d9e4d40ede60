"""The ``Layer`` base class, the registry of layer types and ``layer_from_config``.

A layer is thin: it owns its parameters (and buffers such as running statistics) and makes one
call into :mod:`juanji.functional` in ``forward`` and one in ``backward``. Shapes exclude the batch
axis: ``input_shape`` is ``(H, W, C)`` for images and ``(D,)`` for flat vectors.

Life cycle::

    layer = Conv2D(8, 5)                       # hyperparameters only, checked here
    out = layer.build((32, 32, 3), rng)        # creates the parameters; returns (28, 28, 8)
    y = layer.forward(x)                       # keeps the cache
    dx = layer.backward(dy)                    # writes Parameter.grad (overwrites)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parameter import Parameter

LAYER_TYPES: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` rebuildable by name from its ``config()``."""
    LAYER_TYPES[cls.__name__] = cls
    return cls


def jsonable(value):
    """Tuples -> lists, recursively, so a config equals itself after a JSON round trip."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    return value


def image_shape(input_shape: tuple, layer: str) -> tuple[int, int, int]:
    """Refuse anything but an image shape ``(H, W, C)``."""
    if len(input_shape) != 3:
        raise ValueError(f"{layer} expects an image input shape (H, W, C), got {input_shape}")
    return input_shape


@dataclass(frozen=True)
class Window:
    """Where a windowed layer's (conv, pool) output pixel looks in its input, per axis (h, w).

    ``padding`` is resolved for the layer's built input shape: ``((top, bottom), (left, right))``.
    ``span`` is the dilated kernel's extent ``d*(k - 1) + 1``: the input pixels one window covers.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]

    @property
    def span(self) -> tuple[int, int]:
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    def to_dict(self) -> dict:
        """JSON-able: ``{"kernel": [kh, kw], "stride": ..., "dilation": ..., "padding": ...}``."""
        return {"kernel": list(self.kernel), "stride": list(self.stride),
                "dilation": list(self.dilation), "padding": [list(p) for p in self.padding]}


class Layer:
    """Base of every layer. Subclasses override ``output_shape``, ``forward``, ``backward`` and,
    when they own parameters, ``_create``; they list their hyperparameters in ``config``.

    Attributes:
        training: True in train mode (Dropout drops, BatchNorm uses batch statistics).
        params: ``{name: Parameter}``, learnable.
        buffers: ``{name: ndarray}``, saved in ``state_dict`` but not learned (running stats).
        in_shape, out_shape: set by ``build``; ``None`` before.
    """

    def __init__(self):
        self.training = True
        self.params: dict[str, Parameter] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.in_shape: tuple | None = None
        self.out_shape: tuple | None = None
        self.dtype = np.dtype(np.float32)
        self._cache = None

    # --- shapes and parameters -------------------------------------------------------------
    def output_shape(self, input_shape: tuple) -> tuple:
        """The output shape (no batch axis) for ``input_shape``; pure, no forward pass."""
        raise NotImplementedError

    def build(self, input_shape: tuple, rng: np.random.Generator, dtype=np.float32) -> tuple:
        """Create the parameters for ``input_shape`` and return the output shape."""
        input_shape = tuple(int(v) for v in input_shape)
        out = tuple(self.output_shape(input_shape))
        self.dtype = np.dtype(dtype)
        self._create(input_shape, rng, self.dtype)
        self.in_shape, self.out_shape = input_shape, out
        return out

    def values_created(self, input_shape: tuple) -> int:
        """How many numbers :meth:`~juanji.nn.base.Layer.build` would allocate for ``input_shape`` (parameters and
        buffers); pure, so a stored architecture can be sized before anything is allocated."""
        return 0

    def _create(self, input_shape: tuple, rng: np.random.Generator, dtype: np.dtype) -> None:
        """Make ``self.params`` / ``self.buffers``; layers without any keep this no-op."""

    def parameters(self) -> list[Parameter]:
        return list(self.params.values())

    def window(self) -> Window | None:
        """The window one output pixel reads (conv and pooling layers override this); None for
        a layer whose output pixel reads only the input pixel at its own place (activations,
        BatchNorm, Dropout) or that has no pixels (Dense, Flatten)."""
        if self.in_shape is None:
            raise RuntimeError(f"{type(self).__name__}.window() needs a built layer")
        if len(self.in_shape) == 3 and len(self.out_shape) == 3 \
                and self.out_shape[:2] != self.in_shape[:2]:
            raise TypeError(f"{type(self).__name__} changes the image size but does not say "
                            f"through which window; override Layer.window")
        return None

    def inputs_per_output(self) -> int | None:
        """How many input numbers one output number is computed from (its fan-in): conv
        ``kh*kw*C_in/groups``, dense ``D_in``; None for layers without weights."""
        return None

    # --- modes -------------------------------------------------------------------------------
    def train(self) -> "Layer":
        self.training = True
        return self

    def eval(self) -> "Layer":
        self.training = False
        return self

    # --- passes --------------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward_params_only(self, dy: np.ndarray) -> None:
        """Write the parameters' gradients without returning dx (for the first layer of a model,
        whose input nobody trains). Layers that can skip the dx work override this."""
        self.backward(dy)

    @property
    def last_cache(self):
        """What the last ``forward`` kept for ``backward`` (None before any forward), read-only:
        the tracer records it; :meth:`juanji.nn.sequential.Sequential.kept_state` puts it back."""
        return self._cache

    def restore_cache(self, cache) -> None:
        """Put back a cache read from :attr:`last_cache` (after a pass that was only looking)."""
        self._cache = cache

    def _need_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._cache

    # --- description -------------------------------------------------------------------------
    def hyperparameters(self) -> dict:
        """Constructor keyword arguments; subclasses override."""
        return {}

    def config(self) -> dict:
        """JSON-able description: ``{"type": ..., **constructor arguments}``."""
        return {"type": type(self).__name__, **jsonable(self.hyperparameters())}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


def layer_from_config(d: dict) -> Layer:
    """Rebuild an (unbuilt) layer from :meth:`Layer.config`.

    >>> from juanji.nn import Conv2D
    >>> layer = layer_from_config({"type": "Conv2D", "filters": 8, "kernel_size": [5, 5]})
    >>> layer.kernel_size, layer.output_shape((32, 32, 3))
    ((5, 5), (28, 28, 8))
    """
    if not isinstance(d, dict) or "type" not in d:
        raise ValueError(f"a layer config must be a dict with a 'type' key, got {d!r}")
    kwargs = dict(d)
    name = kwargs.pop("type")
    if name not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {name!r}; known types: {sorted(LAYER_TYPES)}")
    return LAYER_TYPES[name](**kwargs)
