"""Helpers shared by the data sources: option checks and the common image pipeline."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from ..errors import DataError
from . import transforms

IMAGE_SCALES = ("unit", "symmetric", None)
BINARIZE_MODES = (None, "static")


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    """Raise a DataError naming ``name`` and the accepted ``choices`` unless ``value`` is one of them."""
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):  # 1 is not True
        raise DataError(f"{name}={value!r} is not valid; use one of {', '.join(repr(c) for c in choices)}")


def check_bool(name: str, value: Any) -> None:
    """Raise a DataError unless ``value`` is a bool."""
    if not isinstance(value, bool):
        raise DataError(f"{name} must be True or False, got {value!r}")


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to ``word`` (difflib ratio >= 0.6), or ``None``."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    match = closest(word, candidates)
    return f" (did you mean {match!r}?)" if match else ""


def finish_images(
    x: torch.Tensor,
    raw_range: tuple[float, float],
    *,
    scale: str | None,
    flatten: bool,
    binarize: str | None,
) -> tuple[torch.Tensor, tuple[float, float]]:
    """The ``scale`` / ``binarize`` / ``flatten`` options every image source shares.

    Args:
        x: float images ``(N, C, H, W)`` in their raw units (e.g. 0..255 pixels); it is modified in place
            (the loaders own it), which keeps loading MNIST fast.
        raw_range: the range of the raw units, e.g. ``(0, 255)``.
        scale: ``"unit"`` -> [0, 1], ``"symmetric"`` -> [-1, 1], ``None`` -> the raw units.
        flatten: reshape to ``(N, C*H*W)``.
        binarize: ``None`` or ``"static"``: threshold the [0, 1]-scaled images at 0.5, giving {0, 1}
            (or {-1, 1} with ``scale="symmetric"``; ``scale=None`` keeps {0, 1}).

    Returns:
        ``(x, value_range)``.
    """
    check_choice("scale", scale, IMAGE_SCALES)
    check_choice("binarize", binarize, BINARIZE_MODES)
    check_bool("flatten", flatten)
    if binarize == "static":
        x = transforms.binarize(transforms.scale(x, "unit", raw_range), 0.5)
        value_range: tuple[float, float] = (0.0, 1.0)
        if scale == "symmetric":
            x = transforms.scale(x, "symmetric", value_range)
            value_range = transforms.SCALE_TARGETS["symmetric"]
    elif scale is None:
        value_range = (float(raw_range[0]), float(raw_range[1]))
    else:
        (lo, hi), (t_lo, t_hi) = raw_range, transforms.SCALE_TARGETS[scale]
        x = x.sub_(lo).div_(hi - lo)  # exactly pixel / 255 for "unit"
        if (t_lo, t_hi) != (0.0, 1.0):
            x = x.mul_(t_hi - t_lo).add_(t_lo)
        value_range = (t_lo, t_hi)
    if flatten:
        x = transforms.flatten(x)
    return x.contiguous(), value_range
