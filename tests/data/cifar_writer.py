"""Write CIFAR files for the tests in both releases, independently of the reader under test.

Binary records are assembled byte by byte from each image's planes (R, G, B, each 32x32
row-major) with ``bytes``; pickled batches are ``pickle.dumps`` of the published dict layout.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np


def random_images(n: int, seed: int = 0) -> np.ndarray:
    """uint8 (n, 32, 32, 3) channels-last images."""
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def planes(img: np.ndarray) -> bytes:
    """One (32, 32, 3) image as CIFAR stores it: all red, then all green, then all blue."""
    return b"".join(img[:, :, c].tobytes() for c in range(3))


def binary_records(x: np.ndarray, *labels: np.ndarray) -> bytes:
    """Records ``<label bytes...><3072 pixel bytes>``, one per image (a loop: an oracle)."""
    return b"".join(bytes(int(lab[i]) for lab in labels) + planes(x[i]) for i in range(len(x)))


def python_batch(x: np.ndarray, labels: dict, *, protocol: int = 4, bytes_keys=False) -> bytes:
    """A pickled batch dict: ``data`` (N, 3072) uint8 plus label lists and file names."""
    data = np.frombuffer(b"".join(planes(img) for img in x), np.uint8).reshape(len(x), 3072)
    d = {"batch_label": "testing batch", "data": data,
         "filenames": [f"img_{i}.png".encode() for i in range(len(x))],
         **{k: [int(v) for v in vals] for k, vals in labels.items()}}
    if bytes_keys:  # what pickle.load(f, encoding="bytes") shows for the Python 2 originals
        d = {k.encode(): v for k, v in d.items()}
    return pickle.dumps(d, protocol=protocol)


def write_cifar10(folder, n_train=(3, 2, 2, 2, 1), n_test=4, *, release="binary",
                  protocol=4, meta=True, seed=0) -> dict[str, np.ndarray]:
    """A small CIFAR-10 release in ``folder``: batches of the given sizes; returns the arrays."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {"train_x": [], "train_y": []}
    for i, n in enumerate(n_train, 1):
        x, y = random_images(n, seed + i), rng.integers(0, 10, n)
        _write(folder, release, f"data_batch_{i}", x, {"labels": y}, protocol)
        out["train_x"].append(x)
        out["train_y"].append(y)
    tx, ty = random_images(n_test, seed + 99), rng.integers(0, 10, n_test)
    _write(folder, release, "test_batch", tx, {"labels": ty}, protocol)
    names = [f"class{k}" for k in range(10)]
    if meta and release == "binary":
        (folder / "batches.meta.txt").write_text("\n".join(names) + "\n\n")
    elif meta:
        (folder / "batches.meta").write_bytes(pickle.dumps(
            {"label_names": names, "num_cases_per_batch": 10000, "num_vis": 3072}, protocol))
    return {"train_x": np.concatenate(out["train_x"]), "train_y": np.concatenate(out["train_y"]),
            "test_x": tx, "test_y": ty, "names": tuple(names)}


def write_cifar100(folder, n_train=5, n_test=3, *, release="binary", protocol=4, seed=0):
    """A small CIFAR-100 release in ``folder``; returns the arrays."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for part, n in (("train", n_train), ("test", n_test)):
        x, coarse, fine = random_images(n, seed + len(part)), rng.integers(0, 20, n), \
            rng.integers(0, 100, n)
        if release == "binary":
            (folder / f"{part}.bin").write_bytes(binary_records(x, coarse, fine))
        else:
            (folder / part).write_bytes(python_batch(
                x, {"coarse_labels": coarse, "fine_labels": fine}, protocol=protocol))
        out.update({f"{part}_x": x, f"{part}_coarse": coarse, f"{part}_fine": fine})
    fine_names = [f"fine{k}" for k in range(100)]
    coarse_names = [f"coarse{k}" for k in range(20)]
    if release == "binary":
        (folder / "fine_label_names.txt").write_text("\n".join(fine_names) + "\n")
        (folder / "coarse_label_names.txt").write_text("\n".join(coarse_names) + "\n")
    else:
        (folder / "meta").write_bytes(pickle.dumps(
            {"fine_label_names": fine_names, "coarse_label_names": coarse_names}, protocol))
    out.update({"fine_names": tuple(fine_names), "coarse_names": tuple(coarse_names)})
    return out


def _write(folder: Path, release: str, stem: str, x, labels: dict, protocol: int) -> None:
    if release == "binary":
        (folder / f"{stem}.bin").write_bytes(binary_records(x, labels["labels"]))
    else:
        (folder / stem).write_bytes(python_batch(x, labels, protocol=protocol))


def cifar10_binary_archive(folder) -> bytes:
    """A ``cifar-10-binary.tar.gz`` holding the binary release written in ``folder``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in sorted(Path(folder).iterdir()):
            tar.add(p, arcname=f"cifar-10-batches-bin/{p.name}")
    return buf.getvalue()
