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
