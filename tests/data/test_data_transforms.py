"""Transforms: scale, binarize, dynamic_binarize, flatten."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.data import binarize, dynamic_binarize, flatten, scale
from genlab.errors import DataError


def test_scale_maps_the_source_range_onto_unit_and_symmetric() -> None:
    x = torch.tensor([[0.0, 51.0, 255.0]])
    assert torch.allclose(scale(x, "unit", (0, 255)), torch.tensor([[0.0, 0.2, 1.0]]))
    assert torch.allclose(scale(x, "symmetric", (0, 255)), torch.tensor([[-1.0, -0.6, 1.0]]))
    assert torch.allclose(scale(x, (10.0, 20.0), (0, 255)), torch.tensor([[10.0, 12.0, 20.0]]))


def test_scale_default_range_is_the_observed_min_and_max_ignoring_nan() -> None:
    x = torch.tensor([[2.0, float("nan")], [4.0, 6.0]])
    out = scale(x, "unit")
    assert torch.allclose(out[~out.isnan()], torch.tensor([0.0, 0.5, 1.0]))
    assert out[0, 1].isnan()


def test_scale_per_column_bounds_broadcast_and_constant_columns_go_to_the_low_end() -> None:
    x = torch.tensor([[0.0, 10.0, 5.0], [2.0, 30.0, 5.0]])
    lo, hi = x.min(0).values, x.max(0).values
    out = scale(x, "symmetric", (lo, hi))
    assert torch.equal(out, torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, -1.0]]))


def test_scale_converts_integers_and_leaves_the_input_alone() -> None:
    x = torch.tensor([[0, 128, 255]], dtype=torch.uint8)
    out = scale(x, "unit", (0, 255))
    assert out.dtype == torch.float32
    assert torch.equal(x, torch.tensor([[0, 128, 255]], dtype=torch.uint8))
    y = torch.tensor([1.0, 2.0])
    scale(y, "symmetric", (0, 4))
    assert torch.equal(y, torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize(
    ("to", "from_range", "match"),
    [
        ("zero_one", (0, 1), "unknown scale target 'zero_one'"),
        ((1.0, 1.0), (0, 1), "low < high"),
        ("unit", (5, 1), "lo <= hi"),
        ("unit", (3, 3), "lo == hi"),
        ("unit", (0, math.inf), "finite"),
        ("unit", (0,), r"\(lo, hi\) pair"),
    ],
)
def test_scale_rejects_bad_ranges(to, from_range, match) -> None:
    with pytest.raises(DataError, match=match):
        scale(torch.ones(2, 2), to, from_range)


def test_scale_of_data_without_finite_values_asks_for_from_range() -> None:
    with pytest.raises(DataError, match="pass from_range"):
        scale(torch.full((2, 2), float("nan")), "unit")


def test_binarize_thresholds_strictly_above() -> None:
    x = torch.tensor([0.0, 0.5, 0.51, 1.0])
    assert torch.equal(binarize(x), torch.tensor([0.0, 0.0, 1.0, 1.0]))
    assert torch.equal(binarize(x, threshold=0.2), torch.tensor([0.0, 1.0, 1.0, 1.0]))
    with pytest.raises(DataError, match="threshold must be a finite number"):
        binarize(x, threshold=float("nan"))


def test_dynamic_binarize_mean_matches_the_probability() -> None:
    n = 200_000
    for p in (0.1, 0.5, 0.83):
        draws = dynamic_binarize(torch.full((n,), p), torch.Generator().manual_seed(1))
        assert set(draws.unique().tolist()) <= {0.0, 1.0}
        tolerance = 5 * math.sqrt(p * (1 - p) / n)
        assert abs(draws.mean().item() - p) < tolerance


def test_dynamic_binarize_follows_each_values_own_probability() -> None:
    p = torch.linspace(0, 1, 11)
    draws = dynamic_binarize(p.expand(50_000, 11), torch.Generator().manual_seed(2))
    assert draws[:, 0].sum() == 0 and draws[:, -1].sum() == 50_000
    tolerance = 5 * torch.sqrt(p * (1 - p) / 50_000) + 1e-6
    assert ((draws.mean(0) - p).abs() <= tolerance).all()


def test_dynamic_binarize_is_repeatable_and_seed_dependent() -> None:
    x = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    a = dynamic_binarize(x, torch.Generator().manual_seed(5))
    b = dynamic_binarize(x, torch.Generator().manual_seed(5))
    c = dynamic_binarize(x, torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.equal(dynamic_binarize(x), dynamic_binarize(x))  # default generator: seed 0
    assert torch.equal(dynamic_binarize(x, 5), a)  # an int seed is the same as a seeded generator


def test_dynamic_binarize_does_not_touch_global_rng() -> None:
    state = torch.get_rng_state()
    dynamic_binarize(torch.full((1000,), 0.5))
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_dynamic_binarize_rejects_values_outside_unit_interval(bad: float) -> None:
    x = torch.tensor([0.2, bad])
    with pytest.raises(DataError, match=r"probabilities in \[0, 1\].*scale\(x, 'unit'\)"):
        dynamic_binarize(x)


def test_dynamic_binarize_rejects_a_bad_generator() -> None:
    with pytest.raises(DataError, match=r"generator must be a torch\.Generator"):
        dynamic_binarize(torch.zeros(3), generator="seed")


def test_flatten_shapes() -> None:
    assert flatten(torch.zeros(5, 1, 28, 28)).shape == (5, 784)
    assert flatten(torch.zeros(5, 3)).shape == (5, 3)
    assert flatten(torch.zeros(5)).shape == (5, 1)
    x = torch.arange(24.0).reshape(2, 3, 4)
    assert torch.equal(flatten(x)[1], torch.arange(12.0, 24.0))
    with pytest.raises(DataError, match="0-dimensional"):
        flatten(torch.tensor(1.0))
