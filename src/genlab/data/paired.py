"""Paired image data for image-to-image models: (input, target) rows in one :class:`Dataset`.

The targets are the dataset's ``x`` and the inputs its ``source`` (row by row), so every selection, split and
batch keeps the pairs together. Pairs come from two aligned arrays (:func:`paired_arrays`) or from any image
dataset and a named corruption (:func:`paired`, or ``genlab.data.load(name, corruption="downsample:4")``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import DataError
from .corruptions import corrupt
from .dataset import Dataset, check_samples, infer_info


def paired(data: Dataset, corruption: str, seed: int = 0, size: str = "same") -> Dataset:
    """``data``'s images as targets and their ``corruption`` (see :data:`~genlab.data.CORRUPTION_SPECS`) as
    inputs; the random corruptions are drawn once, from ``seed``, so the pairs are fixed.

    The hole of a mask corruption is kept in ``extras["hole"]`` (bool, the images' shape, True where hidden);
    ``extras["corruption"]`` records the spec.

    Raises:
        DataError: ``data`` is not images ``(N, C, H, W)`` in [0, 1], or a bad spec.
    """
    if not isinstance(data, Dataset) or data.x.ndim != 4:
        shape = tuple(data.x.shape) if isinstance(data, Dataset) else type(data).__name__
        raise DataError(f"paired data needs an image dataset (N, C, H, W), got {shape}")
    lo, hi = data.info.value_range
    if lo < 0 or hi > 1:
        raise DataError(f"paired data needs images in [0, 1], got the range [{lo}, {hi}]; load them with scale='unit'")
    out = corrupt(data.x, corruption, generator=seed, size=size)
    extras = {**data.extras, "corruption": corruption}
    if out.hole is not None:
        extras["hole"] = out.hole
    return dataclasses.replace(data, source=out.input.contiguous(), extras=extras)


def paired_arrays(inputs: Any, targets: Any, name: str = "pairs") -> Dataset:
    """A paired dataset from two aligned arrays of images ``(N, C, H, W)`` (inputs and targets may differ in
    channels and size, e.g. 7 x 7 inputs for 28 x 28 targets).

    Raises:
        DataError: different numbers of rows, non-image arrays, or non-finite values.
    """
    src = check_samples(inputs, what="inputs", min_ndim=4, max_ndim=4)
    tgt = check_samples(targets, what="targets", min_ndim=4, max_ndim=4)
    if len(src) != len(tgt):
        raise DataError(f"{len(src)} inputs but {len(tgt)} targets; the two arrays must be aligned row by row")
    return Dataset(tgt, info=infer_info(tgt, name=name), source=src)


__all__ = ["paired", "paired_arrays"]
