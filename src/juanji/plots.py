"""Training curves: loss and accuracy per epoch, train against validation, as one PNG.

matplotlib (the ``cli`` extra) is imported inside the function and drawn on a Figure without
pyplot (no global state, no GUI, the caller's backend left alone), so the core needs only NumPy
and no display is ever required. The PNG is rendered into
memory and written atomically.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path

from ._atomic import atomic_write_bytes
from .i18n import _, get_language, language

__all__ = ["CJK_FONTS", "cjk_font", "new_figure", "plot_history", "plot_labels"]

# Fonts with Simplified Chinese glyphs, in order of preference (Debian: fonts-noto-cjk,
# fonts-wqy-microhei, fonts-wqy-zenhei; macOS and Windows ship the last ones).
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
             "WenQuanYi Zen Hei", "PingFang SC", "Heiti SC", "Microsoft YaHei", "SimHei")


_CJK_FILES = ("notosanscjk", "sourcehansans", "wqy-microhei", "wqy-zenhei", "pingfang", "msyh",
              "simhei")


def cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None. matplotlib's font list is cached
    from its first run, so a font installed since is looked for among the system's font files
    (fontconfig) and added."""
    from matplotlib import font_manager

    def pick():
        installed = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in installed), None)

    found = pick()
    if found is None:
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name.lower() for key in _CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # an unreadable font file
                    continue
        found = pick()
    return found


@contextmanager
def plot_labels():
    """Draw a figure's labels in the current language: for Chinese, with a CJK font after
    DejaVu Sans (matplotlib falls back glyph by glyph, so digits and Latin letters look as in
    English). Without any CJK font the labels are drawn in English rather than as empty boxes.
    Yields the language used."""
    import matplotlib

    lang = get_language()
    font = cjk_font() if lang == "zh" else None
    if lang == "zh" and font is None:
        lang = "en"
    rc = {} if font is None else {"font.family": ["DejaVu Sans", font]}  # a fallback list
    with matplotlib.rc_context(rc), language(lang):
        yield lang


def new_figure(figsize):
    """A matplotlib Figure made without pyplot that Jupyter shows inline (``_repr_png_``)."""
    global _InlineFigure
    if _InlineFigure is None:
        from matplotlib.figure import Figure

        class InlineFigure(Figure):
            """A Figure that renders itself as PNG for Jupyter, with no pyplot backend."""

            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format="png", dpi=100)
                return buffer.getvalue()

        _InlineFigure = InlineFigure
    return _InlineFigure(figsize=figsize, layout="constrained")


_InlineFigure = None


def plot_history(history, path=None):
    """Draw loss (left) and accuracy (right) against epoch, into the PNG file ``path``.

    Args:
        history: a ``juanji.train.History`` (validation curves drawn when present).
        path: destination ``.png``; None writes nothing and returns the figure, which a notebook
            shows inline.

    Returns:
        ``path`` as a Path, or the matplotlib Figure when ``path`` is None.
    """
    if not getattr(history, "epochs", None):
        raise ValueError("`history` must hold at least one epoch to plot")
    from matplotlib.ticker import MaxNLocator

    epochs = [m.epoch for m in history.epochs]
    has_val = all(m.val_loss is not None for m in history.epochs)
    buffer = io.BytesIO()
    with plot_labels():
        fig = new_figure((9, 3.6))  # no pyplot: no global state, no GUI; inline in Jupyter
        loss_ax, acc_ax = fig.subplots(1, 2)
        for ax, what, label in ((loss_ax, "loss", _("cross-entropy loss")),
                                (acc_ax, "accuracy", _("accuracy"))):
            ax.plot(epochs, [getattr(m, f"train_{what}") for m in history.epochs], "o-",
                    label=_("train"))
            if has_val:
                ax.plot(epochs, [getattr(m, f"val_{what}") for m in history.epochs], "s-",
                        label=_("validation"))
            if history.best_epoch is not None:
                ax.axvline(history.best_epoch, color="grey", linestyle=":",
                           label=_("best epoch"))
            ax.set_xlabel(_("epoch"))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            ax.legend()
        loss_ax.set_title(_("loss"))
        acc_ax.set_title(_("accuracy"))
        if path is None:
            return fig
        fig.savefig(buffer, format="png", dpi=100)
    path = Path(path)
    atomic_write_bytes(path, buffer.getvalue())
    return path
