"""Built-in models build for the usual input shapes and give (N, K) outputs."""

import numpy as np
import pytest

from juanji.models import MODELS, build_model
from juanji.nn import summary

SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3), (64, 64, 3)]
# lenet5 and course need room for two 5x5 convs and two 2x2 pools.
TOO_SMALL = {("lenet5", (8, 8, 1)), ("course", (8, 8, 1))}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("shape", SHAPES)
def test_model_builds_and_outputs_n_by_k(name, shape):
    if (name, shape) in TOO_SMALL:
        with pytest.raises(ValueError, match=rf"`input_shape` \(8, 8, 1\) is too small or does "
                                             rf"not fit model '{name}': layer \d+ \(Conv2D\)"):
            build_model(name, shape, 10)
        return
    k = 6 if shape[2] == 3 else 10
    model = build_model(name, shape, k, seed=1)
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32)
    y = model.forward(x)
    assert y.shape == (2, k) and y.dtype == np.float32
    assert model.backward(np.ones_like(y)).shape == x.shape


def test_course_model_is_the_course_table():
    rows = [r for r in summary(build_model("course", (32, 32, 3), 10)).rows
            if r.layer not in ("ReLU", "Flatten")]
    assert [r.params for r in rows] == [608, 0, 3216, 0, 48120, 10164, 850]


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 1)])
def test_lenet5_reaches_5x5x16_like_classic(shape):
    model = build_model("lenet5", shape, 10)
    assert model.layers[5].out_shape == (5, 5, 16)
    assert model.layers[0].out_shape == (28, 28, 6)


def test_signs_shapes():
    model = build_model("signs", (64, 64, 3), 6)
    assert [layer.out_shape for layer in model.layers[:6]] == [
        (64, 64, 8), (64, 64, 8), (8, 8, 8), (8, 8, 16), (8, 8, 16), (2, 2, 16)]


def test_binary_head_and_dtype():
    model = build_model("tinyvgg", (16, 16, 3), 2, binary=True, dtype=np.float64)
    assert model.output_shape == (1,)
    assert model.parameters()[0].data.dtype == np.float64
    with pytest.raises(ValueError, match=r"`binary=True` needs `num_classes` == 2, got 3"):
        build_model("tinyvgg", (16, 16, 3), 3, binary=True)


def test_models_are_seeded():
    a = build_model("digits", (8, 8, 1), 10, seed=3)
    b = build_model("digits", (8, 8, 1), 10, seed=3)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_every_model_has_a_description():
    assert all(isinstance(v, str) and v for v in MODELS.values())


@pytest.mark.parametrize("args, exc, match", [
    (("resnet", (32, 32, 3), 10), ValueError,
     r"unknown model 'resnet'; choose one of \['course', 'digits', 'lenet5', 'signs', 'tinyvgg'\]"),
    (("digits", (8, 8), 10), ValueError, r"`input_shape` must be \(H, W, C\), got \(8, 8\)"),
    (("digits", (8, 8, 1), 1), ValueError, r"`num_classes` must be >= 2, got 1"),
    (("digits", (8, 8, 1), 0), ValueError, r"`num_classes` must be an int >= 1, got 0"),
])
def test_build_model_messages(args, exc, match):
    with pytest.raises(exc, match=match):
        build_model(*args)
