"""summary(): the course's table numbers, dense equivalents, receptive fields and cliff warnings."""

import json

import numpy as np
import pytest

from juanji.nn import (
    BatchNorm2D,
    Conv2D,
    Dense,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
    Sequential,
    summary,
)


def course_network():
    return Sequential([Conv2D(8, 5), ReLU(), MaxPool2D(2), Conv2D(16, 5), ReLU(), MaxPool2D(2),
                       Flatten(), Dense(120), ReLU(), Dense(84), ReLU(), Dense(10)], (32, 32, 3))


def course_rows(s):
    """The course table's rows: CONV1, POOL1, CONV2, POOL2, FC3, FC4, softmax."""
    return [r for r in s.rows if r.layer not in ("ReLU", "Flatten")]


def test_course_network_table():
    s = summary(course_network())
    rows = course_rows(s)
    assert [r.params for r in rows] == [608, 0, 3216, 0, 48120, 10164, 850]
    assert [r.activation_size for r in rows] == [6272, 1568, 1600, 400, 120, 84, 10]
    assert [r.output_shape for r in rows] == [(28, 28, 8), (14, 14, 8), (10, 10, 16),
                                              (5, 5, 16), (120,), (84,), (10,)]
    assert s.total_params == 608 + 3216 + 48120 + 10164 + 850
    assert s.total_params == course_network().num_parameters
    assert s.warnings == []  # the course network shrinks gradually


def test_course_network_receptive_fields():
    rows = course_rows(summary(course_network()))
    assert [r.receptive_field for r in rows[:4]] == [(5, 5), (6, 6), (14, 14), (16, 16)]
    assert rows[4].receptive_field is None  # a dense unit sees the whole image


def test_relu_keeps_receptive_field():
    s = summary(course_network())
    assert s.rows[1].layer == "ReLU" and s.rows[1].receptive_field == (5, 5)


def test_receptive_field_with_stride_dilation_and_rectangles():
    model = Sequential([Conv2D(2, (3, 1), stride=2), BatchNorm2D(),
                        Conv2D(2, 3, dilation=2), MaxPool2D(3, stride=1)], (32, 32, 1))
    rf = [r.receptive_field for r in summary(model).rows]
    # rows: r = 1 + 2*1 = 3 (j 2); cols: r = 1 (j 2). Dilated 3 spans 5: + 4*2 -> (11, 9), then
    # the pool adds 2*2 -> (15, 13).
    assert rf == [(3, 1), (3, 1), (11, 9), (15, 13)]


def test_dense_equivalent_and_inputs_per_output():
    # The course's parameter-sharing example: 32x32x3 -> 28x28x6 with six 5x5 kernels.
    s = summary(Sequential([Conv2D(6, 5)], (32, 32, 3)))
    row = s.rows[0]
    assert row.params == 456
    assert row.dense_equivalent_params == 3072 * 4704 + 4704
    assert row.inputs_per_output == 75
    grouped = summary(Sequential([Conv2D(4, 3, groups=2), Flatten(), Dense(7)], (6, 6, 4)))
    assert grouped.rows[0].inputs_per_output == 3 * 3 * 4 // 2
    assert grouped.rows[2].inputs_per_output == 4 * 4 * 4
    assert grouped.rows[2].dense_equivalent_params is None


def test_cliff_warning():
    model = Sequential([Flatten(), Dense(1)], (100, 100, 5))
    s = summary(model)
    assert len(s.warnings) == 1
    assert "layer 1 (Dense)" in s.warnings[0] and "50000 -> 1" in s.warnings[0]
    assert summary(model, cliff_factor=100000.0).warnings == []
    pooled = summary(Sequential([GlobalAvgPool2D()], (16, 16, 8)), cliff_factor=100)
    assert pooled.warnings and "2048 -> 8" in pooled.warnings[0]
    with pytest.raises(ValueError, match=r"`cliff_factor` must be a number > 1, got 0.5"):
        summary(model, cliff_factor=0.5)
    with pytest.raises(TypeError, match=r"`model` must be a juanji.nn.Sequential"):
        summary("model")


def test_to_dict_is_json_and_render_is_a_rich_table():
    s = summary(course_network())
    d = json.loads(json.dumps(s.to_dict()))
    assert d["total_params"] == s.total_params
    assert d["rows"][0]["output_shape"] == [28, 28, 8]
    assert d["rows"][0]["receptive_field"] == [5, 5]
    assert d["input_size"] == 3072
    from rich.console import Console
    from rich.table import Table

    table = s.render()
    assert isinstance(table, Table)
    assert table.row_count == len(s.rows) + 2  # input row, the layers, the total
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    assert "48,120" in text and "28x28x8" in text and "5x5" in text


def test_summary_needs_no_forward_pass():
    model = course_network()
    assert all(layer._cache is None for layer in model.layers)
    summary(model)
    assert all(layer._cache is None for layer in model.layers)
    assert np.prod(summary(model).rows[-1].output_shape) == 10


def test_summary_table_in_chinese():
    from rich.console import Console

    from juanji.i18n import language
    from juanji.models import build_model

    s = summary(build_model("lenet5", (32, 32, 1), 10))
    console = Console(width=120, record=True, color_system=None)
    with language("zh"):
        console.print(s.render())
    text = console.export_text()
    assert "模型摘要" in text and "等价全连接参数" in text and "感受野" in text and "合计" in text
    assert "61,706" in text and "Model summary" not in text
