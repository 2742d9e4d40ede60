"""The README's sample outputs are what the code prints: scripts/readme_samples.py --check runs
every command shown between readme-sample markers and fails on a difference (timings excepted;
a trained model's decimals within the script's tolerance, since CPUs differ in the last bits)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "readme_samples.py"


def check(readme: Path):
    return subprocess.run([sys.executable, str(SCRIPT), "--check", "--readme", str(readme)],
                          capture_output=True, text=True, timeout=900)


def test_the_readme_samples_match_the_code():
    r = check(ROOT / "README.md")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every sample matches what the code prints" in r.stdout


def test_a_drifted_sample_fails_with_a_diff(tmp_path):
    readme = tmp_path / "README.md"
    sample = ('<!-- readme-sample [{"run": "juanji explain size 8 3 --stride 2", '
              '"lines": "-1:"}] -->\n'
              '```\n$ juanji explain size 8 3 --stride 2\n...\nPLACEHOLDER\n```\n')
    # what the code prints, written by the script itself
    readme.write_text(sample)
    r = subprocess.run([sys.executable, str(SCRIPT), "--readme", str(readme)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    good = readme.read_text()
    assert "PLACEHOLDER" not in good and "input index 7 is never read" in good
    assert check(readme).returncode == 0
    # a changed number is caught and shown
    readme.write_text(good.replace("input index 7", "input index 6"))
    r = check(readme)
    assert r.returncode == 1
    assert "-for a next stride: input index 6 is never read" in r.stdout
    assert "+for a next stride: input index 7 is never read" in r.stdout
    assert "samples differ from the code" in r.stderr


def test_timings_are_the_only_thing_normalised():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import readme_samples
    finally:
        sys.path.remove(str(SCRIPT.parent))
    assert readme_samples.normalise("time 15.8 s, 2,105 img/s") == "time <time>, <time>"
    assert readme_samples.normalise("max_abs_saliency 0.816") == "max_abs_saliency 0.816"
    assert readme_samples.select(list("abcdef"), "1:3,-1:", True) == ["...", "b", "c", "...",
                                                                      "f"]
    assert readme_samples.select(list("abc"), "-2:", False) == ["b", "c"]


def test_the_tolerance_takes_a_cpus_last_bits_not_a_drift():
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_samples", SCRIPT)
    rs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rs)
    # seen between an AVX2 and an AVX-512 OpenBLAS kernel: the same model, other last bits
    assert rs.samples_match("│ 1 │ 7 │ 89.61% │ 2 │ 3 │ 7.39% ─── 1.8397252559661865",
                            "│ 1 │ 7 │ 89.35% │ 2 │ 3 │ 9.32% ───── 1.8021059036254883")
    assert not rs.samples_match('"max_abs_saliency": 0.816', '"max_abs_saliency": 1.988')
    assert not rs.samples_match("accuracy 98.61%", "accuracy 91.20%")
    assert not rs.samples_match("│ 1 │ 7 │", "│ 1 │ 4 │")  # a label is exact
    assert not rs.samples_match("test accuracy", "test acc")  # and so are the words
