"""Data: labelled uint8 images and the batches a model trains on.

- `Dataset` (dataset.py): uint8 ``(N, H, W, C)`` images, int64 labels, class names; split/subset.
- `load_digits` (digits.py): the embedded UCI 8x8 digits, the default that needs no download.
- `read_idx` (idx.py): the IDX file format, raw or gzip, read defensively.
- `load_idx_dataset` (mnist.py): MNIST / Fashion-MNIST from their four IDX files on disk.
- `load_cifar` (cifar.py): CIFAR-10/100, binary records or pickles read by a restricted
  unpickler (safe_pickle.py) that refuses anything but arrays, dicts, lists, bytes and numbers.
- `load_course_h5` (h5.py): the course's SIGNS and Happy House .h5 files (h5py, an extra).
- `load_image_folder` (folder.py): ``DIR/<class>/*.png|jpg``, resized, split by seed.
- `juanji.data.download`: MNIST, Fashion-MNIST, CIFAR-10 fetched, resumed, SHA-256-checked.
- `Augment` (augment.py): vectorised random crop, flip and shift for training batches.
- `load_dataset`, `DATASETS` (registry.py): one entry point by name, and metadata.
- `Normalizer` (normalize.py), `BatchIterator` (batches.py): per-batch float32 conversion with
  statistics fitted on the training split, seeded and resumable epoch orders.
"""

from juanji.data.augment import Augment
from juanji.data.batches import BatchIterator
from juanji.data.cifar import load_cifar
from juanji.data.dataset import Dataset, NormalizedDataset
from juanji.data.digits import load_digits
from juanji.data.folder import load_image_folder
from juanji.data.h5 import load_course_h5
from juanji.data.idx import IdxFormatError, read_idx
from juanji.data.mnist import load_idx_dataset
from juanji.data.normalize import InputsAsGiven, Normalizer
from juanji.data.registry import DATASETS, DatasetInfo, load_dataset

__all__ = [
    "Augment", "BatchIterator", "DATASETS", "Dataset", "DatasetInfo", "IdxFormatError",
    "InputsAsGiven", "NormalizedDataset", "Normalizer", "load_cifar", "load_course_h5", "load_dataset", "load_digits",
    "load_idx_dataset", "load_image_folder", "read_idx",
]
