"""The grader passes the right answers (juanji's and the course's loops) and names each classic
mistake, one learner-style wrong implementation per mistake."""
import functools

import numpy as np
import pytest

from juanji import course
from juanji.course import check

from . import learner

NAMES = course.COURSE_NAMES

# (function, mistake switch, words the diagnosis must contain, the case that exposes it)
MISTAKES = [
    ("zero_pad", "pad_all_axes", "batch and channel axes", "several images"),
    ("conv_single_step", "no_bias", "bias forgotten", "negative values"),
    ("conv_forward", "no_bias", "bias forgotten", "overlapping"),
    ("conv_forward", "bias_channel_0", "bias added per channel wrongly", "overlapping"),
    ("conv_forward", "stride_ignored", "stride ignored in the slice", "stride larger"),
    ("conv_forward", "pad_all_axes", "batch and channel axes", "padding"),
    ("conv_forward", "ceil", "ceil instead of floor", "stride larger"),
    ("conv_backward", "dA_overwrite", "dA_prev overwritten instead of accumulated", "overlapping"),
    ("conv_backward", "dW_overwrite", "dW overwritten instead of accumulated", "overlapping"),
    ("conv_backward", "db_per_image", "db not summed over images", "overlapping"),
    ("conv_backward", "db_not_summed", "db not summed over positions and images", "overlapping"),
    ("conv_backward", "border_kept", "padded border not cut off", "padding"),
    ("pool_forward", "ceil", "ceil instead of floor", "stride larger"),
    ("pool_forward", "stride_ignored", "stride ignored in the slice", "stride larger"),
    ("pool_forward", "not_divided", "average not divided by f*f", "average"),
    ("pool_forward", "channels_mixed", "channels mixed in pooling", "max, overlapping"),
    ("pool_backward", "first_max", "marking only the first of tied maxima", "ties"),
    ("pool_backward", "overwrite", "overwritten instead of accumulated", "overlapping"),
    ("pool_backward", "not_divided", "average not divided by f*f", "average"),
    ("pool_backward", "channels_mixed", "channels mixed in pooling", "max, overlapping"),
    ("create_mask_from_window", "positive", "max mask marking the wrong cells", "negative"),
    ("create_mask_from_window", "argmax", "max mask marking the wrong cells", "ties"),
    ("distribute_value", "divided_by_n_H", "not divided by n_H * n_W", "odd sizes"),
]


@pytest.mark.parametrize("name", NAMES)
def test_juanji_and_course_loops_pass(name):
    for fn in (getattr(course, name), getattr(learner, name)):
        result = check(name, fn)
        assert result.passed, result.diagnosis
        assert result.diagnosis == "" and result.case is None and len(result.cases_run) >= 1


@pytest.mark.parametrize("name, mistake, words, case", MISTAKES,
                         ids=[f"{m[0]}-{m[1]}" for m in MISTAKES])
def test_each_mistake_is_named(name, mistake, words, case):
    wrong = functools.partial(getattr(learner, name), mistake=mistake)
    result = check(name, wrong)
    assert not result.passed
    assert words in result.diagnosis, result.diagnosis
    assert case in result.case and f"Case '{result.case}'" in result.diagnosis
    assert "Likely:" in result.diagnosis


def test_diagnosis_names_index_expected_and_got():
    wrong = functools.partial(learner.conv_forward, mistake="no_bias")
    d = check("conv_forward", wrong).diagnosis
    assert "Z[0, 0, 0, 0] expected" in d and ", got " in d and "values differ" in d


def test_a_crash_is_reported_not_raised():
    def broken(A_prev, W, b, hparameters):
        raise KeyError("pad")
    result = check("conv_forward", broken)
    assert not result.passed and "raised KeyError" in result.diagnosis


def test_html_table():
    ok = check("distribute_value", course.distribute_value)._repr_html_()
    bad = check("distribute_value", functools.partial(learner.distribute_value,
                                                      mistake="divided_by_n_H"))._repr_html_()
    assert "<table>" in ok and "passed" in ok and "failed" in bad and "n_H * n_W" in bad


def test_unknown_name_and_non_function():
    with pytest.raises(ValueError, match="conv_forwrd"):
        check("conv_forwrd", course.conv_forward)
    with pytest.raises(TypeError, match="function"):
        check("conv_forward", 3)


@pytest.mark.parametrize("name, mistake, words, case", MISTAKES,
                         ids=[f"{m[0]}-{m[1]}" for m in MISTAKES])
def test_each_mistake_is_named_in_chinese(name, mistake, words, case):
    """The same finding in Chinese: the case, the index and the misconception all translated."""
    from juanji.i18n import catalog_dict

    zh = catalog_dict("zh")
    wrong = functools.partial(getattr(learner, name), mistake=mistake)
    en, cn = check(name, wrong, lang="en"), check(name, wrong, lang="zh")
    assert (cn.passed, cn.case, cn.lang) == (False, en.case, "zh")
    likely = en.diagnosis.split("\nLikely: ")[1]
    why = cn.diagnosis.split("\n可能的原因：")[1]
    assert cn.diagnosis.startswith(f"用例“{zh[en.case]}”")
    if likely in zh:  # a fixed sentence; the others carry numbers (n_H = 2) into the text
        assert why == zh[likely]
    assert "的形状是" in cn.diagnosis or "应为" in cn.diagnosis or "你的函数抛出了" in cn.diagnosis
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in why) > 5
    assert not any(w in cn.diagnosis for w in ("Likely", "expected", "Case '"))


def test_language_follows_set_language_and_the_result_keeps_its_own():
    from juanji.i18n import set_language

    wrong = functools.partial(learner.distribute_value, mistake="divided_by_n_H")
    set_language("zh")
    try:
        result = check("distribute_value", wrong)
        right = check("distribute_value", course.distribute_value)
    finally:
        set_language("en")
    assert result.lang == "zh" and "平均值没有除以 n_H * n_W" in result.diagnosis
    assert str(result).startswith("distribute_value：未通过") and "用例" in str(result)
    html = result._repr_html_()  # shown later, still in the language it was graded in
    assert "<th>函数</th>" in html and "未通过" in html
    assert "通过（1 个用例：奇数尺寸）" in str(right)
    with pytest.raises(ValueError, match=r"`lang` must be one of \('en', 'zh'\), got 'fr'"):
        check("distribute_value", wrong, lang="fr")
