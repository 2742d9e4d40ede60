"""Data-parallel training over MPI: 2 local ranks (``mpiexec -n 2``) against one process."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).with_name("worker.py")
# the MPICH wheel's launcher next to this Python first (a system Open MPI would not match mpi4py)
_NEXT = Path(sys.executable).with_name("mpiexec")
MPIEXEC = str(_NEXT) if _NEXT.exists() else shutil.which("mpiexec")


def launch(out, *args, ranks=2, timeout=120, env=None):
    cmd = [sys.executable, str(WORKER), str(out), *args]
    if ranks:
        cmd = [MPIEXEC, "-n", str(ranks), *cmd]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "JUANJI_NUM_THREADS": "1", **(env or {})})
    return proc, time.monotonic() - t0


def weights(out, rank=0):
    with np.load(out / f"weights_rank{rank}.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One process with batch 32, and 2 ranks with 16 each: 2 epochs of 100 digits (3 batches of
    32 and an uneven last batch of 4, 2 images per rank), float64, SGD with momentum (Adam divides by sqrt(v): where v is tiny it magnifies a last-bit difference between two BLAS kernels past 1e-10)."""
    one, two = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("two")
    for out, ranks in ((one, 0), (two, 2)):
        proc, _ = launch(out, ranks=ranks)
        assert proc.returncode == 0, proc.stderr
    return one, two


def test_two_ranks_reproduce_one_process(runs):
    one, two = runs
    a, b = weights(one), weights(two)
    rel = max(np.abs(a[k] - b[k]).max() / np.abs(a[k]).max() for k in a)
    assert rel < 1e-10
    ref = json.loads((one / "eval_rank0.json").read_text())
    assert ref["accuracy"] > 0.2  # it learnt something (chance is 0.1)


def test_ranks_hold_bitwise_identical_weights(runs):
    _, two = runs
    w0, w1 = weights(two, 0), weights(two, 1)
    assert sorted(w0) == sorted(w1)
    for k in w0:
        assert np.array_equal(w0[k], w1[k]), k


def test_evaluation_is_split_and_gathered(runs):
    one, two = runs
    ref = json.loads((one / "eval_rank0.json").read_text())
    for rank in (0, 1):
        got = json.loads((two / f"eval_rank{rank}.json").read_text())
        assert got["confusion"] == ref["confusion"]
        assert sum(map(sum, got["confusion"])) == 359  # the whole digits test split
        assert abs(got["loss"] - ref["loss"]) <= 1e-10 * abs(ref["loss"])


def test_only_rank_zero_writes(runs):
    _, two = runs
    assert sorted(p.name for p in (two / "ckpt0").iterdir()) == ["best.npz", "last.npz"]
    assert not (two / "ckpt1").exists()


def test_stopped_group_resumes_exactly(runs, tmp_path):
    _, two = runs
    proc, _ = launch(tmp_path, "--stop-after", "1")
    assert proc.returncode == 0, proc.stderr
    proc, _ = launch(tmp_path, "--resume")
    assert proc.returncode == 0, proc.stderr
    full, resumed = weights(two), weights(tmp_path)
    for k in full:
        assert np.array_equal(full[k], resumed[k]), k
    assert np.array_equal(weights(tmp_path, 1)[k], resumed[k])


