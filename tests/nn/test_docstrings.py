"""Every public layer documents itself as torch.nn does: an ``Args:`` section naming each
constructor argument and a ``Shape:`` section with the input and output shapes."""
import inspect
import re

import pytest

import juanji.nn as nn

PUBLIC = [getattr(nn, name) for name in nn.__all__
          if inspect.isclass(getattr(nn, name))
          and (issubclass(getattr(nn, name), nn.Layer) and getattr(nn, name) is not nn.Layer
               or getattr(nn, name) is nn.Sequential)]


def _section(doc: str, title: str) -> str | None:
    """The indented block under ``title:`` in a Google-style docstring, or None."""
    m = re.search(rf"^{title}:\n((?:    .*\n|\n)+)", doc, flags=re.MULTILINE)
    return m.group(1) if m else None


def _arguments(cls) -> list[str]:
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def test_the_public_layers_are_found():
    names = {cls.__name__ for cls in PUBLIC}
    assert {"Conv2D", "Dense", "Flatten", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "ReLU",
            "LeakyReLU", "Sigmoid", "Tanh", "BatchNorm2D", "Dropout", "Sequential"} <= names


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_docstring_has_a_shape_section_with_input_and_output(cls):
    doc = inspect.cleandoc(cls.__doc__ or "") + "\n"
    shape = _section(doc, "Shape")
    assert shape is not None, f"{cls.__name__} has no Shape: section"
    assert "Input:" in shape and "Output:" in shape, shape


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_docstring_has_an_args_section_naming_every_argument(cls):
    doc = inspect.cleandoc(cls.__doc__ or "") + "\n"
    args = _arguments(cls)
    section = _section(doc, "Args")
    if not args:
        assert section is None and "no arguments" in doc, \
            f"{cls.__name__} takes no arguments: say so rather than list none"
        return
    assert section is not None, f"{cls.__name__} has no Args: section"
    documented = re.findall(r"^    (\w+):", section, flags=re.MULTILINE)
    assert documented == args, f"{cls.__name__}: Args lists {documented}, __init__ takes {args}"
