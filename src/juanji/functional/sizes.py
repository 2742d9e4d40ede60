"""The output-size formula: the one place it lives.

    out = floor((n + p_before + p_after - d*(f - 1) - 1) / s) + 1

With symmetric padding p and no dilation this is the course's ``floor((n - f + 2p) / s) + 1``.
Ops, layers, ``summary()`` and the explainers all call :func:`output_size`.
"""

from __future__ import annotations

from juanji.validation import check_int, is_int, resolve_padding, same_padding_1d


def _padding_1d(padding, n: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    if isinstance(padding, str):
        if padding == "same":
            return same_padding_1d(n, kernel, stride, dilation)
        (t, b), _ = resolve_padding(padding, (n, n), (kernel, kernel), (stride, stride),
                                    (dilation, dilation))
        return t, b
    if is_int(padding):
        p = check_int(padding, "padding", minimum=0)
        return p, p
    if (isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(is_int(v) for v in padding)):
        lo = check_int(padding[0], "padding", minimum=0)
        hi = check_int(padding[1], "padding", minimum=0)
        return lo, hi
    raise TypeError(
        f"`padding` must be an int, a pair (before, after), 'valid' or 'same'; got {padding!r}"
    )


def output_size(n: int, kernel_size: int, *, stride: int = 1, padding=0, dilation: int = 1,
                ceil_mode: bool = False) -> int:
    """Number of window positions along one axis.

    Args:
        n: input size along the axis.
        kernel_size: window size ``f``.
        stride: step ``s`` between window starts.
        padding: ``p`` on both sides (int), ``(before, after)``, ``'valid'`` (0) or ``'same'``
            (TensorFlow/Keras: output ``ceil(n / s)``, the odd extra pixel after).
        dilation: spacing ``d`` between window taps; the window spans ``d*(f-1) + 1`` pixels.
        ceil_mode: round the division up instead of down, as PyTorch's pooling does, except that
            a window must start inside the input or its before-padding (PyTorch's rule); so the
            window may hang past the end of an input smaller than the kernel.

    Formula: ``floor((n + p_before + p_after - d*(f-1) - 1) / s) + 1``.

    >>> output_size(32, 5)                          # CONV1 of the course network
    28
    >>> output_size(28, 2, stride=2)                # POOL1
    14
    >>> output_size(7, 3, stride=2, padding=1)      # floor((7 - 3 + 2) / 2) + 1
    4
    >>> output_size(5, 2, stride=2, ceil_mode=True) # ceil((5 - 2) / 2) + 1
    3
    >>> output_size(1, 2, stride=2, ceil_mode=True) # PyTorch too: one window, hanging over
    1
    >>> output_size(64, 8, stride=8, padding="same")
    8
    """
    n = check_int(n, "n")
    f = check_int(kernel_size, "kernel_size")
    s = check_int(stride, "stride")
    d = check_int(dilation, "dilation")
    lo, hi = _padding_1d(padding, n, f, s, d)
    span = d * (f - 1) + 1
    room = n + lo + hi - span
    if not ceil_mode:
        out = room // s + 1
    else:  # PyTorch: a window may hang past the end, so room may be negative (by < s)
        out = -(-room // s) + 1
        if (out - 1) * s >= n + lo:  # the last window would start in the after-padding: drop it
            out -= 1
    if room < 0 and (not ceil_mode or out < 1):
        raise ValueError(
            f"`kernel_size` {f} (spanning {span} pixels with dilation {d}) is larger than the "
            f"padded input {n} + {lo} + {hi} = {n + lo + hi}"
        )
    return out
