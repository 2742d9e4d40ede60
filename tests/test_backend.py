"""juanji.backend: choosing the compiled (numba) or the pure-NumPy path, and the messages."""

import os
import subprocess
import sys

import pytest

import juanji
from juanji import backend


def test_set_backend_switches_and_returns_the_previous_one():
    old = juanji.set_backend("numpy")
    try:
        assert juanji.get_backend() == "numpy"
        assert juanji.set_backend("numba") == "numpy"
        assert juanji.get_backend() == "numba"
    finally:
        juanji.set_backend(old)


@pytest.mark.parametrize("bad", ["cuda", "", 3, None])
def test_set_backend_names_the_value_and_the_allowed_ones(bad):
    with pytest.raises(ValueError, match=r"`backend` must be one of 'numpy', 'numba', got "
                                         + repr(bad).replace("(", r"\(")):
        juanji.set_backend(bad)


def test_numba_refused_with_a_hint_when_it_is_not_installed(monkeypatch):
    monkeypatch.setattr(backend, "numba_available", lambda: False)
    with pytest.raises(ValueError, match=r"'numba' but numba is not installed.*pip install numba"):
        backend.set_backend("numba")
    monkeypatch.delenv(backend.ENV_VAR, raising=False)
    assert backend._from_env() == "numpy"  # the default falls back to pure NumPy


def test_default_is_numba_when_importable(monkeypatch):
    monkeypatch.delenv(backend.ENV_VAR, raising=False)
    assert backend.numba_available()  # numba is a core dependency
    assert backend._from_env() == "numba"


def _backend_in_a_new_process(value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, backend.ENV_VAR: value}
    return subprocess.run([sys.executable, "-c", "import juanji; print(juanji.get_backend())"],
                          env=env, capture_output=True, text=True)


@pytest.mark.parametrize("value, expected", [("numpy", "numpy"), ("NUMBA", "numba"),
                                             (" numpy ", "numpy")])
def test_environment_variable_selects_the_backend(value, expected):
    proc = _backend_in_a_new_process(value)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected


def test_environment_variable_with_a_bad_value_names_it():
    proc = _backend_in_a_new_process("fortran")
    assert proc.returncode != 0
    assert ("the environment variable JUANJI_BACKEND must be one of 'numpy', 'numba', "
            "got 'fortran'") in proc.stderr


def test_importing_juanji_does_not_import_numba():
    code = "import sys, juanji, juanji.functional, juanji.nn; print('numba' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"  # numba (~0.5 s) loads on the first pool call only
