"""``load()``: one entry point for named datasets and for the user's own files and folders.

Named sources live in a registry (:data:`SOURCES`): ``digits``, ``mnist``, ``fashion-mnist`` and the toy
2-D mixtures ``ring8``, ``grid25``, ``swiss_roll``. Anything else must be an existing path: a folder of
images (:mod:`genlab.data.images`) or a ``.csv`` / ``.npy`` table (:mod:`genlab.data.tabular`). The
options a source accepts are the keyword-only parameters of its loader; any other option is an error
that names the accepted ones.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from ._common import closest, did_you_mean, finish_images
from .dataset import Dataset, DatasetInfo
from .idx import FASHION_MNIST, MNIST, load_idx
from .images import IMAGE_EXTENSIONS, load_image_folder
from .tabular import load_csv, load_npy
from .text import load_text
from .toy import load_toy

SPLITS = ("train", "test")

DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


def load_digits(
    split: str = "train",
    root: object = None,
    *,
    scale: str | None = "unit",
    flatten: bool = False,
    binarize: str | None = None,
) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, classes "0".."9"), no download needed.

    The split is fixed: the samples are permuted with ``numpy.random.RandomState(0)``, the last 20% of
    that permutation (359 images) form ``"test"`` and the other 1,438 ``"train"``; each split keeps the
    original order of its samples, and ``extras["index"]`` holds their positions in scikit-learn's array.

    Args:
        split: ``"train"`` or ``"test"``.
        root: ignored (the data ship with scikit-learn).
        scale: ``"unit"`` ([0, 1], default), ``"symmetric"`` ([-1, 1]) or ``None`` (the original 0..16).
        flatten: return ``(N, 64)`` instead of ``(N, 1, 8, 8)``.
        binarize: ``"static"`` thresholds the [0, 1] intensities at 0.5.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    n = len(bunch.target)
    n_test = round(DIGITS_TEST_FRACTION * n)
    perm = np.random.RandomState(DIGITS_SPLIT_SEED).permutation(n)
    index = np.sort(perm[n - n_test :] if split == "test" else perm[: n - n_test])
    x = torch.from_numpy(bunch.images[index].astype(np.float32)).unsqueeze(1)
    x, value_range = finish_images(x, (0.0, 16.0), scale=scale, flatten=flatten, binarize=binarize)
    info = DatasetInfo(
        name="digits",
        sample_shape=tuple(x.shape[1:]),
        value_range=value_range,
        class_names=tuple(str(k) for k in range(10)),
        source="sklearn",
    )
    y = torch.from_numpy(bunch.target[index].astype(np.int64))
    return Dataset(x=x, y=y, info=info, extras={"index": torch.from_numpy(index)})


def load_digits28(split: str = "train", root: object = None, *, scale: str | None = "unit") -> Dataset:
    """scikit-learn's 8x8 digits in MNIST's frame: each image resized to 20 x 20 (bilinear) and centred in a
    28 x 28 canvas with a 4-pixel border, as MNIST digits are. Blocky, blurred strokes: the "digits" style of
    the unpaired digits <-> MNIST translation task. Same split, labels and ``extras["index"]`` as ``digits``."""
    base = load_digits(split, root, scale="unit")
    x = torch.nn.functional.interpolate(base.x, size=(20, 20), mode="bilinear", align_corners=False)
    x = torch.nn.functional.pad(x.clamp_(0.0, 1.0), (4, 4, 4, 4))
    x, value_range = finish_images(x.contiguous(), (0.0, 1.0), scale=scale, flatten=False, binarize=None)
    info = DatasetInfo(
        name="digits28",
        sample_shape=tuple(x.shape[1:]),
        value_range=value_range,
        class_names=base.info.class_names,
        source="sklearn",
    )
    return Dataset(x=x, y=base.y, info=info, extras=dict(base.extras))


def load_digits_to_mnist(split: str = "train", root: object = None) -> Dataset:
    """The unpaired task digits28 (domain A) <-> MNIST (domain B); labels on both sides, never used to train."""
    from .paired import unpaired

    return unpaired(load_digits28(split), load_idx(MNIST, split, root), name="digits-to-mnist")


@dataclass(frozen=True)
class Source:
    """A named dataset: ``loader(split, root, **options) -> Dataset`` and a one-line description."""

    loader: Callable[..., Dataset]
    description: str
    splits: tuple[str, ...] = SPLITS


def _table_sources() -> dict[str, Source]:
    from ..tabular.data import FILE_TABLES, SKLEARN_TABLES, load_table

    return {
        name: Source(functools.partial(load_table, name), f"table: {text}", ("train", "test", "all"))
        for name, text in {**FILE_TABLES, **SKLEARN_TABLES}.items()
    }


SOURCES: dict[str, Source] = {
    "digits": Source(load_digits, "scikit-learn 8x8 handwritten digits, 10 classes (bundled, no download)"),
    "digits28": Source(load_digits28, "the 8x8 digits resized into MNIST's 28x28 frame (bundled; 'digits' style)"),
    "digits-to-mnist": Source(
        load_digits_to_mnist, "unpaired image-to-image task: digits28 (domain A) <-> MNIST (domain B)"
    ),
    "mnist": Source(functools.partial(load_idx, MNIST), "MNIST 28x28 handwritten digits, 10 classes"),
    "fashion-mnist": Source(
        functools.partial(load_idx, FASHION_MNIST), "Fashion-MNIST 28x28 clothing images, 10 classes"
    ),
    "ring8": Source(functools.partial(load_toy, "ring8"), "8 Gaussians on a circle of radius 2 (2-D toy)"),
    "grid25": Source(functools.partial(load_toy, "grid25"), "25 Gaussians on a 5x5 grid (2-D toy)"),
    "swiss_roll": Source(functools.partial(load_toy, "swiss_roll"), "2-D swiss roll with 25 segment modes (toy)"),
}

SOURCES.update(_table_sources())
TABLE_OPTIONS = ("representation", "discrete_columns", "metadata", "max_modes", "mixture_rows", "keep_bounds")
"""Options that make a ``.csv`` file load as a mixed-type table (:func:`genlab.tabular.data.load_table`)."""

# Path sources: file suffix -> loader(path, **options); a directory is an image folder.
PATH_LOADERS: dict[str, Callable[..., Dataset]] = {".csv": load_csv, ".npy": load_npy, ".txt": load_text}


def list_datasets() -> list[str]:
    """Names accepted by :func:`load` (besides paths of image folders and ``.csv`` / ``.npy`` / ``.txt`` files)."""
    return list(SOURCES)


def describe_datasets() -> dict[str, str]:
    """``{name: one-line description}`` of the named datasets."""
    return {name: source.description for name, source in SOURCES.items()}


def load(
    name_or_path: str | os.PathLike,
    split: str = "train",
    root: str | os.PathLike | None = None,
    **options: Any,
) -> Dataset:
    """Load a dataset into memory.

    Args:
        name_or_path: a name from :func:`list_datasets` (``"digits"``, ``"mnist"``, ``"fashion-mnist"``,
            ``"ring8"``, ``"grid25"``, ``"swiss_roll"``; ``-`` and ``_`` are interchangeable, case is
            ignored), or the path of an image folder, a ``.csv`` or a ``.npy`` file.
        split: ``"train"`` or ``"test"`` for named datasets. Files and folders have no predefined split:
            use the default and :meth:`Dataset.split`.
        root: a directory searched first for downloaded-style datasets (MNIST, Fashion-MNIST).
        **options: source options, e.g. ``scale="symmetric"``, ``flatten=True``, ``binarize="static"``
            (images); ``n_samples``, ``std``, ``seed`` (toys); ``download``, ``mirrors`` (MNIST family);
            ``color``, ``image_size`` (folders); ``label_column``, ``allow_missing`` (tables). See each
            loader's docstring. Any labelled source also takes ``n_labels`` (keep that many labels,
            class-balanced, drawn with ``label_seed``; the rest become ``-1``, for semi-supervised models), and
            any image source ``corruption`` (e.g. ``"downsample:4"``, with ``corruption_seed`` and
            ``corruption_size``): paired data for image-to-image models (:func:`~genlab.data.paired.paired`).
            A folder of targets takes ``inputs=FOLDER`` (pairs matched by file name,
            :func:`~genlab.data.paired.paired_folders`); any image source takes ``domain_a=NAME_OR_PATH``
            (unpaired domains A and B, :func:`~genlab.data.paired.unpaired`).

    Returns:
        A :class:`Dataset` whose ``info.value_range`` matches the returned values.

    Raises:
        DataError: unknown name (with a suggestion) that is not an existing path, unsupported file type,
            bad split, unknown or invalid option, or any problem with the data itself (its subclasses
            ChecksumError and DatasetNotFoundError for files that are corrupt or missing).
    """
    n_labels = options.pop("n_labels", None)
    if n_labels is not None:
        label_seed = options.pop("label_seed", 0)
        return load(name_or_path, split, root, **options).semi_supervised(int(n_labels), seed=int(label_seed))
    inputs = options.pop("inputs", None)
    if inputs is not None:  # paired folders: this folder holds the targets, `inputs` the inputs of the same names
        from .paired import paired_folders

        if split != "train":
            raise DataError("paired folders have no predefined train/test split; use Dataset.split(fraction)")
        return paired_folders(inputs, name_or_path, **options)
    domain_a = options.pop("domain_a", None)
    if domain_a is not None:  # unpaired domains: this dataset is domain B, `domain_a` domain A
        from .paired import unpaired

        return unpaired(load(domain_a, split, root, **options), load(name_or_path, split, root, **options))
    corruption = options.pop("corruption", None)
    if corruption is not None:  # paired image-to-image data: the images as targets, their corruption as inputs
        from .paired import paired

        seed = int(options.pop("corruption_seed", 0))
        size = options.pop("corruption_size", "same")
        return paired(load(name_or_path, split, root, **options), corruption, seed=seed, size=size)
    if not isinstance(name_or_path, str | os.PathLike):
        raise DataError(f"load() takes a dataset name or a path, got {type(name_or_path).__name__}")
    key = _normalize(os.fspath(name_or_path))
    by_key = {_normalize(name): name for name in SOURCES}
    if key in by_key:
        name = by_key[key]
        if split not in SOURCES[name].splits:
            raise DataError(
                f"split must be {' or '.join(map(repr, SOURCES[name].splits))}, got {split!r}; for a validation set "
                "use Dataset.split(fraction, generator=...) on the train split"
            )
        loader = SOURCES[name].loader
        _check_options(loader, options, name)
        return loader(split, root, **options)
    path = Path(name_or_path).expanduser()
    if not path.exists():
        known = ", ".join(SOURCES)
        match = closest(key, by_key)
        hint = f" (did you mean {by_key[match]!r}?)" if match else ""
        raise DataError(
            f"unknown dataset {os.fspath(name_or_path)!r}{hint}: it is neither a known name ({known}) nor an "
            "existing path; pass a known name, or the path of an image folder, a .csv, .npy or .txt file"
        )
    table_file = path.suffix.lower() in (".parquet", ".pq", ".tsv") or (
        path.suffix.lower() == ".csv" and any(k in options for k in TABLE_OPTIONS)
    )
    if table_file:
        from ..tabular.data import load_table

        _check_options(load_table, options, str(path))
        return load_table(path, split, **options)
    if path.is_dir():
        loader = load_image_folder
    elif path.suffix.lower() in PATH_LOADERS:
        loader = PATH_LOADERS[path.suffix.lower()]
    else:
        raise DataError(
            f"cannot load {path}: unsupported file type {path.suffix or '(none)'!r}; pass a folder of images "
            f"({', '.join(IMAGE_EXTENSIONS)}) or a {' / '.join(PATH_LOADERS)} file"
        )
    if split != "train":
        raise DataError(
            f"{path} has no predefined train/test split; load it with split='train' (the default) "
            "and use Dataset.split(fraction, generator=...)"
        )
    _check_options(loader, options, str(path))
    return loader(path, **options)


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _check_options(loader: Callable[..., Dataset], options: dict[str, Any], what: str) -> None:
    accepted = [
        p.name for p in inspect.signature(loader).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        first = unknown[0]
        raise DataError(
            f"unknown option {first!r}{did_you_mean(first, accepted)} for {what!r}; accepted options: "
            f"{', '.join(accepted) if accepted else '(none)'}"
        )


__all__ = ["SOURCES", "describe_datasets", "list_datasets", "load", "load_digits", "load_digits28"]
