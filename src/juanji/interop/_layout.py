"""What the exporters and importers share: per-layer input shapes, resolved padding, and the
permutation between juanji's (H, W, C) flatten order and the frameworks' (C, H, W) one."""

from __future__ import annotations

import numpy as np

from juanji.nn import Flatten
from juanji.validation import resolve_padding


def kernel_to_framework(w: np.ndarray) -> np.ndarray:
    """juanji's kernel (kh, kw, C_in/g, C_out) -> PyTorch's and ONNX's (C_out, C_in/g, kh, kw).

    >>> kernel_to_framework(np.zeros((3, 5, 2, 4))).shape
    (4, 2, 3, 5)
    """
    return w.transpose(3, 2, 0, 1)  # (C_out, C_in/g, kh, kw)


def kernel_from_framework(w: np.ndarray) -> np.ndarray:
    """PyTorch's and ONNX's kernel (C_out, C_in/g, kh, kw) -> juanji's (kh, kw, C_in/g, C_out)."""
    return w.transpose(2, 3, 1, 0)  # (kh, kw, C_in/g, C_out)


def images_to_nchw(x: np.ndarray) -> np.ndarray:
    """juanji's images (N, H, W, C) -> the frameworks' (N, C, H, W), contiguous."""
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # (N, C, H, W)


def images_to_nhwc(x: np.ndarray) -> np.ndarray:
    """The frameworks' (N, C, H, W) -> juanji's (N, H, W, C), contiguous."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # (N, H, W, C)


def layer_input_shapes(model) -> list[tuple]:
    """The shape (no batch axis) each layer of ``model`` receives, in order."""
    shapes, shape = [], model.input_shape
    for layer in model.layers:
        shapes.append(shape)
        shape = layer.output_shape(shape)
    return shapes


def conv_padding(layer, in_shape) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) zero padding a Conv2D applies to an input ``in_shape``."""
    return resolve_padding(layer.padding, in_shape[:2], layer.kernel_size, layer.stride,
                           layer.dilation)


def pool_padding(layer, in_shape) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) padding a pooling layer applies to ``in_shape``."""
    return resolve_padding(layer.padding, in_shape[:2], layer.kernel_size, layer.stride, (1, 1))


def hwc_to_chw_perm(shape: tuple) -> np.ndarray:
    """``perm[t]`` = the juanji (H, W, C) flat index of the framework's (C, H, W) flat index t.

    >>> hwc_to_chw_perm((1, 2, 2)).tolist()      # H=1, W=2, C=2: c0w0 c0w1 c1w0 c1w1
    [0, 2, 1, 3]
    """
    h, w, c = shape
    return np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).reshape(-1)  # (C*H*W,)


def dense_row_perms(model) -> dict[int, np.ndarray]:
    """For each Dense layer right after a Flatten of an image (elementwise layers may sit between),
    the row permutation that makes its weight read a (C, H, W)-flattened input.

    A model whose Flatten of an image with H*W > 1 feeds anything but such a Dense (or nothing) is
    refused: its output order would depend on the layout.
    """
    from juanji.nn import Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh

    elementwise = (ReLU, LeakyReLU, Sigmoid, Tanh, Dropout)
    perms, shapes = {}, layer_input_shapes(model)
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, Flatten) or len(shapes[i]) != 3:
            continue
        h, w, _ = shapes[i]
        j = i + 1
        while j < len(model.layers) and isinstance(model.layers[j], elementwise):
            j += 1
        if j < len(model.layers) and isinstance(model.layers[j], Dense):
            perms[j] = hwc_to_chw_perm(shapes[i])
        elif h * w > 1:
            raise ValueError(f"layer {i} (Flatten of {shapes[i]}) must be followed by a Dense "
                             f"layer to be exported: its (H, W, C) order differs from (C, H, W)")
    return perms
