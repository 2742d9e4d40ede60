"""Sequential: a stack of layers built in order, each inferring its input size from the last::

    x (N, *input_shape) -> layer 0 -> layer 1 -> ... -> logits (N, K)

Backward runs the layers in reverse, each writing its parameters' gradients. Parameters and
buffers are named ``"<layer index>.<name>"`` (``"0.weight"``, ``"4.running_mean"``) in
``named_parameters()`` and ``state_dict()``.

One reordering, exact: a ReLU followed by a max pool runs as the pool then the ReLU, on the
pooled map (kh*kw times fewer values). ``maxpool(relu(x)) == relu(maxpool(x))`` because both are
monotone, and the gradients agree too: where a window's max is positive both send dy to its
first maximum, where it is not both send nothing (a NaN wins the pool either way and passes the
ReLU). LeNet-5's first ReLU then handles 75k values instead of 301k.
"""

from __future__ import annotations

import numpy as np

import contextlib

from . import head

from juanji.validation import check_int

from .base import Layer, layer_from_config
from .parameter import Parameter

DTYPES = {"float32": np.float32, "float64": np.float64}


def nchw_hint(shape: tuple, input_shape: tuple) -> str:
    """A hint when ``shape`` is the channels-first (N, C, H, W) of an (H, W, C) ``input_shape``.

    >>> nchw_hint((5, 1, 8, 8), (8, 8, 1))
    '; it looks channels-first (N, C, H, W): juanji takes (N, H, W, C), pass x.transpose(0, 2, 3, 1)'
    """
    if len(input_shape) == 3 and len(shape) == 4:
        h, w, c = input_shape
        if tuple(shape[1:]) == (c, h, w):
            return ("; it looks channels-first (N, C, H, W): juanji takes (N, H, W, C), pass "
                    "x.transpose(0, 2, 3, 1)")
    return ""


class LayerShapeError(ValueError):
    """A layer cannot take the shape the previous layer gives it (names the layer and shape)."""


