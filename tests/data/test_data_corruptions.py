"""Corruptions: gaussian_noise, salt_and_pepper, random_mask."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.data import gaussian_noise, random_mask, salt_and_pepper
from genlab.errors import DataError

N = 200_000


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


CORRUPTIONS = {
    "gaussian_noise": lambda x, g: gaussian_noise(x, 0.3, g),
    "salt_and_pepper": lambda x, g: salt_and_pepper(x, 0.2, g),
    "random_mask": lambda x, g: random_mask(x, 0.3, g)[0],
}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_same_seed_same_output_different_seed_different_output(name: str) -> None:
    corrupt = CORRUPTIONS[name]
    x = torch.rand(32, 1, 8, 8, generator=_gen(0))
    a, b, c = corrupt(x, _gen(3)), corrupt(x, _gen(3)), corrupt(x, _gen(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.equal(corrupt(x, None), corrupt(x, None))  # default: a fresh generator seeded with 0


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_global_rng_and_input_are_untouched(name: str) -> None:
    x = torch.rand(16, 10, generator=_gen(0))
    original = x.clone()
    state = torch.get_rng_state()
    CORRUPTIONS[name](x, _gen(1))
    CORRUPTIONS[name](x, None)
    assert torch.equal(state, torch.get_rng_state())
    assert torch.equal(x, original)


def test_gaussian_noise_has_the_requested_std_and_zero_mean() -> None:
    x = torch.linspace(0, 1, N)
    noise = gaussian_noise(x, 0.25, _gen(0)) - x
    # sample std of N normals has relative sd ~ 1/sqrt(2N) = 0.16%; the mean has sd 0.25/sqrt(N).
    assert abs(noise.std().item() / 0.25 - 1) < 5 / math.sqrt(2 * N)
    assert abs(noise.mean().item()) < 5 * 0.25 / math.sqrt(N)


def test_gaussian_noise_clip_and_zero_std() -> None:
    x = torch.full((N,), 0.9)
    out = gaussian_noise(x, 0.5, _gen(0), clip=(0.0, 1.0))
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert (out == 1.0).float().mean() > 0.3  # P(N(0.9, 0.5^2) > 1) = 0.42: clipping really happened
    assert torch.equal(gaussian_noise(x, 0.0, _gen(0)), x)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"std": -0.1}, "std must be a finite number >= 0"),
    ({"std": float("nan")}, "std must be a finite number >= 0"),
    ({"std": 0.1, "clip": (1.0, 0.0)}, "clip must satisfy low <= high"),
    ({"std": 0.1, "clip": (0.0,)}, r"clip must be a \(low, high\) pair"),
])  # fmt: skip
def test_gaussian_noise_rejects_bad_arguments(kwargs, match) -> None:
    with pytest.raises(DataError, match=match):
        gaussian_noise(torch.zeros(3), **kwargs)


@pytest.mark.parametrize("amount", [0.05, 0.3, 0.9])
def test_salt_and_pepper_corrupts_the_requested_fraction_half_salt_half_pepper(amount: float) -> None:
    x = torch.full((N,), 0.5)
    out = salt_and_pepper(x, amount, _gen(7))
    salt, pepper = (out == 1.0).float().mean().item(), (out == 0.0).float().mean().item()
    assert set(out.unique().tolist()) <= {0.0, 0.5, 1.0}
    assert abs(salt + pepper - amount) < 5 * math.sqrt(amount * (1 - amount) / N)
    half = amount / 2
    assert abs(salt - half) < 5 * math.sqrt(half * (1 - half) / N)
    assert abs(pepper - half) < 5 * math.sqrt(half * (1 - half) / N)


def test_salt_and_pepper_extremes_and_custom_values() -> None:
    x = torch.full((1000,), 0.5)
    assert torch.equal(salt_and_pepper(x, 0.0, _gen(0)), x)
    full = salt_and_pepper(x, 1.0, _gen(0), low=-1.0, high=2.0)
    assert set(full.unique().tolist()) == {-1.0, 2.0}


@pytest.mark.parametrize("amount", [-0.01, 1.01, float("nan"), True])
def test_salt_and_pepper_rejects_amount_outside_unit_interval(amount) -> None:
    with pytest.raises(DataError, match=r"amount must be a probability in \[0, 1\]"):
        salt_and_pepper(torch.zeros(3), amount)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.75])
def test_random_mask_hides_the_requested_fraction(fraction: float) -> None:
    x = torch.rand(N, generator=_gen(0)) + 1.0  # never equal to the fill value
    corrupted, mask = random_mask(x, fraction, _gen(1), fill=0.0)
    assert mask.dtype == torch.bool and mask.shape == x.shape
    kept = mask.float().mean().item()
    assert abs(kept - (1 - fraction)) < 5 * math.sqrt(fraction * (1 - fraction) / N)
    assert torch.equal(corrupted[mask], x[mask])  # mask True = observed, value kept
    assert (corrupted[~mask] == 0.0).all()


def test_random_mask_nan_fill_and_extremes() -> None:
    x = torch.rand(100, 5, generator=_gen(0))
    corrupted, mask = random_mask(x, 0.4, _gen(2), fill=float("nan"))
    assert torch.equal(corrupted.isnan(), ~mask)
    assert random_mask(x, 0.0)[1].all()
    assert not random_mask(x, 1.0)[1].any()


@pytest.mark.parametrize("fraction", [-0.5, 2.0])
def test_random_mask_rejects_bad_fraction(fraction: float) -> None:
    with pytest.raises(DataError, match=r"fraction must be a probability in \[0, 1\]"):
        random_mask(torch.zeros(3), fraction)
