"""scripts/test.sh, the README's test command: on a machine without Chromium, Debian's
Fashion-MNIST or a Chinese font it installs what is missing in one apt-get call (apt-get update
first), and leaves a machine that has all three alone. apt-get and fc-list are replaced by fakes
on PATH, so nothing is installed by the test."""

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "test.sh"


def _run(tmp_path, chromium: Path, fashion: Path | None = None, zh_font: bool = True):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    fake = bin_dir / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    fonts = bin_dir / "fc-list"  # what fontconfig would list for :lang=zh
    fonts.write_text("#!/bin/sh\n" + ("echo 'wqy-microhei.ttc: WenQuanYi Micro Hei'\n"
                                       if zh_font else ""))
    fonts.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": str(chromium),
           "FASHION_MNIST_DIR": str(fashion if fashion is not None else tmp_path)}
    r = subprocess.run([str(SCRIPT), "--system-only"], capture_output=True, text=True,
                       env=env, timeout=60)
    return r, (log.read_text().splitlines() if log.exists() else [])


def test_a_bare_machine_gets_debians_chromium(tmp_path):
    r, calls = _run(tmp_path, tmp_path / "no-chromium-here")
    assert r.returncode == 0, r.stderr
    assert calls == ["update -qq", "install -y -qq chromium"]  # update first, then install
    assert "is missing; installing Debian's chromium" in r.stderr


def test_both_missing_are_installed_in_one_apt_call(tmp_path):
    r, calls = _run(tmp_path, tmp_path / "no-chromium-here", tmp_path / "no-fashion-here")
    assert r.returncode == 0, r.stderr
    assert calls == ["update -qq", "install -y -qq chromium dataset-fashion-mnist"]
    assert "installing Debian's dataset-fashion-mnist" in r.stderr


def test_only_fashion_mnist_missing(tmp_path):
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    r, calls = _run(tmp_path, browser, tmp_path / "no-fashion-here")
    assert r.returncode == 0, r.stderr
    assert calls == ["update -qq", "install -y -qq dataset-fashion-mnist"]


def test_a_bare_machine_gets_all_three_in_one_apt_call(tmp_path):
    r, calls = _run(tmp_path, tmp_path / "no-chromium-here", tmp_path / "no-fashion-here",
                    zh_font=False)
    assert r.returncode == 0, r.stderr
    assert calls == ["update -qq",
                     "install -y -qq chromium dataset-fashion-mnist fonts-wqy-microhei"]
    assert "no Chinese font; installing Debian's fonts-wqy-microhei" in r.stderr


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
