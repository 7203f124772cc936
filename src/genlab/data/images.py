"""Image folders: PNG / JPEG / BMP files read through Pillow into one ``(N, C, H, W)`` tensor.

Layouts:

- ``root/*.png`` (images directly in the root, no class sub-folders): unlabelled data, ``y is None``.
- ``root/<class>/**/*.png``: one class per sub-folder; sorted folder names become labels ``0..K-1`` and
  ``info.class_names``. Sub-folders without any image are ignored.

Files and folders whose name starts with ``.`` are ignored, and so are files without an image extension
(``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, any case). A file *with* an image extension that Pillow cannot
decode is an error, never silently skipped.

Colour: ``color="L"`` gives 1 channel, ``"RGB"`` 3 channels, ``None`` 1 channel if every image is
greyscale (Pillow modes ``1``, ``L``, ``LA``, ``I``, ``I;16``) and 3 otherwise. Alpha channels are dropped;
16-bit greyscale is mapped to the 0..255 range. Images are resized (bilinear with antialiasing) when
``image_size=(H, W)`` is given; otherwise they must all have the same size.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import DataError
from ._common import check_choice, finish_images
from .dataset import Dataset, DatasetInfo

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
_GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L"})
_SIXTEEN_BIT = frozenset({"I", "I;16", "I;16B", "I;16L"})


def find_images(root: Path) -> tuple[list[Path], list[int] | None, tuple[str, ...] | None]:
    """The image files under ``root``, their labels and the class names (``None``, ``None`` if unlabelled).

    Raises:
        DataError: no images, or images both directly in ``root`` and in class sub-folders.
    """
    direct = sorted(p for p in root.iterdir() if _is_image_file(p))
    classes: dict[str, list[Path]] = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in sub.rglob("*") if _is_image_file(p) and not _hidden_below(p, sub))
        if files:
            classes[sub.name] = files
    if direct and classes:
        raise DataError(
            f"{root} has images both directly inside it ({len(direct)}, e.g. {direct[0].name}) and in "
            f"class sub-folders ({', '.join(classes)}); move the loose images into a class folder, or load a "
            "folder that holds only images for unlabelled data"
        )
    if classes:
        files = [p for names in classes.values() for p in names]
        labels = [k for k, names in enumerate(classes.values()) for _ in names]
        return files, labels, tuple(classes)
    if direct:
        return direct, None, None
    raise DataError(
        f"no images found in {root}: put {'/'.join(IMAGE_EXTENSIONS)} files directly in it (unlabelled) or "
        "in one sub-folder per class"
    )


def load_image_folder(
    path: str | os.PathLike,
    *,
    color: str | None = None,
    image_size: tuple[int, int] | int | None = None,
    scale: str | None = "unit",
    flatten: bool = False,
    binarize: str | None = None,
) -> Dataset:
    """Load every image of a folder (see the module docstring for the layout).

    Args:
        path: the folder.
        color: ``"L"``, ``"RGB"`` or ``None`` (greyscale if all images are, else RGB).
        image_size: ``(H, W)`` (or one int for square images) to resize every image to.
        scale: ``"unit"`` ([0, 1], default), ``"symmetric"`` ([-1, 1]) or ``None`` (pixel values 0..255).
        flatten: return ``(N, C*H*W)``.
        binarize: ``"static"`` thresholds the [0, 1] intensities at 0.5.

    Returns:
        A Dataset with ``x`` ``(N, C, H, W)`` float32 and, with class sub-folders, int64 labels.

    Raises:
        DataError: no images; an unreadable image file (named); images of different sizes without
            ``image_size``; bad option values.
    """
    root = Path(path)
    check_choice("color", color, ("L", "RGB", None))
    _check_size(image_size)
    files, labels, class_names = find_images(root)
    x, value_range = read_images(
        files, color=color, image_size=image_size, scale=scale, flatten=flatten, binarize=binarize
    )
    info = DatasetInfo(
        name=root.resolve().name,
        sample_shape=tuple(x.shape[1:]),
        value_range=value_range,
        class_names=class_names,
        source=str(root),
    )
    y = torch.tensor(labels, dtype=torch.int64) if labels is not None else None
    return Dataset(x=x, y=y, info=info, extras={"files": [str(f) for f in files]})


def read_images(
    files: list[Path],
    *,
    color: str | None = None,
    image_size: tuple[int, int] | int | None = None,
    scale: str | None = "unit",
    flatten: bool = False,
    binarize: str | None = None,
) -> tuple[torch.Tensor, tuple[float, float]]:
    """The image ``files`` as one ``(N, C, H, W)`` tensor and its value range (options as in
    :func:`load_image_folder`).

    Raises:
        DataError: an unreadable file (named), different sizes without ``image_size``, bad options.
    """
    check_choice("color", color, ("L", "RGB", None))
    size = _check_size(image_size)
    arrays: list[np.ndarray] = []
    all_gray = True
    for file in files:
        array, gray = _decode(file, color)
        all_gray &= gray
        arrays.append(array)
    if color is None and not all_gray:
        arrays = [np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a for a in arrays]
    if size is None:
        _check_same_size(files, arrays)
        x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    else:
        x = torch.cat([_resize(a, size) for a in arrays])
    return finish_images(x.contiguous(), (0.0, 255.0), scale=scale, flatten=flatten, binarize=binarize)


def _is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".") and path.is_file()


def _hidden_below(path: Path, top: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(top).parts)


def _decode(path: Path, color: str | None) -> tuple[np.ndarray, bool]:
    """``(H, W, C)`` float32 pixels in 0..255, and whether the file is greyscale."""
    try:
        with Image.open(path) as image:
            image.load()
            gray = image.mode in _GRAY_MODES
            target = color or ("L" if gray else "RGB")
            if image.mode in _SIXTEEN_BIT:
                array = np.asarray(image, dtype=np.float32) / 257.0
                array = np.repeat(array[..., None], 3 if target == "RGB" else 1, axis=2)
            else:
                array = np.asarray(image.convert(target), dtype=np.float32)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"{path} cannot be read as an image ({exc}); replace it with a valid image, or remove it (or "
            "rename it without an image extension) so the folder can be loaded"
        ) from exc
    return (array[..., None] if array.ndim == 2 else array), gray


def _check_size(image_size: object) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, tuple | list)
        or len(image_size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in image_size)
    ):
        raise DataError(f"image_size must be (H, W) with positive integers, got {image_size!r}")
    return int(image_size[0]), int(image_size[1])


def _check_same_size(files: list[Path], arrays: list[np.ndarray]) -> None:
    sizes = Counter(a.shape[:2] for a in arrays)
    if len(sizes) == 1:
        return
    example = {}
    for file, array in zip(files, arrays, strict=True):
        example.setdefault(array.shape[:2], file.name)
    listing = ", ".join(f"{h}x{w} ({n} file(s), e.g. {example[(h, w)]})" for (h, w), n in sizes.most_common(4))
    raise DataError(
        f"the images have {len(sizes)} different sizes (H x W): {listing}; pass image_size=(H, W) to resize "
        "them all to one size"
    )


def _resize(array: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    t = torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0)
    if tuple(t.shape[2:]) == size:
        return t
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True).clamp_(0.0, 255.0)


__all__ = ["IMAGE_EXTENSIONS", "find_images", "load_image_folder", "read_images"]
