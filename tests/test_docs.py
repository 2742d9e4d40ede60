"""The documentation builds strictly: any Sphinx warning (a broken cross-reference to a juanji
name, a malformed docstring, a missing page in a toctree) fails this test, as it fails CI.

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_strictly_with_the_api_reference_and_the_notebooks(tmp_path):
    out = tmp_path / "html"
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    layers = (out / "api" / "nn.html").read_text(encoding="utf-8")
    assert 'id="juanji.nn.layers.Conv2D"' in layers
    text = re.sub(r"<[^>]+>", "", layers)
    assert "Shape" in text and "floor((n - f + 2p) / s) + 1" in text  # the Shape: sections
    for notebook in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        page = out / "notebooks" / notebook.relative_to(ROOT / "notebooks").with_suffix(".html")
        html = page.read_text(encoding="utf-8")
        assert "cell_output" in html, f"{page.name} shows no stored output"  # not re-executed
