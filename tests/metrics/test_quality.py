"""Inception-style score, precision / recall, density / coverage, class histograms, reconstruction metrics."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.errors import ConfigError, DataError
from genlab.metrics import (
    Features,
    class_distribution,
    density_coverage,
    inception_score,
    precision_recall,
    reconstruction_metrics,
)


def logits_features(logits: torch.Tensor) -> Features:
    return Features(torch.zeros(len(logits), 2), logits, "test-net")


def test_inception_score_extremes():
    k, n = 10, 1000
    confident = torch.full((n, k), -50.0)
    confident[torch.arange(n), torch.arange(n) % k] = 50.0  # each sample one class, classes balanced
    assert inception_score(logits_features(confident), splits=5).mean == pytest.approx(k, rel=1e-6)
    one_class = torch.full((n, k), -50.0)
    one_class[:, 3] = 50.0
    assert inception_score(logits_features(one_class)).mean == pytest.approx(1.0, abs=1e-6)
    unsure = torch.zeros(n, k)  # uniform p(y|x): no information
    r = inception_score(logits_features(unsure), splits=4)
    assert r.mean == pytest.approx(1.0, abs=1e-9) and r.splits == 4 and r.n == n


def test_inception_score_errors():
    with pytest.raises(DataError, match="per split"):
        inception_score(logits_features(torch.zeros(5, 3)), splits=10)
    with pytest.raises(ConfigError, match="no classifier"):
        inception_score(Features(torch.zeros(20, 2), None, "identity"))


def uniform_square(n: int, seed: int, x0: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(n, 2, generator=g, dtype=torch.float64)
    p[:, 0] += x0
    return p


def test_precision_recall_on_sets_with_known_overlap():
    real, fake = uniform_square(4000, 0), uniform_square(4000, 1, x0=0.5)  # half of each square overlaps
    r = precision_recall(real=real, fake=fake, extractor="identity")
    assert r.precision == pytest.approx(0.5, abs=0.04) and r.recall == pytest.approx(0.5, abs=0.04)
    same = precision_recall(real=real, fake=uniform_square(4000, 2), extractor="identity")
    assert same.precision > 0.95 and same.recall > 0.95
    assert precision_recall(real=real, fake=real, extractor="identity").precision == 1.0
    far = precision_recall(real=real, fake=uniform_square(500, 3, x0=5.0), extractor="identity")
    assert far.precision == 0.0 and far.recall == 0.0


def test_precision_drops_with_quality_and_recall_with_variety():
    real = uniform_square(3000, 4)
    collapsed = uniform_square(3000, 5) * 0.2 + 0.4  # inside the data, a fifth of its extent
    r = precision_recall(real=real, fake=collapsed, extractor="identity")
    assert r.precision > 0.9 and r.recall < 0.1


def test_density_and_coverage():
    real = uniform_square(3000, 6)
    same = density_coverage(real=real, fake=uniform_square(3000, 7), extractor="identity")
    assert same.density == pytest.approx(1.0, abs=0.1) and same.coverage > 0.95
    corner = density_coverage(real=real, fake=uniform_square(3000, 8) * 0.5, extractor="identity")
    assert corner.coverage == pytest.approx(0.25, abs=0.05)  # a quarter of the data's support is reached
    assert corner.density == pytest.approx(1.0, abs=0.1)  # ... but each fake sample sits where data are
    spread = density_coverage(real=real, fake=uniform_square(3000, 9) * 2 - 0.5, extractor="identity")
    assert spread.density == pytest.approx(0.25, abs=0.05)  # three quarters of the samples outside the data


def test_class_distribution_against_the_data():
    k = 10
    labels = torch.arange(1000) % k
    balanced = torch.full((1000, k), -20.0)
    balanced[torch.arange(1000), labels] = 20.0
    r = class_distribution(logits_features(balanced), labels)
    assert r.kl == pytest.approx(0.0, abs=1e-9) and r.classes_covered == k
    zeros = torch.full((500, k), -20.0)
    zeros[:, 0] = 20.0
    r = class_distribution(logits_features(zeros), labels)
    assert r.classes_covered == 1 and r.kl == pytest.approx(math.log(k), rel=1e-6)
    # a reference given as real samples' logits is classified the same way
    assert class_distribution(logits_features(zeros), logits_features(balanced)).kl == pytest.approx(math.log(k))


def test_reconstruction_metrics_exact_values():
    x = torch.zeros(4, 1, 2, 2)
    r = reconstruction_metrics(x, torch.full_like(x, 0.5))
    assert r["mse"] == pytest.approx(0.25) and r["mse_per_sample"] == pytest.approx(1.0)
    assert r["psnr"] == pytest.approx(10 * math.log10(4.0)) and r["bce"] == pytest.approx(4 * math.log(2))
    perfect = reconstruction_metrics(x, x)
    assert perfect["mse"] == 0.0 and perfect["psnr"] == 100.0
    sym = reconstruction_metrics(x - 1, torch.zeros_like(x), value_range=(-1.0, 1.0))
    assert sym["psnr"] == pytest.approx(10 * math.log10(4.0)) and "bce" not in sym
    with pytest.raises(DataError, match="one shape"):
        reconstruction_metrics(x, x[:2])
