"""``--lang en|zh`` on juanji check and juanji explain, and the default from the locale."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from juanji.cli import main

WRONG = ("import numpy as np\n"
         "def distribute_value(dz, shape):\n"
         "    n_H, n_W = shape\n"
         "    return np.ones(shape) * dz / n_H\n"
         "def create_mask_from_window(x):\n"
         "    return x == np.max(x)\n")


def juanji(*args, lang_env=None, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    if lang_env:
        env["LANG"] = lang_env
    return subprocess.run([sys.executable, "-m", "juanji", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def solution(tmp_path) -> Path:
    path = tmp_path / "sol.py"
    path.write_text(WRONG)
    return path


@pytest.mark.parametrize("where", ["after", "before"])
def test_check_in_chinese(solution, tmp_path, where):
    args = (["check", solution, "--lang", "zh"] if where == "after" else
            ["--lang", "zh", "check", solution])
    r = juanji(*args, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "函数" in r.stdout and "结果" in r.stdout and "详情" in r.stdout
    assert "未通过" in r.stdout and "通过" in r.stdout and "2 个用例" in r.stdout
    assert "平均值没有除以 n_H * n_W" in r.stdout and "可能的原因" in r.stdout
    assert "FAILED" not in r.stdout and "Likely" not in r.stdout


def test_language_from_the_locale_and_lang_overrides_it(solution, tmp_path):
    zh = juanji("check", solution, lang_env="zh_CN.UTF-8", cwd=tmp_path)
    assert "未通过" in zh.stdout and "FAILED" not in zh.stdout
    en = juanji("check", solution, "--lang", "en", lang_env="zh_CN.UTF-8", cwd=tmp_path)
    assert "FAILED" in en.stdout and "未通过" not in en.stdout
    plain = juanji("check", solution, lang_env="en_US.UTF-8", cwd=tmp_path)
    assert "FAILED" in plain.stdout and "Likely:" in plain.stdout


def test_unknown_language_is_a_usage_error(solution, tmp_path):
    r = juanji("check", solution, "--lang", "fr", cwd=tmp_path)
    assert r.returncode == 2 and "--lang" in r.stderr and "invalid choice: 'fr'" in r.stderr


def test_usage_errors_of_check_in_chinese(tmp_path):
    r = juanji("check", tmp_path / "nope.py", "--lang", "zh", cwd=tmp_path)
    assert r.returncode == 2 and "nope.py" in r.stderr and "不存在" in r.stderr


@pytest.mark.parametrize("args, chinese, english", [
    (["explain", "size", "8", "3", "--stride", "2"], ["输出尺寸 3", "向下取整丢掉了余数"],
     ["output size", "floor throws away"]),
    (["explain", "pool", "--mode", "max", "--input", "1 3 2 1; 2 9 1 1; 1 3 2 3; 5 6 1 2",
      "--kernel", "3", "--stride", "1", "--dy", "1 2; 3 4"], ["最大池化", "重叠的窗口"],
     ["max pooling", "overlapping windows", "forward:"]),
    (["explain", "conv", "--input", "1 3 2; 2 9 1; 1 3 2", "--kernel", "1 0; 0 -1"],
     ["卷积：输入", "偏置"], ["convolution:", "kernel tap", "bias"]),
    (["explain", "sharing", "--conv", "6x5", "--input-shape", "32,32,3"],
     ["参数共享", "模具"], ["parameter sharing", "dense equivalent"]),
    (["explain", "sparsity", "course"], ["稀疏连接", "猫", "感受野"],
     ["sparse connectivity", "receptive field"]),
    (["explain", "network", "lenet5"], ["网络，逐层", "激活数"], ["activation size", "total"]),
])
def test_explain_in_both_languages(capsys, args, chinese, english):
    assert main([*args, "--lang", "zh"]) == 0
    zh = capsys.readouterr().out
    assert all(word in zh for word in chinese), zh
    assert not any(word in zh for word in english), zh
    assert main([*args, "--lang", "en"]) == 0
    en = capsys.readouterr().out
    assert all(word in en for word in english), en


def test_json_keys_stay_english_and_sentences_follow_the_language(capsys):
    import json

    assert main(["explain", "size", "8", "3", "--stride", "2", "--json", "--lang", "zh"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["output"] == 3 and "不是整数" in r["explanation"][0]


@pytest.mark.parametrize("args", [["explain", "pool", "--help"], ["explain", "conv", "--help"],
                                  ["check", "--help"], ["explain", "--help"]])
def test_help_in_chinese_fits_80_columns(tmp_path, args):
    """--lang is read before the parser is built, so the help speaks it; lines are wrapped by
    display width (a Chinese character is two columns)."""
    from rich.cells import cell_len

    env_cols = {"COLUMNS": "80"}
    r = subprocess.run([sys.executable, "-m", "juanji", *args, "--lang", "zh"], cwd=tmp_path,
                       env={**os.environ, **env_cols}, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in r.stdout) > 10
    assert max(cell_len(line) for line in r.stdout.splitlines()) <= 80


def test_lang_before_parsing():
    from juanji.cli import _lang_in

    assert _lang_in(["explain", "size", "3", "1", "--lang", "zh"]) == "zh"
    assert _lang_in(["--lang=zh", "check", "x.py"]) == "zh"
    assert _lang_in(["check", "--lang", "fr"]) is None  # argparse reports it
    assert _lang_in(["check", "--", "--lang", "zh"]) is None
    assert _lang_in(["check", "--lang"]) is None


def test_a_usage_error_of_explain_in_chinese(capsys):
    with pytest.raises(SystemExit) as e:
        main(["explain", "conv", "--kernel", "1 2 3; 4 5 6; 1 1 1", "--size", "2", "--lang", "zh"])
    assert e.value.code == 2
    assert "窗口哪里都放不下" in capsys.readouterr().err
