"""Fréchet Inception Distance, staged: samples -> features -> Gaussian statistics -> distance.

.. math::
    \\mathrm{FID} = \\lVert \\mu_r - \\mu_f \\rVert^2 + \\mathrm{tr}\\,\\Sigma_r + \\mathrm{tr}\\,\\Sigma_f
    - 2\\,\\mathrm{tr}\\big((\\Sigma_r^{1/2} \\Sigma_f \\Sigma_r^{1/2})^{1/2}\\big)

(Heusel et al. 2017). The statistics are accumulated in float64 and the trace of the matrix square root is
taken from the eigenvalues of the symmetric positive semi-definite matrix
:math:`\\Sigma_r^{1/2} \\Sigma_f \\Sigma_r^{1/2}` (which has the same eigenvalues as :math:`\\Sigma_r \\Sigma_f`),
so it is real, and stable where ``scipy.linalg.sqrtm`` of the non-symmetric product returns complex noise or
fails on singular covariances. FID is biased upwards for small sample sizes: the result records how many
samples each side had, and numbers only compare at equal sizes and with the same feature network.

References:
    Heusel, M. et al. (2017). GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium. NeurIPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..errors import DataError
from .features import Features, extract_features


@dataclass(frozen=True)
class GaussianStats:
    """Mean ``(D,)`` and covariance ``(D, D)`` (float64, unbiased) of ``n`` feature vectors."""

    mean: torch.Tensor
    cov: torch.Tensor
    n: int
    extractor: str = ""


def gaussian_stats(features: Features | torch.Tensor, chunk: int = 8192) -> GaussianStats:
    """Stage 2: the mean and covariance of features ``(N, D)`` in float64 (two passes, chunked)."""
    name = features.extractor if isinstance(features, Features) else ""
    f = features.features if isinstance(features, Features) else torch.as_tensor(features)
    if f.ndim != 2:
        raise DataError(f"Gaussian statistics need features (N, D), got shape {tuple(f.shape)}")
    n = f.shape[0]
    if n < 2:
        raise DataError(f"Gaussian statistics need at least 2 samples, got {n}")
    mean = torch.zeros(f.shape[1], dtype=torch.float64)
    for a in range(0, n, chunk):
        mean += f[a : a + chunk].double().sum(0)
    mean /= n
    cov = torch.zeros(f.shape[1], f.shape[1], dtype=torch.float64)
    for a in range(0, n, chunk):
        c = f[a : a + chunk].double() - mean
        cov.addmm_(c.t(), c)
    return GaussianStats(mean, cov / (n - 1), n, name)


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric positive semi-definite matrix (negative eigenvalues -> 0)."""
    w, v = torch.linalg.eigh((m + m.t()) / 2)
    return (v * w.clamp_min(0).sqrt()) @ v.t()


def frechet_distance(a: GaussianStats, b: GaussianStats) -> float:
    """Stage 3: the Fréchet distance between two Gaussians (float64)."""
    if a.mean.shape != b.mean.shape:
        raise DataError(f"the statistics have different dimensions ({a.mean.shape[0]} and {b.mean.shape[0]})")
    s = _sqrt_psd(a.cov)
    m = s @ b.cov @ s
    eig = torch.linalg.eigvalsh((m + m.t()) / 2).clamp_min(0)
    diff = a.mean - b.mean
    d = diff @ diff + torch.trace(a.cov) + torch.trace(b.cov) - 2 * eig.sqrt().sum()
    return max(float(d), 0.0)


@dataclass(frozen=True)
class FIDResult:
    """An FID value with the sample sizes and the feature network it was computed with."""

    value: float
    n_real: int
    n_fake: int
    extractor: str

    def as_dict(self) -> dict[str, Any]:
        return {"fid": self.value, "n_real": self.n_real, "n_fake": self.n_fake, "extractor": self.extractor}


def as_stats(x: Any, extractor: Any = "auto", value_range: tuple[float, float] = (0.0, 1.0)) -> GaussianStats:
    """Samples, :class:`Features` or :class:`GaussianStats` -> :class:`GaussianStats` (stages 1 and 2)."""
    if isinstance(x, GaussianStats):
        return x
    return gaussian_stats(extract_features(x, extractor, value_range))


def check_same_extractor(a: str, b: str) -> str:
    if a and b and a != b:
        raise DataError(f"real and fake were featurized by different networks ({a!r} and {b!r}); use one")
    return a or b


def fid(*, real: Any, fake: Any, extractor: Any = "auto", value_range: tuple[float, float] = (0.0, 1.0)) -> FIDResult:
    """FID between ``real`` and ``fake``, each given as samples, :class:`Features` or :class:`GaussianStats`.

    Args:
        real: the reference set (e.g. the test split, or its cached statistics).
        fake: the generated set.
        extractor: the feature network for samples (``"auto"``: the shipped one for their shape).
        value_range: the range of the samples' values (mapped to the network's [0, 1]).
    """
    a, b = as_stats(real, extractor, value_range), as_stats(fake, extractor, value_range)
    name = check_same_extractor(a.extractor, b.extractor)
    return FIDResult(frechet_distance(a, b), a.n, b.n, name)


__all__ = ["FIDResult", "GaussianStats", "as_stats", "fid", "frechet_distance", "gaussian_stats"]
