"""Datasets, transforms and corruptions: everything a genlab model is fed with.

Quick start::

    import genlab.data as gd

    train = gd.load("digits")                          # (1438, 1, 8, 8) in [0, 1], labels 0..9
    mnist = gd.load("mnist", split="test", scale="symmetric", flatten=True)
    ring = gd.load("ring8", n_samples=5000, seed=3)    # 2-D toy with ring.centers (8, 2)
    mine = gd.load("path/to/images", image_size=(32, 32))
    table = gd.load("measurements.csv", label_column="species")

    for xb, yb in gd.iterate_batches(train.x, 128, y=train.y, shuffle=True):
        ...

Whole datasets live in memory as tensors; batching is indexing (:class:`BatchSampler`).
"""

from __future__ import annotations

from .batching import BatchSampler, iterate_batches
from .corruptions import CORRUPTION_SPECS, Corrupted, corrupt, gaussian_noise, random_mask, salt_and_pepper
from .dataset import Dataset, DatasetInfo, as_dataset, check_samples, infer_info
from .download import cache_dir
from .idx import parse_idx, read_idx
from .paired import paired, paired_arrays, paired_folders, unpaired
from .sources import describe_datasets, list_datasets, load
from .toy import TOY_DATASETS
from .transforms import binarize, dynamic_binarize, flatten, scale

__all__ = [
    "CORRUPTION_SPECS",
    "TOY_DATASETS",
    "BatchSampler",
    "Corrupted",
    "Dataset",
    "DatasetInfo",
    "as_dataset",
    "binarize",
    "cache_dir",
    "check_samples",
    "corrupt",
    "describe_datasets",
    "dynamic_binarize",
    "flatten",
    "gaussian_noise",
    "infer_info",
    "iterate_batches",
    "list_datasets",
    "load",
    "paired",
    "paired_arrays",
    "paired_folders",
    "parse_idx",
    "random_mask",
    "read_idx",
    "salt_and_pepper",
    "scale",
    "unpaired",
]
