"""`juanji check FILE.py`: grades the course functions a learner's file defines."""
import subprocess
import sys
from pathlib import Path

LEARNER = Path(__file__).parents[1] / "course" / "learner.py"


def juanji(*args, cwd):
    return subprocess.run([sys.executable, "-m", "juanji", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_right_file_passes_every_function(tmp_path):
    r = juanji("check", LEARNER, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("zero_pad", "conv_forward", "conv_backward", "pool_backward"):
        assert name in r.stdout
    assert "passed" in r.stdout and "FAILED" not in r.stdout


def test_wrong_function_is_named_with_its_mistake(tmp_path):
    sol = tmp_path / "sol.py"
    sol.write_text("import numpy as np\n"
                   "def distribute_value(dz, shape):\n"
                   "    n_H, n_W = shape\n"
                   "    return np.ones(shape) * dz / n_H\n"
                   "def create_mask_from_window(x):\n"
                   "    return x == np.max(x)\n"
                   "def helper():\n"
                   "    pass\n")
    r = juanji("check", sol, cwd=tmp_path)
    assert r.returncode == 1
    assert "FAILED" in r.stdout and "n_H * n_W" in r.stdout and "passed" in r.stdout
    assert "helper" not in r.stdout


def test_missing_file_and_file_without_course_functions(tmp_path):
    r = juanji("check", tmp_path / "nope.py", cwd=tmp_path)
    assert r.returncode == 2 and "nope.py" in r.stderr
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    r = juanji("check", empty, cwd=tmp_path)
    assert r.returncode == 2 and "none of the course's functions" in r.stderr
