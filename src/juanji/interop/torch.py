"""juanji <-> PyTorch: ``to_torch``, ``from_torch``, ``load_torch_state_dict``; files:
``save_torch_program`` / ``load_torch_program`` (a ``torch.export`` ``.pt2`` file, which PyTorch
runs without juanji) and ``from_torchscript`` (TorchScript files written elsewhere).

>>> from juanji.models import build_model
>>> import torch
>>> model = build_model("digits", (8, 8, 1), 10)
>>> tm = to_torch(model)                                 # takes (N, 1, 8, 8)
>>> tuple(tm(torch.zeros(2, 1, 8, 8)).shape)
(2, 10)
>>> back = from_torch(tm, (8, 8, 1))
>>> all((back.state_dict()[k] == v).all() for k, v in model.state_dict().items())
True
"""

from __future__ import annotations

import numpy as np

from juanji.nn import (AvgPool2D, BatchNorm2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D,
                       LeakyReLU, MaxPool2D, ReLU, Sequential, Sigmoid, Tanh)

from ._layout import (conv_padding, dense_row_perms, kernel_from_framework, kernel_to_framework,
                      layer_input_shapes, pool_padding)


def _symmetric(pad) -> tuple[int, int] | None:
    """(ph, pw) when ((t, b), (l, r)) has t == b and l == r, else None."""
    (t, b), (l, r) = pad
    return (t, l) if t == b and l == r else None


def _tensor(a: np.ndarray):
    import torch
    return torch.from_numpy(np.ascontiguousarray(a))


def to_torch(model: Sequential):
    """A ``torch.nn.Sequential`` computing ``model`` on (N, C, H, W) input, same dtype.

    Weights are copied (kernels -> (C_out, C_in/g, kh, kw), dense -> (D_out, D_in); the first
    Dense after a Flatten gets its input rows permuted to (C, H, W) order, see
    :mod:`juanji.interop`). The result is in the same train/eval mode as ``model``. Only torch's
    own modules are used, so ``torch.save(m.state_dict())`` loads without juanji.
    """
    import torch
    from torch import nn

    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a juanji Sequential, got {type(model).__name__}")
    perms, shapes = dense_row_perms(model), layer_input_shapes(model)
    dt = torch.float64 if model.dtype == np.float64 else torch.float32
    mods = []
    for i, (layer, shape) in enumerate(zip(model.layers, shapes)):
        if isinstance(layer, Conv2D):
            pad = conv_padding(layer, shape)
            sym = _symmetric(pad)
            if sym is None:
                (t, b), (l, r) = pad
                mods.append(nn.ZeroPad2d((l, r, t, b)))
                sym = (0, 0)
            conv = nn.Conv2d(shape[2], layer.filters, layer.kernel_size, stride=layer.stride,
                             padding=sym, dilation=layer.dilation, groups=layer.groups,
                             bias=layer.use_bias, dtype=dt)
            with torch.no_grad():
                conv.weight.copy_(_tensor(kernel_to_framework(layer.params["weight"].data)))  # (Co, Ci/g, kh, kw)
                if layer.use_bias:
                    conv.bias.copy_(_tensor(layer.params["bias"].data))
            mods.append(conv)
        elif isinstance(layer, (MaxPool2D, AvgPool2D)):
            pad = pool_padding(layer, shape)
            sym = _symmetric(pad)
            is_max = isinstance(layer, MaxPool2D)
            if sym is None:
                if layer.ceil_mode or not (is_max or layer.count_include_pad):
                    raise ValueError(f"layer {i} ({type(layer).__name__}): asymmetric padding "
                                     f"{pad} with ceil_mode or count_include_pad=False has no "
                                     f"PyTorch equivalent")
                (t, b), (l, r) = pad
                mods.append(nn.ConstantPad2d((l, r, t, b), float("-inf") if is_max else 0.0))
                sym = (0, 0)
            if is_max:
                mods.append(nn.MaxPool2d(layer.kernel_size, layer.stride, sym,
                                         ceil_mode=layer.ceil_mode))
            else:
                mods.append(nn.AvgPool2d(layer.kernel_size, layer.stride, sym,
                                         ceil_mode=layer.ceil_mode,
                                         count_include_pad=layer.count_include_pad))
        elif isinstance(layer, GlobalAvgPool2D):
            mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif isinstance(layer, Flatten):
            mods.append(nn.Flatten())
        elif isinstance(layer, Dense):
            w = layer.params["weight"].data  # (D_in, D_out)
            if i in perms:
                w = w[perms[i]]  # rows in (C, H, W) order
            lin = nn.Linear(w.shape[0], w.shape[1], bias=layer.use_bias, dtype=dt)
            with torch.no_grad():
                lin.weight.copy_(_tensor(w.T))  # (D_out, D_in)
                if layer.use_bias:
                    lin.bias.copy_(_tensor(layer.params["bias"].data))
            mods.append(lin)
        elif isinstance(layer, BatchNorm2D):
            bn = nn.BatchNorm2d(shape[2], eps=layer.eps, momentum=layer.momentum, dtype=dt)
            with torch.no_grad():
                bn.weight.copy_(_tensor(layer.params["gamma"].data))
                bn.bias.copy_(_tensor(layer.params["beta"].data))
                bn.running_mean.copy_(_tensor(layer.buffers["running_mean"]))
                bn.running_var.copy_(_tensor(layer.buffers["running_var"]))
            mods.append(bn)
        elif isinstance(layer, ReLU):
            mods.append(nn.ReLU())
        elif isinstance(layer, LeakyReLU):
            mods.append(nn.LeakyReLU(layer.negative_slope))
        elif isinstance(layer, Sigmoid):
            mods.append(nn.Sigmoid())
        elif isinstance(layer, Tanh):
            mods.append(nn.Tanh())
        elif isinstance(layer, Dropout):
            mods.append(nn.Dropout(layer.p))
        else:
            raise ValueError(f"layer {i} ({type(layer).__name__}) has no PyTorch export")
    out = nn.Sequential(*mods)
    out.train(model.training)
    return out


