"""Sphinx configuration: the API reference from the docstrings, the Markdown pages and the
committed notebooks (shown with their stored outputs, never re-executed).

Build (strict: a warning, such as a broken cross-reference, fails it):

    pip install -e '.[docs]'
    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # document the checkout, not an installed copy

project = "juanji"
author = "juanji contributors"
copyright = "juanji contributors, MIT licence"

extensions = [
    "sphinx.ext.autodoc",     # the API pages read the docstrings
    "sphinx.ext.napoleon",    # Google-style Args:/Returns:/Shape: sections
    "sphinx.ext.viewcode",
    "myst_nb",                # Markdown pages (MyST) and .ipynb notebooks
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "notebooks/build.py", "**/.ipynb_checkpoints"]

# The notebooks are committed executed (the test suite runs them); the docs show those outputs.
nb_execution_mode = "off"
nb_merge_streams = True
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = ["Shape"]  # as torch.nn's docstrings: input and output shapes
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"

html_theme = "furo"
html_title = "juanji"
html_static_path = []

# Cross-references are checked (-n): a `:func:` / `:class:` / `:mod:` to a juanji name that does
# not exist fails the strict build. Not checked: other libraries' names (no intersphinx, the
# build is offline), private juanji names, and the free-text types napoleon makes of
# "Returns:" / "Raises:" prose.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:(class|exc|obj)", r"(?!juanji\.).*"),   # numpy.ndarray, pathlib.Path, prose
    (r"py:mod", r"(?!juanji\b).*"),                  # the standard library's gettext, ...
    (r"py:.*", r"(.*\.)?_\w*(\..*)?"),               # private: juanji._atomic, _Pool2D, _()
    (r"py:data", r".*"),                              # module constants (undocumented by autodoc)
]


def _resolve_reexport(app, env, node, contnode):
    """``juanji.nn.Sequential`` (a name a package re-exports) -> where it is documented,
    ``juanji.nn.sequential.Sequential``; a name that does not exist stays unresolved (and fails)."""
    import importlib

    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("juanji."):
        return None
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # the longest importable module prefix
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return None
        break
    else:
        return None
    owner = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not owner or not qualname or f"{owner}.{qualname}" == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node.get("refdoc"), app.builder, node.get("reftype"),
                               f"{owner}.{qualname}", node, contnode)


def setup(app):
    app.connect("missing-reference", _resolve_reexport)