def test_killed_group_resumes_exactly(tmp_path):
    """SIGKILL the whole group (mpiexec and both ranks) in its 2nd of 3 epochs, then --resume:
    the final weights are those of an uninterrupted 3-epoch run, bit for bit."""
    full = tmp_path / "full"
    proc, _ = launch(full, "--epochs", "3")
    assert proc.returncode == 0, proc.stderr
    cut = tmp_path / "cut"
    cmd = [MPIEXEC, "-n", "2", sys.executable, str(WORKER), str(cut), "--epochs", "3",
           "--slow", "0.25"]  # 4 steps of >= 0.25 s: an epoch lasts >= 1 s
    group = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             env={**os.environ, "JUANJI_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 60
        while not (cut / "ckpt0" / "last.npz").exists() and group.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # into epoch 2
        os.killpg(group.pid, signal.SIGKILL)
    finally:
        group.wait(timeout=30)
    assert group.returncode == -signal.SIGKILL  # killed, not finished
    assert not (cut / "weights_rank0.npz").exists()
    proc, _ = launch(cut, "--epochs", "3", "--resume")
    assert proc.returncode == 0, proc.stderr
    a, b = weights(full), weights(cut)
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_failing_rank_ends_the_group_within_the_timeout(tmp_path):
    """Rank 1 dies at its 3rd step without telling anyone: rank 0 waits in the gradient allreduce
    for JUANJI_MPI_TIMEOUT = 3 s, then aborts the group (no hang)."""
    proc, seconds = launch(tmp_path, "--fail-at-step", "3", env={"JUANJI_MPI_TIMEOUT": "3"},
                           timeout=60)
    assert proc.returncode != 0
    assert "rank 1 fails on purpose" in proc.stderr
    assert "rank 0/2: the gradient allreduce waited more than 3 s" in proc.stderr
    assert 3 <= seconds < 15


def test_failing_rank_with_abort_on_error_ends_the_group_at_once(tmp_path):
    proc, seconds = launch(tmp_path, "--fail-at-step", "3", "--abort-on-error",
                           env={"JUANJI_MPI_TIMEOUT": "60"}, timeout=60)
    assert proc.returncode != 0
    assert "rank 1/2: RuntimeError: rank 1 fails on purpose; aborting all ranks" in proc.stderr
    assert seconds < 10  # far below the 60 s timeout


def test_one_process_never_imports_mpi(tmp_path):
    """Without mpiexec, world_if_launched is None and training never imports mpi4py, so a
    one-process run is juanji's plain path, bit for bit."""
    code = ("import sys; from juanji.distributed import world_if_launched; "
            "import juanji.train; assert world_if_launched() is None; "
            "assert 'mpi4py' not in sys.modules; print('ok')")
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_shard_bounds_cover_the_batch():
    from juanji.distributed import Communicator

    class FakeComm:
        def __init__(self, rank, size):
            self.r, self.s = rank, size

        def Get_rank(self):
            return self.r

        def Get_size(self):
            return self.s

    for n in (0, 1, 3, 4, 32, 33):
        parts = [Communicator(FakeComm(r, 3)).shard(n) for r in range(3)]
        assert [list(range(n))[p] for p in parts] == [list(a) for a in
                                                       np.array_split(np.arange(n), 3)]


def _self_run(comm, lr=0.003, poison=False):
    """2 epochs of the worker's recipe in this process, over a one-rank communicator or none;
    ``poison``: one weight NaN from the start (a Normalizer no longer takes a std that would
    overflow the inputs, which is how this test used to make the loss NaN)."""
    from juanji.data import Dataset, Normalizer, load_dataset
    from juanji.models import build_model
    from juanji.optim import make_optimizer
    from juanji.train import fit

    train, _ = load_dataset("digits")
    train = train.subset(np.arange(100))
    norm = Normalizer.fit(train)
    model = build_model("digits", train.input_shape, train.num_classes, dtype=np.float64)
    if poison:
        model.parameters()[0].data.flat[0] = np.nan
    opt = make_optimizer("adam", model.parameters(), lr)
    fit(model, train, epochs=2, batch_size=32, optimizer=opt, seed=0, normalizer=norm,
        progress=False, comm=comm)
    return {k: p.data.copy() for k, p in model.named_parameters()}


def test_one_rank_communicator_matches_the_plain_path():
    from mpi4py import MPI

    from juanji.distributed import Communicator

    plain, one = _self_run(None), _self_run(Communicator(MPI.COMM_SELF))
    assert max(np.abs(plain[k] - one[k]).max() / np.abs(plain[k]).max() for k in plain) < 1e-12


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflowing inputs, on purpose
def test_divergence_raises_through_the_allreduce():
    from mpi4py import MPI

    from juanji.distributed import Communicator
    from juanji.train import TrainingDiverged

    with pytest.raises(TrainingDiverged, match=r"non-finite \(NaN or inf\) on 1 of 1 ranks at "
                                                r"epoch 1, step 1"):
        _self_run(Communicator(MPI.COMM_SELF), poison=True)


def test_only_rank_zero_locks_the_run_directory(tmp_path):
    """`mpiexec -n 2 juanji train`: rank 0 takes --out's lock for the group (were both ranks to
    take it, the second would be refused by the first); a --out locked by another run ends the
    group with the holder named (issue 14 row 5)."""
    from juanji.runlock import holder_of, run_lock

    train = [MPIEXEC, "-n", "2", sys.executable, "-m", "juanji", "train", "--epochs", "1",
             "--limit", "100", "--no-progress", "--out"]
    env = {**os.environ, "JUANJI_NUM_THREADS": "1"}
    done = subprocess.run([*train, str(tmp_path / "ok")], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert holder_of(tmp_path / "ok")["argv"][:1] == ["train"]
    with run_lock(tmp_path / "busy"):
        refused = subprocess.run([*train, str(tmp_path / "busy")], capture_output=True,
                                 text=True, timeout=120, env=env)
    assert refused.returncode != 0
    assert (f"is in use by another `juanji train` (pid {os.getpid()} on host"
            in " ".join(refused.stderr.split()))
    assert not (tmp_path / "busy" / "last.npz").exists()
