"""Deterministic and random transforms of whole tensors: rescaling, binarization, flattening.

All functions take a tensor of samples ``(N, ...)`` and return a new tensor; none of them changes its
input in place. The only random one, :func:`dynamic_binarize`, draws from an explicit
``torch.Generator`` and never touches torch's global random state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch

from .._device import bernoulli
from ..errors import DataError

ScaleTarget = Literal["unit", "symmetric"] | tuple[float, float]
"""Where :func:`scale` maps data: ``"unit"`` is [0, 1], ``"symmetric"`` is [-1, 1], or any ``(lo, hi)``."""

SCALE_TARGETS: dict[str, tuple[float, float]] = {"unit": (0.0, 1.0), "symmetric": (-1.0, 1.0)}


def target_range(to: ScaleTarget) -> tuple[float, float]:
    """The numeric ``(low, high)`` interval named by ``to``.

    Raises:
        DataError: ``to`` is neither ``"unit"``, ``"symmetric"`` nor an increasing pair of finite numbers.
    """
    if isinstance(to, str):
        if to not in SCALE_TARGETS:
            raise DataError(f"unknown scale target {to!r}; use one of {sorted(SCALE_TARGETS)} or a (low, high) pair")
        return SCALE_TARGETS[to]
    pair = _finite_pair(to, "scale target")
    if not pair[0] < pair[1]:
        raise DataError(f"scale target {to!r} must satisfy low < high")
    return pair


def scale(
    x: torch.Tensor,
    to: ScaleTarget = "unit",
    from_range: tuple[float, float] | tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Map ``x`` linearly from ``from_range`` onto the interval named by ``to``.

    Args:
        x: samples ``(N, ...)``; integer tensors are converted to float32.
        to: ``"unit"`` ([0, 1]), ``"symmetric"`` ([-1, 1]) or an explicit ``(low, high)``.
        from_range: ``(lo, hi)`` of the input, e.g. ``(0, 255)`` for 8-bit pixels. Each bound may be a
            tensor that broadcasts against ``x`` (e.g. per-column minima ``(d,)`` for ``(N, d)`` data); a
            per-column span of zero maps that column to the low end of ``to``. ``None`` uses the
            observed minimum and maximum of ``x`` (NaNs ignored).

    Returns:
        A float tensor of the shape of ``x``. Values outside ``from_range`` land outside ``to`` (no clipping);
        NaNs stay NaN.

    Raises:
        DataError: a bad target, ``hi < lo``, a scalar range with ``hi == lo``, non-finite bounds, or (with
            ``from_range=None``) no finite value in ``x``.
    """
    x = _as_float(x)
    t_lo, t_hi = target_range(to)
    if from_range is None:
        finite = x[torch.isfinite(x)]
        if finite.numel() == 0:
            raise DataError("cannot scale data without a finite value; pass from_range=(lo, hi) explicitly")
        from_range = (float(finite.min()), float(finite.max()))
    if not isinstance(from_range, Sequence) or len(from_range) != 2:
        raise DataError(f"from_range must be a (lo, hi) pair, got {from_range!r}")
    lo = torch.as_tensor(from_range[0], dtype=x.dtype)
    hi = torch.as_tensor(from_range[1], dtype=x.dtype)
    if not (torch.isfinite(lo).all() and torch.isfinite(hi).all()):
        raise DataError(f"from_range bounds must be finite, got {from_range!r}")
    if (hi < lo).any():
        raise DataError(f"from_range must satisfy lo <= hi, got {from_range!r}")
    span = hi - lo
    if lo.ndim == 0 and hi.ndim == 0:
        if float(span) == 0.0:
            raise DataError(f"from_range {from_range!r} is empty (lo == hi): the data cannot be rescaled")
        return (x - float(lo)) / float(span) * (t_hi - t_lo) + t_lo
    span = torch.where(span > 0, span, torch.ones_like(span))
    return (x - lo) / span * (t_hi - t_lo) + t_lo


def binarize(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Static binarization: 1 where ``x > threshold``, else 0 (float32 or the float dtype of ``x``).

    Raises:
        DataError: ``threshold`` is not a finite number.
    """
    if not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise DataError(f"threshold must be a finite number, got {threshold!r}")
    x = _as_float(x)
    return (x > threshold).to(x.dtype)


def dynamic_binarize(x: torch.Tensor, generator: torch.Generator | int | None = None) -> torch.Tensor:
    """Stochastic binarization: each value becomes 1 with probability ``x``, independently.

    Drawing a fresh binarization every epoch (Salakhutdinov & Murray, 2008) is the usual way to train
    Bernoulli models on grey-level MNIST.

    Args:
        x: probabilities in [0, 1], any shape.
        generator: a ``torch.Generator`` or an integer seed; ``None`` means
            ``torch.Generator().manual_seed(0)``, so repeated calls without a generator return the same draw.

    Raises:
        DataError: a value of ``x`` lies outside [0, 1] or is NaN (scale the data to ``"unit"`` first).
    """
    x = _as_float(x)
    inside = (x >= 0) & (x <= 1)
    if not bool(inside.all()):
        n_bad = int((~inside).sum())
        raise DataError(
            f"dynamic_binarize needs probabilities in [0, 1] but {n_bad} value(s) lie outside (or are NaN); "
            "rescale the data with scale(x, 'unit') first"
        )
    return bernoulli(x, generator=resolve_generator(generator))


def flatten(x: torch.Tensor) -> torch.Tensor:
    """Reshape samples ``(N, ...)`` to ``(N, d)``; a 1-D tensor ``(N,)`` becomes ``(N, 1)``.

    Raises:
        DataError: ``x`` is a 0-dimensional tensor.
    """
    if x.ndim == 0:
        raise DataError("cannot flatten a 0-dimensional tensor: samples go along the first axis")
    return x.reshape(x.shape[0], -1)


def resolve_generator(generator: torch.Generator | int | None) -> torch.Generator:
    """Return ``generator`` itself, a generator seeded with an integer, or a fresh one seeded with 0.

    Raises:
        DataError: ``generator`` is of another type.
    """
    if generator is None:
        return torch.Generator().manual_seed(0)
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return torch.Generator().manual_seed(generator)
    raise DataError(f"generator must be a torch.Generator, an integer seed or None, got {type(generator).__name__}")


def _as_float(x: torch.Tensor) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise DataError(f"expected a torch.Tensor, got {type(x).__name__}; convert with torch.as_tensor first")
    return x if x.is_floating_point() else x.to(torch.float32)


def _finite_pair(value: object, what: str) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise DataError(f"{what} must be a (low, high) pair of numbers, got {value!r}")
    try:
        lo, hi = float(value[0]), float(value[1])
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be a (low, high) pair of numbers, got {value!r}") from exc
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise DataError(f"{what} must be finite, got {value!r}")
    return lo, hi


__all__ = [
    "SCALE_TARGETS",
    "ScaleTarget",
    "binarize",
    "dynamic_binarize",
    "flatten",
    "resolve_generator",
    "scale",
    "target_range",
]
