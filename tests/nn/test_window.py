"""Layer.window(): each layer says which input window an output pixel reads, so `summary` and
the explainer page need no list of layer types."""

import numpy as np
import pytest

from juanji.nn import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU
from juanji.nn.base import Layer


def _built(layer, shape):
    layer.build(shape, np.random.default_rng(0))
    return layer


def test_conv_window_resolves_padding_for_its_input():
    w = _built(Conv2D(4, 3, stride=2, padding="same", dilation=2), (9, 9, 1)).window()
    assert (w.kernel, w.stride, w.dilation, w.span) == ((3, 3), (2, 2), (2, 2), (5, 5))
    assert w.padding == ((2, 2), (2, 2))
    assert w.to_dict() == {"kernel": [3, 3], "stride": [2, 2], "dilation": [2, 2],
                           "padding": [[2, 2], [2, 2]]}


def test_pool_windows_and_layers_without_one():
    assert _built(MaxPool2D(2), (8, 8, 3)).window().span == (2, 2)
    assert _built(AvgPool2D(3, stride=2, padding=1), (7, 7, 1)).window().padding == ((1, 1),
                                                                                   (1, 1))
    assert _built(ReLU(), (8, 8, 3)).window() is None
    assert _built(Flatten(), (2, 2, 3)).window() is None
    assert _built(Dense(5), (12,)).window() is None
    assert _built(Dense(5), (12,)).inputs_per_output() == 12
    assert _built(Conv2D(4, 3, groups=2), (8, 8, 6)).inputs_per_output() == 3 * 3 * 3


def test_a_resizing_layer_must_say_its_window():
    class Shrink(Layer):
        def output_shape(self, input_shape):
            return (input_shape[0] // 2, input_shape[1] // 2, input_shape[2])

    with pytest.raises(TypeError, match="Shrink changes the image size but does not say"):
        _built(Shrink(), (8, 8, 1)).window()
    with pytest.raises(RuntimeError, match=r"Conv2D.window\(\) needs a built layer"):
        Conv2D(4, 3).window()
