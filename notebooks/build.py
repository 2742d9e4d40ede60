"""Write the course notebooks (English and Chinese) with nbformat and run them with nbclient, so
they are committed WITH their outputs and read on a code host.

    python notebooks/build.py          # rewrites notebooks/*.ipynb and notebooks/zh/*.ipynb
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent

SETUP = "import numpy as np\nfrom juanji import course\nfrom juanji.course import check"

CONV_CODE = [
    SETUP,
    "np.random.seed(1)\nx = np.random.randn(4, 3, 3, 2)\nx_pad = course.zero_pad(x, 2)\n"
    "x.shape, x_pad.shape",
    "np.random.seed(1)\na_slice_prev = np.random.randn(4, 4, 3)\nW = np.random.randn(4, 4, 3)\n"
    "b = np.random.randn(1, 1, 1)\ncourse.conv_single_step(a_slice_prev, W, b)  # -6.99908945068",
    "np.random.seed(1)\nA_prev = np.random.randn(10, 4, 4, 3)\nW = np.random.randn(2, 2, 3, 8)\n"
    "b = np.random.randn(1, 1, 1, 8)\nZ, cache = course.conv_forward(A_prev, W, b, "
    "{'pad': 2, 'stride': 2})\nZ.shape, np.mean(Z)  # the course: 0.0489952035289",
    "def conv_forward(A_prev, W, b, hparameters):\n"
    "    m, n_H_prev, n_W_prev, _ = A_prev.shape\n    f, _, _, n_C = W.shape\n"
    "    s, p = hparameters['stride'], hparameters['pad']\n"
    "    n_H, n_W = (n_H_prev + 2 * p - f) // s + 1, (n_W_prev + 2 * p - f) // s + 1\n"
    "    A_pad = course.zero_pad(A_prev, p)\n    Z = np.zeros((m, n_H, n_W, n_C))\n"
    "    for i in range(m):\n        for h in range(n_H):\n            for w in range(n_W):\n"
    "                for c in range(n_C):\n"
    "                    a_slice = A_pad[i, h:h + f, w:w + f, :]   # stride forgotten!\n"
    "                    Z[i, h, w, c] = np.sum(a_slice * W[..., c]) + b[0, 0, 0, c]\n"
    "    return Z, (A_prev, W, b, hparameters)\n\ncheck('conv_forward', conv_forward)",
]

TEXT = {
    "en": ["# Convolution, step by step\n\nThe course's functions from `juanji.course`, on the "
           "course's seeded inputs, then the grader on a learner's version with one classic "
           "mistake.",
           "## Zero padding\nOnly height and width are padded; images and channels are not.",
           "## One step\n`Z = sum(a_slice_prev * W) + b`: one filter on one window.",
           "## The forward pass\n`n_H = floor((n_H_prev + 2*pad - f) / stride) + 1`.",
           "## The grader names the mistake\nThis version forgets the stride in the slice; "
           "`check` says which case, where, and why."],
    "zh": ["# 卷积，一步一步\n\n`juanji.course` 里课程的函数，用课程的随机种子输入；然后用评分器检查一个"
           "带有典型错误的学习者版本。",
           "## 零填充\n只填充高和宽；不填充样本维和通道维。",
           "## 单步卷积\n`Z = sum(a_slice_prev * W) + b`：一个滤波器作用在一个窗口上。"
           "参数共享就像一个模具在任何位置印出同样的图案。",
           "## 前向传播\n`n_H = floor((n_H_prev + 2*pad - f) / stride) + 1`。",
           "## 评分器指出错误\n这个版本在切片时忘了步幅；`check` 说明是哪个用例、哪个位置、为什么。"],
}


def build(lang: str) -> Path:
    cells = []
    for text, code in zip(TEXT[lang], CONV_CODE):
        cells += [nbformat.v4.new_markdown_cell(text), nbformat.v4.new_code_cell(code)]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    out = HERE / ("" if lang == "en" else lang) / "01_convolution_step_by_step.ipynb"
    out.parent.mkdir(exist_ok=True)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    nbformat.write(nb, out)
    return out


if __name__ == "__main__":
    for lang in TEXT:
        print(build(lang))
