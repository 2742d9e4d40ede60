"""check_all grades every course function of a namespace; the table shows in a notebook."""
import functools

from juanji.course import check_all

from . import learner


def test_check_all_module_and_dict():
    report = check_all(learner)
    assert report.passed and [r.name for r in report.results][:2] == ["zero_pad",
                                                                       "conv_single_step"]
    assert len(report.results) == 8
    ns = {"pool_forward": functools.partial(learner.pool_forward, mistake="channels_mixed"),
          "zero_pad": learner.zero_pad, "unrelated": print}
    report = check_all(ns)
    assert not report.passed and [r.name for r in report.results] == ["zero_pad", "pool_forward"]
    html = report._repr_html_()
    assert html.count("<tr>") == 3 and "channels mixed in pooling" in html and "passed" in html


def test_empty_namespace_is_not_a_pass():
    assert not check_all({}).passed
