"""`load_image_folder`: a learner's own photos, one sub-folder per class, as train/test Datasets.

Layout (the convention of Keras' ``image_dataset_from_directory`` and torchvision's
``ImageFolder``)::

    DIR/
      cats/   a.jpg  b.png ...
      dogs/   c.jpeg ...

Class names are the sub-folder names in sorted order (so ``y == 0`` is the first name
alphabetically); files ending in ``.png``, ``.jpg`` or ``.jpeg`` (any case) are read with Pillow,
converted to RGB or greyscale, and resized to ``image_size`` with bilinear filtering (the same as
``juanji predict``). Other files and hidden entries are ignored.

The held-out split is `Dataset.split`: stratified (the same share of every class) and a pure
function of ``(test_fraction, seed)``, so ``juanji evaluate`` rebuilds exactly the test images of
the run. Decoding images is I/O: one file at a time is the honest loop here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from juanji.data.dataset import Dataset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DEFAULT_IMAGE_SIZE = (64, 64)
MODES = {"rgb": ("RGB", 3), "grey": ("L", 1)}


def list_image_folder(root) -> tuple[tuple[str, ...], list[tuple[Path, int]]]:
    """``(class_names, [(path, label), ...])`` of an image folder, in a stable sorted order."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"`root` {str(root)!r} is not a directory; expected "
                                f"DIR/<class name>/*.png|jpg")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(f"`root` {str(root)!r} must hold one sub-folder per class, at least 2, "
                         f"found {len(classes)} ({', '.join(classes) or 'none'})")
    items = []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir()
                       if p.is_file() and not p.name.startswith(".")
                       and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"class folder {str(root / name)!r} holds no "
                             f"{'/'.join(IMAGE_SUFFIXES)} images")
        items.extend((p, label) for p in files)
    return tuple(classes), items


# The formats an image may be decoded from, whatever its name says.
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")


def read_image(path, image_size=DEFAULT_IMAGE_SIZE, mode: str = "rgb") -> np.ndarray:
    """One image file -> uint8 ``(H, W, C)``, C = 3 for ``"rgb"``, 1 for ``"grey"``."""
    import io

    from PIL import Image, UnidentifiedImageError

    h, w = _size(image_size)
    pil_mode, c = _mode(mode)
    try:
        # From memory: Pillow reads a PNG chunk's claimed length (up to 2 GiB) from a file
        # with one read(n), which allocates n bytes; a 54-byte file claimed 784 MiB.
        # Only the decoders of IMAGE_FORMATS: a PostScript file named .png must never reach the
        # EPS plugin (which runs Ghostscript where it is installed).
        with Image.open(io.BytesIO(Path(path).read_bytes()), formats=IMAGE_FORMATS) as img:
            if img.width * img.height > Image.MAX_IMAGE_PIXELS:  # Pillow only warns up to 2x
                raise ValueError(f"{img.width}x{img.height} pixels is more than the "
                                 f"{Image.MAX_IMAGE_PIXELS} allowed (a decompression bomb?)")
            img = img.convert(pil_mode).resize((w, h), Image.Resampling.BILINEAR)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError) as err:
        # Pillow signals damaged files with any of these, depending on the format.
        raise ValueError(f"cannot read image {str(path)!r}: {err}") from None
    return np.asarray(img, dtype=np.uint8).reshape(h, w, c)  # (H, W, C)


def load_image_folder(root, *, image_size=DEFAULT_IMAGE_SIZE, mode: str = "rgb",
                      test_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Read every image of ``root`` and split it into ``(train, test)``.

    Args:
        root: DIR with one sub-folder of images per class.
        image_size: ``(H, W)`` or one int for square images; every image is resized to it.
        mode: ``"rgb"`` (C = 3) or ``"grey"`` (C = 1).
        test_fraction: the share of each class held out as the test split, in (0, 1).
        seed: fixes which images are held out.

    >>> import tempfile, os
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for cls in ("cat", "dog"):
    ...         os.mkdir(os.path.join(d, cls))
    ...         for i in range(5):
    ...             Image.new("RGB", (10, 7)).save(os.path.join(d, cls, f"{i}.png"))
    ...     train, test = load_image_folder(d, image_size=16, test_fraction=0.2)
    >>> train.x.shape, test.x.shape, train.class_names
    ((8, 16, 16, 3), (2, 16, 16, 3), ('cat', 'dog'))
    """
    size = _size(image_size)
    _mode(mode)
    classes, items = list_image_folder(root)
    x = np.stack([read_image(p, size, mode) for p, _ in items])  # (N, H, W, C)
    y = np.array([label for _, label in items], dtype=np.int64)  # (N,)
    name = f"folder:{Path(root).name}"
    train, test = Dataset(x, y, classes, name).split(test_fraction, seed=seed)
    return replace(train, name=f"{name}/train"), replace(test, name=f"{name}/test")


def _size(image_size) -> tuple[int, int]:
    pair = image_size
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        pair = (image_size, image_size)
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in pair)):
        raise ValueError(f"`image_size` must be an int >= 1 or a pair (H, W) of them, "
                         f"got {image_size!r}")
    return int(pair[0]), int(pair[1])


def _mode(mode: str) -> tuple[str, int]:
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {sorted(MODES)}, got {mode!r}")
    return MODES[mode]


def read_model_image(path, input_shape: tuple[int, int, int], invert: bool = False) -> np.ndarray:
    """An image file as a model takes it: uint8 ``(H, W, C)`` in the model's channels and size.

    ``input_shape`` is the model's ``(H, W, C)`` with C 1 (grey) or 3 (RGB); the file is read by
    :func:`read_image` (bounded memory, damaged files as ValueError); ``invert`` gives 255 - x.
    """
    h, w, c = input_shape
    if c not in (1, 3):
        raise ValueError(f"the model takes {c}-channel images; image files give 1 (grey) or "
                         f"3 (RGB)")
    x = read_image(path, (h, w), "grey" if c == 1 else "rgb")  # (H, W, C)
    return 255 - x if invert else x
