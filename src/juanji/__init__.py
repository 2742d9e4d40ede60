"""juanji (卷积, "convolution"): CNNs from first principles, checked against PyTorch, fast in NumPy."""

__version__ = "0.1.0"
