"""Pure forward/backward pairs, channels-last (N, H, W, C), vectorised NumPy."""
from .activations import (
    leaky_relu_backward, leaky_relu_forward, relu_backward, relu_forward, sigmoid_backward,
    sigmoid_forward, tanh_backward, tanh_forward,
)
from .conv import conv2d_backward, conv2d_forward
from .dropout import dropout_backward, dropout_forward
from .linear import linear_backward, linear_forward
from .losses import (
    log_softmax, sigmoid_binary_cross_entropy_backward, sigmoid_binary_cross_entropy_forward,
    softmax, softmax_cross_entropy_backward, softmax_cross_entropy_forward,
)
from .normalization import batch_norm2d_backward, batch_norm2d_forward
from .pool import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from .shape import flatten_backward, flatten_forward
from .sizes import output_size

__all__ = ["output_size"]

__all__ += [
    "linear_forward", "linear_backward",
    "relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
    "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "flatten_forward", "flatten_backward",
    "softmax", "log_softmax",
    "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
    "sigmoid_binary_cross_entropy_forward", "sigmoid_binary_cross_entropy_backward",
    "batch_norm2d_forward", "batch_norm2d_backward",
    "dropout_forward", "dropout_backward",
]
__all__ += ["max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward"]
__all__ += ["conv2d_forward", "conv2d_backward"]

from .memory import (  # noqa: E402
    MemoryBudgetError, get_memory_budget, keep_freed_memory, set_memory_budget,
)

__all__ += ["set_memory_budget", "get_memory_budget", "MemoryBudgetError",
            "keep_freed_memory"]

from ._parallel import get_num_threads, set_num_threads  # noqa: E402

__all__ += ["set_num_threads", "get_num_threads"]
