"""juanji (卷积, "convolution"): CNNs from first principles, checked against PyTorch, fast in NumPy."""

from .backend import get_backend, set_backend

__version__ = "0.1.0"


def __getattr__(name):
    """``juanji.Model`` and ``juanji.load`` (`juanji.model`), imported on first use so that
    ``import juanji`` stays light."""
    if name in ("Model", "load"):
        from . import model
        return getattr(model, name)
    raise AttributeError(f"module 'juanji' has no attribute {name!r}")
