"""From juanji to PyTorch and ONNX and back (``pip install 'juanji[torch]'`` / ``'juanji[onnx]'``).

Layout rules shared by every converter:

- Images: juanji is channels-last ``(N, H, W, C)``; the exported models take PyTorch's and ONNX's
  ``(N, C, H, W)`` holding the same (already normalised) values.
- Kernels: juanji ``(kh, kw, C_in // groups, C_out)`` <-> ``(C_out, C_in // groups, kh, kw)``.
- Dense: juanji ``(D_in, D_out)`` <-> ``(D_out, D_in)``.
- Flatten: juanji flattens ``(H, W, C)``, the frameworks ``(C, H, W)``. The exporters keep a plain
  ``Flatten`` and **permute the rows of the first Dense layer after it** (exact: a reordering), so
  the exported model has no layout op of its own; the importers permute them back.
- Asymmetric padding (``'same'`` with an even kernel) becomes an explicit pad step in PyTorch
  (``ZeroPad2d`` / a ``-inf`` pad before max pooling) and ONNX's own ``pads`` attribute.

torch, onnx and onnxruntime are imported only inside these functions.
"""

from ._layout import images_to_nchw, images_to_nhwc, kernel_from_framework, kernel_to_framework
from .torch import (from_torch, from_torchscript, load_torch_program, load_torch_state_dict,
                    save_torch_program, to_torch)
from .onnx import from_onnx, onnx_metadata, to_onnx

__all__ = ["to_torch", "from_torch", "load_torch_state_dict", "save_torch_program",
           "load_torch_program", "from_torchscript", "to_onnx", "from_onnx", "onnx_metadata",
           "kernel_to_framework", "kernel_from_framework", "images_to_nchw", "images_to_nhwc"]
