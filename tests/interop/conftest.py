"""Models the interop tests share: every built-in model, and random models of every layer type."""

import numpy as np
import pytest

from juanji.models import MODELS, build_model
from juanji.nn import (AvgPool2D, BatchNorm2D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D,
                       LeakyReLU, MaxPool2D, ReLU, Sequential, Sigmoid, Tanh)

# Input shape per built-in model: the smallest data set each is meant for.
BUILTIN_SHAPES = {"digits": (8, 8, 1), "lenet5": (28, 28, 1), "course": (32, 32, 3),
                  "signs": (64, 64, 3), "tinyvgg": (32, 32, 3)}
assert sorted(BUILTIN_SHAPES) == sorted(MODELS)


def _randomise_bn(model, seed):
    """Non-trivial BatchNorm statistics and affine parameters, so a swapped pair would show."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, BatchNorm2D):
            c = layer.params["gamma"].data.shape
            layer.params["gamma"].data[...] = rng.uniform(0.5, 1.5, c)
            layer.params["beta"].data[...] = rng.standard_normal(c)
            layer.buffers["running_mean"][...] = rng.standard_normal(c)
            layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, c)
    return model


def random_models(dtype=np.float32):
    """Models covering every exportable layer and padding form (asymmetric 'same' included)."""
    specs = {
        "conv-groups-dilation-bn-leaky": ((9, 10, 4), [
            Conv2D(6, 3, stride=2, padding=1, dilation=1, groups=2), BatchNorm2D(0.2, 1e-3),
            LeakyReLU(0.1), Conv2D(6, (2, 3), dilation=(1, 2), padding="same", groups=3),
            Tanh(), Flatten(), Dropout(0.3), Dense(7), Sigmoid(), Dense(3)]),
        "avgpool-ceil-nopad-gap": ((11, 9, 3), [
            Conv2D(5, 3, padding=((1, 0), (0, 1))), ReLU(),
            AvgPool2D(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
            MaxPool2D(2, stride=1, padding=1), Conv2D(4, 1, use_bias=False), GlobalAvgPool2D(),
            Dense(5, use_bias=False)]),
        "maxpool-same-even-kernel": ((7, 7, 2), [
            Conv2D(4, 2, padding="same"), MaxPool2D(2, stride=2, padding="same"),
            AvgPool2D(2, stride=1, padding=1), Flatten(), Dense(6)]),
    }
    return {name: _randomise_bn(Sequential(layers, shape, seed=3, dtype=dtype), 1).eval()
            for name, (shape, layers) in specs.items()}


def all_models(dtype=np.float32):
    """Built-in (10 classes) and random models, in eval mode, by name."""
    models = {name: build_model(name, shape, 10, seed=1, dtype=dtype).eval()
              for name, shape in BUILTIN_SHAPES.items()}
    return {**models, **random_models(dtype)}


def batch(model, n=5, seed=0):
    """A (N, H, W, C) batch of standard normal values in the model's dtype."""
    return np.random.default_rng(seed).standard_normal((n, *model.input_shape)).astype(model.dtype)


def nchw(x):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # (N, C, H, W)


@pytest.fixture(scope="session")
def trained_digits():
    """A digits model trained 3 epochs (about 95 % test accuracy), with its normalised test set."""
    from juanji.data import Normalizer, load_dataset
    from juanji.optim import make_optimizer
    from juanji.train import fit

    train, test = load_dataset("digits")
    norm = Normalizer.fit(train)
    model = build_model("digits", train.input_shape, train.num_classes, seed=0)
    fit(model, train, epochs=3, batch_size=32, optimizer=make_optimizer("adam", model.parameters(),
        5e-3), seed=0, normalizer=norm, progress=False)
    return model.eval(), norm(test.x), test.y
