"""explain sharing / sparsity / network: the course's numbers from summary()."""

import numpy as np
import pytest

from juanji.explain.model import explain_network, explain_sharing, explain_sparsity
from juanji.models import build_model
from juanji.nn import Conv2D, Dense, Flatten, Sequential, summary


def test_course_sharing_example_456_vs_14_5_million():
    r = explain_sharing(Sequential([Conv2D(6, 5)], (32, 32, 3)))
    (row,) = r["layers"]
    assert row["params"] == (5 * 5 * 3 + 1) * 6 == 456
    assert row["dense_equivalent_params"] == 3072 * 4704 + 4704
    assert round(row["dense_equivalent_params"] / 1e6, 1) == 14.5
    assert row["params_formula"] == "(5*5*3 + 1)*6"
    assert row["dense_formula"] == "3072*4704 + 4704"
    assert row["positions_sharing_each_weight"] == 28 * 28


def test_sharing_and_sparsity_agree_with_summary():
    model = build_model("course", (32, 32, 3), 10)
    s = summary(model)
    sharing = explain_sharing(model)
    by_index = {row.index: row for row in s.rows}
    assert [r["params"] for r in sharing["layers"]] == [608, 3216, 48120, 10164, 850]
    for r in sharing["layers"]:
        assert r["params"] == by_index[r["index"]].params
        if r["layer"] == "Conv2D":
            assert r["dense_equivalent_params"] == by_index[r["index"]].dense_equivalent_params
    assert sharing["conv_params"] + sharing["dense_params"] == s.total_params
    sparsity = explain_sparsity(model)
    assert [r["inputs_per_output"] for r in sparsity["layers"]] == [
        row.inputs_per_output for row in s.rows]
    assert sparsity["layers"][0]["inputs_per_output"] == 75
    assert sparsity["layers"][0]["fraction_of_inputs"] == pytest.approx(75 / 3072)
    assert [r["receptive_field"] for r in sparsity["layers"][:6]] == [
        [5, 5], [5, 5], [6, 6], [14, 14], [14, 14], [16, 16]]
    assert sparsity["layers"][6]["receptive_field"] is None  # flattened: the whole input


def test_network_table_and_cliff_warning():
    model = Sequential([Conv2D(16, 3, padding="same"), Flatten(), Dense(2)], (64, 64, 3))
    r = explain_network(model)
    s = summary(model)
    assert r["rows"] == s.to_dict()["rows"]
    assert r["warnings"] == s.warnings and len(r["warnings"]) == 1
    assert "65536 -> 2" in r["warnings"][0]
    assert r["params_by_layer_type"] == {"Conv2D": 448, "Flatten": 0, "Dense": 65536 * 2 + 2}


def test_not_a_model_refused():
    with pytest.raises(TypeError, match="`model`"):
        explain_sharing(np.zeros(3))
