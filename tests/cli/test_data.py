"""`juanji data list|download` and `juanji train` on CIFAR, the course's .h5 sets and image folders,
in process on tiny generated files; plus: evaluate and predict apply exactly the normalisation
fitted on the training split and saved in the checkpoint."""

import hashlib
import io
import json
import sys

import h5py
import numpy as np
import pytest
from PIL import Image

from juanji import cli
from juanji.checkpoint import load_checkpoint
from juanji.data import Normalizer, load_dataset
from juanji.data import download as dl
from juanji.data import mnist
from juanji.data.download import Remote
from juanji.data.folder import read_image
from juanji.train import evaluate, predict_proba
from tests.data.cifar_writer import write_cifar10
from tests.data.http_server import FileServer, refused_url
from tests.data.idx_writer import write_idx_set

QUICK = ["--epochs", "1", "--no-progress", "--batch-size", "8", "--val-fraction", "0.3"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("JUANJI_DATA_DIR", raising=False)
    monkeypatch.delenv("JUANJI_MIRROR", raising=False)


def run(argv, capsys):
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def write_h5_pair(folder, name, n_train, n_test, k, side=16, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for part, n in (("train", n_train), ("test", n_test)):
        with h5py.File(folder / f"{part}_{name}.h5", "w") as f:
            f[f"{part}_set_x"] = rng.integers(0, 256, (n, side, side, 3), dtype=np.uint8)
            f[f"{part}_set_y"] = np.arange(n) % k
            f["list_classes"] = np.arange(k)


def write_folder(root, per_class=6, size=(20, 14)):
    rng = np.random.default_rng(0)
    for c, name in enumerate(("cat", "dog")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 120, (size[1], size[0], 3)) + 100 * c
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")
    return root


# --- juanji data ----------------------------------------------------------------------------------

def test_list_json_shows_what_is_present(tmp_path, capsys):
    data = tmp_path / "data"
    write_cifar10(data / "cifar10" / "cifar-10-batches-bin")
    write_h5_pair(data / "signs", "signs", 4, 2, 6)
    code, out, _ = run(["data", "list", "--json", "--data-dir", data], capsys)
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) == {"digits", "mnist", "fashion-mnist", "cifar10", "cifar100", "signs",
                         "happy"}
    assert rows["cifar10"]["present"] == str(data / "cifar10" / "cifar-10-batches-bin")
    assert rows["signs"]["present"] == str(data / "signs")
    assert rows["mnist"]["present"] is None and rows["happy"]["present"] is None
    assert rows["digits"]["present"] == "embedded"
    assert rows["cifar10"]["download_bytes"] == 170052171 and rows["cifar10"]["downloadable"]
    assert rows["signs"]["download_bytes"] is None and not rows["signs"]["downloadable"]
    assert rows["mnist"]["license"] == "CC BY-SA 3.0" and rows["fashion-mnist"]["license"] == "MIT"
    assert (rows["cifar10"]["train_size"], rows["signs"]["train_size"]) == (50000, 1080)


def test_list_table(tmp_path, capsys):
    write_h5_pair(tmp_path / "xdg" / "juanji" / "happy", "happy", 4, 2, 2)
    code, out, _ = run(["data", "list"], capsys)
    assert code == 0
    for text in ("cifar10", "162.2 MiB", "course files", "embedded", "licence", "CC BY-SA 3.0"):
        assert text in out
    lines = out.splitlines()
    assert "yes" in next(line for line in lines if "│ happy " in line)
    assert "no" in next(line for line in lines if "│ mnist " in line)


@pytest.fixture
def mnist_mirror(tmp_path, monkeypatch):
    """MNIST-format files (8x8 images) served from 127.0.0.1, pinned by their own digests."""
    write_idx_set(tmp_path / "src", 40, 20, hw=(8, 8), gz=True, seed=1)
    files = {p.name: p.read_bytes() for p in sorted((tmp_path / "src").iterdir())}
    monkeypatch.setitem(dl.REMOTES, "mnist", tuple(
        Remote(n, "https://example.invalid/" + n, hashlib.sha256(b).hexdigest(), len(b))
        for n, b in files.items()))
    with FileServer({f"/mnist/{n}": b for n, b in files.items()}) as server:
        monkeypatch.setenv("JUANJI_MIRROR", server.url)
        yield server


def test_download_command(tmp_path, capsys, mnist_mirror):
    code, out, err = run(["data", "download", "mnist", "--data-dir", tmp_path / "d",
                          "--no-progress"], capsys)
    assert code == 0, err
    assert f"mnist: verified and ready in {tmp_path / 'd' / 'mnist'}" in out
    assert len(load_dataset("mnist", tmp_path / "d")[0]) == 40


def test_train_with_download_into_the_user_cache(tmp_path, capsys, mnist_mirror):
    code, _, err = run(["train", "--dataset", "mnist", "--model", "digits", "--download", *QUICK,
                        "--out", "r"],
                       capsys)
    assert code == 0, err
    assert (tmp_path / "xdg" / "juanji" / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    assert load_checkpoint(tmp_path / "r" / "best.npz").input_shape == (8, 8, 1)


@pytest.fixture
def no_system_copy(tmp_path, monkeypatch):
    """Debian's /usr/share/datasets/fashion-mnist (installed on the test machine) hidden."""
    monkeypatch.setitem(mnist.SYSTEM_DIRS, "fashion-mnist", (tmp_path / "no-system-copy",))


def test_download_reports_a_copy_train_already_finds(tmp_path, capsys, monkeypatch):
    system = tmp_path / "usr-share-datasets" / "fashion-mnist"
    write_idx_set(system, 12, 6, hw=(28, 28), gz=True, seed=2)
    monkeypatch.setitem(mnist.SYSTEM_DIRS, "fashion-mnist", (system,))
    monkeypatch.setenv("JUANJI_MIRROR", refused_url())  # any download attempt would fail
    code, out, err = run(["data", "download", "fashion-mnist"], capsys)
    assert code == 0, err
    cache = tmp_path / "xdg" / "juanji" / "fashion-mnist"
    assert " ".join(out.split()) == (
        f"fashion-mnist: already on this machine in {system}; `juanji train --dataset "
        f"fashion-mnist` reads it from there, so nothing was downloaded (--force downloads a "
        f"copy into {cache})")
    assert not cache.exists()
    # --force downloads anyway (here: offline, so the clear error)
    code, _, err = run(["data", "download", "fashion-mnist", "--force", "--no-progress"], capsys)
    assert code == 1 and "cannot reach" in err


def test_download_again_verifies_its_own_copy_offline(tmp_path, capsys, mnist_mirror,
                                                       monkeypatch):
    code, _, err = run(["data", "download", "mnist", "--data-dir", tmp_path / "d",
                        "--no-progress"], capsys)
    assert code == 0, err
    monkeypatch.setenv("JUANJI_MIRROR", refused_url())  # the files are checked, not fetched
    code, out, err = run(["data", "download", "mnist", "--data-dir", tmp_path / "d",
                          "--no-progress"], capsys)
    assert code == 0, err
    assert "verified and ready" in out and "already on this machine" not in out


def test_download_offline_is_a_clear_error(tmp_path, capsys, monkeypatch, no_system_copy):
    monkeypatch.setenv("JUANJI_MIRROR", refused_url())
    code, _, err = run(["data", "download", "fashion-mnist", "--no-progress"], capsys)
    assert code == 1
    assert err.startswith("juanji data: error: cannot reach")
    assert f"put them in {tmp_path / 'xdg' / 'juanji' / 'fashion-mnist'}" in err
    assert "t10k-labels-idx1-ubyte.gz" in err
    lines = err.splitlines()  # one paragraph a line, not one 900-character line
    assert lines[1].startswith("To install fashion-mnist by hand") and len(lines) == 7
    assert all(line.startswith("  http://") for line in lines[2:6])


def test_errors_are_wrapped_to_the_terminal(tmp_path, capsys, monkeypatch, no_system_copy):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setenv("JUANJI_MIRROR", refused_url())
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setattr(sys, "stderr", terminal)
    code = cli.main(["data", "download", "fashion-mnist", "--force", "--no-progress"])
    assert code == 1
    lines = terminal.getvalue().splitlines()
    long_words = [w for w in terminal.getvalue().split() if len(w) > 60]  # URLs, digests
    assert all(len(line) <= 60 or line.strip() in long_words for line in lines), lines
    assert len(lines) > 7  # the paragraphs were wrapped
    # nothing lost: the same words as the unwrapped message
    capsys.readouterr()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    cli.main(["data", "download", "fashion-mnist", "--force", "--no-progress"])
    assert terminal.getvalue().split() == sys.stderr.getvalue().split()


@pytest.mark.parametrize("argv, message", [
    (["data", "download", "signs"], "invalid choice: 'signs'"),
    (["data"], "the following arguments are required: ACTION"),
    (["data", "list", "--data-dir", "nope"], "--data-dir 'nope' is not a directory"),
    (["train", "--dataset", "signs", "--download"], "--download works for mnist, "
                                                    "fashion-mnist, cifar10, not 'signs'"),
    (["train", "--image-size", "8"], "--image-size and --grey apply to --dataset folder:DIR"),
    (["train", "--dataset", "folder:nope"], "folder:DIR needs an existing directory"),
    (["train", "--dataset", "folder:.", "--data-dir", "."], "--data-dir is not used with "
                                                            "folder:DIR"),
    (["train", "--dataset", "cifar-10"], "invalid choice: 'cifar-10'"),
    (["train", "--image-size", "0"], "must be N or HxW with positive integers"),
])
def test_usage_errors(capsys, argv, message):
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err


# --- juanji train on the new data sets ------------------------------------------------------------

@pytest.mark.parametrize("dataset, flags, model, augment", [
    ("cifar10", [], "tinyvgg", {"crop_padding": 4, "flip": True}),
    ("cifar10", ["--no-augment"], "tinyvgg", None),
    ("signs", [], "signs", None),
    ("signs", ["--augment", "--model", "digits"], "digits", {"crop_padding": 2, "flip": True}),
])
def test_recipes(tmp_path, capsys, dataset, flags, model, augment):
    data = tmp_path / "data"
    if dataset == "cifar10":
        write_cifar10(data, n_train=(4, 4, 4, 4, 4), n_test=6)
    else:
        write_h5_pair(data, "signs", 24, 6, 6)
    code, _, err = run(["train", "--dataset", dataset, "--data-dir", data, *QUICK, *flags],
                       capsys)
    assert code == 0, err
    out = tmp_path / "runs" / f"{dataset}-{model}"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["options"]["model"] == model and metrics["augment"] == augment
    assert metrics["options"]["augment"] is (augment is not None)
    ck = load_checkpoint(out / "best.npz")
    assert ck.class_names == list(load_dataset(dataset, data)[0].class_names)


def test_happy_house_trains_a_binary_model(tmp_path, capsys):
    write_h5_pair(tmp_path / "h", "happy", 30, 10, 2)
    code, _, err = run(["train", "--dataset", "happy", "--data-dir", tmp_path / "h", *QUICK,
                        "--out", "r"], capsys)
    assert code == 0, err
    ck = load_checkpoint(tmp_path / "r" / "best.npz")
    assert ck.model.output_shape == (1,)  # one logit: sigmoid + binary cross-entropy
    code, out, err = run(["evaluate", tmp_path / "r" / "best.npz", "--json", "--data-dir",
                          tmp_path / "h"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert np.array(result["confusion"]).shape == (2, 2) and result["num_images"] == 10
    assert result["class_names"] == ["not happy", "happy"]


def test_folder_run_normalises_exactly_as_trained(tmp_path, capsys):
    """The checkpoint's normaliser is the one fitted on the training split (after the
    validation split), and evaluate/predict apply it: their numbers equal a direct computation
    with it, and differ from what statistics of other data would give."""
    root = write_folder(tmp_path / "pics")
    code, _, err = run(["train", "--dataset", f"folder:{root}", "--image-size", "16x12",
                        *QUICK, "--epochs", "2", "--out", "r"], capsys)
    assert code == 0, err
    ck = load_checkpoint(tmp_path / "r" / "best.npz")
    assert ck.input_shape == (16, 12, 3) and ck.extra["options"]["image_size"] == [16, 12]
    train, test = load_dataset(f"folder:{root}", image_size=(16, 12), seed=0)
    fitted_on = train.split(0.3, seed=0)[0]  # the run's train part after its val split
    norm = ck.load_normalizer()
    assert norm == Normalizer.fit(fitted_on)
    assert norm != Normalizer.fit(train) and norm != Normalizer.fit(test)

    # a folder is read only when named on the command line, never on the checkpoint's word
    code, out, err = run(["evaluate", tmp_path / "r" / "best.npz", "--json"], capsys)
    assert code == 2 and f"give --dataset folder:{root}" in err
    code, out, err = run(["evaluate", tmp_path / "r" / "best.npz", "--json", "--dataset",
                          f"folder:{root}"], capsys)
    assert code == 0, err
    result = json.loads(out)
    direct = evaluate(ck.model, test, norm)
    assert result["loss"] == pytest.approx(direct.loss, rel=1e-12)
    assert result["confusion"] == direct.confusion.tolist()

    image = root / "dog" / "3.png"
    code, out, err = run(["predict", tmp_path / "r" / "best.npz", image, "--json",
                          "--top-k", "2"], capsys)
    assert code == 0, err
    got = {p["class"]: p["probability"] for p in json.loads(out)[0]["predictions"]}
    want = predict_proba(ck.model, norm(read_image(image, (16, 12))[None]))[0]
    assert got["cat"] == pytest.approx(float(want[0]), rel=1e-6)
    assert got["dog"] == pytest.approx(float(want[1]), rel=1e-6)
    assert (tmp_path / "runs").exists() is False  # --out was used, not runs/folder:...


def test_folder_run_default_out_dir_and_grey(tmp_path, capsys):
    root = write_folder(tmp_path / "pics", per_class=5)
    code, _, err = run(["train", "--dataset", f"folder:{root}", "--grey", "--image-size", "8",
                        *QUICK], capsys)
    assert code == 0, err
    ck = load_checkpoint(tmp_path / "runs" / "folder-pics-signs" / "best.npz")
    assert ck.input_shape == (8, 8, 1)