METADATA_FILE = "juanji.json"  # the archive's extra file holding juanji's metadata (JSON)


def save_torch_program(model: Sequential, path, *, metadata: dict | None = None) -> None:
    """Write ``to_torch(model)`` in eval mode as a ``torch.export`` program (a ``.pt2`` file) at
    ``path``, atomically; the batch size is free, the input (N, C, H, W) in the model's dtype.

    PyTorch alone runs it: ``torch.export.load(path).module()(x)`` (no juanji, no pickled Python
    classes: the graph is stored as JSON, the weights as raw tensors). ``metadata`` (JSON-able)
    is written as the extra file ``juanji.json`` together with ``model.config()`` under
    ``"architecture"``, which :func:`load_torch_program` rebuilds the model from.
    """
    import io
    import json

    import torch

    from juanji._atomic import atomic_write_bytes

    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a juanji Sequential, got {type(model).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"`metadata` must be a dict, got {type(metadata).__name__}")
    net = to_torch(model).eval()
    dt = torch.float64 if model.dtype == np.float64 else torch.float32
    h, w, c = model.input_shape
    example = (torch.zeros(2, c, h, w, dtype=dt),)
    program = torch.export.export(net, example,
                                  dynamic_shapes=({0: torch.export.Dim("N", min=1)},))
    text = json.dumps({**(metadata or {}), "architecture": model.config()})
    buffer = io.BytesIO()
    torch.export.save(program, buffer, extra_files={METADATA_FILE: text})
    atomic_write_bytes(path, buffer.getvalue())


def load_torch_program(path) -> tuple[Sequential, dict]:
    """``(model, metadata)`` from a ``.pt2`` file written by :func:`save_torch_program`: the
    model rebuilt from the stored architecture with the program's weights (exact).

    A ``torch.export`` program from elsewhere holds no layer list juanji can read back; export
    it to ONNX (``torch.onnx.export``) or save its ``state_dict()`` instead.
    """
    import json

    import torch

    extra = {METADATA_FILE: ""}
    try:
        program = torch.export.load(str(path), extra_files=extra)
    except Exception as e:  # noqa: BLE001 - torch raises many types for a bad archive
        raise ValueError(f"{str(path)!r} is not a torch.export program "
                         f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
                         ) from None
    try:
        meta = json.loads(extra[METADATA_FILE] or "null")
        config = meta["architecture"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{str(path)!r} is a torch.export program without juanji's "
                         f"architecture (not written by `juanji export`); export the network "
                         f"to ONNX with torch.onnx.export, or save its state_dict() and give "
                         f"the architecture, and import that") from None
    state = dict(program.state_dict)
    stored = sum(v.numel() for v in state.values())
    try:  # refuse, before building, an architecture far larger than the weights stored
        model = Sequential.from_config(config, max_values=stored + (1 << 20))
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{str(path)!r}: cannot rebuild the stored architecture: {e}") from None
    load_torch_state_dict(model, state)
    return model.eval(), meta


