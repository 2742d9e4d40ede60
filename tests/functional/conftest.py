"""Every functional test runs on both backends ('numpy' and 'numba'), against the same oracles."""

import pytest


@pytest.fixture(autouse=True)
def _on_each_backend(each_backend):
    return each_backend
