"""output_size: the course's formula, its generalisations, and PyTorch's ceil-mode rule."""

import numpy as np
import pytest
import torch

from juanji.functional import output_size
from juanji.validation import pair, resolve_padding, same_padding_1d


@pytest.mark.parametrize("n,f,s,p,expected", [
    (32, 5, 1, 0, 28),   # course CONV1
    (28, 2, 2, 0, 14),   # course POOL1
    (14, 5, 1, 0, 10),   # course CONV2
    (10, 2, 2, 0, 5),    # course POOL2
    (6, 3, 1, 1, 6),     # 'same' by hand with p = (f-1)/2
    (7, 3, 2, 0, 3),     # floor((7-3)/2)+1 = 3: the division is exact
    (8, 3, 2, 0, 3),     # floor((8-3)/2)+1 = floor(2.5)+1 = 3: the last column is never read
])
def test_course_formula(n, f, s, p, expected):
    assert output_size(n, f, stride=s, padding=p) == expected
    assert expected == (n - f + 2 * p) // s + 1


TORCH_POOL_CONFIGS = [
    (n, f, s, p, d, c)
    for n in (1, 2, 5, 7, 8, 13) for f in (1, 2, 3) for s in (1, 2, 3) for p in (0, 1)
    for d in (1, 2) for c in (False, True)
    if p <= f // 2 and d * (f - 1) + 1 <= n + 2 * p  # what torch accepts; refusals tested below
]


@pytest.mark.parametrize("n,f,s,p,d,ceil_mode", TORCH_POOL_CONFIGS)
def test_matches_torch_pooling_sizes(n, f, s, p, d, ceil_mode):
    x = torch.zeros(1, 1, n, n)
    y = torch.nn.functional.max_pool2d(x, f, s, p, d, ceil_mode=ceil_mode)
    assert output_size(n, f, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode) == y.shape[-1]


@pytest.mark.parametrize("n", [1, 5, 6, 7, 28, 63, 64])
@pytest.mark.parametrize("f", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("s", [1, 2, 3, 8])
def test_same_padding_gives_ceil_n_over_s(n, f, s):
    assert output_size(n, f, stride=s, padding="same") == -(-n // s)
    lo, hi = same_padding_1d(n, f, s)
    assert hi - lo in (0, 1)  # the odd extra pixel goes after


def test_kernel_larger_than_padded_input_is_refused():
    with pytest.raises(ValueError, match=r"`kernel_size` 6 .* larger than the padded input 4"):
        output_size(4, 6)


@pytest.mark.parametrize("arg,value", [("n", 0), ("kernel_size", 0), ("stride", 0),
                                       ("dilation", -1)])
def test_non_positive_arguments_are_refused(arg, value):
    kwargs = dict(n=5, kernel_size=3, stride=1, dilation=1)
    kwargs[arg] = value
    n, f = kwargs.pop("n"), kwargs.pop("kernel_size")
    with pytest.raises(ValueError, match=rf"`{arg}` must be an int >= 1, got {value}"):
        output_size(n, f, **kwargs)


def test_unknown_padding_string_is_refused():
    with pytest.raises(ValueError, match=r"Invalid padding string 'full'"):
        output_size(5, 3, padding="full")
    with pytest.raises(ValueError, match=r"Invalid padding string 'foo'"):
        resolve_padding("foo", (5, 5), (3, 3), (1, 1), (1, 1))


def test_padding_forms():
    assert resolve_padding(2, (5, 5), (3, 3), (1, 1), (1, 1)) == ((2, 2), (2, 2))
    assert resolve_padding((1, 2), (5, 5), (3, 3), (1, 1), (1, 1)) == ((1, 1), (2, 2))
    assert resolve_padding(((0, 1), (2, 3)), (5, 5), (3, 3), (1, 1), (1, 1)) == ((0, 1), (2, 3))
    assert resolve_padding("valid", (5, 5), (3, 3), (1, 1), (1, 1)) == ((0, 0), (0, 0))
    with pytest.raises(ValueError, match=r"`padding` must be >= 0"):
        resolve_padding(-1, (5, 5), (3, 3), (1, 1), (1, 1))
    with pytest.raises(TypeError, match=r"`padding` must be an int"):
        resolve_padding(1.5, (5, 5), (3, 3), (1, 1), (1, 1))


def test_pair():
    assert pair(3, "kernel_size") == (3, 3)
    assert pair([2, 1], "stride") == (2, 1)
    with pytest.raises(TypeError, match=r"`stride` must be an int or a pair"):
        pair(1.0, "stride")
    with pytest.raises(TypeError, match=r"`stride` must be an int or a pair"):
        pair(True, "stride")
    with pytest.raises(ValueError, match=r"`kernel_size` must be >= 1 .* got \(0, 2\)"):
        pair((0, 2), "kernel_size")
    assert np.int64(2) and pair(np.int64(2), "stride") == (2, 2)
