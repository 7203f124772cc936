"""Toy 2-D mixtures with known modes, the standard test beds for mode collapse and mode coverage.

- ``ring8``: 8 Gaussians with centres evenly spaced on a circle of radius 2, std 0.02.
- ``grid25``: 25 Gaussians on the 5 x 5 grid {-4, -2, 0, 2, 4}^2, std 0.05.
- ``swiss_roll``: scikit-learn's :func:`~sklearn.datasets.make_swiss_roll`, projected on its (x, z) plane
  (the spiral ``t (cos t, sin t)`` with ``t`` uniform in [1.5 pi, 4.5 pi]) and scaled by ``2 / (4.5 pi)`` so
  it fits in [-2, 2]^2, plus isotropic Gaussian noise of std ``std`` (default 0.05) in those scaled units.
  The spiral is a continuum, so its "modes" are defined as 25 equal segments of ``t``: label ``k`` is the
  segment a point was drawn from and ``centers[k]`` the spiral point at the middle of that segment.

Every sample carries its mode index as its label ``y`` and the dataset holds ``centers`` ``(K, 2)``, so
metrics such as mode coverage can compare generated samples with the true modes. The randomness comes
only from a ``torch.Generator`` (ring8, grid25) or a ``numpy.random.RandomState`` (swiss_roll) seeded by
``seed``; the default seed is 0 for ``split="train"`` and 1 for ``split="test"``, so the two splits are
independent draws (pass different explicit seeds to keep them independent).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..errors import DataError
from .dataset import Dataset, DatasetInfo

_SWISS_T_MIN, _SWISS_T_MAX = 1.5 * math.pi, 4.5 * math.pi
_SWISS_SCALE = 2.0 / _SWISS_T_MAX
_SWISS_MODES = 25


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """``(n_modes, 2)`` points evenly spaced on a circle, the first at angle 0."""
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    return (radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)).float()


def grid_centers(side: int = 5, spacing: float = 2.0) -> torch.Tensor:
    """``(side**2, 2)`` points of a square grid centred on the origin, row-major (x slowest)."""
    coords = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(coords, coords, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


def swiss_roll_centers(n_modes: int = _SWISS_MODES) -> torch.Tensor:
    """``(n_modes, 2)`` points of the scaled spiral at the middles of ``n_modes`` equal segments of ``t``."""
    width = (_SWISS_T_MAX - _SWISS_T_MIN) / n_modes
    t = _SWISS_T_MIN + (np.arange(n_modes) + 0.5) * width
    return torch.from_numpy(np.stack([t * np.cos(t), t * np.sin(t)], axis=1) * _SWISS_SCALE).float()


def _gaussian_mixture(centers: torch.Tensor, n: int, std: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(len(centers), (n,), generator=generator)
    x = centers[y] + std * torch.randn(n, 2, generator=generator)
    return x, y


def _swiss_roll(n: int, std: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import make_swiss_roll

    # sklearn's noise is added to the unscaled 3-D points, so divide by the scale to get `std` after it.
    points, t = make_swiss_roll(n, noise=std / _SWISS_SCALE, random_state=np.random.RandomState(seed))
    x = torch.from_numpy(points[:, [0, 2]] * _SWISS_SCALE).float()
    width = (_SWISS_T_MAX - _SWISS_T_MIN) / _SWISS_MODES
    y = np.clip(((t - _SWISS_T_MIN) / width).astype(np.int64), 0, _SWISS_MODES - 1)
    return x, torch.from_numpy(y)


_Sampler = Callable[[torch.Tensor, int, float, int], tuple[torch.Tensor, torch.Tensor]]

# name -> (centres, default std, sampler(centres, n, std, seed) -> (x, y))
_TOYS: dict[str, tuple[Callable[[], torch.Tensor], float, _Sampler]] = {
    "ring8": (ring_centers, 0.02, _gaussian_mixture),
    "grid25": (grid_centers, 0.05, _gaussian_mixture),
    "swiss_roll": (swiss_roll_centers, 0.05, lambda centers, n, std, seed: _swiss_roll(n, std, seed)),
}

TOY_DATASETS: tuple[str, ...] = tuple(_TOYS)
"""Names of the toy 2-D datasets."""

DEFAULT_N_SAMPLES = {"train": 10_000, "test": 2_000}
DEFAULT_SEED = {"train": 0, "test": 1}


def load_toy(
    name: str,
    split: str = "train",
    root: object = None,
    *,
    n_samples: int | None = None,
    std: float | None = None,
    seed: int | None = None,
) -> Dataset:
    """Draw a toy 2-D dataset (see the module docstring).

    Args:
        name: one of :data:`TOY_DATASETS`.
        split: ``"train"`` or ``"test"``; it only changes the defaults of ``n_samples`` and ``seed``.
        root: ignored (the data are generated).
        n_samples: number of points (default 10,000 for train, 2,000 for test).
        std: standard deviation of each mode (defaults: ring8 0.02, grid25 0.05, swiss_roll 0.05).
        seed: random seed (default 0 for train, 1 for test).

    Returns:
        A Dataset with ``x`` ``(n_samples, 2)``, ``y`` the mode index, ``centers`` ``(K, 2)`` and
        ``info.value_range`` the observed min and max of ``x``.

    Raises:
        DataError: unknown name, non-positive ``n_samples``, negative ``std`` or a non-integer ``seed``.
    """
    if name not in _TOYS:
        raise DataError(f"unknown toy dataset {name!r}; use one of {', '.join(TOY_DATASETS)}")
    make_centers, default_std, sampler = _TOYS[name]
    n = DEFAULT_N_SAMPLES[split] if n_samples is None else n_samples
    std = default_std if std is None else std
    seed = DEFAULT_SEED[split] if seed is None else seed
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise DataError(f"n_samples must be a positive integer, got {n!r}")
    if not isinstance(std, int | float) or isinstance(std, bool) or not math.isfinite(std) or std < 0:
        raise DataError(f"std must be a finite number >= 0, got {std!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise DataError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    centers = make_centers()
    x, y = sampler(centers, n, float(std), seed)
    info = DatasetInfo(
        name=name,
        sample_shape=(2,),
        value_range=(float(x.min()), float(x.max())),
        class_names=tuple(str(k) for k in range(len(centers))),
        source="generated",
    )
    extras = {"std": float(std), "seed": seed}
    return Dataset(x=x.contiguous(), y=y.to(torch.int64), info=info, centers=centers, extras=extras)


__all__ = ["TOY_DATASETS", "grid_centers", "load_toy", "ring_centers", "swiss_roll_centers"]
