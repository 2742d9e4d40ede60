"""`juanji predict` on a drawing whose polarity is opposite to the training images: the README's
examples/seven.png (a black 7 on white paper, made by scripts/make_seven.py) is inverted
automatically, said in one line on stderr, and classified as 7 by the default digits model;
--invert / --no-invert force either way; a checkpoint without the statistics keeps the old
behaviour silently."""

import json
import runpy
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from juanji import cli
from juanji.checkpoint import load_checkpoint
from juanji.data import load_dataset

ROOT = Path(__file__).resolve().parents[2]
SEVEN = ROOT / "examples" / "seven.png"


def run(argv, capsys):
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """The README's `juanji train` (the default digits model), as a user runs it."""
    out = tmp_path_factory.mktemp("polarity") / "run"
    assert cli.main(["train", "--no-progress", "--out", str(out)]) == 0
    return out / "best.npz"


def predict(checkpoint, image, capsys, *flags):
    code, out, err = run(["predict", checkpoint, image, "--json", *flags], capsys)
    assert code == 0, err
    (result,) = json.loads(out)
    return result, err


def test_the_shipped_seven_is_what_the_script_draws(tmp_path):
    made = tmp_path / "seven.png"
    runpy.run_path(str(ROOT / "scripts" / "make_seven.py"), run_name="make_seven")["main"](
        ["--out", str(made)])
    shipped = np.asarray(Image.open(SEVEN))
    assert shipped.shape == (200, 200)
    np.testing.assert_array_equal(np.asarray(Image.open(made)), shipped)
    assert shipped[0, 0] == 255 and shipped.min() == 0  # white paper, black ink


def test_the_checkpoint_records_light_on_dark_digits(digits_model):
    polarity = load_checkpoint(digits_model).load_polarity()
    assert polarity.kind == "light on dark"
    assert polarity.border < 0.2 < 0.5 < polarity.centre and polarity.agreement > 0.99


def test_a_dark_on_light_seven_is_inverted_and_said(digits_model, capsys):
    result, err = predict(digits_model, SEVEN, capsys)
    assert result["inverted"] is True
    assert result["predictions"][0]["class"] == "7"
    assert result["predictions"][0]["probability"] > 0.5
    assert err == (f"note: {SEVEN} is dark on light but the training images (digits) are light "
                   f"on dark: inverted it (--no-invert keeps it as it is)\n")
    forced, err = predict(digits_model, SEVEN, capsys, "--invert")
    assert err == "" and forced == result  # the same inversion, asked for: no note
    kept, err = predict(digits_model, SEVEN, capsys, "--no-invert")
    assert err == "" and kept["inverted"] is False
    assert kept["predictions"] != result["predictions"]


def test_a_light_on_dark_digit_is_left_alone(digits_model, capsys, tmp_path):
    _, test = load_dataset("digits")
    path = tmp_path / "digit.png"
    Image.fromarray(test.x[0, :, :, 0]).save(path)
    result, err = predict(digits_model, path, capsys)
    assert err == "" and result["inverted"] is False
    forced, _ = predict(digits_model, path, capsys, "--invert")
    assert forced["inverted"] is True and forced["predictions"] != result["predictions"]


def test_an_image_without_clear_polarity_is_left_alone(digits_model, capsys, tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((20, 20), 128, np.uint8)).save(path)
    result, err = predict(digits_model, path, capsys)
    assert err == "" and result["inverted"] is False


def test_a_checkpoint_without_the_statistics_keeps_the_old_behaviour(checkpoint, capsys):
    assert load_checkpoint(checkpoint).polarity is None  # conftest's: saved without it
    result, err = predict(checkpoint, SEVEN, capsys)
    assert err == "" and result["inverted"] is False
    forced, _ = predict(checkpoint, SEVEN, capsys, "--invert")
    assert forced["inverted"] is True


def test_the_last_of_invert_and_no_invert_wins(digits_model, capsys):
    result, err = predict(digits_model, SEVEN, capsys, "--invert", "--no-invert")
    assert err == "" and result["inverted"] is False
