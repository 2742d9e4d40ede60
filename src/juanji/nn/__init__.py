"""Thin layers over :mod:`juanji.functional`, the Sequential model, initialisers and summary()."""

from .activations import LeakyReLU, ReLU, Sigmoid, Tanh
from .base import Layer, layer_from_config
from .dropout import Dropout
from .layers import Conv2D, Dense, Flatten
from .normalization import BatchNorm2D
from .parameter import Parameter
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from .sequential import Sequential
from .summary import Summary, SummaryRow, summary

__all__ = [
    "AvgPool2D", "BatchNorm2D", "Conv2D", "Dense", "Dropout", "Flatten", "GlobalAvgPool2D",
    "Layer", "LeakyReLU", "MaxPool2D", "Parameter", "ReLU", "Sequential", "Sigmoid", "Summary",
    "SummaryRow", "Tanh", "layer_from_config", "summary",
]
