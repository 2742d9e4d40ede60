"""`juanji train --resume` on a finished run says so; `--epochs N` larger than the run's extends it,
with the learning-rate schedule recomputed for the new total."""

import json

from juanji.checkpoint import load_checkpoint
from tests.cli.test_data import isolated, run  # noqa: F401 (the fixture)

QUICK = ["--limit", "60", "--batch-size", "16", "--no-progress", "--out", "r"]


def test_resume_of_a_finished_run_says_so_and_more_epochs_extend_it(tmp_path, capsys):
    code, _, err = run(["train", "--epochs", "2", *QUICK], capsys)
    assert code == 0, err

    code, _, err = run(["train", "--resume", *QUICK], capsys)
    assert code == 0, err
    assert "--resume: the run in r finished all 2 epochs; nothing to train" in err
    assert "give --epochs N (more than 2)" in err
    assert load_checkpoint(tmp_path / "r" / "last.npz").epoch == 2

    code, _, err = run(["train", "--resume", "--epochs", "3", *QUICK], capsys)
    assert code == 0, err
    assert "extending the run from 2 to 3 epochs: the cosine schedule is recomputed for 3" in err
    last = load_checkpoint(tmp_path / "r" / "last.npz")
    assert last.epoch == 3
    assert last.scheduler_state["scalars"]["t_max"] == 3  # the schedule of the new total
    assert last.scheduler_state["scalars"]["last_epoch"] == 3
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["options"]["epochs"] == 3 and len(metrics["epochs"]) == 3


def test_fewer_epochs_on_resume_is_still_refused(tmp_path, capsys):
    code, _, err = run(["train", "--epochs", "2", *QUICK], capsys)
    assert code == 0, err
    code, _, err = run(["train", "--resume", "--epochs", "1", *QUICK], capsys)
    assert code == 2 and "--epochs 1 (the run has 2)" in err


def test_resume_under_another_thread_count_is_refused_saying_how(tmp_path):
    """Issue 14 row 7: trained on 1 thread, killed, resumed on 2 gave silently different weights
    (a step's batch is split over the threads; OpenBLAS rounds a product of a slice of the rows
    differently). The thread count is stored; another one is refused, naming the one to set."""
    import os
    import subprocess
    import sys

    def train(threads, *args):
        return subprocess.run([sys.executable, "-m", "juanji", "train", "--limit", "120",
                               "--no-progress", "--out", str(tmp_path / "r"), *args],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "JUANJI_NUM_THREADS": str(threads)})

    done = train(1, "--epochs", "1")
    assert done.returncode == 0, done.stderr
    assert load_checkpoint(tmp_path / "r" / "last.npz").extra["num_threads"] == 1
    refused = train(2, "--resume", "--epochs", "2")
    assert refused.returncode == 2
    err = " ".join(refused.stderr.split())
    assert (f"--resume: the run in {tmp_path / 'r'} was trained on 1 thread and this process "
            f"uses 2; juanji's results depend on the thread count") in err
    assert (f"Set JUANJI_NUM_THREADS=1 to resume it (JUANJI_NUM_THREADS=1 juanji train --resume "
            f"--out {tmp_path / 'r'})") in err
    assert load_checkpoint(tmp_path / "r" / "last.npz").epoch == 1  # untouched
    again = train(1, "--resume", "--epochs", "2")
    assert again.returncode == 0, again.stderr
    assert load_checkpoint(tmp_path / "r" / "last.npz").epoch == 2
    # a finished run only reports its result: the thread count does not matter then
    report = train(2, "--resume")
    assert report.returncode == 0 and "nothing to train" in report.stderr
