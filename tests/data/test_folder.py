"""Image folders: DIR/<class>/*.png|jpg read with Pillow, resized, split by seed."""

import numpy as np
import pytest
from PIL import Image

from juanji.data import load_dataset, load_image_folder
from juanji.data.folder import list_image_folder, read_image

COLOURS = {"blue": (0, 0, 255), "green": (0, 200, 0), "red": (250, 0, 0)}


def make_folder(root, per_class=5, size=(12, 9), suffixes=(".png",)):
    """Each class a uniform colour, so every pixel of every image tells its class."""
    for name, rgb in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            suffix = suffixes[i % len(suffixes)]
            Image.new("RGB", size, rgb).save(root / name / f"img{i}{suffix}")
    return root


def test_rgb_resized_and_labelled_by_sorted_folder_names(tmp_path):
    make_folder(tmp_path, suffixes=(".png", ".jpg", ".JPEG"))
    train, test = load_image_folder(tmp_path, image_size=(6, 10), test_fraction=0.4, seed=0)
    assert train.class_names == ("blue", "green", "red")
    assert (train.x.shape, test.x.shape) == ((9, 6, 10, 3), (6, 6, 10, 3))
    assert np.bincount(test.y).tolist() == [2, 2, 2]  # stratified
    for ds in (train, test):
        for img, label in zip(ds.x, ds.y):
            want = np.array(COLOURS[ds.class_names[label]])
            assert np.abs(img.astype(int) - want).max() <= 3  # jpeg may move a colour a little
    assert train.name.startswith("folder:") and train.name.endswith("/train")


def test_default_size_and_grey(tmp_path):
    make_folder(tmp_path)
    train, _ = load_image_folder(tmp_path, mode="grey")
    assert train.input_shape == (64, 64, 1)
    expected = {k: Image.new("RGB", (1, 1), v).convert("L").getpixel((0, 0))
                for k, v in COLOURS.items()}
    for img, label in zip(train.x, train.y):
        assert (img == expected[train.class_names[label]]).all()


def test_split_is_a_function_of_the_seed(tmp_path):
    make_folder(tmp_path, per_class=10, size=(4, 4))
    # Tell images apart by their position in the listing: paint each one a different grey.
    for k, (path, _) in enumerate(list_image_folder(tmp_path)[1]):
        Image.new("RGB", (4, 4), (k, k, k)).save(path)
    ids = {s: [load_image_folder(tmp_path, image_size=4, seed=s)[1].x[:, 0, 0, 0].tolist()
               for _ in range(2)] for s in (0, 1)}
    assert ids[0][0] == ids[0][1] and ids[1][0] == ids[1][1]  # same seed, same split
    assert ids[0][0] != ids[1][0]  # another seed, another split
    train, test = load_image_folder(tmp_path, image_size=4, seed=0)
    assert set(train.x[:, 0, 0, 0].tolist()).isdisjoint(test.x[:, 0, 0, 0].tolist())
    assert len(train) + len(test) == 30


def test_other_files_and_hidden_entries_are_ignored(tmp_path):
    make_folder(tmp_path, per_class=3)
    (tmp_path / "red" / "notes.txt").write_text("not an image")
    (tmp_path / "red" / ".hidden.png").write_bytes(b"junk")
    (tmp_path / ".cache").mkdir()
    (tmp_path / "README.md").write_text("hi")
    classes, items = list_image_folder(tmp_path)
    assert classes == ("blue", "green", "red") and len(items) == 9


def test_by_name_through_the_registry(tmp_path):
    make_folder(tmp_path, per_class=5)
    train, test = load_dataset(f"folder:{tmp_path}", image_size=[8, 8], grey=True, seed=3)
    assert train.input_shape == (8, 8, 1) and len(train) + len(test) == 15
    with pytest.raises(ValueError, match=r"`image_size` and `grey` apply to 'folder:DIR' data "
                                         r"sets only, not 'digits'"):
        load_dataset("digits", image_size=8)
    with pytest.raises(ValueError, match=r"must name the folder as 'folder:DIR'"):
        load_dataset("folder:", None)


def test_unreadable_image_names_the_file(tmp_path):
    make_folder(tmp_path, per_class=3)
    bad = tmp_path / "green" / "img1.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 5)
    with pytest.raises(ValueError, match=rf"cannot read image '{bad}'"):
        load_image_folder(tmp_path)
    bad.write_bytes(Image.new("RGB", (5, 5)).tobytes())  # raw pixels, no format at all
    with pytest.raises(ValueError, match=rf"cannot read image '{bad}'"):
        read_image(bad)


def test_layout_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"is not a directory; expected DIR/<class name>"):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "only").mkdir()
    with pytest.raises(ValueError, match=r"at least 2, found 1 \(only\)"):
        load_image_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    Image.new("RGB", (3, 3)).save(tmp_path / "only" / "a.png")
    with pytest.raises(ValueError, match=r"class folder '.*empty' holds no .png/.jpg/.jpeg"):
        load_image_folder(tmp_path)


@pytest.mark.parametrize("kwargs, message", [
    ({"image_size": 0}, r"`image_size` must be an int >= 1 or a pair \(H, W\) of them, got 0"),
    ({"image_size": (8,)}, r"got \(8,\)"),
    ({"image_size": True}, r"got True"),
    ({"mode": "cmyk"}, r"`mode` must be one of \['grey', 'rgb'\], got 'cmyk'"),
    ({"test_fraction": 1.0}, r"`fraction` must be a number in \(0, 1\)"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    make_folder(tmp_path, per_class=2, size=(3, 3))
    with pytest.raises(ValueError, match=message):
        load_image_folder(tmp_path, **kwargs)
