"""Keep juanji's message catalogs in step with the code (Babel, the `i18n` extra).

    python scripts/i18n.py extract   # src/juanji -> locale/juanji.pot, merged into the zh .po
    python scripts/i18n.py compile   # locale/zh/LC_MESSAGES/juanji.po -> juanji.mo
    python scripts/i18n.py check     # exit 1 when a message is untranslated, fuzzy or stale

The workflow: mark a string with ``_()`` (``from juanji.i18n import _``), run ``extract``
(new messages arrive in the .po empty, changed ones marked fuzzy), translate them in the .po,
run ``compile`` and commit the .pot, .po and .mo together. tests/test_i18n.py runs the same
checks as ``check``.
"""
from __future__ import annotations

import argparse
import gettext
import io
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "juanji"
LOCALE = PACKAGE / "locale"
POT = LOCALE / "juanji.pot"
LANGUAGES = ("zh",)  # English is the msgids themselves
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
WIDTH = 100  # the code's line length; wrapped lines keep diffs small


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "juanji.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def extract() -> Catalog:
    """Every marked string of src/juanji, as a template catalog (locations without line
    numbers, so moving code does not churn the files)."""
    template = Catalog(project="juanji", version="0.1", copyright_holder="the juanji authors",
                       msgid_bugs_address="", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        template.add(message, None, [(f"src/juanji/{filename}", lineno)],
                     auto_comments=comments, context=context,
                     flags=("python-brace-format",) if _has_fields(message) else ())
    return template


def _fields(text: str) -> set[str]:
    """The ``{name}`` fields of a str.format string."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:  # not a format string (an unbalanced brace); compared as such
        return {"<unparsable>"}


def _has_fields(message) -> bool:
    texts = message if isinstance(message, tuple) else (message,)
    return any(_fields(t) for t in texts)


def _read(path: Path) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f)


def _write_po(path: Path, catalog: Catalog) -> None:
    from juanji._atomic import atomic_write_bytes

    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, include_lineno=False, ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def compiled(catalog: Catalog) -> bytes:
    """The .mo bytes of ``catalog`` (fuzzy messages left out, as gettext would)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def cmd_extract() -> None:
    template = extract()
    if POT.exists():  # the same messages keep the old date, so the files change only with them
        old = _read(POT)
        if {_key(m) for m in old if m.id} == {_key(m) for m in template if m.id}:
            template.creation_date = old.creation_date
    _write_po(POT, template)
    for lang in LANGUAGES:
        path = po_path(lang)
        catalog = (_read(path) if path.exists() else
                   Catalog(locale=lang, project="juanji", last_translator="juanji",
                           language_team=lang))
        catalog.update(template)  # new msgids empty, near matches fuzzy, vanished ones dropped
        catalog.fuzzy = False  # the header; each message keeps its own flag
        _write_po(path, catalog)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages")


def cmd_compile() -> None:
    from juanji._atomic import atomic_write_bytes

    for lang in LANGUAGES:
        atomic_write_bytes(mo_path(lang), compiled(_read(po_path(lang))))
        print(mo_path(lang).relative_to(ROOT))


def _key(message) -> tuple:
    return (message.context, message.id)


def problems() -> list[str]:
    """Everything wrong with the catalogs, one line each (empty when all is well)."""
    out = []
    source = {_key(m) for m in extract() if m.id}
    template = {_key(m) for m in _read(POT) if m.id}
    out += [f"juanji.pot lacks {k[1]!r} (run scripts/i18n.py extract)" for k in source - template]
    out += [f"juanji.pot has {k[1]!r}, no longer in the code (run scripts/i18n.py extract)"
            for k in template - source]
    for lang in LANGUAGES:
        catalog = _read(po_path(lang))
        entries = {_key(m): m for m in catalog if m.id}
        for key in sorted(source, key=str):
            m = entries.get(key)
            ids = key[1] if isinstance(key[1], tuple) else (key[1],)
            strs = () if m is None else (m.string if isinstance(m.string, tuple)
                                         else (m.string,))
            if m is None or not all(strs):
                out.append(f"{lang}: no translation of {ids[0]!r}")
            elif m.fuzzy:
                out.append(f"{lang}: the translation of {ids[0]!r} is fuzzy (check it, then "
                           f"remove the fuzzy flag)")
            elif any(_fields(s) != _fields(ids[0]) for s in strs):
                out.append(f"{lang}: the translation of {ids[0]!r} has fields "
                           f"{sorted(_fields(strs[0]))}, the English {sorted(_fields(ids[0]))}")
        mo = mo_path(lang)
        if not mo.exists():
            out.append(f"{lang}: {mo.name} is missing (run scripts/i18n.py compile)")
        else:
            with open(mo, "rb") as f:
                shipped = gettext.GNUTranslations(f)._catalog  # noqa: SLF001
            fresh = gettext.GNUTranslations(io.BytesIO(compiled(catalog)))._catalog
            if shipped != fresh:
                out.append(f"{lang}: {mo.name} does not match {po_path(lang).name} "
                           f"(run scripts/i18n.py compile)")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("extract", "compile", "check"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    if args.command == "extract":
        cmd_extract()
    elif args.command == "compile":
        cmd_compile()
    else:
        found = problems()
        for line in found:
            print(line)
        print(f"{len(found)} problem(s)" if found else "catalogs complete and compiled")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