class Sequential:
    """Layers applied one after another.

    Args:
        layers: unbuilt :class:`~juanji.nn.base.Layer` instances.
        input_shape: one example's shape, no batch axis, e.g. ``(28, 28, 1)``.
        seed: seeds the Generator that initialises every layer (and seeds Dropout's own).
        dtype: float32 (default) or float64 parameters; inputs are cast to it.

    Shape:
        - Input: ``(N, *input_shape)``, e.g. ``(N, 28, 28, 1)`` (NHWC images).
        - Output: ``(N, *output_shape)``, the last layer's, e.g. logits ``(N, K)``; each layer's
          shape is printed by :func:`juanji.nn.summary`.

    >>> from juanji.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU
    >>> model = Sequential([Conv2D(8, 5), ReLU(), MaxPool2D(2), Flatten(), Dense(10)], (32, 32, 3))
    >>> model.output_shape
    (10,)
    >>> model.forward(np.zeros((2, 32, 32, 3), dtype=np.float32)).shape
    (2, 10)
    """

    def __init__(self, layers, input_shape, *, seed=0, dtype=np.float32):
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"`layers[{i}]` must be a juanji.nn Layer, got {layer!r}")
        if not layers:
            raise ValueError("`layers` must hold at least one layer, got []")
        if not (isinstance(input_shape, (tuple, list)) and input_shape
                and all(isinstance(v, (int, np.integer)) and v >= 1 for v in input_shape)):
            raise ValueError(
                f"`input_shape` must be a non-empty tuple of positive ints such as (28, 28, 1), "
                f"got {input_shape!r}"
            )
        if np.dtype(dtype).type not in (np.float32, np.float64):
            raise TypeError(f"`dtype` must be float32 or float64, got {np.dtype(dtype)}")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"`seed` must be a non-negative int, got {seed!r}")
        self.layers = layers
        self.input_shape = tuple(int(v) for v in input_shape)
        self.seed = int(seed)
        self.dtype = np.dtype(dtype)
        self.training = True

        rng = np.random.default_rng(self.seed)
        shape = self.input_shape
        for i, layer in enumerate(layers):
            try:
                shape = layer.build(shape, rng, self.dtype)
            except (ValueError, TypeError) as err:
                raise LayerShapeError(
                    f"layer {i} ({type(layer).__name__}) cannot take input shape {shape}: {err}"
                ) from err
        self.output_shape = shape
        self._order = _run_order(layers)

    # --- passes ------------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` ``(N, *input_shape)`` float -> the last layer's output ``(N, *output_shape)``."""
        if not isinstance(x, np.ndarray):
            raise TypeError(f"`x` must be a numpy.ndarray, got {type(x).__name__}")
        if x.dtype.kind != "f":
            raise TypeError(f"`x` must be a float array, got dtype {x.dtype}; scale it to floats")
        if x.ndim != len(self.input_shape) + 1 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"`x` must have shape (N, {', '.join(map(str, self.input_shape))}) for this model "
                f"(input_shape {self.input_shape}), got {x.shape}{nchw_hint(x.shape, self.input_shape)}"
            )
        x = x.astype(self.dtype, copy=False)
        for i in self._order:
            x = self.layers[i].forward(x)
        return x

    __call__ = forward

    def backward(self, dy: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """d(loss)/d(output) -> d(loss)/d(input); overwrites every layer's ``Parameter.grad``.

        ``input_grad=False`` (training) skips d(loss)/d(input), which nobody trains, and returns
        None: the first layer then computes its parameters' gradients only (a first conv saves
        its whole dx scatter, as PyTorch does for an input that does not require grad).
        """
        for i in reversed(self._order[1:]):
            dy = self.layers[i].backward(dy)
        if input_grad:
            return self.layers[0].backward(dy)
        self.layers[0].backward_params_only(dy)
        return None

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class probabilities in eval mode, ``batch_size`` examples at a time.

        Returns softmax(logits) (N, K); for a one-unit output, sigmoid(logit) (N, 1), the
        probability of class 1. The train/eval mode is restored afterwards.
        """
        batch_size = check_int(batch_size, "batch_size")
        if len(self.output_shape) != 1:
            raise ValueError(
                f"predict needs a flat (K,) output, this model gives {self.output_shape}"
            )
        outs = []
        with self.kept_state(grads=False, caches=False):
            for start in range(0, len(x), batch_size):
                logits = self.forward(x[start:start + batch_size])  # (B, K) or (B, 1)
                outs.append(head.probabilities(logits))
        if not outs:
            return np.zeros((0, self.output_shape[0]), dtype=self.dtype)
        return np.concatenate(outs, axis=0)  # (N, K)

    # --- the head ----------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """K, the classes this model tells apart: its output width, or 2 for one (sigmoid) logit
        (:mod:`juanji.nn.head`)."""
        return head.num_classes(self.output_shape[0])

    # --- modes -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def kept_state(self, *, mode: str = "eval", grads: bool = True, caches: bool = True):
        """Run the body in ``mode`` ("eval" or "train"), then put back what it changed: the
        train/eval mode of the model and of every layer, every ``Parameter.grad`` (when
        ``grads``) and every layer's cache (when ``caches``).

        For passes that only look (evaluation, prediction, tracing, saliency)::

            with model.kept_state():
                logits = model.forward(x)
        """
        if mode not in ("eval", "train"):
            raise ValueError(f"`mode` must be 'eval' or 'train', got {mode!r}")
        modes = (self.training, [layer.training for layer in self.layers])
        saved_grads = [p.grad.copy() for p in self.parameters()] if grads else None
        saved_caches = [layer.last_cache for layer in self.layers] if caches else None
        self.eval() if mode == "eval" else self.train()
        try:
            yield self
        finally:
            if saved_grads is not None:
                for p, g in zip(self.parameters(), saved_grads):
                    p.grad[...] = g
            if saved_caches is not None:
                for layer, cache in zip(self.layers, saved_caches):
                    layer.restore_cache(cache)
            for layer, was in zip(self.layers, modes[1]):
                layer.training = was
            self.training = modes[0]

    def train(self) -> "Sequential":
        self.training = True
        for layer in self.layers:
            layer.train()
        return self

    def eval(self) -> "Sequential":
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    # --- parameters and state ----------------------------------------------------------------
    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [(f"{i}.{name}", p) for i, layer in enumerate(self.layers)
                for name, p in layer.params.items()]

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        return [(f"{i}.{name}", b) for i, layer in enumerate(self.layers)
                for name, b in layer.buffers.items()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    @property
    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed ``"<index>.<name>"``.

        **Keys like PyTorch's, layouts juanji's.** The keys follow ``nn.Sequential``'s
        (``"0.weight"``, ``"0.bias"``, ``"3.running_mean"``; BatchNorm's ``gamma``/``beta``
        where PyTorch says ``weight``/``bias``), but the arrays are channels-last:

        - Conv2D ``weight`` ``(kh, kw, C_in // groups, C_out)`` (PyTorch:
          ``(C_out, C_in // groups, kh, kw)``);
        - Dense ``weight`` ``(D_in, D_out)``, ``y = x @ W + b`` (PyTorch: ``(D_out, D_in)``);
        - the first Dense after a Flatten reads its input in ``(H, W, C)`` order (PyTorch
          flattens ``(C, H, W)``), so its rows are in another order too: transposing each
          array alone loads into PyTorch without error and gives wrong outputs.

        Convert with `juanji.interop`: ``to_torch(model)`` / ``from_torch(module, input_shape)``,
        ``load_torch_state_dict(model, torch_state_dict)``, ``to_onnx`` / ``from_onnx``.

        >>> from juanji.nn import Conv2D, Dense, Flatten
        >>> m = Sequential([Conv2D(4, 3), Flatten(), Dense(2)], (5, 5, 1))
        >>> {k: v.shape for k, v in m.state_dict().items()}
        {'0.weight': (3, 3, 1, 4), '0.bias': (4,), '2.weight': (36, 2), '2.bias': (2,)}
        """
        state = {k: p.data.copy() for k, p in self.named_parameters()}
        state.update({k: b.copy() for k, b in self.named_buffers()})
        return state

    def load_state_dict(self, state: dict) -> None:
        """Copy arrays into the parameters and buffers in place (optimisers keep their references).

        Every key must match, and every shape; nothing is changed when one does not. The arrays
        are in juanji's layouts (see :meth:`state_dict`); a PyTorch ``state_dict()`` goes in
        through ``juanji.interop.load_torch_state_dict(model, sd)``, which converts them.
        """
        targets = {k: p.data for k, p in self.named_parameters()}
        targets.update(dict(self.named_buffers()))
        missing = sorted(set(targets) - set(state))
        unexpected = sorted(set(state) - set(targets))
        if missing or unexpected:
            raise ValueError(
                f"state_dict keys do not match the model: missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
        for key, target in targets.items():
            value = np.asarray(state[key])
            if value.shape != target.shape:
                raise ValueError(
                    f"state_dict[{key!r}] has shape {value.shape} but the model's {key!r} has "
                    f"shape {target.shape}"
                )
        for key, target in targets.items():
            target[...] = state[key]

    def rng_state(self) -> dict[str, dict]:
        """The JSON-able state of every layer's own Generator (Dropout), keyed by layer index."""
        return {str(i): layer.rng.bit_generator.state for i, layer in enumerate(self.layers)
                if getattr(layer, "rng", None) is not None}

    def set_rng_state(self, states: dict) -> None:
        """Restore what :meth:`rng_state` returned."""
        for key, state in states.items():
            layer = self.layers[int(key)]
            if getattr(layer, "rng", None) is None:
                raise ValueError(f"layer {key} ({type(layer).__name__}) has no random generator")
            layer.rng.bit_generator.state = state

    # --- architecture ------------------------------------------------------------------------
    def config(self) -> dict:
        """JSON-able architecture: input shape, seed, dtype and each layer's config."""
        return {"input_shape": list(self.input_shape), "seed": self.seed,
                "dtype": self.dtype.name, "layers": [layer.config() for layer in self.layers]}

    @classmethod
    def from_config(cls, d: dict, *, max_values: int | None = None) -> "Sequential":
        """Rebuild (with fresh initial weights from the saved seed) what :meth:`config` returned.

        ``max_values``: refuse, before allocating anything, an architecture whose layers would
        create more numbers than this (a checkpoint passes how many it stores: a few changed
        characters of its JSON, e.g. a padding of 30000, must not allocate gigabytes).
        """
        for key in ("input_shape", "layers"):
            if key not in d:
                raise ValueError(f"a Sequential config needs the key {key!r}, got keys {sorted(d)}")
        dtype = d.get("dtype", "float32")
        if dtype not in DTYPES:
            raise ValueError(f"config `dtype` must be one of {sorted(DTYPES)}, got {dtype!r}")
        layers = [layer_from_config(c) for c in d["layers"]]
        if max_values is not None:
            _check_size(layers, d["input_shape"], max_values)
        return cls(layers, tuple(d["input_shape"]), seed=d.get("seed", 0), dtype=DTYPES[dtype])

    def __repr__(self) -> str:
        body = "".join(f"\n  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(input_shape={self.input_shape},{body}\n)"


def _check_size(layers, input_shape, max_values: int) -> None:
    """Refuse layers that would create more than ``max_values`` numbers for ``input_shape``."""
    shape, total = tuple(int(v) for v in input_shape), 0
    for i, layer in enumerate(layers):
        total += layer.values_created(shape)
        if total > max_values:
            raise ValueError(f"its layers would create at least {total:,} parameter values (layer "
                             f"{i}, {type(layer).__name__}, on input {shape}), more than the "
                             f"{max_values:,} allowed")
        shape = tuple(layer.output_shape(shape))


def _run_order(layers) -> list[int]:
    """The order forward runs the layers in: each ReLU directly followed by a MaxPool2D swaps
    places with it (see the module docstring); the first layer always runs first.

    >>> from juanji.nn import Conv2D, Flatten, MaxPool2D, ReLU
    >>> _run_order([Conv2D(6, 5), ReLU(), MaxPool2D(2), Conv2D(16, 5), ReLU(), MaxPool2D(2),
    ...             Flatten()])
    [0, 2, 1, 3, 5, 4, 6]
    """
    from .activations import ReLU
    from .pooling import MaxPool2D

    order = list(range(len(layers)))
    i = 1
    while i < len(layers) - 1:
        if type(layers[i]) is ReLU and type(layers[i + 1]) is MaxPool2D:
            order[i], order[i + 1] = i + 1, i
            i += 2
        else:
            i += 1
    return order
