"""FID and KID against closed forms, an independent SciPy computation, brute force and unbiasedness."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from genlab.errors import DataError
from genlab.metrics import Features, GaussianStats, fid, frechet_distance, gaussian_stats, kid, mmd2_unbiased
from genlab.metrics.kid import polynomial_kernel


def correlated(n: int, d: int, seed: int, shift: float = 0.0, mix_seed: int | None = None) -> torch.Tensor:
    """``n`` draws of a correlated Gaussian; the distribution is fixed by ``mix_seed`` (default ``seed``)."""
    mix = (
        torch.randn(
            d, d, generator=torch.Generator().manual_seed(seed if mix_seed is None else mix_seed), dtype=torch.float64
        )
        / d**0.5
    )
    g = torch.Generator().manual_seed(seed + 1000)
    return (torch.randn(n, d, generator=g, dtype=torch.float64) @ mix + shift).float()


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID the textbook way with NumPy / SciPy (np.cov, scipy.linalg.sqrtm of the product)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_fid_of_a_set_with_itself_is_zero():
    f = correlated(3000, 32, 0)
    assert fid(real=f, fake=f, extractor="identity").value < 1e-8


def test_frechet_distance_matches_the_closed_form_for_diagonal_covariances():
    g = torch.Generator().manual_seed(1)
    d = 16
    m1, m2 = torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64)
    v1, v2 = torch.rand(d, generator=g, dtype=torch.float64) + 0.1, torch.rand(d, generator=g, dtype=torch.float64)
    exact = float((m1 - m2).square().sum() + (v1.sqrt() - v2.sqrt()).square().sum())
    got = frechet_distance(GaussianStats(m1, torch.diag(v1), 10), GaussianStats(m2, torch.diag(v2), 10))
    assert got == pytest.approx(exact, rel=1e-10)


def test_fid_of_two_gaussian_samples_approaches_the_closed_form():
    # N(0, I) against N(mu, 4 I) in 8 dimensions: FID = |mu|^2 + 8 (2 - 1)^2
    g = torch.Generator().manual_seed(2)
    mu = torch.full((8,), 0.5)
    a = torch.randn(40_000, 8, generator=g)
    b = 2 * torch.randn(40_000, 8, generator=g) + mu
    exact = float(mu.square().sum()) + 8.0
    assert fid(real=a, fake=b, extractor="identity").value == pytest.approx(exact, rel=0.03)


def test_fid_matches_an_independent_numpy_scipy_computation():
    a, b = correlated(2000, 64, 3), correlated(1500, 64, 4, shift=0.2)
    ours = fid(real=a, fake=b, extractor="identity")
    assert (ours.n_real, ours.n_fake) == (2000, 1500)
    assert ours.value == pytest.approx(reference_fid(a.numpy(), b.numpy()), rel=1e-6)


def test_fid_is_stable_on_singular_covariances():
    # fewer samples than dimensions: both covariances are singular; sqrtm of the product is ill-conditioned,
    # the symmetric form stays real and non-negative
    a, b = correlated(50, 128, 5), correlated(50, 128, 6)
    v = fid(real=a, fake=b, extractor="identity").value
    assert np.isfinite(v) and v > 0
    assert v == pytest.approx(reference_fid(a.numpy(), b.numpy()), rel=1e-4)


def test_gaussian_stats_are_float64_and_independent_of_chunking():
    f = correlated(5000, 20, 7) * 1000 + 1e4  # large offset: float32 accumulation would lose digits
    s1, s2 = gaussian_stats(f, chunk=10_000), gaussian_stats(f, chunk=333)
    assert s1.cov.dtype == torch.float64
    assert torch.allclose(s1.mean, s2.mean, rtol=1e-12) and torch.allclose(s1.cov, s2.cov, rtol=1e-10)
    assert torch.allclose(s1.cov, torch.from_numpy(np.cov(f.double().numpy(), rowvar=False)), rtol=1e-9)


def test_fid_takes_samples_features_or_statistics_alike():
    a, b = correlated(800, 10, 8), correlated(800, 10, 9, shift=0.3)
    fa = Features(a, None, "identity")
    values = [
        fid(real=a, fake=b, extractor="identity").value,
        fid(real=fa, fake=b, extractor="identity").value,
        fid(real=gaussian_stats(fa), fake=Features(b, None, "identity")).value,
    ]
    assert max(values) - min(values) < 1e-9


def test_fid_errors():
    with pytest.raises(DataError, match="at least 2"):
        gaussian_stats(torch.zeros(1, 4))
    with pytest.raises(DataError, match="different dimensions"):
        frechet_distance(gaussian_stats(torch.randn(10, 3)), gaussian_stats(torch.randn(10, 4)))
    with pytest.raises(DataError, match="different networks"):
        fid(real=Features(torch.randn(10, 3), None, "a"), fake=Features(torch.randn(10, 3), None, "b"))
    with pytest.raises(TypeError):
        fid(torch.randn(10, 3), torch.randn(10, 3))  # real= and fake= are keywords: no argument-order mistakes


def test_unbiased_mmd_matches_brute_force():
    g = torch.Generator().manual_seed(10)
    x, y = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g) + 0.5

    def k(a, b):
        return (float(a.double() @ b.double()) / 3 + 1) ** 3

    m = 6
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m**2
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def test_kid_is_unbiased_on_matching_distributions():
    # 400 independent pairs of small sets from one distribution: the estimates average to 0 (within 3
    # standard errors), where the biased V-statistic (diagonal included) is clearly positive
    g = torch.Generator().manual_seed(11)
    unbiased, biased = [], []
    for _ in range(400):
        x, y = torch.randn(20, 4, generator=g), torch.randn(20, 4, generator=g)
        unbiased.append(mmd2_unbiased(x, y))
        kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
        biased.append(float(kxx.mean() + kyy.mean() - 2 * kxy.mean()))
    u, b = torch.tensor(unbiased), torch.tensor(biased)
    se = float(u.std()) / 400**0.5
    assert abs(float(u.mean())) < 3 * se
    assert float(b.mean()) > 10 * se


def test_kid_separates_different_distributions_and_reports_its_subsets():
    a, b = correlated(3000, 16, 12), correlated(3000, 16, 13, mix_seed=12)
    c = correlated(3000, 16, 14, shift=0.3, mix_seed=12)
    same = kid(real=a, fake=b, extractor="identity", subsets=50, subset_size=500)
    other = kid(real=a, fake=c, extractor="identity", subsets=50, subset_size=500)
    assert abs(same.mean) < 3 * same.std and other.mean > 10 * same.std
    assert (other.subsets, other.subset_size) == (50, 500)
    small = kid(real=a[:30], fake=b[:40], extractor="identity", subset_size=1000)
    assert small.subset_size == 30  # capped at the smaller set, not a crash
    with pytest.raises(DataError, match="at least 2"):
        kid(real=a[:1], fake=b, extractor="identity")