# original_name of a scripted torch.nn module -> how to rebuild the plain module from it
_SCRIPTED = {
    "Conv2d": lambda m, nn: nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride,
                                      m.padding, m.dilation, m.groups, m.bias is not None,
                                      m.padding_mode),
    "ZeroPad2d": lambda m, nn: nn.ZeroPad2d(m.padding),
    "ConstantPad2d": lambda m, nn: nn.ConstantPad2d(m.padding, m.value),
    "MaxPool2d": lambda m, nn: nn.MaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation,
                                            m.return_indices, m.ceil_mode),
    "AvgPool2d": lambda m, nn: nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                            m.count_include_pad, m.divisor_override),
    "AdaptiveAvgPool2d": lambda m, nn: nn.AdaptiveAvgPool2d(m.output_size),
    "Flatten": lambda m, nn: nn.Flatten(m.start_dim, m.end_dim),
    "Linear": lambda m, nn: nn.Linear(m.in_features, m.out_features, m.bias is not None),
    "BatchNorm2d": lambda m, nn: nn.BatchNorm2d(m.num_features, m.eps, m.momentum, m.affine,
                                                m.track_running_stats),
    "ReLU": lambda m, nn: nn.ReLU(),
    "LeakyReLU": lambda m, nn: nn.LeakyReLU(m.negative_slope),
    "Sigmoid": lambda m, nn: nn.Sigmoid(),
    "Tanh": lambda m, nn: nn.Tanh(),
    "Dropout": lambda m, nn: nn.Dropout(m.p),
    "Identity": lambda m, nn: nn.Identity(),
}


def _unscript(module, where="module"):
    """A plain ``torch.nn`` module rebuilt from a loaded TorchScript one (Sequential containers
    and the layers :func:`from_torch` supports), its state copied; anything else is refused by
    name. Only attributes and tensors are read: no TorchScript code is run."""
    import torch
    from torch import nn

    name = getattr(module, "original_name", type(module).__name__)
    if name == "Sequential":
        return nn.Sequential(*[_unscript(child, f"{where} {key}" if where == "module" else f"{where}.{key}")
                               for key, child in module.named_children()])
    if name not in _SCRIPTED:
        raise ValueError(f"{where} ({name}) has no juanji counterpart; supported: "
                         f"{', '.join(_SCRIPTED)} inside Sequential")
    plain = _SCRIPTED[name](module, nn)
    state = {k: v for k, v in module.state_dict().items()}
    if state:
        floats = [v for v in state.values() if v.is_floating_point()]
        if floats:
            plain = plain.to(floats[0].dtype)
        plain.load_state_dict(state)
    plain.train(module.training)
    return plain


def from_torchscript(path, input_shape=None) -> tuple[Sequential, str | None]:
    """``(model, metadata)`` from a TorchScript file (``torch.jit.save``) of an ``nn.Sequential``
    of the layers :func:`from_torch` supports; ``metadata`` is its ``juanji.json`` extra file
    (None when absent). ``input_shape`` (H, W, C) is needed unless the metadata gives it.
    """
    import json

    import torch

    import warnings

    extra = {METADATA_FILE: ""}
    try:
        with warnings.catch_warnings():  # torch.jit is deprecated; reading old files is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            scripted = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except RuntimeError as e:
        raise ValueError(f"{str(path)!r} is not a TorchScript file ({str(e).splitlines()[0]}); "
                         f"save the model with torch.jit.save(torch.jit.script(model), path)"
                         ) from None
    metadata = extra[METADATA_FILE] or None
    if isinstance(metadata, bytes):
        metadata = metadata.decode("utf-8")
    if input_shape is None and metadata:
        try:
            input_shape = tuple(json.loads(metadata)["input_shape"])
        except (ValueError, KeyError, TypeError):
            input_shape = None
    if input_shape is None:
        raise ValueError(f"{str(path)!r} does not say its input shape; give `input_shape` "
                         f"(H, W, C)")
    return from_torch(_unscript(scripted), input_shape), metadata


def _flat_modules(module):
    from torch import nn
    if isinstance(module, nn.Sequential):
        return [m for child in module for m in _flat_modules(child)]
    return [module]


def _torch_padding(conv) -> object:
    """A Conv2d's padding as juanji's argument: explicit ((t, b), (l, r)) for torch's 'same'."""
    if conv.padding == "valid":
        return 0
    if conv.padding == "same":
        pads = []
        for k, d in zip(conv.kernel_size, conv.dilation):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    return tuple(conv.padding)


