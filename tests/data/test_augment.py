"""Augmentation: exact mirrors, crops that are windows of the padded image (checked by a loop),
and batches that depend on (seed, epoch) alone, so a resumed run trains on the same images."""

import numpy as np
import pytest

from juanji.data import Augment, BatchIterator, Dataset, Normalizer
from juanji.data.augment import (crop_and_flip, random_crop, random_flip, random_shift,
                                 recipe_augment)
from juanji.models import build_model
from juanji.optim import make_optimizer
from juanji.train import fit


def images(n=6, h=5, w=7, c=3, seed=0):
    return np.random.default_rng(seed).integers(1, 256, (n, h, w, c), dtype=np.uint8)


def crop_oracle(x, oy, ox, flip, p):
    """The same crop and flip with plain loops over images and pixels (test-only)."""
    n, h, w, c = x.shape
    padded = np.zeros((n, h + 2 * p, w + 2 * p, c), x.dtype)
    padded[:, p:p + h, p:p + w] = x
    out = np.empty_like(x)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                jj = w - 1 - j if flip[b] else j
                out[b, i, j] = padded[b, oy[b] + i, ox[b] + jj]
    return out


@pytest.mark.parametrize("p", [0, 1, 3])
def test_crop_and_flip_matches_the_loop(p):
    x = images()
    rng = np.random.default_rng(5)
    oy, ox = rng.integers(0, 2 * p + 1, (2, len(x)))
    flip = rng.random(len(x)) < 0.5
    got = crop_and_flip(x, oy, ox, flip, p)
    np.testing.assert_array_equal(got, crop_oracle(x, oy, ox, flip, p))
    assert got.shape == x.shape and got.dtype == x.dtype


def test_flip_is_an_exact_mirror_and_centre_crop_is_identity():
    x = images()
    n = len(x)
    centre = np.full(n, 2)
    np.testing.assert_array_equal(crop_and_flip(x, centre, centre, np.ones(n, bool), 2),
                                  x[:, :, ::-1])
    np.testing.assert_array_equal(crop_and_flip(x, centre, centre, np.zeros(n, bool), 2), x)


def test_random_flip_gives_each_image_or_its_mirror():
    x = images(n=40)
    out = random_flip(x, np.random.default_rng(0))
    same = (out == x).all(axis=(1, 2, 3))
    mirrored = (out == x[:, :, ::-1]).all(axis=(1, 2, 3))
    assert (same | mirrored).all() and same.any() and mirrored.any()


def test_shift_brings_in_zeros_and_keeps_the_rest():
    x = images(n=30, h=6, w=6)  # values >= 1, so a zero can only come from the padding
    out = random_shift(x, 2, np.random.default_rng(1))
    assert out.shape == x.shape and (out == 0).any()
    for b in range(len(x)):  # each output is x shifted by some (dy, dx) in [-2, 2]^2
        assert any(np.array_equal(out[b], crop_oracle(x[b:b + 1], [oy], [ox], [False], 2)[0])
                   for oy in range(5) for ox in range(5))
    np.testing.assert_array_equal(random_crop(x, 2, np.random.default_rng(1)), out)


@pytest.mark.parametrize("shape", [(4, 32, 32, 3), (3, 28, 28, 1), (1, 8, 8, 1)])
def test_augment_keeps_shape_dtype_and_is_seeded(shape):
    x = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    aug = Augment(crop_padding=4)
    a = aug(x, np.random.default_rng(7))
    assert a.shape == x.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, aug(x, np.random.default_rng(7)))
    assert not np.array_equal(aug(x, np.random.default_rng(8)), a) or shape[0] == 1


def test_no_crop_no_flip_is_identity():
    x = images()
    np.testing.assert_array_equal(Augment(crop_padding=0, flip=False)(x,
                                  np.random.default_rng(0)), x)


def ds(n=24, side=8, seed=0):
    rng = np.random.default_rng(seed)
    return Dataset(rng.integers(0, 256, (n, side, side, 1), dtype=np.uint8),
                   np.arange(n) % 3, ("a", "b", "c"), "toy")


