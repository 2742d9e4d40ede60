"""Shared fixtures: a small checkpoint (untrained digits model, with normaliser and a 2-epoch
history) and ``each_backend`` (a test run once per backend)."""

import os

import pytest

from juanji.backend import BACKENDS, set_backend
from juanji.checkpoint import save_checkpoint
from juanji.data import Normalizer, load_dataset
from juanji.models import build_model
from juanji.train import EpochMetrics, History

# The suite reads English output unless a test asks for Chinese: the machine's locale must not
# choose the language (juanji.i18n.default_language), in this process or in the commands it runs.
for name in ("LC_ALL", "LC_MESSAGES"):
    os.environ.pop(name, None)
os.environ["LANG"] = "C.UTF-8"


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory):
    train, _ = load_dataset("digits")
    model = build_model("digits", train.input_shape, train.num_classes, seed=1)
    history = History([EpochMetrics(1, 1.2, 0.6, 1.0, 0.7, 0.5, 5e-3),
                       EpochMetrics(2, 0.8, 0.8, 0.7, 0.8, 0.5, 5e-3)], best_epoch=2)
    path = tmp_path_factory.mktemp("explain") / "digits.npz"
    save_checkpoint(path, model, normalizer=Normalizer.fit(train), epoch=2, metrics=history,
                    class_names=list(train.class_names),
                    extra={"options": {"dataset": "digits"}})
    return path


@pytest.fixture(scope="session", autouse=True)
def _compiled_kernels():
    """Compile the numba kernels once per test process before any test runs: a cold compile
    takes seconds, which a test that launches processes (MPI ranks, the CLI) would otherwise
    pay inside its own time limits. Child processes then load them from the disk cache."""
    from juanji.functional import pool_numba

    pool_numba.warm_up()


@pytest.fixture(params=BACKENDS)
def each_backend(request):
    """Run the test once per backend (juanji.backend): the compiled kernels and pure NumPy."""
    old = set_backend(request.param)
    yield request.param
    set_backend(old)
