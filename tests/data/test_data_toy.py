"""Toy 2-D mixtures: ring8, grid25, swiss_roll."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import genlab.data as gd
from genlab.errors import DataError

N_MODES = {"ring8": 8, "grid25": 25, "swiss_roll": 25}


@pytest.mark.parametrize("name", gd.TOY_DATASETS)
def test_shapes_labels_centres_and_value_range(name: str) -> None:
    train, test = gd.load(name), gd.load(name, split="test")
    assert train.x.shape == (10_000, 2) and test.x.shape == (2_000, 2)
    for ds in (train, test):
        assert ds.x.dtype == torch.float32 and ds.y.dtype == torch.int64
        assert ds.centers.shape == (N_MODES[name], 2)
        assert ds.y.min() >= 0 and ds.y.max() < N_MODES[name]
        assert ds.info.value_range == (ds.x.min().item(), ds.x.max().item())
        assert ds.info.sample_shape == (2,)
        assert len(ds.info.class_names) == N_MODES[name]


@pytest.mark.parametrize("name", gd.TOY_DATASETS)
def test_modes_are_equally_likely(name: str) -> None:
    ds = gd.load(name, n_samples=50_000)
    k = N_MODES[name]
    counts = torch.bincount(ds.y, minlength=k).double()
    sd = math.sqrt(50_000 * (1 / k) * (1 - 1 / k))
    assert ((counts - 50_000 / k).abs() < 5 * sd).all()


@pytest.mark.parametrize(("name", "std"), [("ring8", 0.02), ("grid25", 0.05)])
def test_gaussian_modes_have_the_default_std_around_their_centres(name: str, std: float) -> None:
    ds = gd.load(name, n_samples=40_000)
    residual = ds.x - ds.centers[ds.y]
    # sd of a sample std over 80,000 normals is std/sqrt(160,000) = 0.25% of std
    assert abs(residual.std().item() / std - 1) < 0.02
    assert residual.mean(0).abs().max() < 5 * std / math.sqrt(40_000)


def test_ring_and_grid_centre_positions() -> None:
    ring = gd.load("ring8", n_samples=10).centers
    assert torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0))
    angles = torch.atan2(ring[:, 1], ring[:, 0]).remainder(2 * math.pi)
    assert torch.allclose(angles, torch.arange(8) * math.pi / 4, atol=1e-5)
    grid = gd.load("grid25", n_samples=10).centers
    expected = {(float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in grid.tolist()} == expected


def test_swiss_roll_labels_are_segments_of_the_spiral() -> None:
    ds = gd.load("swiss_roll", n_samples=5_000, std=0.0)
    t_max = 4.5 * math.pi
    t = ds.x.double().norm(dim=1) * (t_max / 2)  # |(t cos t, t sin t)| = t, scaled by 2 / t_max
    assert t.min() >= 1.5 * math.pi - 1e-3 and t.max() <= t_max + 1e-3
    segment = ((t - 1.5 * math.pi) / (3 * math.pi / 25)).floor().clamp(0, 24).long()
    agree = (segment == ds.y).double().mean()
    assert agree > 0.999  # only float32 rounding at segment borders may disagree
    centre_t = ds.centers.double().norm(dim=1) * (t_max / 2)
    middles = 1.5 * math.pi + (torch.arange(25, dtype=torch.float64) + 0.5) * 3 * math.pi / 25
    assert torch.allclose(centre_t, middles, atol=1e-4)
    assert ds.x.abs().max() <= 2.0 + 1e-4


def test_swiss_roll_noise_std_is_in_output_units() -> None:
    clean = gd.load("swiss_roll", n_samples=20_000, std=0.0, seed=4)
    noisy = gd.load("swiss_roll", n_samples=20_000, std=0.1, seed=4)
    # Same seed: same positions on the roll (sklearn draws t first), noise added on top.
    residual = (noisy.x - clean.x).double()
    assert torch.equal(noisy.y, clean.y)
    assert abs(residual.std().item() / 0.1 - 1) < 0.03


@pytest.mark.parametrize("name", gd.TOY_DATASETS)
def test_seeds_make_draws_repeatable_and_independent(name: str) -> None:
    a = gd.load(name, n_samples=500)
    assert torch.equal(a.x, gd.load(name, n_samples=500, seed=0).x)  # train default seed is 0
    assert torch.equal(gd.load(name, split="test", n_samples=500).x, gd.load(name, n_samples=500, seed=1).x)
    assert not torch.equal(a.x, gd.load(name, n_samples=500, seed=2).x)


def test_toys_leave_global_random_state_alone() -> None:
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    for name in gd.TOY_DATASETS:
        gd.load(name, n_samples=100)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(numpy_state[1], np.random.get_state()[1])


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"n_samples": 0}, "n_samples must be a positive integer"),
        ({"n_samples": 2.5}, "n_samples must be a positive integer"),
        ({"std": -0.1}, "std must be a finite number >= 0"),
        ({"seed": "abc"}, r"seed must be an integer in \[0, 2\*\*32\)"),
        ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*32\)"),
    ],
)
def test_bad_toy_options(options, match) -> None:
    with pytest.raises(DataError, match=match):
        gd.load("ring8", **options)
