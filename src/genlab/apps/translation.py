"""Translate files with a trained image-to-image model: what ``genlab translate RUN INPUT --out OUT`` does.

The input is a folder of images, one image file, or an ``.npy`` array ``(N, C, H, W)`` / ``(N, H, W)`` in
[0, 1]; the output is the same kind: a folder of PNGs with the same relative names, one PNG, or an ``.npy``.
Nothing is written unless every input could be read and translated, and an existing output is replaced only
when asked (atomically).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import fileutil
from .._device import to_numpy
from ..data.corruptions import corrupt
from ..data.images import IMAGE_EXTENSIONS, _decode, _resize
from ..errors import ConfigError, DataError, RunExistsError


@dataclass
class Translated:
    """What :func:`translate_path` did: the outputs, the inputs the model saw, and where they went."""

    outputs: torch.Tensor
    inputs: torch.Tensor
    out: Path
    names: list[str]


def _read_image(path: Path, shape: tuple[int, ...], resize: bool) -> torch.Tensor:
    c, h, w = shape
    array, _ = _decode(path, "L" if c == 1 else "RGB")
    if array.shape[:2] != (h, w):
        if not resize:
            raise DataError(
                f"{path} is {array.shape[0]}x{array.shape[1]} but the model takes {h}x{w} images; resize it, or "
                "pass --resize"
            )
        return _resize(array, (h, w))[0] / 255.0
    return torch.from_numpy(array).permute(2, 0, 1) / 255.0


def read_inputs(
    path: str | os.PathLike, shape: tuple[int, ...], resize: bool = False
) -> tuple[torch.Tensor, list[str], str]:
    """The images at ``path`` as ``(N, *shape)`` in [0, 1], their names and the kind (``"folder"``, ``"image"``,
    ``"npy"``).

    Raises:
        DataError: a missing path, an empty folder, a file that is not an image (named), a size or channel
            count the model does not take, values outside [0, 1].
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p} does not exist; pass a folder of images, an image file or an .npy array")
    if p.is_dir():
        files = [
            f
            for f in sorted(p.rglob("*"))
            if f.is_file() and not any(s.startswith(".") for s in f.relative_to(p).parts)
        ]
        if not files:
            raise DataError(f"{p} is empty; put {'/'.join(IMAGE_EXTENSIONS)} files in it")
        for f in files:
            if f.suffix.lower() not in IMAGE_EXTENSIONS:
                raise DataError(f"{f} is not an image ({'/'.join(IMAGE_EXTENSIONS)}); move it out of {p}")
        x = torch.stack([_read_image(f, shape, resize) for f in files])
        return x, [f.relative_to(p).with_suffix(".png").as_posix() for f in files], "folder"
    if p.suffix.lower() in IMAGE_EXTENSIONS:
        return _read_image(p, shape, resize)[None], [p.name], "image"
    if p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{p} cannot be read as an .npy array ({exc}); save it with numpy.save") from exc
        if not np.issubdtype(arr.dtype, np.number):
            raise DataError(f"{p} holds {arr.dtype} values; it must hold numbers in [0, 1]")
        x = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
        if x.ndim == 3 and shape[0] == 1:
            x = x.unsqueeze(1)
        if x.ndim != 4 or tuple(x.shape[1:]) != tuple(shape):
            raise DataError(f"{p} has shape {tuple(arr.shape)} but the model takes (N, {', '.join(map(str, shape))})")
        if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
            raise DataError(f"{p} must hold finite values in [0, 1]; rescale it first")
        return x, [str(i) for i in range(len(x))], "npy"
    raise DataError(
        f"cannot translate {p}: pass a folder of images, an image file ({'/'.join(IMAGE_EXTENSIONS)}) or an .npy array"
    )


def _png_bytes(image: torch.Tensor) -> Any:
    from PIL import Image

    a = to_numpy((image.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 0))
    return Image.fromarray(a[..., 0] if a.shape[2] == 1 else a)


