"""scripts/test.sh, the README's test command: on a machine without Chromium it installs Debian's
(apt-get update first), and leaves a machine that has it alone. apt-get is replaced by a
recorder on PATH, so nothing is installed by the test."""

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "test.sh"


def _run(tmp_path, chromium: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    fake = bin_dir / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": str(chromium)}
    r = subprocess.run([str(SCRIPT), "--browser-only"], capture_output=True, text=True,
                       env=env, timeout=60)
    return r, (log.read_text().splitlines() if log.exists() else [])


def test_a_bare_machine_gets_debians_chromium(tmp_path):
    r, calls = _run(tmp_path, tmp_path / "no-chromium-here")
    assert r.returncode == 0, r.stderr
    assert calls == ["update -qq", "install -y -qq chromium"]  # update first, then install
    assert "is missing; installing Debian's chromium" in r.stderr


def test_a_machine_with_chromium_is_left_alone(tmp_path):
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    r, calls = _run(tmp_path, browser)
    assert r.returncode == 0, r.stderr
    assert calls == []


def test_ci_runs_the_same_script():
    ci = (SCRIPT.parents[1] / ".ci" / "run").read_text()
    assert "exec scripts/test.sh" in ci
