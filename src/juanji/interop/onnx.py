"""juanji <-> ONNX: ``to_onnx(model, path)`` and ``from_onnx(path)``.

The graph takes ``input`` (N, C, H, W) (N dynamic) and gives ``output``; it is built with
``onnx.helper`` at opset :data:`OPSET`, checked by ``onnx.checker`` and written atomically.
Operators: Conv, MaxPool, AveragePool, GlobalAveragePool, Flatten, Gemm, Relu, LeakyRelu, Sigmoid,
Tanh, Dropout (written as Identity: an exported model is for inference), BatchNormalization.
``from_onnx`` reads those plus MatMul + Add (for Gemm), Identity, Dropout, the
Reshape-to-(N, -1) that stands for a flatten, ``auto_pad`` and a constant ``Pad`` of H and W
right before a Conv or pool (whose ``pads`` PyTorch's exporter computes in a small subgraph of
constants, evaluated here with NumPy), so PyTorch's own exporter's files load.
"""

from __future__ import annotations

import numpy as np

from juanji._atomic import atomic_write_bytes
from juanji.nn import (AvgPool2D, BatchNorm2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D,
                       LeakyReLU, MaxPool2D, ReLU, Sequential, Sigmoid, Tanh)

from ._layout import (conv_padding, dense_row_perms, kernel_from_framework, kernel_to_framework,
                      layer_input_shapes, pool_padding)

OPSET = 17


def _pads(pad) -> list[int]:
    """((t, b), (l, r)) -> ONNX's [top, left, bottom, right]."""
    (t, b), (l, r) = pad
    return [int(t), int(l), int(b), int(r)]