def translate_path(
    model: Any,
    input: str | os.PathLike,
    out: str | os.PathLike,
    *,
    direction: str = "AB",
    hole: str | os.PathLike | None = None,
    corruption: str | None = None,
    seed: int = 0,
    resize: bool = False,
    overwrite: bool = False,
) -> Translated:
    """Translate the images at ``input`` with ``model`` and write them to ``out`` (the same kind as ``input``).

    Args:
        model: a trained image-to-image model (``pix2pix``, ``inpaint``, ``srnet``, ``cyclegan``).
        input: a folder of images, an image file or an ``.npy`` array.
        out: a folder (for a folder), a ``.png`` (for an image) or an ``.npy`` (for an array).
        direction: ``"AB"`` or, for a CycleGAN, ``"BA"``.
        hole: inpainting: the mask of missing pixels, as the same kind of input (non-zero = missing); one mask
            is used for every image.
        corruption: apply this named corruption (``genlab.data.CORRUPTION_SPECS``, e.g. ``"mask:center:14"`` or
            ``"downsample:4"``) to the inputs first; a mask corruption gives the hole.
        seed: the corruption's seed.
        resize: resize images of another size to the model's input size (else an error).
        overwrite: replace an existing ``out``.

    Raises:
        ConfigError: not an image-to-image model, a wrong output kind, a bad direction.
        RunExistsError: ``out`` exists and ``overwrite`` is False.
        DataError: unreadable or unsuitable input (see :func:`read_inputs`).
    """
    if not getattr(model, "translator", False):
        raise ConfigError(
            f"a {model.registry_name} is not an image-to-image model; "
            "translate runs pix2pix, inpaint, srnet or cyclegan"
        )
    out = Path(out)
    if out.exists() and not overwrite:
        raise RunExistsError(f"{out} already exists; choose another --out or pass --overwrite")
    in_shape = model.source_shape if direction == "AB" else model.data_shape
    read_shape = model.data_shape if corruption else in_shape  # a corruption starts from clean targets
    x, names, kind = read_inputs(input, read_shape, resize)
    want = {"folder": "a folder", "image": "a .png file", "npy": "an .npy file"}[kind]
    if (
        (kind == "folder" and out.suffix)
        or (kind == "image" and out.suffix.lower() != ".png")
        or (kind == "npy" and out.suffix.lower() != ".npy")
    ):
        given = {"folder": "a folder of images", "image": "an image", "npy": "an .npy array"}[kind]
        raise ConfigError(f"the input is {given}, so --out must be {want}, got {out.name!r}")
    mask = None
    if corruption:
        size = "small" if tuple(in_shape[1:]) != tuple(read_shape[1:]) else "same"
        done = corrupt(x, corruption, generator=seed, size=size)
        x, mask = done.input, done.hole
    if hole is not None:
        m, _, _ = read_inputs(hole, (1, *model.data_shape[1:]), resize)
        mask = (m > 0.5).expand(len(x), *model.data_shape) if len(m) == 1 else (m > 0.5).expand(-1, *model.data_shape)
        if len(mask) != len(x):
            raise DataError(f"{hole} holds {len(m)} masks for {len(x)} images; pass one mask, or one per image")
    if getattr(model.config, "hole_input", False) and mask is None:
        raise ConfigError("this inpainting model needs the hole: pass --hole MASK or --corrupt mask:center:14")
    y = model.translate(x, direction, hole=mask).cpu()  # written to files: on the CPU whatever the model's device
    if kind == "npy":
        with fileutil.atomic_path(out, suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, to_numpy(y))
    elif kind == "image":
        with fileutil.atomic_path(out, suffix=".png") as tmp:
            _png_bytes(y[0]).save(tmp, format="PNG")
    else:
        with fileutil.atomic_dir(out, overwrite=overwrite) as tmp:
            for name, image in zip(names, y, strict=True):
                dest = tmp / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                _png_bytes(image).save(dest, format="PNG")
    return Translated(outputs=y, inputs=x, out=out, names=names)


__all__ = ["Translated", "read_inputs", "translate_path"]
