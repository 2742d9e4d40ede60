"""Two languages, English and Simplified Chinese, through standard gettext message catalogs.

Every user-facing string of ``juanji explain``, ``juanji check`` and the grader's diagnoses is
written in English in the code, marked with :func:`_` (or :func:`ngettext` / :func:`pgettext`),
and translated at run time from the compiled catalog ``juanji/locale/zh/LC_MESSAGES/juanji.mo``
(the standard library's :mod:`gettext` reads it; nothing else is needed at run time). English
is the catalog's msgids themselves.

The language is, in order: the one set by :func:`set_language` (the command line's
``--lang en|zh`` calls it), else the locale: the first non-empty of ``LC_ALL``,
``LC_MESSAGES``, ``LANG``; one starting with ``zh`` gives Chinese, anything else English.

>>> set_language("zh")
>>> _("passed")
'通过'
>>> with language("en"):
...     _("passed")
'passed'
>>> set_language(None)  # back to the locale's choice

Maintainers: ``python scripts/i18n.py extract`` collects the marked strings into
``locale/juanji.pot`` and merges them into ``locale/zh/LC_MESSAGES/juanji.po`` (new ones empty,
changed ones fuzzy); translate them there; ``python scripts/i18n.py compile`` writes the
``.mo``. ``tests/test_i18n.py`` fails on an untranslated, fuzzy or stale message.
"""
from __future__ import annotations

import gettext
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "_", "catalog_dict", "check_language",
           "default_language", "get_language", "language", "ngettext", "pgettext",
           "set_language"]

DOMAIN = "juanji"
LANGUAGES = ("en", "zh")
LOCALE_DIR = Path(__file__).parent / "locale"
_CONTEXT_SEP = "\x04"  # how a .mo file joins msgctxt and msgid

_chosen: str | None = None  # set_language's choice; None follows the locale


def check_language(lang) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`, else a ValueError naming the argument."""
    if lang not in LANGUAGES:
        raise ValueError(f"`lang` must be one of {LANGUAGES}, got {lang!r}")
    return lang


def default_language(environ=None) -> str:
    """The locale's language: ``"zh"`` when the first non-empty of LC_ALL, LC_MESSAGES, LANG
    starts with ``zh`` (``zh_CN.UTF-8``, ``zh``), else ``"en"``.

    >>> default_language({"LANG": "zh_CN.UTF-8"}), default_language({"LC_ALL": "C", "LANG": "zh"})
    ('zh', 'en')
    """
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: str | None) -> None:
    """Use ``lang`` (``"en"`` or ``"zh"``) from now on; ``None`` follows the locale again."""
    global _chosen
    _chosen = None if lang is None else check_language(lang)


def get_language() -> str:
    """The language in use: :func:`set_language`'s choice, else :func:`default_language`."""
    return _chosen if _chosen is not None else default_language()


@contextmanager
def language(lang: str | None):
    """Use ``lang`` inside the ``with`` block (``None``: leave the language as it is)."""
    global _chosen
    if lang is None:
        yield get_language()
        return
    check_language(lang)
    before = _chosen
    _chosen = lang
    try:
        yield lang
    finally:
        _chosen = before


@lru_cache(maxsize=None)
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()  # the msgids are the English text
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
    except FileNotFoundError:
        raise FileNotFoundError(
            f"juanji's compiled {lang!r} catalog is missing from {LOCALE_DIR}/{lang}/"
            f"LC_MESSAGES/{DOMAIN}.mo; reinstall juanji, or in a source checkout run "
            f"`python scripts/i18n.py compile`") from None


def _(message: str) -> str:
    """``message`` (English) in the current language."""
    return _translations(get_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return _translations(get_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart from the same English word used
    elsewhere by ``context`` (e.g. ``pgettext("page", "input")``)."""
    return _translations(get_language()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now (translate it with :func:`_`
    where it is shown)."""
    return message


def catalog_dict(lang: str, context: str | None = None) -> dict[str, str]:
    """``{msgid: text in lang}`` for the catalog's messages, to embed (as JSON) in a page.

    ``context`` keeps only the messages with that msgctxt (``pgettext(context, ...)``), keyed
    by their msgid; ``None`` keeps those without a context. For ``"en"`` every value is its key.

    >>> catalog_dict("zh", None)["passed"], catalog_dict("en", None)["passed"]
    ('通过', 'passed')
    """
    check_language(lang)
    if context is not None and not isinstance(context, str):
        raise TypeError(f"`context` must be a string or None, got {type(context).__name__}")
    zh = _translations("zh")._catalog  # the zh catalog lists every msgid  # noqa: SLF001
    out = {}
    for key, text in zh.items():
        if isinstance(key, tuple):  # a plural form: (msgid, index); not embeddable as one string
            continue
        ctx, sep, msgid = key.rpartition(_CONTEXT_SEP)
        if not msgid or (ctx if sep else None) != context:
            continue  # "" is the catalog's header
        out[msgid] = text if lang == "zh" else msgid
    return out
