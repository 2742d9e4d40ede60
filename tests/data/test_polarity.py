"""`juanji.data.polarity`: light-on-dark vs dark-on-light, measured on the training images and
stored in the checkpoint, validated on load."""

import json
import zipfile

import numpy as np
import pytest

from juanji.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from juanji.data import load_dataset
from juanji.data.polarity import Polarity, border_and_centre
from juanji.models import build_model


def test_border_and_centre_by_hand():
    x = np.zeros((8, 8, 1), np.uint8)  # ring r = 1 (28 pixels), centre rows/cols 2..5 (16)
    x[0, :] = 255  # the top row: 8 of the 28 border pixels
    x[3, 3] = 255  # one of the 16 centre pixels
    border, centre = border_and_centre(x)
    assert border == pytest.approx(8 / 28) and centre == pytest.approx(1 / 16)
    rgb = np.repeat(x[None], 2, axis=0).repeat(3, axis=-1)  # (2, 8, 8, 3): same per channel
    b, c = border_and_centre(rgb)
    np.testing.assert_allclose(b, [8 / 28] * 2)
    np.testing.assert_allclose(c, [1 / 16] * 2)


def test_the_digits_are_light_on_dark_and_their_negatives_the_reverse():
    train, _ = load_dataset("digits")
    pol = Polarity.fit(train)
    assert pol.kind == "light on dark" and pol.agreement > 0.99
    neg = Polarity.fit(255 - train.x)
    assert neg.kind == "dark on light"
    assert neg.border == pytest.approx(1 - pol.border, abs=1e-3)
    assert pol.is_opposite(255 - train.x[0]) and not pol.is_opposite(train.x[0])
    assert neg.is_opposite(train.x[0])


def test_photos_have_no_polarity_so_nothing_is_inverted():
    noise = np.random.default_rng(0).integers(0, 256, (200, 16, 16, 3), np.uint8)
    pol = Polarity.fit(noise)
    assert pol.kind is None and pol.agreement < 0.8
    dark_on_light = np.full((16, 16, 3), 255, np.uint8)
    dark_on_light[4:12, 4:12] = 0
    assert not pol.is_opposite(dark_on_light)


@pytest.mark.parametrize("bad, message", [
    ({"border": 0.1, "centre": 0.5}, "exactly the keys"),
    ({"border": 0.1, "centre": 0.5, "agreement": 1.0, "x": 1}, "exactly the keys"),
    ({"border": -0.1, "centre": 0.5, "agreement": 1.0}, "'border' must be a number in"),
    ({"border": 0.1, "centre": "0.5", "agreement": 1.0}, "'centre' must be a number in"),
    ({"border": 0.1, "centre": 0.5, "agreement": True}, "'agreement' must be a number in"),
    ([0.1, 0.5, 1.0], "exactly the keys"),
])
def test_from_dict_refuses_anything_else(bad, message):
    with pytest.raises(ValueError, match=message):
        Polarity.from_dict(bad)


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="uint8 images"):
        border_and_centre(np.zeros((8, 8, 1), np.float32))
    with pytest.raises(ValueError, match="one image"):
        Polarity.fit(np.zeros((8, 8, 1), np.uint8))


def _model():
    return build_model("digits", (8, 8, 1), 10, seed=0)


def test_the_checkpoint_round_trips_it_and_refuses_a_tampered_one(tmp_path):
    pol = Polarity(0.1689, 0.5171, 0.9993)
    path = save_checkpoint(tmp_path / "a.npz", _model(), polarity=pol)
    assert load_checkpoint(path).load_polarity() == pol
    assert load_checkpoint(save_checkpoint(tmp_path / "b.npz", _model())).polarity is None

    # the same file with the polarity's border out of range
    with np.load(path) as npz:
        arrays = dict(npz)
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["polarity"]["border"] = 7
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    assert zipfile.is_zipfile(tmp_path / "bad.npz")
    with pytest.raises(CheckpointError, match="metadata 'polarity': polarity 'border' must be a "
                                              "number in"):
        load_checkpoint(tmp_path / "bad.npz")