def to_onnx(model: Sequential, path, *, metadata: dict | None = None) -> None:
    """Write ``model`` as an ONNX file at ``path`` (atomically), input (N, C, H, W) in its dtype.

    Weights are stored bit for bit in the model's dtype (float32 or float64) in the frameworks'
    layouts (see :mod:`juanji.interop`), so ``from_onnx(path)`` gives back the same numbers.
    ``metadata`` (str -> str) goes into the model's ``metadata_props``, read back by
    :func:`onnx_metadata`; ``juanji export`` stores the normaliser there as JSON.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a juanji Sequential, got {type(model).__name__}")
    if len(model.input_shape) != 3:
        raise ValueError(f"only image models (input_shape (H, W, C)) export to ONNX, got "
                         f"{model.input_shape}")
    elem = TensorProto.DOUBLE if model.dtype == np.float64 else TensorProto.FLOAT
    perms, shapes = dense_row_perms(model), layer_input_shapes(model)
    nodes, inits, cur = [], [], "input"

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.array(arr, order="C"), name))  # 0-d stays 0-d
        return name

    def node(op, inputs, **attrs):
        nonlocal cur
        out = f"{len(nodes)}_{op}"
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        cur = out

    for i, (layer, shape) in enumerate(zip(model.layers, shapes)):
        if isinstance(layer, Conv2D):
            ins = [cur, init(f"{i}.weight", kernel_to_framework(layer.params["weight"].data))]  # (Co, Ci/g, kh, kw)
            if layer.use_bias:
                ins.append(init(f"{i}.bias", layer.params["bias"].data))
            node("Conv", ins, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                 dilations=list(layer.dilation), group=layer.groups,
                 pads=_pads(conv_padding(layer, shape)))
        elif isinstance(layer, MaxPool2D):
            node("MaxPool", [cur], kernel_shape=list(layer.kernel_size),
                 strides=list(layer.stride), pads=_pads(pool_padding(layer, shape)),
                 ceil_mode=int(layer.ceil_mode))
        elif isinstance(layer, AvgPool2D):
            node("AveragePool", [cur], kernel_shape=list(layer.kernel_size),
                 strides=list(layer.stride), pads=_pads(pool_padding(layer, shape)),
                 ceil_mode=int(layer.ceil_mode),
                 count_include_pad=int(layer.count_include_pad))
        elif isinstance(layer, GlobalAvgPool2D):
            node("GlobalAveragePool", [cur])
            node("Flatten", [cur], axis=1)
        elif isinstance(layer, Flatten):
            node("Flatten", [cur], axis=1)
        elif isinstance(layer, Dense):
            w = layer.params["weight"].data  # (D_in, D_out)
            if i in perms:
                w = w[perms[i]]  # rows in (C, H, W) order
            ins = [cur, init(f"{i}.weight", w.T)]  # (D_out, D_in), as PyTorch exports
            if layer.use_bias:
                ins.append(init(f"{i}.bias", layer.params["bias"].data))
            node("Gemm", ins, transB=1)
        elif isinstance(layer, BatchNorm2D):
            p, b = layer.params, layer.buffers
            node("BatchNormalization",
                 [cur, init(f"{i}.gamma", p["gamma"].data), init(f"{i}.beta", p["beta"].data),
                  init(f"{i}.running_mean", b["running_mean"]),
                  init(f"{i}.running_var", b["running_var"])],
                 epsilon=float(layer.eps), momentum=float(1.0 - layer.momentum))
        elif isinstance(layer, ReLU):
            node("Relu", [cur])
        elif isinstance(layer, LeakyReLU):
            node("LeakyRelu", [cur], alpha=float(layer.negative_slope))
        elif isinstance(layer, Sigmoid):
            node("Sigmoid", [cur])
        elif isinstance(layer, Tanh):
            node("Tanh", [cur])
        elif isinstance(layer, Dropout):
            node("Dropout", [cur, init(f"{i}.ratio", np.array(layer.p, dtype=model.dtype))])
        else:
            raise ValueError(f"layer {i} ({type(layer).__name__}) has no ONNX export")
    nodes[-1].output[0] = "output"
    h, w, c = model.input_shape
    graph = helper.make_graph(
        nodes, "juanji", [helper.make_tensor_value_info("input", elem, ["N", c, h, w])],
        [helper.make_tensor_value_info("output", elem, ["N", *model.output_shape])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="juanji")
    for key, value in (metadata or {}).items():
        if not (isinstance(key, str) and isinstance(value, str)):
            raise TypeError(f"`metadata` must map str to str, got {key!r}: {type(value).__name__}")
        proto.metadata_props.add(key=key, value=value)
    proto.ir_version = 8  # readable by onnxruntime >= 1.14
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(path, proto.SerializeToString())


def _attrs(n) -> dict:
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in n.attribute}


def _real(value) -> float:
    """An ONNX float attribute (stored as float32) as the shortest decimal that float32 reads
    back the same: 1e-3 stays 1e-3 (not 0.0010000000474974513), so round trips are exact."""
    return float(str(np.float32(value)))


def _onnx_pads(attrs, op, name, hw, kernel):
    """A Conv's or pool's padding as ((top, bottom), (left, right)) for input size ``hw``:
    ``pads`` as given, or ``auto_pad`` (torch.onnx.export writes ``SAME_UPPER`` for
    ``Conv2d(padding='same')`` with an even kernel) worked out by ONNX's rule."""
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto == "NOTSET":
        t, l, b, r = attrs.get("pads", [0, 0, 0, 0])
        return ((t, b), (l, r))
    if auto == "VALID":
        return ((0, 0), (0, 0))
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for n, k, s, d in zip(hw, kernel, attrs.get("strides", [1, 1]),
                              attrs.get("dilations", [1, 1])):
            out = -(-n // s)  # ceil(n / s)
            total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            small = total // 2
            pads.append((small, total - small) if auto == "SAME_UPPER"
                        else (total - small, small))
        return tuple(pads)
    raise ValueError(f"node {name} ({op}): auto_pad {auto!r} is not one of NOTSET, VALID, "
                     f"SAME_UPPER, SAME_LOWER")


def _fold_constants(nodes, consts) -> list:
    """Evaluate (with NumPy) the nodes whose inputs are all constants, adding their outputs to
    ``consts``; returns the other nodes. torch.onnx.export computes a ``ZeroPad2d``'s ``pads``
    this way (ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast)."""
    from onnx import helper, numpy_helper

    def run(n, ins, a):
        op = n.op_type
        if op == "ConstantOfShape":
            value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            return np.full(tuple(ins[0]), value.reshape(-1)[0], dtype=value.dtype)
        if op == "Concat":
            return np.concatenate(ins, axis=a["axis"])
        if op == "Reshape":
            shape = [d if d != 0 or a.get("allowzero", 0) else ins[0].shape[i]
                     for i, d in enumerate(ins[1])]
            return ins[0].reshape(shape)
        if op == "Slice":
            starts, ends = ins[1], ins[2]
            axes = ins[3] if len(ins) > 3 and ins[3] is not None else range(len(starts))
            steps = ins[4] if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
            index = [slice(None)] * ins[0].ndim
            for start, end, axis, step in zip(starts, ends, axes, steps):
                index[int(axis)] = slice(int(start), int(end), int(step))
            return ins[0][tuple(index)]
        if op == "Transpose":
            return ins[0].transpose(a.get("perm", None))
        if op == "Cast":
            return ins[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]))
        if op in ("Unsqueeze", "Squeeze"):
            axes = tuple(int(v) for v in ins[1]) if len(ins) > 1 else tuple(a.get("axes", ()))
            return (np.expand_dims(ins[0], axes) if op == "Unsqueeze"
                    else np.squeeze(ins[0], axes or None))
        return None

    rest = []
    for n in nodes:
        ins = [consts.get(i) if i else None for i in n.input]
        known = n.input and all(v is not None for v, i in zip(ins, n.input) if i)
        out = run(n, ins, _attrs(n)) if known else None
        if out is None:
            rest.append(n)
        else:
            consts[n.output[0]] = out
    return rest


