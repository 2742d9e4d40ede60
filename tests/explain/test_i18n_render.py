"""The explainers in Chinese at 80 columns: every table fits (rich counts a Chinese character as
two columns), and the plots draw their Chinese labels with a CJK font."""
import warnings

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

from juanji.explain.conv import explain_conv, render_conv
from juanji.explain.model import (
    explain_network, explain_sharing, explain_sparsity, render_network, render_sharing,
    render_sparsity,
)
from juanji.explain.pool import explain_pool, render_pool
from juanji.explain.size import explain_size, render_size
from juanji.i18n import language
from juanji.models import build_model

X = np.array([[1, 3, 2, 1], [2, 9, 1, 9], [1, 3, 2, 3], [5, 6, 1, 2]], float)[:, :, None]


def _cases():
    two = np.concatenate([X, X[::-1]], axis=2)  # (4, 4, 2)
    lenet = build_model("lenet5", (32, 32, 1), 10)
    return {
        "size floor": lambda: render_size(explain_size(8, 3, stride=2)),
        "size ceil": lambda: render_size(explain_size(5, 2, stride=2, padding=1,
                                                      ceil_mode=True)),
        "pool max ties": lambda: render_pool(explain_pool(X, "max", 2, stride=1,
                                                          dy=np.ones((3, 3, 1)))),
        "pool avg padding": lambda: render_pool(explain_pool(two, "avg", 3, stride=2, padding=1,
                                                             dy=np.ones((2, 2, 2)))),
        "conv two channels": lambda: render_conv(explain_conv(two, np.ones((2, 2, 2)), 0.5,
                                                              dy=np.ones((3, 3)))),
        "sharing": lambda: render_sharing(explain_sharing(lenet)),
        "sparsity": lambda: render_sparsity(explain_sparsity(lenet)),
        "network": lambda: render_network(explain_network(lenet)),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_chinese_output_fits_80_columns(name):
    with language("zh"):
        renderable = _cases()[name]()
    console = Console(width=80, record=True, color_system=None)
    console.print(renderable)
    text = console.export_text()
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 4
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    with language("en"):
        english = _cases()[name]()
    console = Console(width=80, record=True, color_system=None)
    console.print(english)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in console.export_text())


def _captured_figure(monkeypatch, draw):
    import juanji.explain.plots as plots

    figures = []
    real_save = plots._save

    def save(fig, path):
        figures.append(fig)
        return real_save(fig, path)

    monkeypatch.setattr(plots, "_save", save)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw(plots)
    return figures[0], [str(w.message) for w in caught]


def test_plots_draw_chinese_labels_with_a_cjk_font(monkeypatch, tmp_path):
    from juanji.plots import cjk_font

    assert cjk_font() is not None, ("no CJK font: install fonts-noto-cjk or fonts-wqy-microhei "
                                    "(scripts/test.sh does)")
    cm = np.array([[5, 1], [2, 7]])
    with language("zh"):
        fig, caught = _captured_figure(
            monkeypatch, lambda p: p.plot_confusion(cm, tmp_path / "c.png", class_names=["a", "b"]))
    ax = fig.axes[0]
    assert ax.get_title() == "混淆矩阵，准确率 80.00%"
    assert ax.get_xlabel() == "预测类别" and ax.get_ylabel() == "真实类别"
    assert not [m for m in caught if "missing from font" in m]  # every glyph was found
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_without_a_cjk_font_plots_fall_back_to_english(monkeypatch, tmp_path):
    import juanji.plots

    monkeypatch.setattr(juanji.plots, "cjk_font", lambda: None)
    with language("zh"):
        fig, caught = _captured_figure(
            monkeypatch, lambda p: p.plot_confusion(np.eye(2), tmp_path / "c.png"))
    assert fig.axes[0].get_title().startswith("confusion matrix, accuracy")
    assert not [m for m in caught if "missing from font" in m]
