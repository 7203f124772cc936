"""Random corruptions for denoising and imputation: Gaussian noise, salt-and-pepper, random masking.

Every function draws from an explicit ``torch.Generator`` (or an integer seed); ``None`` means a fresh
``torch.Generator().manual_seed(0)``, so a call without a generator is repeatable. Nothing here touches
torch's global random state, and the input tensor is never modified in place.
"""

from __future__ import annotations

import math

import torch

from ..errors import DataError
from .transforms import _as_float, _finite_pair, resolve_generator


def gaussian_noise(
    x: torch.Tensor,
    std: float,
    generator: torch.Generator | int | None = None,
    clip: tuple[float, float] | None = None,
) -> torch.Tensor:
    """Add independent Gaussian noise ``N(0, std^2)`` to every value.

    Args:
        x: samples, any shape.
        std: noise standard deviation, ``>= 0`` (0 returns a copy of ``x``).
        generator: random source (see module docstring).
        clip: optional ``(low, high)``; the result is clamped into it (e.g. ``(0, 1)`` for images).

    Raises:
        DataError: a negative or non-finite ``std``, or a ``clip`` that is not an ordered pair.
    """
    std = _non_negative(std, "std")
    x = _as_float(x)
    noise = torch.randn(x.shape, generator=resolve_generator(generator), dtype=x.dtype)
    out = x + std * noise
    if clip is not None:
        lo, hi = _finite_pair(clip, "clip")
        if lo > hi:
            raise DataError(f"clip must satisfy low <= high, got {clip!r}")
        out = out.clamp_(lo, hi)
    return out


def salt_and_pepper(
    x: torch.Tensor,
    amount: float,
    generator: torch.Generator | int | None = None,
    low: float = 0.0,
    high: float = 1.0,
) -> torch.Tensor:
    """Replace a random ``amount`` of the values by ``low`` ("pepper") or ``high`` ("salt").

    Each value is corrupted independently with probability ``amount``; a corrupted value is salt or
    pepper with probability 1/2 each. Channels of a pixel are corrupted independently.

    Args:
        x: samples, any shape.
        amount: probability that a value is replaced, in [0, 1].
        generator: random source (see module docstring).
        low: the pepper value.
        high: the salt value.

    Raises:
        DataError: ``amount`` outside [0, 1] or ``low``/``high`` not finite.
    """
    amount = _probability(amount, "amount")
    _finite_pair((low, high), "(low, high)")
    x = _as_float(x)
    u = torch.rand(x.shape, generator=resolve_generator(generator), dtype=x.dtype)
    out = x.clone()
    out[u < amount / 2] = high
    out[(u >= amount / 2) & (u < amount)] = low
    return out


def random_mask(
    x: torch.Tensor,
    fraction: float,
    generator: torch.Generator | int | None = None,
    fill: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hide a random ``fraction`` of the values (missing completely at random).

    Each value is hidden independently with probability ``fraction``.

    Args:
        x: samples, any shape.
        fraction: probability that a value is hidden, in [0, 1].
        generator: random source (see module docstring).
        fill: the value written where data are hidden (``float("nan")`` marks them as missing).

    Returns:
        ``(corrupted, mask)``: ``corrupted`` is ``x`` with hidden values set to ``fill``; ``mask`` is a bool
        tensor of the shape of ``x``, True where the value is kept (observed).

    Raises:
        DataError: ``fraction`` outside [0, 1].
    """
    fraction = _probability(fraction, "fraction")
    if not isinstance(fill, int | float):
        raise DataError(f"fill must be a number (NaN allowed), got {fill!r}")
    x = _as_float(x)
    mask = torch.rand(x.shape, generator=resolve_generator(generator)) >= fraction
    corrupted = torch.where(mask, x, torch.full_like(x, float(fill)))
    return corrupted, mask


def _probability(value: float, name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise DataError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _non_negative(value: float, name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise DataError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


__all__ = ["gaussian_noise", "random_mask", "salt_and_pepper"]
