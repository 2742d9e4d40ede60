"""Write the course notebooks (English, and Chinese where a zh text exists) with nbformat and run
them with nbclient, so they are committed WITH their outputs and read on a code host.

    python notebooks/build.py                  # rewrites every notebook, both languages
    python notebooks/build.py 02 04            # only these (by number), every language they have

Each notebook is a list of code cells and, per language, one Markdown cell before each code cell
(``TEXT[lang][i]`` explains ``CODE[i]``). Adding a language to a notebook is adding its list.
"""
from __future__ import annotations

import argparse
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

CONV_TEXT = {
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



def _code(text: str) -> str:
    """A code cell's source from an indented triple-quoted block."""
    import textwrap
    return textwrap.dedent(text).strip("\n")


# ------------------------------------------------------------------ 02 pooling and output size
POOL_CODE = [_code('''
    import numpy as np
    from juanji import course
    from juanji.course import check
    from juanji.explain.pool import explain_pool
    from juanji.explain.size import explain_size
    from juanji.functional.sizes import output_size
    from juanji.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, summary
    '''), _code('''
    x = np.array([[1., 3., 2., 1.],
                  [4., 6., 5., 0.],
                  [3., 2., 1., 2.],
                  [1., 8., 0., 3.]])               # one 4x4 channel
    A_prev = x[None, :, :, None]                  # (m, n_H, n_W, n_C) = (1, 4, 4, 1)
    A_max, _ = course.pool_forward(A_prev, {"f": 2, "stride": 2}, mode="max")
    A_avg, _ = course.pool_forward(A_prev, {"f": 2, "stride": 2}, mode="average")
    print("max\\n", A_max[0, :, :, 0])              # (2, 2)
    print("average\\n", A_avg[0, :, :, 0])
    '''), _code('''
    explain_size(5, 2, stride=2)      # n=5, f=2, s=2: floor(3/2) + 1 = 2, the last row is never read
    '''), _code('''
    print(" n   f  s  p   floor (juanji)   ceil   windows that fit")
    for n, f, s, p in [(5, 2, 2, 0), (6, 3, 2, 0), (7, 3, 2, 1), (32, 5, 1, 0), (28, 2, 2, 0)]:
        out = output_size(n, f, stride=s, padding=p)
        ceil = -(-(n - f + 2 * p) // s) + 1
        fits = len(range(0, n + 2 * p - f + 1, s))    # every start k*s whose window fits
        print(f"{n:2d} {f:3d} {s:2d} {p:2d} {out:9d} {ceil:13d} {fits:8d}")
    '''), _code('''
    rng = np.random.default_rng(0)
    A_prev = rng.standard_normal((2, 6, 6, 3))                # 2 images, 3 channels
    A, _ = course.pool_forward(A_prev, {"f": 2, "stride": 2}, mode="max")
    one_by_one = np.stack([course.pool_forward(A_prev[..., c:c + 1], {"f": 2, "stride": 2})[0][..., 0]
                           for c in range(3)], axis=-1)       # (2, 3, 3, 3)
    A_prev.shape, A.shape, bool(np.array_equal(A, one_by_one))
    '''), _code('''
    pool = MaxPool2D(2)
    pool.build((28, 28, 8), np.random.default_rng(0)), pool.parameters()
    '''), _code('''
    model = Sequential([Conv2D(8, 5), ReLU(), MaxPool2D(2), Conv2D(16, 5), ReLU(), MaxPool2D(2),
                        Flatten(), Dense(10)], (32, 32, 3))
    summary(model)
    '''), _code('''
    explain_pool(np.arange(9.0).reshape(3, 3, 1), "max", 2, stride=1,
                 dy=np.ones((2, 2, 1)))     # overlapping windows: the centre wins all four
    '''), _code('''
    def pool_forward(A_prev, hparameters, mode="max"):
        m, n_H_prev, n_W_prev, n_C = A_prev.shape
        f, s = hparameters["f"], hparameters["stride"]
        n_H, n_W = (n_H_prev - f) // s + 1, (n_W_prev - f) // s + 1
        A = np.zeros((m, n_H, n_W, n_C))
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        window = A_prev[i, h * s:h * s + f, w * s:w * s + f, :]  # every channel!
                        A[i, h, w, c] = np.max(window) if mode == "max" else np.mean(window)
        return A, (A_prev, hparameters)

    check("pool_forward", pool_forward)
    '''),
]

POOL_TEXT = {"en": [
    "# Pooling and the output-size formula\n\n"
    "Pooling shrinks a feature map the way a thumbnail shrinks a photo: the outline and what "
    "stands out are kept, the detail is dropped. Max pooling keeps the largest value of each "
    "window, average pooling its mean. Nothing is multiplied and nothing is learned.",
    "## Max and average pooling on one channel\n"
    "A 2x2 window with stride 2 cuts the 4x4 map into four blocks; each block becomes one number.",
    "## The output size: floor\n"
    "Pooling and convolution share one formula, `out = floor((n - f + 2p) / s) + 1`. Think of "
    "cropping a picture: the window and the stride decide what is left. When `(n - f + 2p) / s` "
    "is not whole, the floor throws the remainder away: those last rows are never read.",
    "The floor is the rule (the course's, PyTorch's and juanji's default): it equals the number "
    "of windows that fit. A ceil gives one more window, which would hang over the edge.",
    "## Every channel on its own\n"
    "Pooling runs on each channel separately, so the number of channels does not change: "
    "pooling all channels at once equals pooling them one by one.",
    "## No learnable parameters\n"
    "Pooling has hyperparameters only (f, s, p, mode): a built `MaxPool2D` has an empty "
    "parameter list.",
    "In a model's summary the pooling rows cut the activation size by 4 and add 0 parameters.",
    "## Overlapping windows, forward and backward\n"
    "With stride 1 < f the windows overlap. `explain_pool` shows every window, its winner, and "
    "where the gradient goes (the next notebook is about that backward pass).",
    "## A classic mistake, named\n"
    "This `pool_forward` takes the max over all channels of the window at once. The grader "
    "runs it on cases built to expose each classic mistake and says which one it is.",
], "zh": [
    '# 池化与输出尺寸公式\n\n池化缩小特征图，就像把照片缩成缩略图：保留轮廓和突出的部分，丢'
    '掉细节。最大池化保留每个窗口里最大的值，平均池化保留它的平均值。池化不做乘法，也不学习任'
    '何东西。',
    '## 单个通道上的最大池化和平均池化\n2x2 的窗口、步幅 2，把 4x4 的特征图切成'
    '四块；每一块变成一个数。',
    '## 输出尺寸：向下取整\n池化和卷积共用一个公式，`out = floor((n - f'
    ' + 2p) / s) + 1`。想象裁剪一张照片：窗口和步幅决定留下什么。当 `(n '
    '- f + 2p) / s` 不是整数时，向下取整丢掉余数：最后那几行从未被读到。',
    '向下取整是规则（课程的、PyTorch 的、juanji 默认的）：它等于放得下的窗口个'
    '数。向上取整会多出一个窗口，它会越过边缘。',
    '## 每个通道单独池化\n池化在每个通道上分别进行，所以通道数不变：一次池化所有通道，等于'
    '逐个通道池化。',
    '## 没有可学习参数\n池化只有超参数（f、s、p、模式）：搭建好的 `MaxPool2D'
    '` 参数列表是空的。',
    '在模型的摘要里，池化层把激活数缩小为 1/4，参数个数为 0。',
    '## 重叠的窗口，前向与反向\n步幅 1 < f 时窗口会重叠。`explain_pool'
    '` 显示每个窗口、它的最大值，以及梯度送到哪里（下一个笔记本讲反向传播）。',
    '## 一个典型错误，被指出来\n这个 `pool_forward` 一次对窗口的所有通道取'
    '最大值。评分器用专门暴露各种典型错误的用例运行它，并指出是哪一种错误。',
]}

# ------------------------------------------------------------------------ 03 the backward pass
BACKWARD_CODE = [_code('''
    import numpy as np
    from juanji import course
    from juanji.course import check
    from juanji.explain.conv import explain_conv
    from juanji.nn import Flatten
    '''), _code('''
    flatten = Flatten()
    flatten.build((5, 5, 16), np.random.default_rng(0))
    a = np.random.default_rng(1).standard_normal((2, 5, 5, 16))   # POOL2's output, 2 images
    flat = flatten.forward(a)                                      # (2, 400)
    d_flat = np.ones_like(flat)                                    # dL/d(flat), from FC3
    d_a = flatten.backward(d_flat)                                 # un-flatten: (2, 5, 5, 16)
    flat.shape, d_a.shape, bool(np.array_equal(d_a.reshape(2, 400), d_flat))
    '''), _code('''
    window = np.array([[1., 3.],
                       [4., 2.]])
    print(course.create_mask_from_window(window))       # True where the max was
    print(course.distribute_value(2.0, (2, 2)))         # average pooling: dz / (f*f) each
    '''), _code('''
    A_prev = np.arange(9.0).reshape(1, 3, 3, 1)          # (m, n_H, n_W, n_C)
    hp = {"f": 2, "stride": 1}                           # overlapping windows
    A, cache = course.pool_forward(A_prev, hp, mode="max")
    dA_prev = course.pool_backward(np.ones_like(A), cache, mode="max")
    print(A_prev[0, :, :, 0], "\\n->\\n", dA_prev[0, :, :, 0])
    '''), _code('''
    np.random.seed(1)
    A_prev = np.random.randn(10, 4, 4, 3)
    W = np.random.randn(2, 2, 3, 8)
    b = np.random.randn(1, 1, 1, 8)
    Z, cache = course.conv_forward(A_prev, W, b, {"pad": 2, "stride": 2})
    dA, dW, db = course.conv_backward(Z, cache)
    print("dA_mean =", np.mean(dA))     # the course: 1.45243777754
    print("dW_mean =", np.mean(dW))     # the course: 1.72699145831
    print("db_mean =", np.mean(db))     # the course: 7.83923256462
    '''), _code('''
    x = np.arange(16.0).reshape(4, 4, 1) / 10                 # one 4x4 image, one channel
    kernel = np.array([[1., -1.], [2., 0.5]])[:, :, None]     # (kh, kw, C)
    dy = np.array([[1., 0., -1.], [0., 2., 0.], [1., 1., 1.]])  # dZ, (Ho, Wo)
    explain_conv(x, kernel, 0.1, dy=dy, weight=(0, 0, 0), pixel=(1, 1, 0))
    '''), _code('''
    def conv_backward(dZ, cache):
        A_prev, W, b, hparameters = cache
        m, n_H, n_W, n_C = dZ.shape
        f, s, p = W.shape[0], hparameters["stride"], hparameters["pad"]
        A_prev_pad = course.zero_pad(A_prev, p)
        dA_prev_pad = np.zeros_like(A_prev_pad)
        dW, db = np.zeros_like(W), np.zeros((1, 1, 1, n_C))
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vs, hs = h * s, w * s
                        a_slice = A_prev_pad[i, vs:vs + f, hs:hs + f, :]
                        dA_prev_pad[i, vs:vs + f, hs:hs + f, :] += W[..., c] * dZ[i, h, w, c]
                        dW[..., c] = a_slice * dZ[i, h, w, c]       # = instead of +=
                        db[..., c] += dZ[i, h, w, c]
        dA_prev = dA_prev_pad[:, p:dA_prev_pad.shape[1] - p, p:dA_prev_pad.shape[2] - p, :]
        return dA_prev, dW, db

    check("conv_backward", conv_backward)
    '''), _code('''
    def pool_backward(dA, cache, mode="max"):
        A_prev, hparameters = cache
        f, s = hparameters["f"], hparameters["stride"]
        m, n_H, n_W, n_C = dA.shape
        dA_prev = np.zeros_like(A_prev)
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vs, hs = h * s, w * s
                        if mode == "max":
                            window = A_prev[i, vs:vs + f, hs:hs + f, c]
                            mask = window == np.max(window)
                            dA_prev[i, vs:vs + f, hs:hs + f, c] += mask * dA[i, h, w, c]
                        else:
                            dA_prev[i, vs:vs + f, hs:hs + f, c] += dA[i, h, w, c]  # not / (f*f)
        return dA_prev

    check("pool_backward", pool_backward)
    '''),
]

BACKWARD_TEXT = {"en": [
    "# The backward pass: un-flatten, pooling, convolution\n\n"
    "Backpropagation runs from the loss to the first layer. Picture a kitchen: guests score "
    "each dish, and every cook traces how their own steps moved the score. A weight's gradient "
    "gathers its share from every output it touched.",
    "## Un-flatten\n"
    "The fully connected layers hand back a gradient of shape (N, 400). Before pooling can use "
    "it, it is reshaped back to the pooling output's shape (N, 5, 5, 16): the same numbers in "
    "the same order.",
    "## Through pooling: routing, no parameters\n"
    "Max pooling sends each output's whole gradient to the cell that held the max (a mask); "
    "every other cell of the window gets 0. Average pooling splits it equally, `dz / (f*f)` "
    "per cell. (On a tie the course's mask marks every tied cell; PyTorch and juanji's fast "
    "op pick the first one; `juanji.course` follows the course.)",
    "Where windows overlap (stride < f), a cell collects the sum of what every window it lies "
    "in sends it: the centre cell, 4, won all four windows and receives 4.",
    "## Through the convolution, on the course's values\n"
    "Every output pixel was made from one window, the whole kernel and the bias, so its "
    "gradient reaches all of them. `juanji.course.conv_backward` reproduces the course's "
    "published means.",
    "## dW, db and dA_prev as sums\n"
    "A kernel weight's gradient is the sum, over every output it touched, of (the output's "
    "gradient x the input value it met); the bias's is the sum of the output gradients; an "
    "input pixel's is the sum, over every window it lies in, of (output gradient x kernel "
    "weight). `explain_conv` writes each sum out term by term and checks it against the op.",
    "## Deliberately wrong, named by the grader\n"
    "This `conv_backward` writes `dW[..., c] = ...` instead of adding: with overlapping "
    "windows each output overwrites the share of the ones before it. `check` finds the case "
    "and says so.",
    "This `pool_backward` forgets to divide the average's gradient by f*f.",
], "zh": [
    '# 反向传播：逆展平、池化、卷积\n\n反向传播从损失一直走到第一层。想象一个厨房：客人给每'
    '道菜打分，每位厨师追溯自己的步骤怎样影响了分数。一个权重的梯度，就是把它影响过的每个输出'
    '里属于它的那一份加起来。',
    '## 逆展平\n全连接层传回形状为 (N, 400) 的梯度。池化层要用它之前，先把它变回'
    '池化输出的形状 (N, 5, 5, 16)：同样的数，同样的顺序。',
    '## 经过池化：只传递梯度，没有参数\n最大池化把每个输出的全部梯度送给窗口里取到最大值的'
    '那个格子（掩码）；窗口里其他格子得到 0。平均池化把梯度平均分给每个格子，每格 `dz '
    '/ (f*f)`。（出现并列最大值时，课程的掩码标记每个并列的格子；PyTorch 和 '
    'juanji 的快速算子选第一个；`juanji.course` 遵循课程。）',
    '窗口重叠（步幅 < f）时，一个格子收到它所在的每个窗口送来的梯度之和：中心格子 4 赢'
    '得了全部四个窗口，收到 4。',
    '## 经过卷积，用课程的数值\n每个输出像素都由一个窗口、整个卷积核和偏置算出，所以它的梯'
    '度会到达它们每一个。`juanji.course.conv_backward` 复现了课'
    '程公布的平均值。',
    '## dW、db 和 dA_prev 都是求和\n一个卷积核权重的梯度，是它影响过的每个输'
    '出的（输出的梯度 x 它遇到的输入值）之和；偏置的梯度是输出梯度之和；一个输入像素的梯度'
    '，是它所在的每个窗口的（输出梯度 x 卷积核权重）之和。`explain_conv` 逐'
    '项写出每个和，并与算子的结果核对。',
    '## 故意写错，由评分器指出\n这个 `conv_backward` 写的是 `dW[..'
    '., c] = ...` 而不是累加：窗口重叠时，每个输出都覆盖了前面输出的那一份。`c'
    'heck` 找到暴露它的用例并指出来。',
    '这个 `pool_backward` 忘了把平均池化的梯度除以 f*f。',
]}

# ------------------------------------------------------------ 04 LeNet-5 on Fashion-MNIST
LENET_CODE = [_code('''
    import tempfile
    from pathlib import Path

    import numpy as np
    from IPython.display import HTML, Image

    from juanji.checkpoint import save_checkpoint
    from juanji.data import Normalizer, load_dataset
    from juanji.explain.page import write_page
    from juanji.explain.plots import plot_confusion, plot_curves
    from juanji.models import build_model
    from juanji.nn import Conv2D, Dense, Flatten, ReLU, Sequential, summary
    from juanji.optim import Adam
    from juanji.train import evaluate, fit

    train, test = load_dataset("fashion-mnist")   # Debian's dataset-fashion-mnist files
    train, test
    '''), _code('''
    model = build_model("lenet5", train.input_shape, train.num_classes, seed=0)
    summary(model)
    '''), _code('''
    cliff = Sequential([Conv2D(32, 3, padding=1), ReLU(), Flatten(), Dense(10)], (28, 28, 1))
    summary(cliff)
    '''), _code('''
    rng = np.random.default_rng(0)
    small_train = train.subset(rng.permutation(len(train))[:6000])   # a 6,000-image taste
    val = test.subset(np.arange(1000))
    normalizer = Normalizer.fit(small_train.x)
    optimizer = Adam(model.parameters(), lr=2e-3)
    history = fit(model, small_train, val=val, epochs=2, batch_size=64, optimizer=optimizer,
                  seed=0, normalizer=normalizer)
    '''), _code('''
    plot_curves(history)
    '''), _code('''
    result = evaluate(model, test.subset(np.arange(1000, 3000)), normalizer)
    result
    '''), _code('''
    plot_confusion(result.confusion, class_names=train.class_names)
    '''), _code('''
    Image(filename="../docs/page-forward-1400.png", width=720)   # a screenshot kept in docs/
    '''), _code('''
    out = Path(tempfile.mkdtemp(prefix="juanji-lenet5-"))
    checkpoint = save_checkpoint(out / "model.npz", model, normalizer=normalizer,
                                 class_names=train.class_names, dataset="fashion-mnist")
    page = write_page(checkpoint, [], out / "page", num_examples=2)
    print(f"{page.name}: {page.stat().st_size / 1e6:.1f} MB, self-contained; open it in a browser")
    HTML(f'<a href="{page.as_uri()}" target="_blank">{page}</a>')
    '''),
]

LENET_TEXT = {"en": [
    "# LeNet-5 on Fashion-MNIST\n\n"
    "The course's LeNet-5-style network on 28x28 grey pictures of clothes (10 classes), read "
    "from Debian's `dataset-fashion-mnist` files under `/usr/share/datasets/fashion-mnist` "
    "(or `juanji data download fashion-mnist`).",
    "## The summary: shapes, activation sizes, parameters\n"
    "Most parameters sit in the fully connected layers; the conv layers have few. The "
    "activation size shrinks gradually from layer to layer.",
    "## The cliff warning\n"
    "A design that drops the activation size abruptly (25,088 numbers straight into 10) is "
    "flagged: the summary warns when one layer cuts it by more than 10x.",
    "## Training, with a progress bar\n"
    "Two epochs on 6,000 training images keep this notebook quick (nine tenths of the set are "
    "left out; `juanji train --dataset fashion-mnist --model lenet5` trains on all of it). "
    "`fit` reports its progress as it goes and one line per epoch.",
    "## The curves\n`plot_*` without a path returns the figure, which the notebook shows inline.",
    "## Evaluation on 2,000 test images\nLoss, accuracy and the per-class accuracy.",
    "## Where the mistakes are\n"
    "Row i, column j counts the test images of class i predicted as j: shirts, T-shirts, "
    "pullovers and coats are the classes this small network mixes up.",
    "## The explainer page\n"
    "`write_page` (or `juanji explain page`) writes one self-contained HTML page that traces "
    "test images through every layer of a trained model, forward and backward, with a slider "
    "per layer. This is what it looks like:",
    "Here is the page for the model just trained. It is large (every activation of every "
    "traced image is embedded), so the notebook links it rather than embedding it; open it in "
    "a browser.",
]}

# ------------------------------------------- 05 parameter sharing and sparse connectivity
SHARING_CODE = [_code('''
    import numpy as np
    from juanji.explain.model import explain_sharing, explain_sparsity
    from juanji.functional.conv import conv2d_backward, conv2d_forward
    from juanji.models import build_model
    from juanji.nn import Conv2D, Dense, Flatten, Sequential
    '''), _code('''
    conv = Sequential([Conv2D(6, 5)], (32, 32, 3))                         # 32x32x3 -> 28x28x6
    dense = Sequential([Flatten(), Dense(28 * 28 * 6)], (32, 32, 3))       # 3072 -> 4704
    n_conv = sum(p.size for p in conv.parameters())
    n_dense = sum(p.size for p in dense.parameters())
    print(f"conv:  (5*5*3 + 1)*6     = {n_conv:>12,}")
    print(f"dense: 3072*4704 + 4704  = {n_dense:>12,}   ({n_dense / n_conv:,.0f} times more)")
    '''), _code('''
    explain_sharing(build_model("lenet5", (32, 32, 3), 10))
    '''), _code('''
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 32, 32, 3))                  # (N, H, W, C)
    w = rng.standard_normal((5, 5, 3, 6))                    # (kh, kw, C_in, C_out)
    z, cache = conv2d_forward(x, w, np.zeros(6))             # (1, 28, 28, 6)
    dz = rng.standard_normal(z.shape)
    _, dw, _ = conv2d_backward(dz, cache)
    # the weight w[0, 0, 0, 0] met x[0, i, j, 0] at each of the 28*28 output positions (i, j)
    by_hand = sum(dz[0, i, j, 0] * x[0, i, j, 0] for i in range(28) for j in range(28))
    print(f"one weight used at {28 * 28} positions; dW = {dw[0, 0, 0, 0]:.6f}, "
          f"the sum by hand = {by_hand:.6f}")
    '''), _code('''
    dz = np.zeros(z.shape)
    dz[0, 10, 20, 0] = 1.0                                   # one output pixel of filter 0
    dx, _, _ = conv2d_backward(dz, cache)
    rows, cols, chans = np.nonzero(dx[0])
    print(f"output (10, 20) depends on {np.count_nonzero(dx)} of {x[0].size} inputs: "
          f"rows {rows.min()}-{rows.max()}, columns {cols.min()}-{cols.max()}, "
          f"channels {sorted(set(chans.tolist()))}")
    '''), _code('''
    x2 = x.copy()
    x2[0, 0, 0, :] += 100.0                                  # far from the window (10..14, 20..24)
    z2, _ = conv2d_forward(x2, w, np.zeros(6))
    bool(z2[0, 10, 20, 0] == z[0, 10, 20, 0]), bool(z2[0, 0, 0, 0] != z[0, 0, 0, 0])
    '''), _code('''
    explain_sparsity(build_model("lenet5", (32, 32, 3), 10))
    '''),
]

SHARING_TEXT = {"en": [
    "# Parameter sharing and sparse connectivity, in numbers\n\n"
    "Why a conv layer needs so few parameters compared with a fully connected one: two ideas, "
    "measured here on the course's example.",
    "## Parameter sharing\n"
    "One mould stamps the same pattern wherever the paper lies: a 5x5x3 kernel (and its bias) "
    "slides over the whole image, so every position uses the same 76 numbers. Six filters "
    "between 32x32x3 and 28x28x6 need 456 parameters; a dense layer between the same 3,072 "
    "inputs and 4,704 outputs needs 14.5 million.",
    "`explain_sharing` does this for every layer of a model, with the dense layer each conv "
    "layer replaces.",
    "## One weight, 784 uses\n"
    "Shared weights are why the conv's dW is a sum: the same weight was used at all 28x28 "
    "output positions, and its gradient adds up what each use contributed.",
    "## Sparse connectivity\n"
    "To see whether a cat has an ear, look near its face, not at the whole photo. Each output "
    "pixel depends only on the 5x5x3 = 75 inputs under its window: a gradient of 1 at one "
    "output reaches exactly those.",
    "Change an input far away, and that output does not move (an output whose window holds "
    "the changed pixel does).",
    "## The receptive field grows with depth\n"
    "Each layer looks at a small window of the one before, so deeper pixels see more of the "
    "image: after LeNet-5's second conv and pool one pixel sees 16x16 of the 32x32 input.",
]}

NOTEBOOKS = {
    "01_convolution_step_by_step": (CONV_CODE, CONV_TEXT),
    "02_pooling_and_output_size": (POOL_CODE, POOL_TEXT),
    "03_backward_pass": (BACKWARD_CODE, BACKWARD_TEXT),
    "04_lenet5_fashion_mnist": (LENET_CODE, LENET_TEXT),
    "05_parameter_sharing_and_sparsity": (SHARING_CODE, SHARING_TEXT),
}


def build(name: str, lang: str) -> Path:
    """Write and execute notebook ``name`` in ``lang``; returns its path."""
    code, text = NOTEBOOKS[name]
    if len(text[lang]) != len(code):
        raise ValueError(f"{name} [{lang}]: {len(text[lang])} texts for {len(code)} code cells")
    code = list(code)
    if lang != "en":  # the grader's diagnoses, the explainers and tables speak the notebook's
        code[0] = f"from juanji.i18n import set_language\nset_language({lang!r})\n{code[0]}"
    cells = []
    for markdown, source in zip(text[lang], code):
        cells += [nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell(source)]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    out = HERE / ("" if lang == "en" else lang) / f"{name}.ipynb"
    out.parent.mkdir(exist_ok=True)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(out.parent)}}).execute()
    nbformat.write(nb, out)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="*", help="notebook numbers such as 02 (default: all)")
    args = parser.parse_args(argv)
    names = [n for n in NOTEBOOKS if not args.numbers or n[:2] in args.numbers]
    if not names:
        parser.error(f"no notebook numbered {args.numbers}; there are {[n[:2] for n in NOTEBOOKS]}")
    for name in names:
        for lang in NOTEBOOKS[name][1]:
            print(build(name, lang))


if __name__ == "__main__":
    main()
