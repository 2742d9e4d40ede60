"""Optimisers, learning-rate schedules and gradient clipping, with ``torch.optim``'s semantics.

An optimiser holds a list of :class:`~juanji.nn.parameter.Parameter` and, on ``step()``, updates
each ``p.data`` in place (the array object is never replaced, and keeps its float dtype) from
``p.grad``. Every update rule below is the one ``torch.optim`` implements, including where the
weight decay enters; the tests compare them step by step against torch.

Notation, per parameter ``p`` with gradient ``g`` at step ``t = 1, 2, ...``:
``lr`` learning rate, ``wd`` weight decay, ``mu`` momentum, ``*``/``/`` elementwise.

- :class:`SGD`:      ``g += wd*p``; ``buf = g`` (t = 1) or ``mu*buf + g``;
  ``d = g + mu*buf`` (nesterov) or ``buf`` (momentum) or ``g``; ``p -= lr*d``.
- :class:`RMSProp`:  ``g += wd*p``; ``s = alpha*s + (1-alpha)*g^2``; ``d = g / (sqrt(s) + eps)``;
  ``buf = mu*buf + d``; ``p -= lr*buf`` (``p -= lr*d`` without momentum).
- :class:`Adam`:     ``g += wd*p`` (L2); ``m = b1*m + (1-b1)*g``; ``v = b2*v + (1-b2)*g^2``;
  ``p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)``.
- :class:`AdamW`:    ``p *= 1 - lr*wd`` (decoupled), then Adam's step without the L2 term.

Schedules (``.step()`` once per epoch, closed form, setting ``optimizer.lr``):
:class:`StepLR` ``lr = base_lr * gamma^floor(epoch / step_size)``;
:class:`CosineLR` ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2``.

``state_dict()`` of either is ``{"scalars": {...JSON-able...}, "arrays": {name: ndarray}}`` so a
checkpoint stores the scalars in JSON and the arrays in an ``.npz`` read without pickle;
``load_state_dict`` checks everything before changing anything, and restores bit for bit.

>>> from juanji.nn.parameter import Parameter
>>> w = Parameter(np.zeros((3, 2)), "weight")
>>> opt = make_optimizer("adam", [w], lr=1e-3)
>>> w.grad[...] = 1.0
>>> opt.step()
>>> w.data.shape, sorted(opt.state_dict()["arrays"])
((3, 2), ['0.exp_avg', '0.exp_avg_sq'])
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from juanji.validation import check_int, check_real

from juanji.nn.parameter import Parameter

__all__ = [
    "OPTIMIZERS", "Optimizer", "SGD", "RMSProp", "Adam", "AdamW", "StepLR", "CosineLR",
    "clip_grad_norm", "make_optimizer",
]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
_FLOAT_DTYPES = (np.float32, np.float64)


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------

def _real(value, name: str) -> float:
    """``value`` as a finite Python float (bool refused: ``lr=True`` is a typo, not 1.0)."""
    return check_real(value, name)


def _non_negative(value, name: str) -> float:
    return check_real(value, name, 0)


def _unit_interval(value, name: str) -> float:
    """A decay rate in [0, 1): at 1 the running average would never move."""
    out = _real(value, name)
    if not 0 <= out < 1:
        raise ValueError(f"`{name}` must be in [0, 1), got {value!r}")
    return out


def _check_params(params, *, allow_empty: bool = False) -> list[Parameter]:
    """An iterable of distinct float Parameters -> a list (a generator is consumed once here)."""
    if isinstance(params, (Parameter, np.ndarray, dict, str)) or not isinstance(params, Iterable):
        raise TypeError(
            "`params` must be an iterable of juanji.nn.Parameter (e.g. model.parameters()), "
            f"got {type(params).__name__}"
        )
    params = list(params)
    if not params and not allow_empty:
        raise ValueError("`params` is empty: the optimiser needs at least one Parameter to update")
    seen: dict[int, int] = {}
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"`params[{i}]` must be a juanji.nn.Parameter, got {type(p).__name__}")
        if not isinstance(p.data, np.ndarray) or p.data.dtype.type not in _FLOAT_DTYPES:
            dtype = getattr(p.data, "dtype", type(p.data).__name__)
            raise TypeError(
                f"`params[{i}]` ({p.name!r}) must hold float32 or float64 data, got {dtype}"
            )
        if id(p) in seen:
            raise ValueError(
                f"`params[{i}]` ({p.name!r}) is the same Parameter as `params[{seen[id(p)]}]`; "
                "each may appear once, or it would be updated twice per step"
            )
        seen[id(p)] = i
    return params


def _grad_of(p: Parameter) -> np.ndarray:
    """``p.grad`` in ``p.data``'s dtype (no copy when it already is), shape checked."""
    g = p.grad
    if not isinstance(g, np.ndarray) or g.shape != p.data.shape:
        shape = getattr(g, "shape", type(g).__name__)
        raise ValueError(
            f"`{p.name}.grad` must be an array of its data's shape {p.data.shape}, got {shape}"
        )
    return g.astype(p.data.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Optimisers
# ---------------------------------------------------------------------------------------------

class Optimizer:
    """Base class: parameters, a settable ``lr``, a step count and per-parameter buffers.

    Subclasses define ``_check_hyper(**hyper) -> dict`` (validate and normalise the
    hyperparameters other than ``lr``), ``_buffer_names(hyper) -> tuple`` (the buffers every
    parameter has once a step was taken) and ``_update(p, g, state)`` (one parameter's step).
    Hyperparameters other than ``lr`` are fixed at construction (or by ``load_state_dict``).
    """

    def __init__(self, params, lr, **hyper):
        self.params = _check_params(params)
        self.lr = lr
        self._set_hyper(self._check_hyper(**hyper))
        self.step_count = 0
        # state[i] maps a buffer name ("exp_avg", ...) to an array shaped like params[i].data.
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _non_negative(value, "lr")

    # The per-class pieces -------------------------------------------------------------------
    @staticmethod
    def _check_hyper(**hyper) -> dict:
        raise NotImplementedError

    @staticmethod
    def _buffer_names(hyper: dict) -> tuple[str, ...]:
        raise NotImplementedError

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    # The shared loop ------------------------------------------------------------------------
    def _set_hyper(self, hyper: dict) -> None:
        self._hyper_names = tuple(hyper)
        for name, value in hyper.items():
            setattr(self, name, value)

    def _hyper(self) -> dict:
        """The hyperparameters other than ``lr``, JSON-able (tuples as lists)."""
        out = {}
        for name in self._hyper_names:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (in place)."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter once from its current gradient."""
        self.step_count += 1
        for p, state in zip(self.params, self.state):
            self._update(p.data, _grad_of(p), state)

    def first_non_finite_state(self) -> tuple[int, str] | None:
        """``(parameter index, buffer name)`` of the first buffer holding NaN or inf, e.g.
        ``(0, "exp_avg_sq")`` once Adam's squared gradients overflowed; None when all are finite.
        (An overflowed ``exp_avg_sq`` freezes its weights silently, ``m / inf = 0``.) One sum per
        buffer (NaN and inf survive it), the exact check only when a sum is not finite."""
        for i, state in enumerate(self.state):
            for name, buf in state.items():
                if not np.isfinite(buf.sum()) and not np.isfinite(buf).all():
                    return i, name
        return None

    def state_dict(self) -> dict:
        """``{"scalars": {type, num_params, step, lr, hyperparameters}, "arrays": {"i.buffer"}}``.

        The arrays are copies keyed by parameter index, e.g. ``"0.momentum_buffer"``.
        """
        scalars = {"type": type(self).__name__, "num_params": len(self.params),
                   "step": self.step_count, "lr": self.lr, **self._hyper()}
        arrays = {f"{i}.{name}": buf.copy()
                  for i, state in enumerate(self.state) for name, buf in state.items()}
        return {"scalars": scalars, "arrays": arrays}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` exactly; everything is checked before anything changes."""
        scalars, arrays = _split_state_dict(state_dict)
        _check_type(scalars, type(self).__name__)
        _check_keys(scalars, {"type", "num_params", "step", "lr", *self._hyper_names},
                    "state_dict['scalars']")
        if scalars["num_params"] != len(self.params):
            raise ValueError(
                f"`state_dict` holds {scalars['num_params']!r} parameters, "
                f"this optimiser has {len(self.params)}"
            )
        step = scalars["step"]
        check_int(step, "state_dict['scalars']['step']", minimum=0)
        lr = _non_negative(scalars["lr"], "lr")
        hyper = self._check_hyper(**{k: scalars[k] for k in self._hyper_names})
        names = self._buffer_names(hyper) if step > 0 else ()
        _check_keys(arrays, {f"{i}.{n}" for i in range(len(self.params)) for n in names},
                    "state_dict['arrays']")
        for key, arr in arrays.items():
            data = self.params[int(key.split(".")[0])].data
            # Same dtype, not just castable: a float64 buffer cast to float32 would not resume
            # bit for bit.
            if not (isinstance(arr, np.ndarray) and arr.shape == data.shape
                    and arr.dtype == data.dtype):
                got = (f"{arr.shape} {arr.dtype}" if isinstance(arr, np.ndarray)
                       else type(arr).__name__)
                raise ValueError(
                    f"`state_dict['arrays'][{key!r}]` must be an array of shape {data.shape} "
                    f"and dtype {data.dtype}, got {got}"
                )
        self.lr = lr
        self._set_hyper(hyper)
        self.step_count = int(step)
        self.state = [{n: arrays[f"{i}.{n}"].copy() for n in names}
                      for i in range(len(self.params))]

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper_names)
        return f"{type(self).__name__}({len(self.params)} params, lr={self.lr!r}, {hyper})"


def _split_state_dict(state_dict) -> tuple[dict, dict]:
    if not isinstance(state_dict, dict) or set(state_dict) != {"scalars", "arrays"}:
        got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
        raise TypeError(
            f"`state_dict` must be a dict with keys 'scalars' and 'arrays', got {got!r}"
        )
    scalars, arrays = state_dict["scalars"], state_dict["arrays"]
    if not isinstance(scalars, dict) or not isinstance(arrays, dict):
        raise TypeError("`state_dict['scalars']` and `state_dict['arrays']` must be dicts")
    return scalars, arrays


def _check_type(scalars: dict, name: str) -> None:
    """Checked before the keys: "saved by SGD" says more than a list of missing keys."""
    if "type" in scalars and scalars["type"] != name:
        raise ValueError(
            f"`state_dict` was saved by {scalars['type']!r}, cannot load it into {name}"
        )


def _check_keys(d: dict, expected: set, what: str) -> None:
    if set(d) != expected:
        missing, extra = sorted(expected - set(d)), sorted(set(d) - expected)
        raise ValueError(f"`{what}` keys do not match: missing {missing}, unexpected {extra}")


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum, as ``torch.optim.SGD``.

    Per step, for each parameter ``p`` with gradient ``g``::

        g   = g + wd * p                        (L2 penalty, when weight_decay > 0)
        buf = g                 at the first step, then  buf = mu * buf + g
        d   = g + mu * buf      (nesterov)  |  buf  (momentum)  |  g  (plain)
        p   = p - lr * d

    >>> from juanji.nn.parameter import Parameter
    >>> p = Parameter(np.array([1.0, -2.0]), "w")
    >>> p.grad[...] = [0.5, 0.5]
    >>> opt = SGD([p], lr=0.1)
    >>> opt.step()
    >>> p.data
    array([ 0.95, -2.05])
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr, momentum=momentum, nesterov=nesterov,
                         weight_decay=weight_decay)

    @staticmethod
    def _check_hyper(*, momentum, nesterov, weight_decay) -> dict:
        momentum = _non_negative(momentum, "momentum")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"`nesterov` must be a bool, got {nesterov!r}")
        if nesterov and momentum == 0:
            raise ValueError(
                f"`nesterov=True` needs `momentum` > 0, got momentum={momentum!r}"
            )
        return {"momentum": momentum, "nesterov": bool(nesterov),
                "weight_decay": _non_negative(weight_decay, "weight_decay")}

    @staticmethod
    def _buffer_names(hyper: dict) -> tuple[str, ...]:
        return ("momentum_buffer",) if hyper["momentum"] > 0 else ()

    def _update(self, p, g, state) -> None:
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:  # torch starts the buffer at the first gradient, not at zero
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += g
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class RMSProp(Optimizer):
    """RMSProp (Hinton's), as ``torch.optim.RMSprop`` (not centred, eps outside the root).

    Per step, with ``s`` and ``buf`` starting at zero::

        g   = g + wd * p                         (L2 penalty, when weight_decay > 0)
        s   = alpha * s + (1 - alpha) * g^2
        d   = g / (sqrt(s) + eps)
        buf = mu * buf + d;  p = p - lr * buf    (momentum > 0)
        p   = p - lr * d                         (momentum = 0)

    >>> from juanji.nn.parameter import Parameter
    >>> p = Parameter(np.zeros((2, 3), dtype=np.float32), "w")
    >>> p.grad[...] = 1.0
    >>> opt = RMSProp([p], lr=0.01, momentum=0.9)
    >>> opt.step()
    >>> p.data.dtype, opt.state_dict()["arrays"]["0.square_avg"].shape
    (dtype('float32'), (2, 3))
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr, alpha=alpha, eps=eps, momentum=momentum,
                         weight_decay=weight_decay)

    @staticmethod
    def _check_hyper(*, alpha, eps, momentum, weight_decay) -> dict:
        return {"alpha": _unit_interval(alpha, "alpha"), "eps": _non_negative(eps, "eps"),
                "momentum": _non_negative(momentum, "momentum"),
                "weight_decay": _non_negative(weight_decay, "weight_decay")}

    @staticmethod
    def _buffer_names(hyper: dict) -> tuple[str, ...]:
        return ("square_avg",) + (("momentum_buffer",) if hyper["momentum"] > 0 else ())

    def _update(self, p, g, state) -> None:
        if not state:
            state.update({n: np.zeros_like(p) for n in self._buffer_names(self._hyper())})
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        s = state["square_avg"]
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        avg = np.sqrt(s) + self.eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / avg
            p -= self.lr * buf
        else:
            p -= self.lr * (g / avg)


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (weight decay is L2 on the gradient).

    Per step ``t = 1, 2, ...``, with ``m`` and ``v`` starting at zero::

        g = g + wd * p                           (L2 penalty, when weight_decay > 0)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g^2
        p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    i.e. ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1^t)``,
    ``v_hat = v / (1 - b2^t)``; the grouping above is torch's, so the rounding matches.

    >>> from juanji.nn.parameter import Parameter
    >>> p = Parameter(np.zeros(4), "b")
    >>> p.grad[...] = [1.0, -1.0, 2.0, 0.0]
    >>> opt = Adam([p], lr=0.1)
    >>> opt.step()                # the first step moves by ~lr against the gradient's sign
    >>> np.round(p.data, 6)
    array([-0.1,  0.1, -0.1,  0. ])
    """

    _DECOUPLED = False  # AdamW: decay the weights directly instead of adding wd*p to g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay)

    @staticmethod
    def _check_hyper(*, betas, eps, weight_decay) -> dict:
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise TypeError(f"`betas` must be a pair (beta1, beta2), got {betas!r}")
        b1, b2 = (_real(b, "betas") for b in betas)
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"`betas` must both be in [0, 1), got {tuple(betas)!r}")
        return {"betas": (b1, b2), "eps": _non_negative(eps, "eps"),
                "weight_decay": _non_negative(weight_decay, "weight_decay")}

    @staticmethod
    def _buffer_names(hyper: dict) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def _update(self, p, g, state) -> None:
        if not state:
            state.update({n: np.zeros_like(p) for n in self._buffer_names(self._hyper())})
        b1, b2 = self.betas
        if self.weight_decay != 0:
            if self._DECOUPLED:
                p *= 1 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        t = self.step_count
        step_size = self.lr / (1 - b1 ** t)
        # The same operations in the same order as the formulas above (so the same bits), in one
        # scratch array instead of a temporary per operation.
        tmp = np.subtract(g, m)  # g - m
        tmp *= 1 - b1
        m += tmp  # = b1*m + (1-b1)*g, written as torch's lerp
        v *= b2
        np.multiply(g, 1 - b2, out=tmp)
        tmp *= g
        v += tmp  # + (1-b2) * g * g
        np.sqrt(v, out=tmp)
        tmp /= (1 - b2 ** t) ** 0.5
        tmp += self.eps  # denom
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        p -= tmp  # p -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    Per step the weights shrink first, then Adam's update runs on the plain gradient::

        p = p * (1 - lr * wd)
        m, v, p: as Adam with weight_decay = 0

    >>> from juanji.nn.parameter import Parameter
    >>> p = Parameter(np.ones(3), "w")      # zero gradient: only the decay acts
    >>> opt = AdamW([p], lr=0.1, weight_decay=0.5)
    >>> opt.step()
    >>> p.data
    array([0.95, 0.95, 0.95])
    """

    _DECOUPLED = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay)


def make_optimizer(name: str, params, lr, **kw) -> Optimizer:
    """Build an optimiser from its command-line name (one of :data:`OPTIMIZERS`).

    ``"sgd"`` is plain SGD; ``"momentum"`` and ``"nesterov"`` are SGD with ``momentum=0.9``
    unless ``momentum`` is given; the rest map to their classes. ``kw`` goes to the constructor.

    >>> from juanji.nn.parameter import Parameter
    >>> opt = make_optimizer("nesterov", [Parameter(np.zeros((2, 2)), "w")], lr=0.1)
    >>> type(opt).__name__, opt.momentum, opt.nesterov
    ('SGD', 0.9, True)
    """
    key = name.lower() if isinstance(name, str) else name
    if key == "sgd":
        return SGD(params, lr, **kw)
    elif key == "momentum":
        return SGD(params, lr, **{"momentum": 0.9, **kw})
    elif key == "nesterov":
        return SGD(params, lr, **{"momentum": 0.9, "nesterov": True, **kw})
    elif key == "rmsprop":
        return RMSProp(params, lr, **kw)
    elif key == "adam":
        return Adam(params, lr, **kw)
    elif key == "adamw":
        return AdamW(params, lr, **kw)
    else:
        raise ValueError(f"`name` must be one of {', '.join(OPTIMIZERS)}; got {name!r}")


# ---------------------------------------------------------------------------------------------
# Learning-rate schedules
# ---------------------------------------------------------------------------------------------

class _Schedule:
    """Base: remembers the optimiser's lr at construction as ``base_lr``; ``step()`` per epoch.

    ``last_epoch`` starts at 0 (lr = base_lr, as torch's schedulers after construction);
    each ``step()`` adds one and sets ``optimizer.lr = self.lr_at(last_epoch)``.
    """

    def __init__(self, optimizer: Optimizer, **hyper):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"`optimizer` must be a juanji.optim optimiser, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self._set_hyper(self._check_hyper(**hyper))
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    @staticmethod
    def _check_hyper(**hyper) -> dict:
        raise NotImplementedError

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def _set_hyper(self, hyper: dict) -> None:
        self._hyper_names = tuple(hyper)
        for name, value in hyper.items():
            setattr(self, name, value)

    def step(self) -> None:
        """Advance one epoch and set the optimiser's learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def state_dict(self) -> dict:
        """``{"scalars": {type, last_epoch, base_lr, hyperparameters}, "arrays": {}}``."""
        hyper = {k: getattr(self, k) for k in self._hyper_names}
        return {"scalars": {"type": type(self).__name__, "last_epoch": self.last_epoch,
                            "base_lr": self.base_lr, **hyper},
                "arrays": {}}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` (the optimiser's own state dict carries its current lr)."""
        scalars, arrays = _split_state_dict(state_dict)
        _check_type(scalars, type(self).__name__)
        _check_keys(scalars, {"type", "last_epoch", "base_lr", *self._hyper_names},
                    "state_dict['scalars']")
        _check_keys(arrays, set(), "state_dict['arrays']")
        epoch = scalars["last_epoch"]
        check_int(epoch, "state_dict['scalars']['last_epoch']", minimum=0)
        base_lr = _non_negative(scalars["base_lr"], "base_lr")
        hyper = self._check_hyper(**{k: scalars[k] for k in self._hyper_names})
        self._set_hyper(hyper)
        self.base_lr, self.last_epoch = base_lr, int(epoch)


class StepLR(_Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (torch's StepLR).

        lr(epoch) = base_lr * gamma ** floor(epoch / step_size)

    >>> from juanji.nn.parameter import Parameter
    >>> opt = SGD([Parameter(np.zeros(2), "w")], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     sched.step()
    ...     lrs.append(opt.lr)
    >>> lrs
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    @staticmethod
    def _check_hyper(*, step_size, gamma) -> dict:
        gamma_ = _real(gamma, "gamma")
        if gamma_ <= 0:
            raise ValueError(f"`gamma` must be > 0, got {gamma!r}")
        return {"step_size": check_int(step_size, "step_size"), "gamma": gamma_}

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineLR(_Schedule):
    """Cosine annealing from ``base_lr`` down to ``eta_min`` over ``t_max`` epochs.

    The closed form of torch's CosineAnnealingLR (it rises again after ``t_max``, periodically)::

        lr(epoch) = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2

    >>> from juanji.nn.parameter import Parameter
    >>> opt = SGD([Parameter(np.zeros(2), "w")], lr=1.0)
    >>> sched = CosineLR(opt, t_max=2)
    >>> sched.step(); round(opt.lr, 12)
    0.5
    >>> sched.step(); round(opt.lr, 12)
    0.0
    """

    def __init__(self, optimizer: Optimizer, t_max: int, eta_min: float = 0.0):
        super().__init__(optimizer, t_max=t_max, eta_min=eta_min)

    @staticmethod
    def _check_hyper(*, t_max, eta_min) -> dict:
        return {"t_max": check_int(t_max, "t_max"),
                "eta_min": _non_negative(eta_min, "eta_min")}

    def lr_at(self, epoch: int) -> float:
        cos = math.cos(math.pi * epoch / self.t_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + cos) / 2


# ---------------------------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------------------------

def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``::

        total = sqrt(sum over parameters of ||g||^2)
        g     = g * min(max_norm / (total + 1e-6), 1)      (in place, every parameter)

    Returns ``total``, the norm *before* clipping. ``params`` may be one Parameter or an
    iterable of them (empty: returns 0.0). A non-finite total is returned as is and, like
    torch, scales the gradients by NaN/0 rather than raising.

    >>> from juanji.nn.parameter import Parameter
    >>> a, b = Parameter(np.zeros(1), "a"), Parameter(np.zeros(1), "b")
    >>> a.grad[...], b.grad[...] = 3.0, 4.0
    >>> clip_grad_norm([a, b], max_norm=1.0)
    5.0
    >>> np.round([a.grad[0], b.grad[0]], 6)
    array([0.6, 0.8])
    """
    params = _check_params([params] if isinstance(params, Parameter) else params,
                           allow_empty=True)
    max_norm = _real(max_norm, "max_norm")
    if max_norm <= 0:
        raise ValueError(f"`max_norm` must be > 0, got {max_norm!r}")
    if not params:
        return 0.0
    grads = [_grad_of(p) for p in params]
    norms = np.array([np.linalg.norm(g.reshape(-1)) for g in grads])  # (P,) per-parameter norms
    total = float(np.linalg.norm(norms))
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # also true for NaN, which torch propagates into the gradients
        for p in params:
            p.grad *= coef
    return total
