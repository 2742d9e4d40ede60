"""The restricted unpickler: CIFAR-shaped pickles load, anything that would call code is refused
before it runs (a sentinel file that the payload would create must not appear)."""

import io
import os
import pickle

import numpy as np
import pytest

from juanji.data.safe_pickle import (ALLOWED, RestrictedUnpickler, UnsafePickleError,
                                     safe_load, safe_loads)


def batch(n=3):
    rng = np.random.default_rng(0)
    return {"batch_label": "training batch 1 of 5",
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "labels": [int(v) for v in rng.integers(0, 10, n)],
            "filenames": [b"a.png", b"b.png", b"c.png"][:n]}


def globals_in(blob: bytes) -> set[tuple[str, str]]:
    """The globals the restricted unpickler is asked for while loading ``blob``."""
    seen = set()

    class Recording(RestrictedUnpickler):
        def find_class(self, module, name):
            seen.add((module, name))
            return super().find_class(module, name)

    Recording(io.BytesIO(blob)).load()
    return seen


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("bytes_keys", [False, True])
def test_cifar_shaped_dicts_load_exactly(protocol, bytes_keys):
    d = batch()
    if bytes_keys:
        d = {k.encode(): v for k, v in d.items()}
    blob = pickle.dumps(d, protocol=protocol)
    assert globals_in(blob) <= set(ALLOWED)  # what these protocols need is all admitted
    got = safe_loads(blob)
    assert set(got) == set(d)
    key = b"data" if bytes_keys else "data"
    np.testing.assert_array_equal(got[key], d[key])
    assert got[key].dtype == np.uint8
    assert got[b"labels" if bytes_keys else "labels"] == d[b"labels" if bytes_keys else "labels"]


def test_reads_from_a_file(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(batch(), protocol=2))
    np.testing.assert_array_equal(safe_load(path)["data"], batch()["data"])
    with pytest.raises(TypeError, match=r"`path` must be a str or os.PathLike, got int"):
        safe_load(3)
    with pytest.raises(TypeError, match=r"`data` must be bytes, got str"):
        safe_loads("text")


class Evil:
    """Unpickling this would run ``touch <sentinel>`` through os.system."""

    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


class EvalEvil:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return eval, (f"open({str(self.sentinel)!r}, 'w').close()",)


def payloads(sentinel):
    """Ways a pickle can reach a dangerous function, each creating `sentinel` if it ran."""
    return {
        "os.system (GLOBAL, protocol 0)": (
            f"cos\nsystem\n(S'touch {sentinel}'\ntR.".encode(), "os.system"),
        "builtins.eval": (
            f"cbuiltins\neval\n(S\"open('{sentinel}', 'w').close()\"\ntR.".encode(),
            "builtins.eval"),
        "__builtin__.eval (Python 2 name)": (
            f"c__builtin__\neval\n(S\"open('{sentinel}', 'w').close()\"\ntR.".encode(),
            "__builtin__.eval"),
        "os.system via __reduce__, protocol 4": (
            pickle.dumps({"data": Evil(sentinel)}, protocol=4), f"{os.system.__module__}.system"),
        "eval via __reduce__, protocol 2": (
            pickle.dumps([EvalEvil(sentinel)], protocol=2), "__builtin__.eval"),  # fix_imports
        "subprocess.Popen": (
            f"csubprocess\nPopen\n((S'touch'\nS'{sentinel}'\nltR.".encode(), "subprocess.Popen"),
        "a class instance (copyreg)": (
            pickle.dumps(Evil(sentinel), protocol=1), f"{os.system.__module__}.system"),
    }


@pytest.mark.parametrize("case", list(payloads("x")))
def test_malicious_pickles_are_refused_without_running(tmp_path, case):
    sentinel = tmp_path / "pwned"
    blob, name = payloads(sentinel)[case]
    with pytest.raises(UnsafePickleError, match=rf"refused to load the global '{name}'"):
        safe_loads(blob, source="evil.pkl")
    assert not sentinel.exists()
    path = tmp_path / "data_batch_1"
    path.write_bytes(blob)
    with pytest.raises(UnsafePickleError, match=rf"^{path}: refused to load the global "
                                                rf"'{name}'.*nothing in it was run"):
        safe_load(path)
    assert not sentinel.exists()
    # and plain pickle would indeed have run it: the test's payloads are real
    if case.startswith("os.system (GLOBAL"):
        pickle.loads(blob)
        assert sentinel.exists()


def test_allowed_globals_with_unexpected_arguments_are_refused():
    huge = ("cnumpy._core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I1000000000\ntS'b'\ntR.")
    with pytest.raises(UnsafePickleError, match=r"refused numpy _reconstruct\('ndarray', "
                                                r"\(1000000000,\)\)"):
        safe_loads(huge.encode())
    with pytest.raises(UnsafePickleError, match=r"refused numpy.dtype\('O8'\): object arrays"):
        safe_loads(pickle.dumps(np.array([None, 1], dtype=object), protocol=2))
    with pytest.raises(UnsafePickleError, match=r"refused _codecs.encode\(..., 'rot13'\)"):
        safe_loads(b"c_codecs\nencode\n(Vabc\nVrot13\ntR.")


@pytest.mark.parametrize("blob", [b"", b"\x80\x04\x95", pickle.dumps(batch(), 4)[:-40],
                                  b"not a pickle at all"])
def test_damaged_streams_give_a_value_error(blob):
    with pytest.raises(ValueError, match=r"<bytes>: not a readable pickle"):
        safe_loads(blob)
