"""docs/from-juanji-to-pytorch.md: its example runs and prints what the page says it prints."""

import os
import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "from-juanji-to-pytorch.md"


def test_the_page_example_runs_and_agrees(tmp_path):
    code = re.search(r"```python\n(.*?)```", PAGE.read_text(), re.S).group(1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True, timeout=300).stdout
    assert "torch: max |diff|" in out and "same predictions: 1.0" in out
    assert out.count("same predictions: 1.0") == 2
    assert "round trip exact: True" in out
    diffs = [float(v) for v in re.findall(r"max \|diff\| (\S+)", out)]
    assert len(diffs) == 2 and max(diffs) < 1e-4
    assert float(re.search(r"test accuracy: (\S+)", out).group(1)) > 0.9
    assert (tmp_path / "digits.onnx").exists()
