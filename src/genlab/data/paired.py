"""Paired image data for image-to-image models: (input, target) rows in one :class:`Dataset`.

The targets are the dataset's ``x`` and the inputs its ``source`` (row by row), so every selection, split and
batch keeps the pairs together. Pairs come from two aligned arrays (:func:`paired_arrays`) or from any image
dataset and a named corruption (:func:`paired`, or ``genlab.data.load(name, corruption="downsample:4")``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import DataError
from .corruptions import corrupt
from .dataset import Dataset, DatasetInfo, check_samples, infer_info
from .images import IMAGE_EXTENSIONS, read_images


def _check_unit_images(data: Any, who: str) -> None:
    """A :class:`DataError` (opened by ``who``) unless ``data`` is an image Dataset ``(N, C, H, W)`` in [0, 1]."""
    if not isinstance(data, Dataset) or data.x.ndim != 4:
        shape = tuple(data.x.shape) if isinstance(data, Dataset) else type(data).__name__
        raise DataError(f"{who} an image dataset (N, C, H, W), got {shape}")
    lo, hi = data.info.value_range
    if lo < 0 or hi > 1:
        raise DataError(f"{who} images in [0, 1], got the range [{lo:g}, {hi:g}]; load them with scale='unit'")


def paired(data: Dataset, corruption: str, seed: int = 0, size: str = "same") -> Dataset:
    """``data``'s images as targets and their ``corruption`` (see :data:`~genlab.data.CORRUPTION_SPECS`) as
    inputs; the random corruptions are drawn once, from ``seed``, so the pairs are fixed.

    The hole of a mask corruption is kept in ``extras["hole"]`` (bool, the images' shape, True where hidden);
    ``extras["corruption"]`` records the spec.

    Raises:
        DataError: ``data`` is not images ``(N, C, H, W)`` in [0, 1], or a bad spec.
    """
    _check_unit_images(data, "paired data needs")
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


def hole_of(data: Dataset) -> torch.Tensor | None:
    """The inpainting mask of paired data (``extras["hole"]``, bool, one per target), else ``None``."""
    hole = data.extras.get("hole")
    if isinstance(hole, torch.Tensor) and data.source is not None and hole.shape == data.x.shape:
        return hole
    return None


def _image_files(path: str | os.PathLike, what: str) -> tuple[Path, dict[str, Path]]:
    """The images below the folder ``path`` (hidden ones aside) by name (relative path without extension);
    a :class:`DataError` naming the problem."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"the {what} folder {root} does not exist or is not a folder; pass a folder of images")
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and not _hidden(p, root)]
    if not files:
        raise DataError(f"the {what} folder {root} is empty; put {'/'.join(IMAGE_EXTENSIONS)} files in it")
    named: dict[str, Path] = {}
    for file in files:
        if file.suffix.lower() not in IMAGE_EXTENSIONS:
            raise DataError(
                f"{file} is not an image ({'/'.join(IMAGE_EXTENSIONS)}); move it out of the {what} folder {root}"
            )
        key = file.relative_to(root).with_suffix("").as_posix()
        if key in named:
            raise DataError(f"{named[key]} and {file} have the same name in {root}; rename one of them")
        named[key] = file
    return root, named


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def paired_folders(
    inputs: str | os.PathLike,
    targets: str | os.PathLike,
    *,
    color: str | None = None,
    image_size: tuple[int, int] | int | None = None,
    input_size: tuple[int, int] | int | None = None,
) -> Dataset:
    """Pairs from two folders of images matched by file name (the path below each folder, without its
    extension: ``inputs/a/7.png`` goes with ``targets/a/7.jpg``), in the sorted order of the names.

    Args:
        inputs: the folder of inputs (e.g. edge maps, low-resolution or damaged images).
        targets: the folder of targets.
        color: ``"L"``, ``"RGB"`` or ``None`` (each folder greyscale if all its images are).
        image_size: resize the targets to ``(H, W)``; ``input_size`` the inputs (default: as loaded).

    Raises:
        DataError: a missing or empty folder, a file that is not an image (named), a name in one folder that
            the other lacks (named), images of different sizes within a folder. Nothing is written.
    """
    a_root, na = _image_files(inputs, "inputs")
    b_root, nb = _image_files(targets, "targets")
    for mine, other, root, other_root in ((nb, na, b_root, a_root), (na, nb, a_root, b_root)):
        for name in mine:
            if name not in other:
                raise DataError(
                    f"{root / name}.* has no image of the same name in {other_root}; every input needs a target "
                    "with the same file name (extension aside): add it or remove the unmatched file"
                )
    order = sorted(nb)
    a, _ = read_images([na[k] for k in order], color=color, image_size=input_size)
    b, value_range = read_images([nb[k] for k in order], color=color, image_size=image_size)
    info = DatasetInfo(
        name=b_root.resolve().name, sample_shape=tuple(b.shape[1:]), value_range=value_range, source=str(b_root)
    )
    return Dataset(b, info=info, source=a, extras={"files": [str(nb[k]) for k in order]})


def unpaired(domain_a: Dataset, domain_b: Dataset, name: str | None = None) -> Dataset:
    """Two image sets sampled independently, for unpaired translation (CycleGAN): ``x`` holds domain B (its
    labels stay in ``y``), ``source`` domain A (its labels, if any, in ``extras["source_y"]``, never used for
    training). The two may have different numbers of images.

    Raises:
        DataError: either is not images ``(N, C, H, W)`` in [0, 1], or their channels or sizes differ.
    """
    for ds, which in ((domain_a, "A"), (domain_b, "B")):
        _check_unit_images(ds, f"domain {which} needs")
    sa, sb = tuple(domain_a.x.shape[1:]), tuple(domain_b.x.shape[1:])
    if sa != sb:
        raise DataError(
            f"domain A ({domain_a.info.name!r}) has images of shape {sa} (C, H, W) but domain B "
            f"({domain_b.info.name!r}) {sb}; load both with the same color= and image_size="
        )
    info = dataclasses.replace(
        domain_b.info,
        name=name or f"{domain_a.info.name}-to-{domain_b.info.name}",
        value_range=(0.0, 1.0),
        source_shape=sa,
        pairing="unpaired",
    )
    extras: dict[str, Any] = {"domain_a": domain_a.info.name, "domain_b": domain_b.info.name}
    if domain_a.y is not None:
        extras["source_y"] = domain_a.y
    return Dataset(domain_b.x, y=domain_b.y, info=info, source=domain_a.x, extras=extras)


__all__ = ["hole_of", "paired", "paired_arrays", "paired_folders", "unpaired"]
