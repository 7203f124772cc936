"""Kernel Inception Distance: an unbiased estimate of the squared MMD between feature distributions.

With the cubic polynomial kernel :math:`k(x, y) = (\\gamma\\, x^\\top y + c)^3`, :math:`\\gamma = 1/D`,
:math:`c = 1` (Bińkowski et al. 2018), each subset of :math:`m` real features :math:`x` and :math:`m` fake
features :math:`y` gives the unbiased

.. math::
    \\widehat{\\mathrm{MMD}}^2 = \\frac{1}{m(m-1)} \\sum_{i \\ne j} \\big(k(x_i, x_j) + k(y_i, y_j)\\big)
    - \\frac{2}{m^2} \\sum_{i, j} k(x_i, y_j),

whose expectation is 0 when the two distributions match (so single values can be negative). KID is the mean
over ``subsets`` random subsets (drawn without replacement within a subset, from a seeded generator), reported
with the standard deviation across subsets. Unlike FID it is unbiased, so it compares across sample sizes.

References:
    Bińkowski, M., Sutherland, D. J., Arbel, M. & Gretton, A. (2018). Demystifying MMD GANs. ICLR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ConfigError, DataError
from .features import extract_features
from .fid import check_same_extractor


@dataclass(frozen=True)
class KIDResult:
    """KID mean and standard deviation over subsets, with the subset size and sample sizes used."""

    mean: float
    std: float
    subsets: int
    subset_size: int
    n_real: int
    n_fake: int
    extractor: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kid": self.mean,
            "kid_std": self.std,
            "subsets": self.subsets,
            "subset_size": self.subset_size,
            "n_real": self.n_real,
            "n_fake": self.n_fake,
            "extractor": self.extractor,
        }


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor, degree: int = 3, gamma: float | None = None, coef0=1.0):
    """``(gamma x y^T + coef0) ** degree`` in float64, ``gamma`` default ``1 / D``."""
    g = 1.0 / x.shape[1] if gamma is None else gamma
    return (x.double() @ y.double().t() * g + coef0) ** degree


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor, **kernel: Any) -> float:
    """The unbiased squared MMD of two equally sized sets of features ``(m, D)`` (see the module docstring)."""
    m = x.shape[0]
    if m < 2 or y.shape[0] != m:
        raise DataError(f"the unbiased MMD needs two sets of the same size >= 2, got {m} and {y.shape[0]}")
    kxx, kyy, kxy = (
        polynomial_kernel(x, x, **kernel),
        polynomial_kernel(y, y, **kernel),
        polynomial_kernel(x, y, **kernel),
    )
    within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * kxy.mean())


def kid(
    *,
    real: Any,
    fake: Any,
    extractor: Any = "auto",
    value_range: tuple[float, float] = (0.0, 1.0),
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 0,
) -> KIDResult:
    """KID between ``real`` and ``fake`` (samples or :class:`~genlab.metrics.Features`).

    ``subset_size`` is capped at the smaller set's size (the result says which size was used); when it covers
    both sets whole there is one estimate and no spread (``subsets = 1``, ``std`` NaN); sets of fewer than 2
    samples are an error. The subsets come from ``torch.Generator().manual_seed(seed)``.
    """
    if subsets < 1 or subset_size < 2:
        raise ConfigError(f"KID needs subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}")
    a, b = extract_features(real, extractor, value_range), extract_features(fake, extractor, value_range)
    name = check_same_extractor(a.extractor, b.extractor)
    fa, fb = a.features, b.features
    if fa.shape[1] != fb.shape[1]:
        raise DataError(f"real and fake features have different dimensions ({fa.shape[1]} and {fb.shape[1]})")
    m = min(subset_size, len(fa), len(fb))
    if m < 2:
        raise DataError(f"KID needs at least 2 real and 2 fake samples, got {len(fa)} and {len(fb)}")
    g = torch.Generator().manual_seed(seed)
    if m == len(fa) == len(fb):  # every "subset" would be the whole of both sets: one estimate, no spread
        subsets = 1
    values = []
    for _ in range(subsets):
        ia = torch.randperm(len(fa), generator=g)[:m]
        ib = torch.randperm(len(fb), generator=g)[:m]
        values.append(mmd2_unbiased(fa[ia], fb[ib], degree=degree, gamma=gamma, coef0=coef0))
    v = torch.tensor(values, dtype=torch.float64)
    std = float(v.std(unbiased=True)) if subsets > 1 else math.nan
    return KIDResult(float(v.mean()), std, subsets, m, len(fa), len(fb), name)


__all__ = ["KIDResult", "kid", "mmd2_unbiased", "polynomial_kernel"]
