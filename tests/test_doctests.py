"""Run every docstring example in the package: they are documentation that must stay true."""

import doctest
import importlib
import pkgutil

import pytest

import juanji

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(juanji.__path__, prefix="juanji.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
