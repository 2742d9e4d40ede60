"""The message catalogs: every marked string translated (not fuzzy, same fields), the .pot in step
with the code, the shipped .mo compiled from the .po; and the runtime API (juanji.i18n)."""
import ast
import gettext
import importlib.util
import shutil
from pathlib import Path

import pytest

from juanji import i18n

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "juanji"
MARKERS = {"_": 1, "N_": 1, "ngettext": 2, "pgettext": 2}


@pytest.fixture(scope="module")
def script():
    """scripts/i18n.py, the maintainers' extract / compile / check tool (Babel)."""
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def follow_locale():
    yield
    i18n.set_language(None)


# --- the catalogs -----------------------------------------------------------------------------

def test_every_message_translated_and_mo_compiled(script):
    """Fails on a msgid of the code missing from the .pot, a zh msgstr empty or fuzzy or with
    other {fields} than the English, and a .mo that is not the .po compiled."""
    assert script.problems() == []


def _call_sites():
    """(file, line, msgid or None, context) of every _() / N_() / ngettext() / pgettext() call in
    src/juanji, f-strings included; msgid None when an argument is not a string literal (allowed
    only on a line that says ``# ... marked with N_``: the literals are checked at the N_ call)."""
    for path in sorted(SRC.rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in MARKERS):
                continue
            if path.name == "i18n.py" and node.func.id in MARKERS:
                continue  # the API's own definitions and doctests
            args = node.args[:MARKERS[node.func.id]]
            if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                if not lines[node.lineno - 1].endswith("marked with N_"):
                    yield path, node.lineno, None, None
            elif node.func.id == "pgettext":
                yield path, node.lineno, args[1].value, args[0].value
            else:
                yield path, node.lineno, args[0].value, None


def test_every_call_site_string_is_in_the_catalog():
    """Read with Python's own parser, independently of Babel's extractor (which skips calls
    inside f-strings): each marked literal must be a msgid of the compiled zh catalog."""
    with open(SRC / "locale" / "zh" / "LC_MESSAGES" / "juanji.mo", "rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    ids = {k if isinstance(k, str) else k[0] for k in catalog}
    sites = list(_call_sites())
    assert len(sites) > 150
    bad = [f"{p.relative_to(ROOT)}:{line}: " + ("not a string literal" if msgid is None else
                                                 f"{msgid!r} not in the catalog")
           for p, line, msgid, ctx in sites
           if msgid is None or (msgid if ctx is None else f"{ctx}\x04{msgid}") not in ids]
    assert bad == []


def test_no_module_that_translates_rebinds_underscore():
    """``x, _ = ...`` in a function that also calls ``_()`` makes ``_`` local: UnboundLocalError."""
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        imports_it = any(isinstance(n, ast.ImportFrom) and n.module and "i18n" in n.module
                         and any(a.name == "_" for a in n.names) for n in ast.walk(tree))
        if imports_it:
            bad += [f"{path.name}:{n.lineno}" for n in ast.walk(tree)
                    if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)]
    assert bad == []


def _copy_locale(script, tmp_path, monkeypatch):
    locale = tmp_path / "locale"
    shutil.copytree(script.LOCALE, locale)
    monkeypatch.setattr(script, "LOCALE", locale)
    monkeypatch.setattr(script, "POT", locale / "juanji.pot")
    return locale / "zh" / "LC_MESSAGES" / "juanji.po"


def test_the_check_catches_a_stale_mo_and_a_missing_translation(script, tmp_path, monkeypatch):
    po = _copy_locale(script, tmp_path, monkeypatch)
    text = po.read_text()
    assert 'msgstr "通过"' in text
    po.write_text(text.replace('msgstr "通过"', 'msgstr "过了"', 1))
    assert any("does not match" in p for p in script.problems())  # the .mo is now stale
    po.write_text(text.replace('msgstr "通过"', 'msgstr ""', 1))
    found = script.problems()
    assert "zh: no translation of 'passed'" in found


