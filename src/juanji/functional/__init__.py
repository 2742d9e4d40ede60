"""Pure forward/backward pairs, channels-last (N, H, W, C), vectorised NumPy."""
from .sizes import output_size

__all__ = ["output_size"]