def _merge_pad(own, pending, name):
    """A pad module's ((t, b), (l, r)) taken into the next layer's own (zero) padding."""
    if pending is None:
        return own, None
    if own not in (0, (0, 0)):
        raise ValueError(f"{name}: a pad module before a layer with its own padding {own} is "
                         f"not supported")
    return pending[0], None


def from_torch(module, input_shape) -> Sequential:
    """A juanji Sequential for a PyTorch ``nn.Sequential`` (nested ones are flattened) taking
    ``input_shape`` = (H, W, C); parameters and BatchNorm running statistics are copied, in the
    dtype of the torch parameters (float32 or float64), the train/eval mode too.

    Supported: Conv2d (zero padding mode), ZeroPad2d / ConstantPad2d right before the layer whose
    padding it stands for (0 before Conv2d or AvgPool2d, -inf before MaxPool2d, as
    :func:`to_torch` writes asymmetric padding), MaxPool2d, AvgPool2d,
    AdaptiveAvgPool2d(1), Flatten, Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Dropout, BatchNorm2d,
    Identity. Any other module raises a ValueError naming it.
    """
    import torch
    from torch import nn

    if not isinstance(module, nn.Module):
        raise TypeError(f"`module` must be a torch.nn.Module, got {type(module).__name__}")
    if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3):
        raise ValueError(f"`input_shape` must be (H, W, C), got {input_shape!r}")
    mods = _flat_modules(module)
    params = [p for p in module.parameters()] + [b for b in module.buffers() if b.is_floating_point()]
    dtype = np.float64 if params and params[0].dtype == torch.float64 else np.float32
    layers, sources, pending_pad = [], [], None
    for idx, m in enumerate(mods):
        name = f"module {idx} ({type(m).__name__})"
        if pending_pad is not None:
            pad_value = pending_pad[1]
            fits = (isinstance(m, nn.Conv2d) and pad_value == 0.0
                    or isinstance(m, nn.MaxPool2d) and pad_value == float("-inf")
                    or isinstance(m, nn.AvgPool2d) and pad_value == 0.0 and m.count_include_pad)
            if not fits:
                raise ValueError(f"{name}: a pad of {pad_value} is supported only right before "
                                 f"a Conv2d (0), a MaxPool2d (-inf) or an AvgPool2d (0, "
                                 f"count_include_pad=True)")
        if isinstance(m, (nn.ZeroPad2d, nn.ConstantPad2d)):
            l, r, t, b = m.padding
            pending_pad = (((t, b), (l, r)), float(m.value))
            continue
        if isinstance(m, nn.Identity):
            continue
        if isinstance(m, nn.Conv2d):
            if m.padding_mode != "zeros":
                raise ValueError(f"{name}: padding_mode {m.padding_mode!r} is not supported; "
                                 f"only 'zeros'")
            pad = _torch_padding(m)
            pad, pending_pad = _merge_pad(pad, pending_pad, name)
            layer = Conv2D(m.out_channels, m.kernel_size, stride=m.stride, padding=pad,
                           dilation=m.dilation, groups=m.groups, use_bias=m.bias is not None)
        elif isinstance(m, nn.MaxPool2d):
            if m.dilation not in (1, (1, 1)) or m.return_indices:
                raise ValueError(f"{name}: dilation and return_indices are not supported")
            pad, pending_pad = _merge_pad(m.padding, pending_pad, name)
            layer = MaxPool2D(m.kernel_size, stride=m.stride, padding=pad,
                              ceil_mode=m.ceil_mode)
        elif isinstance(m, nn.AvgPool2d):
            if m.divisor_override is not None:
                raise ValueError(f"{name}: divisor_override is not supported")
            pad, pending_pad = _merge_pad(m.padding, pending_pad, name)
            layer = AvgPool2D(m.kernel_size, stride=m.stride, padding=pad,
                              ceil_mode=m.ceil_mode, count_include_pad=m.count_include_pad)
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            if m.output_size not in (1, (1, 1)):
                raise ValueError(f"{name}: only output_size 1 is supported, got {m.output_size}")
            layer = GlobalAvgPool2D()
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise ValueError(f"{name}: only Flatten(1, -1) is supported")
            if layers and isinstance(layers[-1], GlobalAvgPool2D):
                continue  # juanji's GlobalAvgPool2D already gives (N, C)
            layer = Flatten()
        elif isinstance(m, nn.Linear):
            layer = Dense(m.out_features, use_bias=m.bias is not None)
        elif isinstance(m, nn.BatchNorm2d):
            if not (m.affine and m.track_running_stats) or m.momentum is None:
                raise ValueError(f"{name}: needs affine=True, track_running_stats=True and a "
                                 f"momentum")
            layer = BatchNorm2D(momentum=m.momentum, eps=m.eps)
        elif isinstance(m, nn.ReLU):
            layer = ReLU()
        elif isinstance(m, nn.LeakyReLU):
            layer = LeakyReLU(m.negative_slope)
        elif isinstance(m, nn.Sigmoid):
            layer = Sigmoid()
        elif isinstance(m, nn.Tanh):
            layer = Tanh()
        elif isinstance(m, nn.Dropout):
            layer = Dropout(m.p)
        else:
            raise ValueError(
                f"{name} has no juanji counterpart; supported: Conv2d, ZeroPad2d and "
                f"ConstantPad2d (before a Conv2d or pool), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Linear, ReLU, "
                f"LeakyReLU, Sigmoid, Tanh, Dropout, BatchNorm2d, Identity")
        layers.append(layer)
        sources.append(m)
    if pending_pad is not None:
        raise ValueError("a trailing ZeroPad2d is not supported")
    model = Sequential(layers, tuple(input_shape), dtype=dtype)
    load_torch_state_dict(model, _state_from_modules(sources))
    model.train() if module.training else model.eval()
    return model


