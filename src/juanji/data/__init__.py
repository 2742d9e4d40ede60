"""Data: labelled uint8 images and the batches a model trains on.

- `Dataset` (dataset.py): uint8 ``(N, H, W, C)`` images, int64 labels, class names; split/subset.
- `load_digits` (digits.py): the embedded UCI 8x8 digits, the default that needs no download.
- `read_idx` (idx.py): the IDX file format, raw or gzip, read defensively.
- `load_idx_dataset` (mnist.py): MNIST / Fashion-MNIST from their four IDX files on disk.
- `load_dataset`, `DATASETS` (registry.py): one entry point by name, and metadata.
- `Normalizer` (normalize.py), `BatchIterator` (batches.py): per-batch float32 conversion with
  statistics fitted on the training split, seeded and resumable epoch orders.
"""

from juanji.data.batches import BatchIterator
from juanji.data.dataset import Dataset
from juanji.data.digits import load_digits
from juanji.data.idx import IdxFormatError, read_idx
from juanji.data.mnist import load_idx_dataset
from juanji.data.normalize import Normalizer
from juanji.data.registry import DATASETS, DatasetInfo, load_dataset

__all__ = [
    "BatchIterator", "DATASETS", "Dataset", "DatasetInfo", "IdxFormatError", "Normalizer",
    "load_dataset", "load_digits", "load_idx_dataset", "read_idx",
]
