"""BatchIterator: coverage per epoch, seeded and resumable orders, shapes, and train-only stats."""

import json
import tracemalloc

import numpy as np
import pytest

from juanji.data import BatchIterator, Dataset, Normalizer
from tests.helpers import assert_close

# x / 255 / (1 / 255) = x: batches carry the raw pixel values, so images can be traced.
IDENTITY = Normalizer([0.0], [1.0 / 255.0])


def traced(n, hw=(3, 2)):
    """(x, y) with y = index and every pixel of image i equal to i % 256."""
    x = np.broadcast_to((np.arange(n) % 256).astype(np.uint8)[:, None, None, None],
                        (n, *hw, 1)).copy()  # (N, H, W, 1)
    return x, np.arange(n)


def run_epoch(it):
    """Indices in the order served, after checking each x batch matches its y batch."""
    seen = []
    for xb, yb in it:
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        assert xb.shape == (len(yb), *it.x.shape[1:])
        assert_close(xb[:, 0, 0, 0], yb % 256, np.float32)
        seen.append(yb)
    return np.concatenate(seen) if seen else np.zeros(0, np.int64)


def run_epoch_at(it, epoch):
    it.epoch = epoch
    return run_epoch(it)


@pytest.mark.parametrize("n", [1, 7, 10, 64])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 100])
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_index_once_per_epoch(n, batch_size, shuffle):
    it = BatchIterator(traced(n), batch_size, shuffle=shuffle, seed=3, normalizer=IDENTITY)
    assert len(it) == -(-n // batch_size)
    for _ in range(3):
        sizes = [len(yb) for _, yb in it]
        assert len(sizes) == len(it)
        assert sizes[:-1] == [batch_size] * (len(sizes) - 1) and 1 <= sizes[-1] <= batch_size
    for epoch in range(2):
        order = run_epoch(it)
        assert sorted(order.tolist()) == list(range(n))
        if not shuffle:
            assert order.tolist() == list(range(n))


@pytest.mark.parametrize("n,batch_size", [(10, 3), (10, 5), (64, 10), (7, 7)])
def test_drop_last(n, batch_size):
    it = BatchIterator(traced(n), batch_size, seed=1, drop_last=True, normalizer=IDENTITY)
    assert len(it) == n // batch_size
    batches = [yb for _, yb in it]
    assert len(batches) == n // batch_size
    assert all(len(b) == batch_size for b in batches)
    served = np.concatenate(batches)
    assert len(set(served.tolist())) == len(served) == (n // batch_size) * batch_size


def test_drop_last_with_too_few_examples():
    with pytest.raises(ValueError, match=r"`batch_size` \(=8\) exceeds the 5 examples"):
        BatchIterator(traced(5), 8, drop_last=True)


def test_same_seed_same_batches_other_epoch_or_seed_other_order():
    a = BatchIterator(traced(50), 8, seed=7, normalizer=IDENTITY)
    b = BatchIterator(traced(50), 8, seed=7, normalizer=IDENTITY)
    epochs_a = [run_epoch(a) for _ in range(3)]
    epochs_b = [run_epoch(b) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    assert not np.array_equal(epochs_a[1], epochs_a[2])
    other = BatchIterator(traced(50), 8, seed=8, normalizer=IDENTITY)
    assert not np.array_equal(run_epoch(other), epochs_a[0])


def test_order_is_the_documented_function_of_seed_and_epoch():
    it = BatchIterator(traced(30), 4, seed=11, normalizer=IDENTITY)
    for epoch in (0, 1, 5):
        np.testing.assert_array_equal(
            it.order(epoch), np.random.default_rng([11, epoch]).permutation(30))
    np.testing.assert_array_equal(it.order(2), run_epoch_at(it, 2))


def test_resume_reproduces_the_remaining_epochs():
    original = BatchIterator(traced(40), 6, seed=2, normalizer=IDENTITY)
    full_run = [run_epoch(original) for _ in range(5)]
    interrupted = BatchIterator(traced(40), 6, seed=2, normalizer=IDENTITY)
    for _ in range(2):
        run_epoch(interrupted)
    state = json.loads(json.dumps(interrupted.state_dict()))  # what a checkpoint stores
    assert state == {"seed": 2, "epoch": 2}
    resumed = BatchIterator(traced(40), 6, seed=999, normalizer=IDENTITY)  # seed comes from state
    resumed.load_state_dict(state)
    for expected in full_run[2:]:
        np.testing.assert_array_equal(run_epoch(resumed), expected)
    assert resumed.epoch == 5


def test_epoch_counter_advances_even_on_break():
    it = BatchIterator(traced(20), 4, normalizer=IDENTITY)
    for _ in it:
        break
    assert it.epoch == 1
    assert it.state_dict() == {"seed": 0, "epoch": 1}


def test_dataset_batches_shapes_and_dtypes():
    rng = np.random.default_rng(0)
    ds = Dataset(rng.integers(0, 256, (23, 6, 5, 3), dtype=np.uint8), rng.integers(0, 4, 23),
                 ("a", "b", "c", "d"), "rgb")
    it = BatchIterator(ds, 8, shuffle=False)
    got = [(xb.shape, xb.dtype, yb.shape, yb.dtype) for xb, yb in it]
    assert got == [((8, 6, 5, 3), np.float32, (8,), np.int64)] * 2 + \
        [((7, 6, 5, 3), np.float32, (7,), np.int64)]
    xb, yb = next(iter(BatchIterator(ds, 23, shuffle=False)))
    assert_close(xb, Normalizer.fit(ds)(ds.x), np.float32)
    np.testing.assert_array_equal(yb, ds.y)
    assert it.num_examples == 23


def test_normalizer_statistics_come_from_train_only():
    rng = np.random.default_rng(1)
    train_x = rng.integers(0, 100, (40, 4, 4, 1), dtype=np.uint8)   # dark
    test_x = rng.integers(150, 256, (20, 4, 4, 1), dtype=np.uint8)  # bright
    train_it = BatchIterator((train_x, np.zeros(40, int)), 16, seed=0)
    assert train_it.normalizer == Normalizer.fit(train_x)
    test_it = BatchIterator((test_x, np.zeros(20, int)), 20, shuffle=False,
                            normalizer=train_it.normalizer)
    xb, _ = next(iter(test_it))
    m, s = train_it.normalizer.mean[0], train_it.normalizer.std[0]
    assert_close(xb, (test_x / 255.0 - m) / s, np.float32)
    assert xb.mean() > 2.0  # the bright test set stays far from 0 under the dark train stats
    assert Normalizer.fit(test_x) != train_it.normalizer


def test_no_whole_dataset_copy_per_epoch():
    """Serving batches allocates O(batch) memory, not a float copy of the data set."""
    x = np.zeros((20000, 28, 28, 1), np.uint8)  # 15.7 MB uint8, 62.7 MB as float32
    it = BatchIterator((x, np.zeros(20000, int)), 32, seed=0, normalizer=IDENTITY)
    tracemalloc.start()
    try:
        for _, (xb, _) in zip(range(5), it):
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # the order (160 kB) plus a few 100 kB batches


@pytest.mark.parametrize("kwargs,err,match", [
    ({"batch_size": 0}, ValueError, "`batch_size` must be an int >= 1, got 0"),
    ({"batch_size": 2.0}, ValueError, "`batch_size` must be an int >= 1, got 2.0"),
    ({"batch_size": True}, ValueError, "`batch_size` must be an int >= 1, got True"),
    ({"batch_size": 2, "seed": -1}, ValueError, "`seed` must be an int >= 0, got -1"),
    ({"batch_size": 2, "seed": 1.5}, ValueError, "`seed` must be an int >= 0"),
    ({"batch_size": 2, "normalizer": "standard"}, TypeError,
     "`normalizer` must be a Normalizer or None, got str"),
    ({"batch_size": 2, "normalizer": Normalizer([0, 0, 0], [1, 1, 1])}, ValueError,
     r"`normalizer` has 3 channel\(s\) but the images have 1"),
])
def test_argument_errors(kwargs, err, match):
    with pytest.raises(err, match=match):
        BatchIterator(traced(4), **kwargs)


@pytest.mark.parametrize("data,err,match", [
    (np.zeros((4, 2, 2, 1), np.uint8), TypeError, "`data` must be a Dataset or a pair"),
    ((np.zeros((4, 2, 2), np.uint8), np.zeros(4, int)), TypeError, r"`data` x must be a uint8"),
    ((np.zeros((4, 2, 2, 1), np.float32), np.zeros(4, int)), TypeError, "`data` x must be"),
    ((np.zeros((4, 2, 2, 1), np.uint8), np.zeros(4)), TypeError, "`data` y must be a 1-D integer"),
    ((np.zeros((4, 2, 2, 1), np.uint8), np.zeros(3, int)), ValueError,
     "x has 4 images but y has 3 labels"),
    ((np.zeros((0, 2, 2, 1), np.uint8), np.zeros(0, int)), ValueError, "`data` is empty"),
])
def test_data_errors(data, err, match):
    with pytest.raises(err, match=match):
        BatchIterator(data, 2)


def test_state_and_order_errors():
    it = BatchIterator(traced(4), 2)
    with pytest.raises(ValueError, match="`state` must be a dict with the keys 'seed' and 'epoch'"):
        it.load_state_dict({"epoch": 1})
    with pytest.raises(ValueError, match=r"`state\['epoch'\]` must be an int >= 0, got -2"):
        it.load_state_dict({"seed": 0, "epoch": -2})
    with pytest.raises(ValueError, match="`epoch` must be an int >= 0, got 1.0"):
        it.order(1.0)