def _state_from_modules(sources) -> dict:
    """A torch-style state dict keyed by juanji layer index (``"3.weight"``) for the sources."""
    state = {}
    for i, m in enumerate(sources):
        for k, v in m.state_dict().items():
            state[f"{i}.{k}"] = v
    return state


def load_torch_state_dict(model: Sequential, state_dict: dict) -> None:
    """Load a PyTorch-layout ``state_dict`` into ``model`` (same architecture, same order).

    The torch keys are matched to juanji's layers with parameters in order (torch's own indices
    need not match: activations, pads and flattens carry none), so a twin's
    ``net.state_dict()`` loads directly. Per layer: Conv2d ``weight (C_out, C_in/g, kh, kw)`` ->
    ``(kh, kw, C_in/g, C_out)``; Linear ``weight (D_out, D_in)`` -> ``(D_in, D_out)``, with the
    first Linear after a Flatten un-permuted from (C, H, W) to (H, W, C) rows; BatchNorm2d
    ``weight, bias, running_mean, running_var`` -> ``gamma, beta, running_mean, running_var``
    (``num_batches_tracked`` is ignored). Shapes are checked before anything is written.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a juanji Sequential, got {type(model).__name__}")
    groups: dict[str, dict] = {}
    for key, value in state_dict.items():
        prefix, _, name = key.rpartition(".")
        if name == "num_batches_tracked":
            continue
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        groups.setdefault(prefix, {})[name] = arr
    torch_layers = list(groups.values())
    owners = [(i, l) for i, l in enumerate(model.layers) if l.params]
    if len(torch_layers) != len(owners):
        raise ValueError(f"`state_dict` has {len(torch_layers)} layers with parameters "
                         f"({sorted(groups)}) but the model has {len(owners)}")
    perms, state = dense_row_perms(model), {}
    for (i, layer), tl in zip(owners, torch_layers):
        def take(name, what):
            if name not in tl:
                raise ValueError(f"`state_dict` has no {name!r} for layer {i} "
                                 f"({type(layer).__name__}); it has {sorted(tl)}")
            return tl[name]
        if isinstance(layer, Conv2D):
            state[f"{i}.weight"] = kernel_from_framework(take("weight", i))  # (kh, kw, Ci/g, Co)
        elif isinstance(layer, Dense):
            w = take("weight", i).T  # (D_in, D_out), rows in the framework's order
            if i in perms:
                w_hwc = np.empty_like(w)
                w_hwc[perms[i]] = w  # rows back in (H, W, C) order
                w = w_hwc
            state[f"{i}.weight"] = w
        elif isinstance(layer, BatchNorm2D):
            state[f"{i}.gamma"], state[f"{i}.beta"] = take("weight", i), take("bias", i)
            state[f"{i}.running_mean"] = take("running_mean", i)
            state[f"{i}.running_var"] = take("running_var", i)
        else:
            raise ValueError(f"layer {i} ({type(layer).__name__}) has no PyTorch state mapping")
        if "bias" in layer.params:
            state[f"{i}.bias"] = take("bias", i)
    for key, value in model.state_dict().items():
        state.setdefault(key, value)  # parameter-free layers' buffers, if any
    model.load_state_dict(state)
