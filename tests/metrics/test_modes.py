"""Mode coverage and class histograms on samples whose answer is known."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.data import load
from genlab.errors import DataError
from genlab.metrics import class_histogram, fit_probe, histogram_kl, mode_coverage

CENTERS = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])


def test_mode_coverage_counts_modes_quality_and_kl_exactly():
    # 6 samples: 3 at mode 0, 2 at mode 1 (one 2.9 std away), 1 far from every mode; mode 2 and 3 missed
    samples = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, -0.1], [10.0, 0.0], [10.29, 0.0], [5.0, 5.0]])
    cov = mode_coverage(samples, CENTERS, std=0.1)
    assert cov.modes == 2 and cov.n_modes == 4
    assert cov.counts == (3, 2, 0, 0)
    assert cov.high_quality == pytest.approx(5 / 6)
    want_kl = 0.6 * math.log(0.6 * 4) + 0.4 * math.log(0.4 * 4)
    assert cov.kl == pytest.approx(want_kl, rel=1e-9)
    assert mode_coverage(samples, CENTERS, std=0.1, min_count=3).modes == 1
    assert mode_coverage(samples, CENTERS, std=0.1, n_std=2.0).counts == (3, 1, 0, 0)


def test_data_drawn_from_a_toy_mixture_cover_every_mode_with_little_kl():
    ring = load("ring8", n_samples=4000, seed=3)
    cov = mode_coverage(ring.x, ring.centers, ring.extras["std"], min_count=20)
    assert cov.modes == 8
    assert cov.high_quality > 0.99  # 3 std holds 98.9% of a 2-D Gaussian's mass; allow sampling noise
    assert cov.kl < 0.01


def test_a_collapsed_sample_covers_one_mode_and_its_kl_is_log_k():
    cov = mode_coverage(CENTERS[[2]].repeat(50, 1), CENTERS, std=0.5)
    assert cov.modes == 1 and cov.high_quality == 1.0
    assert cov.kl == pytest.approx(math.log(4))
    assert mode_coverage(torch.full((5, 2), 100.0), CENTERS, std=0.5).kl == math.inf


def test_class_histogram_and_kl():
    hist = class_histogram(torch.tensor([0, 0, 1, 3]), 4)
    assert hist.tolist() == [0.5, 0.25, 0.0, 0.25]
    logits = torch.tensor([[0.0, 5.0], [3.0, 1.0]])
    assert class_histogram(logits, 2).tolist() == [0.5, 0.5]
    uniform = torch.full((4,), 0.25)
    assert histogram_kl(uniform, uniform) == pytest.approx(0.0)
    assert histogram_kl(hist, uniform) == pytest.approx(0.5 * math.log(2) + 0.0 + 0.25 * math.log(1.0) * 2)


def test_probe_classifier_is_accurate_on_digits():
    train, test = load("digits", split="train"), load("digits", split="test")
    predict = fit_probe(train.x, train.y, seed=0)
    acc = (predict(test.x).argmax(1) == test.y).double().mean().item()
    assert acc > 0.9


def test_bad_inputs_are_named():
    with pytest.raises(DataError, match="centres"):
        mode_coverage(torch.zeros(3, 3), CENTERS, std=1.0)
    with pytest.raises(DataError, match="positive std"):
        mode_coverage(torch.zeros(3, 2), CENTERS, std=0.0)
    with pytest.raises(DataError, match="one label per sample"):
        fit_probe(torch.zeros(3, 2), torch.zeros(2))