def test_batch_iterator_augments_by_seed_and_epoch():
    data = ds()

    def epochs(it, k):
        return [[xb.copy() for xb, _ in it] for _ in range(k)]

    a = epochs(BatchIterator(data, 5, seed=3, augment=Augment(2)), 3)
    b = epochs(BatchIterator(data, 5, seed=3, augment=Augment(2)), 3)
    for ea, eb in zip(a, b):
        for xa, xb in zip(ea, eb):
            np.testing.assert_array_equal(xa, xb)
    # Starting at epoch 2 directly (a resumed run) gives epoch 2 of the continuous run.
    late = BatchIterator(data, 5, seed=3, augment=Augment(2))
    late.load_state_dict({"seed": 3, "epoch": 2})
    for xa, xb in zip(a[2], epochs(late, 1)[0]):
        np.testing.assert_array_equal(xa, xb)
    # Epochs differ from each other and from the un-augmented batches.
    plain = epochs(BatchIterator(data, 5, seed=3), 1)[0]
    assert not np.array_equal(a[0][0], a[1][0]) and not np.array_equal(a[0][0], plain[0])


def test_augmented_batches_are_normalised_after_augmenting():
    data = ds()
    norm = Normalizer.fit(data)
    flip_all = lambda x, rng: x[:, :, ::-1].copy()  # noqa: E731 - deterministic augment
    it = BatchIterator(data, 24, shuffle=False, normalizer=norm, augment=flip_all)
    (xb, _), = list(it)
    np.testing.assert_array_equal(xb, norm(data.x[:, :, ::-1]))


def test_bad_augment():
    with pytest.raises(TypeError, match=r"`augment` must be None or a callable augment\(x, rng\), "
                                        r"got int"):
        BatchIterator(ds(), 4, augment=3)
    it = BatchIterator(ds(), 4, augment=lambda x, rng: x.astype(np.float32))
    with pytest.raises(TypeError, match=r"`augment` must return uint8 \(B, \*\(8, 8, 1\)\), got "
                                        r"float32"):
        next(iter(it))
    with pytest.raises(ValueError, match=r"`crop_padding` must be an int >= 0, got -1"):
        Augment(-1)
    with pytest.raises(TypeError, match=r"`flip` must be True or False, got 1"):
        Augment(2, flip=1)


def test_recipe():
    assert recipe_augment("cifar10", (32, 32, 3)).to_dict() == {"crop_padding": 4, "flip": True}
    assert recipe_augment("signs", (64, 64, 3)).to_dict() == {"crop_padding": 8, "flip": True}
    assert recipe_augment("digits", (8, 8, 1)).to_dict() == {"crop_padding": 1, "flip": False}


def test_fit_with_augmentation_resumes_exactly(tmp_path):
    """3 epochs in one go == 2 epochs, then a resumed 3rd: the same weights, bit for bit."""
    from juanji.checkpoint import load_checkpoint
    from juanji.train import restore_training_state

    data = ds(n=30)
    norm = Normalizer.fit(data)

    def run(epochs, out, start=None):
        if start is None:
            model = build_model("digits", data.input_shape, 3, seed=0)
            opt, first, hist = make_optimizer("adam", model.parameters(), 1e-2), 0, None
        else:
            ck = load_checkpoint(start)
            model = ck.model
            opt = make_optimizer("adam", model.parameters(), 1e-2)
            first, hist = restore_training_state(ck, opt)
        fit(model, data, epochs=epochs, batch_size=8, optimizer=opt, seed=1, normalizer=norm,
            checkpoint_dir=out, progress=False, start_epoch=first, history=hist,
            augment=Augment(1))
        return model

    whole = run(3, tmp_path / "a")
    run(2, tmp_path / "b")
    resumed = run(3, tmp_path / "b", start=tmp_path / "b" / "last.npz")
    for k, v in whole.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k], v)
