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


def test_chinese_table_fits_80_columns():
    """rich counts a Chinese character as two columns: the table stays within the terminal."""
    from rich.cells import cell_len
    from rich.console import Console

    ns = {"conv_backward": functools.partial(learner.conv_backward, mistake="dW_overwrite"),
          "zero_pad": learner.zero_pad}
    report = check_all(ns, lang="zh")
    console = Console(width=80, record=True, color_system=None)
    console.print(report.render())
    text = console.export_text()
    assert "未通过" in text and "通过" in text and "1 个用例" in text and "参数共享" in text
    assert "厨师" in text  # conv backprop as cooks tracing their part in each dish's score
    widths = [cell_len(line) for line in text.splitlines()]
    assert max(widths) <= 80 and any(w > 60 for w in widths)
    assert "<th>详情</th>" in report._repr_html_()