def test_the_check_catches_fuzzy_and_mismatched_fields(script, tmp_path, monkeypatch):
    po = _copy_locale(script, tmp_path, monkeypatch)
    text = po.read_text()
    old = 'msgstr "已写入 {path}"'
    assert old in text
    po.write_text(text.replace(old, 'msgstr "已写入 {file}"'))
    assert any("'wrote {path}' has fields ['file']" in p for p in script.problems())
    po.write_text(text.replace('msgid "wrote {path}"', '#, fuzzy\nmsgid "wrote {path}"'))
    assert any("'wrote {path}' is fuzzy" in p for p in script.problems())


# --- the runtime API --------------------------------------------------------------------------

@pytest.mark.parametrize("environ, expected", [
    ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "zh_TW"}, "zh"), ({"LC_MESSAGES": "zh"}, "zh"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL wins
    ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),  # an empty variable is skipped
    ({"LANG": "en_GB.UTF-8"}, "en"), ({}, "en"), ({"LANG": "C"}, "en"),
])
def test_default_language_from_the_locale(environ, expected):
    assert i18n.default_language(environ) == expected


def test_set_language_and_the_context_manager():
    i18n.set_language("zh")
    assert i18n.get_language() == "zh" and i18n._("passed") == "通过"
    with i18n.language("en"):
        assert i18n._("passed") == "passed"
    assert i18n._("passed") == "通过"
    assert i18n.ngettext("{n} case", "{n} cases", 3).format(n=3) == "3 个用例"
    i18n.set_language("en")
    assert i18n.ngettext("{n} case", "{n} cases", 1).format(n=1) == "1 case"
    assert i18n._("a message nobody marked") == "a message nobody marked"


@pytest.mark.parametrize("bad", ["fr", "zh_CN", "", 1])
def test_unknown_language_is_refused_naming_the_argument(bad):
    with pytest.raises(ValueError, match=r"`lang` must be one of \('en', 'zh'\), got "):
        i18n.set_language(bad)
    with pytest.raises(ValueError, match="`lang`"):
        with i18n.language(bad):
            pass
    with pytest.raises(ValueError, match="`lang`"):
        i18n.catalog_dict(bad)


def test_catalog_dict_for_a_page():
    zh, en = i18n.catalog_dict("zh"), i18n.catalog_dict("en")
    assert zh.keys() == en.keys() and len(zh) > 150
    assert zh["passed"] == "通过" and en["passed"] == "passed"
    assert all(v for v in zh.values()) and "" not in zh  # no header, no empty text
    assert i18n.catalog_dict("zh", "no such context") == {}
    with pytest.raises(TypeError, match="`context`"):
        i18n.catalog_dict("zh", 3)


def test_pgettext_keeps_contexts_apart(tmp_path, monkeypatch):
    """A msgctxt entry is found by pgettext and by catalog_dict(lang, context) only."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="zh")
    catalog.add("input", "输入")
    catalog.add("input", "输入层", context="page")
    (tmp_path / "zh" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "zh" / "LC_MESSAGES" / "juanji.mo", "wb") as f:
        write_mo(f, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n._translations.cache_clear()
    try:
        with i18n.language("zh"):
            assert i18n.pgettext("page", "input") == "输入层" and i18n._("input") == "输入"
        assert i18n.catalog_dict("zh", "page") == {"input": "输入层"}
        assert i18n.catalog_dict("en", "page") == {"input": "input"}
        assert i18n.catalog_dict("zh") == {"input": "输入"}
    finally:
        i18n._translations.cache_clear()


def test_a_missing_mo_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n._translations.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="scripts/i18n.py compile"):
            with i18n.language("zh"):
                i18n._("passed")
    finally:
        i18n._translations.cache_clear()


def test_the_mo_files_ship_as_package_data():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["juanji"]
    assert "locale/*/LC_MESSAGES/*.mo" in patterns
