"""Every entry of the data-set registry goes through `juanji data list`, `train` and `evaluate`.

The data sets that are not embedded are written as small files in their real formats (IDX, CIFAR
binary records, the course's .h5) into a --data-dir. An entry added to `DATASETS` without a
fixture writer here fails this test: a new data set must be shown to work end to end.
"""

import json

import pytest

from juanji.data import DATASETS
from tests.cli.test_data import isolated, run, write_h5_pair  # noqa: F401 (the fixture)
from tests.data.cifar_writer import write_cifar10, write_cifar100
from tests.data.idx_writer import write_idx_set

# name -> writes the data set's files under DIR/<name> (None: embedded, nothing to write)
WRITERS = {
    "digits": None,
    "mnist": lambda d: write_idx_set(d, 24, 12, hw=(28, 28), seed=1),
    "fashion-mnist": lambda d: write_idx_set(d, 24, 12, hw=(28, 28), seed=2),
    "cifar10": lambda d: write_cifar10(d, n_train=(5, 5, 5, 5, 4), n_test=12),
    "cifar100": lambda d: write_cifar100(d, n_train=24, n_test=12),
    "signs": lambda d: write_h5_pair(d, "signs", 24, 12, 6, side=64),
    "happy": lambda d: write_h5_pair(d, "happy", 24, 12, 2, side=64),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_registry_entry_lists_trains_and_evaluates(tmp_path, capsys, name):
    assert name in WRITERS, f"data set {name!r} has no fixture writer in this test"
    info = DATASETS[name]
    data_flags = []
    if WRITERS[name] is not None:
        WRITERS[name](tmp_path / "data" / name)
        data_flags = ["--data-dir", tmp_path / "data"]

    code, out, err = run(["data", "list", "--json", *data_flags], capsys)
    assert code == 0, err
    row = next(r for r in json.loads(out) if r["name"] == name)
    assert row["present"] == ("embedded" if info.embedded else str(tmp_path / "data" / name))
    assert row["downloadable"] == bool(info.remotes)

    code, _, err = run(["train", "--dataset", name, *data_flags, "--epochs", "1", "--limit", "12",
                        "--batch-size", "6", "--val-fraction", "0", "--no-progress",
                        "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["options"]["model"] == info.recipe.get("model", "digits")

    code, out, err = run(["evaluate", tmp_path / "run" / "best.npz", "--json", *data_flags],
                         capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["num_images"] == (info.test_size if info.embedded else 12)  # the whole split
    assert len(result["class_names"]) == info.num_classes
