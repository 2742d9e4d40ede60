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
