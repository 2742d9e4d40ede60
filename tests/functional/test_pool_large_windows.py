"""The large-window path of both pools (integral images, one-reduction argmax, bincount), run
through the tests of ``test_pool.py`` on ties, NaN/inf (against PyTorch), the plain-loop
reference over its grid and finite differences, by lowering ``LARGE_WINDOW`` to 0 so that every
window takes it; plus the two windows of the adversarial review (issue 14, row 8)."""

import numpy as np
import pytest

from juanji.functional import pool
from juanji.functional.memory import MemoryBudgetError, set_memory_budget

from .test_pool import (  # noqa: F401 - the same tests, collected again on the other path
    _ours, _out_shape, assert_close, test_a_nan_wins_the_max_and_takes_the_gradient,
    test_avg_inf_and_nan_like_torch, test_finite_differences, test_matches_reference,
    test_max_nan_and_inf_like_torch, test_max_tie_goes_to_the_first_cell_not_to_every_tied_cell,
    test_max_ties_route_like_torch_exactly, test_padding_never_wins_even_over_minus_inf,
    torch_pool)


@pytest.fixture(autouse=True)
def every_window_is_large(monkeypatch):
    monkeypatch.setattr(pool, "LARGE_WINDOW", 0)


def test_the_path_is_taken():
    geo = pool._geometry(np.zeros((1, 4, 4, 1)), 2, None, 0, False)
    assert pool._large(geo)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_really_large_window_matches_torch(kind, dtype):
    # 20 x 17 = 340 cells: over the default LARGE_WINDOW as well
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 45, 40, 3)).astype(dtype)
    args = dict(kernel=(20, 17), stride=(7, 5), padding=(10, 8), ceil_mode=True)
    shape = _out_shape(x, args["kernel"], args["stride"], args["padding"], True)
    dy = rng.standard_normal(shape).astype(dtype)
    y, dx, _ = _ours(kind, x, dy, **args)
    ty, tdx = torch_pool(kind, x, dy, **args)
    assert_close(y, ty, dtype)
    assert_close(dx, tdx, dtype)


def test_review_max_pool_2000_window_is_small_and_quick():
    x = np.ones((1, 2000, 2000, 1))
    y, cache = pool.max_pool2d_forward(x, 2000)
    dx = pool.max_pool2d_backward(np.ones_like(y), cache)
    assert y.shape == (1, 1, 1, 1) and dx.sum() == 1.0 and dx[0, 0, 0, 0] == 1.0


def test_review_avg_pool_3000_window_on_a_padded_pixel():
    x = np.full((1, 1, 1, 1), 9.0)
    y, cache = pool.avg_pool2d_forward(x, 3000, stride=1, padding=1500)
    assert y.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(y, 9.0 / 3000**2, rtol=1e-12)
    dx = pool.avg_pool2d_backward(np.ones_like(y), cache)
    np.testing.assert_allclose(dx, 4 / 3000**2, rtol=1e-12)


def test_max_windows_over_the_budget_raise_the_budget_error():
    old = set_memory_budget(1 << 20)
    try:
        with pytest.raises(MemoryBudgetError, match=r"max pooling with a 600x600 window over "
                                                    r"1x1 outputs needs 2.7 MiB"):
            pool.max_pool2d_forward(np.zeros((3, 600, 600, 1)), 600)
    finally:
        set_memory_budget(old)
