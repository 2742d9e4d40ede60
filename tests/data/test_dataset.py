"""Dataset: validation on construction, read-only storage, subset and the stratified split."""

import numpy as np
import pytest

from juanji.data import Dataset


def make(n=40, k=3, hw=(2, 2), seed=0):
    """n examples; pixel (0, 0) and (0, 1) hold the example's index, so examples can be traced."""
    x = np.zeros((n, *hw, 1), np.uint8)
    x[:, 0, 0, 0] = np.arange(n) % 256
    x[:, 0, 1, 0] = np.arange(n) // 256
    y = np.random.default_rng(seed).integers(0, k, n)
    return Dataset(x, y, tuple(f"c{i}" for i in range(k)), "toy")


def ids(ds):
    return ds.x[:, 0, 0, 0].astype(int) + 256 * ds.x[:, 0, 1, 0].astype(int)


def test_properties():
    ds = make(10, k=4, hw=(3, 5))
    assert len(ds) == 10 and ds.input_shape == (3, 5, 1) and ds.num_classes == 4
    assert ds.y.dtype == np.int64 and isinstance(ds.class_names, tuple)
    assert "toy" in repr(ds) and "n=10" in repr(ds)


def test_labels_become_int64():
    ds = Dataset(np.zeros((3, 1, 1, 1), np.uint8), np.array([0, 1, 1], np.uint8), ["a", "b"], "t")
    assert ds.y.dtype == np.int64 and ds.class_names == ("a", "b")


def test_arrays_are_read_only_but_the_callers_are_not():
    x, y = np.zeros((2, 1, 1, 1), np.uint8), np.zeros(2, np.int64)
    ds = Dataset(x, y, ("a",), "t")
    with pytest.raises(ValueError, match="read-only"):
        ds.x[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        ds.y[0] = 1
    x[0] = 5  # the caller's own array is untouched by the flag
    assert ds.x[0, 0, 0, 0] == 5


@pytest.mark.parametrize("x,y,names,name,err,match", [
    (np.zeros((2, 1, 1, 1), np.float32), np.zeros(2, int), ("a",), "t", TypeError,
     r"`x` must be a uint8 .*float32"),
    (np.zeros((2, 1, 1), np.uint8), np.zeros(2, int), ("a",), "t", TypeError,
     r"`x` must be a uint8 .*\(N, H, W, C\), got .*shape \(2, 1, 1\)"),
    ([[[[0]]]], np.zeros(1, int), ("a",), "t", TypeError, "`x` must be .* got list"),
    (np.zeros((2, 1, 1, 1), np.uint8), np.zeros(2, np.float64), ("a",), "t", TypeError,
     "`y` must be a 1-D integer"),
    (np.zeros((2, 1, 1, 1), np.uint8), np.zeros((2, 1), int), ("a",), "t", TypeError,
     "`y` must be a 1-D integer"),
    (np.zeros((2, 1, 1, 1), np.uint8), np.zeros(3, int), ("a",), "t", ValueError,
     "`x` has 2 images, `y` has 3"),
    (np.zeros((2, 1, 1, 1), np.uint8), np.array([0, 2]), ("a", "b"), "t", ValueError,
     r"`y` must lie in \[0, 2\) .*got labels in \[0, 2\]"),
    (np.zeros((2, 1, 1, 1), np.uint8), np.array([-1, 0]), ("a", "b"), "t", ValueError,
     r"`y` must lie in \[0, 2\)"),
    (np.zeros((2, 1, 1, 1), np.uint8), np.zeros(2, int), (), "t", TypeError,
     "`class_names` must be a non-empty tuple of str"),
    (np.zeros((2, 1, 1, 1), np.uint8), np.zeros(2, int), (0, 1), "t", TypeError,
     "`class_names` must be a non-empty tuple of str"),
    (np.zeros((2, 1, 1, 1), np.uint8), np.zeros(2, int), ("a",), 3, TypeError,
     "`name` must be a str"),
])
def test_validation(x, y, names, name, err, match):
    with pytest.raises(err, match=match):
        Dataset(x, y, names, name)


def test_frozen():
    ds = make(3)
    with pytest.raises(AttributeError):
        ds.name = "other"


def test_subset_keeps_order_and_pairs():
    ds = make(20)
    sub = ds.subset([7, 3, 3, 19])
    assert ids(sub).tolist() == [7, 3, 3, 19]
    assert sub.y.tolist() == ds.y[[7, 3, 3, 19]].tolist()
    assert sub.class_names == ds.class_names and sub.name == "toy"
    assert len(ds.subset([])) == 0
    assert ds.subset(np.array([1]), name="one").name == "one"


@pytest.mark.parametrize("indices,err,match", [
    ([0, 20], ValueError, r"`indices` must lie in \[0, 20\), got values in \[0, 20\]"),
    ([-1], ValueError, r"`indices` must lie in \[0, 20\)"),
    ([0.5], TypeError, "`indices` must be a 1-D sequence of ints"),
    ([[0, 1]], TypeError, "`indices` must be a 1-D sequence of ints"),
])
def test_subset_errors(indices, err, match):
    with pytest.raises(err, match=match):
        make(20).subset(indices)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.8])
@pytest.mark.parametrize("seed", [0, 1, 123])
def test_split_is_a_stratified_partition(fraction, seed):
    ds = make(97, k=4, seed=5)
    rest, held = ds.split(fraction, seed)
    a, b = ids(rest), ids(held)
    assert sorted(a.tolist() + b.tolist()) == list(range(97))  # disjoint and covering
    assert (np.diff(a) > 0).all() and (np.diff(b) > 0).all()  # original order kept
    for k in range(4):
        n_k = int((ds.y == k).sum())
        assert int((held.y == k).sum()) == int(np.floor(fraction * n_k + 0.5))
    np.testing.assert_array_equal(held.y, ds.y[b])  # labels follow their images
    assert (rest.name, held.name) == ("toy/rest", "toy/held")


def test_split_deterministic_and_seed_dependent():
    ds = make(60)
    first = ids(ds.split(0.3, seed=4)[1])
    np.testing.assert_array_equal(first, ids(ds.split(0.3, seed=4)[1]))
    assert not np.array_equal(first, ids(ds.split(0.3, seed=5)[1]))


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, True, "0.2", None])
def test_split_bad_fraction(fraction):
    with pytest.raises(ValueError, match="`fraction` must be a number in"):
        make(10).split(fraction)


def test_split_with_an_empty_side():
    with pytest.raises(ValueError, match=r"`fraction` \(=0.01\) leaves one side of the split empty"):
        make(10, k=2).split(0.01)


def test_an_nchw_array_is_refused_with_the_transpose():
    x = np.zeros((4, 1, 8, 8), np.uint8)  # (N, C, H, W)
    with pytest.raises(ValueError, match=r"looks channels-first .*x\.transpose\(0, 2, 3, 1\)"):
        Dataset(x, np.zeros(4, np.int64), ("a",), "toy")
    assert Dataset(x.transpose(0, 2, 3, 1), np.zeros(4, np.int64), ("a",), "toy").input_shape == (8, 8, 1)