def _pad_step(n, a, consts, name):
    """An ONNX ``Pad`` of the spatial axes only, constant mode: (((t, b), (l, r)), value)."""
    if a.get("mode", b"constant") not in (b"constant", "constant"):
        raise ValueError(f"node {name} (Pad): mode {a['mode']!r} is not supported; only constant")
    if len(n.input) < 2 or n.input[1] not in consts or len(n.input) > 3 and n.input[3]:
        raise ValueError(f"node {name} (Pad): its pads must be constants over all four axes")
    pads = [int(v) for v in consts[n.input[1]]]  # [N0, C0, H0, W0, N1, C1, H1, W1]
    if len(pads) != 8 or pads[0] or pads[1] or pads[4] or pads[5] or min(pads) < 0:
        raise ValueError(f"node {name} (Pad): only non-negative padding of H and W is supported, "
                         f"got pads {pads}")
    value = float(consts[n.input[2]].reshape(-1)[0]) if len(n.input) > 2 and n.input[2] else 0.0
    return ((pads[2], pads[6]), (pads[3], pads[7])), value


def _merge_onnx_pad(pending, own, op, a, name):
    """The padding of a layer right after a ``Pad``: the Pad's, when the layer has none itself
    and the pad value fits it (0 for Conv and AveragePool with count_include_pad, -inf for
    MaxPool)."""
    if pending is None:
        return own
    pad, value = pending
    fits = (op == "Conv" and value == 0.0 or op == "MaxPool" and value == float("-inf")
            or op == "AveragePool" and value == 0.0 and a.get("count_include_pad", 0))
    if not fits or own != ((0, 0), (0, 0)):
        raise ValueError(f"node {name} ({op}): a Pad of {value} before it is supported only "
                         f"before a Conv (0), a MaxPool (-inf) or an AveragePool (0, "
                         f"count_include_pad=1) without padding of its own")
    return pad


def onnx_metadata(path) -> dict[str, str]:
    """The ``metadata_props`` of the ONNX file at ``path`` as a dict (empty when there are none)."""
    import onnx
    proto = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}


def from_onnx(path) -> Sequential:
    """A juanji Sequential from an ONNX file holding one chain of the supported operators
    (input (N, C, H, W) with fixed C, H, W). Weights keep their dtype (float32 or float64);
    the model comes back in eval mode. Any other operator raises a ValueError naming it.
    """
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    g = proto.graph
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(_attrs(n)["value"])
    inputs = [v for v in g.input if v.name not in consts]
    if len(inputs) != 1:
        raise ValueError(f"`path` {str(path)!r}: the graph must have one data input, got "
                         f"{[v.name for v in inputs]}")
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or not all(dims[1:]):
        raise ValueError(f"the input must be (N, C, H, W) with fixed C, H, W, got {dims}")
    _, c, h, w = dims
    dtype = np.float64 if inputs[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE \
        else np.float32
    layers, weights, cur = [], [], inputs[0].name
    nodes = _fold_constants([n for n in g.node if n.op_type != "Constant"], consts)
    shape, pending_pad = (h, w, c), None  # the next layer's input (H, W, C); a Pad to merge
    k = 0
    while k < len(nodes):
        n = nodes[k]
        k += 1
        op, a, name = n.op_type, _attrs(n), n.name or n.output[0]
        if not n.input or n.input[0] != cur:
            raise ValueError(f"node {name} ({op}) does not read the previous node's output: "
                             f"only a chain of layers is supported")
        if pending_pad is not None and op not in ("Conv", "MaxPool", "AveragePool"):
            raise ValueError(f"node {name} ({op}): a Pad is supported only right before a "
                             f"Conv, MaxPool or AveragePool")
        wts = {}
        if op == "Conv":
            wt = consts[n.input[1]]  # (Co, Ci/g, kh, kw)
            wts["weight"] = kernel_from_framework(wt)  # (kh, kw, Ci/g, Co)
            if len(n.input) > 2:
                wts["bias"] = consts[n.input[2]]
            pad = _merge_onnx_pad(pending_pad, _onnx_pads(a, op, name, shape[:2], wt.shape[2:]),
                                  op, a, name)
            pending_pad = None
            layer = Conv2D(wt.shape[0], tuple(wt.shape[2:]), stride=tuple(a.get("strides", [1, 1])),
                           padding=pad, dilation=tuple(a.get("dilations", [1, 1])),
                           groups=a.get("group", 1), use_bias=len(n.input) > 2)
        elif op in ("MaxPool", "AveragePool"):
            if op == "MaxPool" and (any(d != 1 for d in a.get("dilations", [1, 1]))
                                    or len(n.output) > 1 and n.output[1]):
                raise ValueError(f"node {name} (MaxPool): dilations and indices are not supported")
            pad = _merge_onnx_pad(pending_pad, _onnx_pads(a, op, name, shape[:2],
                                                          a["kernel_shape"]), op, a, name)
            pending_pad = None
            kw = dict(stride=tuple(a.get("strides", [1, 1])), padding=pad,
                      ceil_mode=bool(a.get("ceil_mode", 0)))
            layer = (MaxPool2D(tuple(a["kernel_shape"]), **kw) if op == "MaxPool" else
                     AvgPool2D(tuple(a["kernel_shape"]),
                               count_include_pad=bool(a.get("count_include_pad", 0)), **kw))
        elif op == "GlobalAveragePool":
            layer = GlobalAvgPool2D()
        elif op in ("Flatten", "Reshape"):
            if op == "Flatten" and a.get("axis", 1) != 1:
                raise ValueError(f"node {name} (Flatten): only axis=1 is supported")
            if op == "Reshape" and not (n.input[1] in consts and len(consts[n.input[1]]) == 2
                                        and consts[n.input[1]][1] == -1):
                raise ValueError(f"node {name} (Reshape): only a reshape to (N, -1) is supported")
            cur = n.output[0]
            if layers and isinstance(layers[-1], GlobalAvgPool2D):
                continue  # already (N, C)
            layer = Flatten()
        elif op in ("Gemm", "MatMul"):
            wt = consts[n.input[1]]
            if op == "Gemm":
                if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                    raise ValueError(f"node {name} (Gemm): only transA=0, alpha=beta=1")
                wts["weight"] = wt.T if a.get("transB", 0) else wt  # (D_in, D_out)
                if len(n.input) > 2:
                    wts["bias"] = consts[n.input[2]]
            else:
                wts["weight"] = wt  # (D_in, D_out)
                if k < len(nodes) and nodes[k].op_type == "Add" and nodes[k].input[0] == n.output[0]:
                    wts["bias"] = consts[nodes[k].input[1]]
                    n = nodes[k]
                    k += 1
            layer = Dense(wts["weight"].shape[1], use_bias="bias" in wts)
        elif op == "BatchNormalization":
            wts = {"gamma": consts[n.input[1]], "beta": consts[n.input[2]],
                   "running_mean": consts[n.input[3]], "running_var": consts[n.input[4]]}
            layer = BatchNorm2D(momentum=round(1.0 - _real(a.get("momentum", 0.9)), 12),
                                eps=_real(a.get("epsilon", 1e-5)))
        elif op == "Relu":
            layer = ReLU()
        elif op == "LeakyRelu":
            layer = LeakyReLU(_real(a.get("alpha", 0.01)))
        elif op == "Sigmoid":
            layer = Sigmoid()
        elif op == "Tanh":
            layer = Tanh()
        elif op == "Dropout":
            ratio = float(consts[n.input[1]]) if len(n.input) > 1 and n.input[1] else \
                float(a.get("ratio", 0.5))
            layer = Dropout(ratio)
        elif op == "Identity":
            cur = n.output[0]
            continue
        elif op == "Pad":
            pending_pad = _pad_step(n, a, consts, name)
            cur = n.output[0]
            continue
        else:
            raise ValueError(
                f"node {name}: operator {op!r} has no juanji counterpart; supported: Conv, "
                f"MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape (N, -1), Gemm, "
                f"MatMul+Add, Relu, LeakyRelu, Sigmoid, Tanh, Dropout, BatchNormalization, "
                f"Identity, Pad (constant, before Conv or a pool)")
        cur = n.output[0]
        try:
            shape = layer.output_shape(shape)
        except ValueError as e:
            raise ValueError(f"node {name} ({op}) on input {shape}: {e}") from None
        layers.append(layer)
        weights.append(wts)
    model = Sequential(layers, (h, w, c), dtype=dtype)
    state, perms = model.state_dict(), dense_row_perms(model)
    for i, wts in enumerate(weights):
        for key, arr in wts.items():
            if key == "weight" and i in perms:
                hwc = np.empty_like(arr)
                hwc[perms[i]] = arr  # rows back in (H, W, C) order
                arr = hwc
            state[f"{i}.{key}"] = arr
    model.load_state_dict(state)
    return model.eval()
