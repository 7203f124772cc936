"""The named image corruptions that turn an image dataset into (input, target) pairs."""

import pytest
import torch

from genlab.data import CORRUPTION_SPECS, corrupt
from genlab.errors import DataError


def _digits(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 6:22, 12:16] = 1.0  # a vertical stroke 4 pixels wide
    return (x + 0.05 * torch.rand(x.shape, generator=g)).clamp(0, 1)


def test_downsample_averages_blocks_and_upscales_back():
    x = _digits()
    small = corrupt(x, "downsample:4", size="small").input
    assert small.shape == (4, 1, 7, 7)
    assert torch.allclose(small[0, 0, 0, 0], x[0, 0, :4, :4].mean())
    same = corrupt(x, "downsample:4").input
    assert same.shape == x.shape and float(same.min()) >= 0 and float(same.max()) <= 1
    flat = torch.full((1, 1, 8, 8), 0.3)
    assert torch.allclose(corrupt(flat, "downsample:2").input, flat, atol=1e-6)  # a constant survives exactly
    assert (same - x).abs().mean() > 0.01  # detail is lost


def test_centre_hole_is_exact_and_random_hole_follows_its_rate():
    x = _digits()
    c = corrupt(x, "mask:center:14")
    assert c.hole.shape == x.shape and int(c.hole[0, 0].sum()) == 14 * 14
    assert bool(c.hole[0, 0, 7:21, 7:21].all()) and not bool(c.hole[0, 0, :7].any())
    assert bool((c.input[c.hole] == 0).all()) and torch.equal(c.input[~c.hole], x[~c.hole])
    r = corrupt(torch.rand(200, 1, 28, 28), "mask:random:0.3", generator=1)
    rate = float(r.hole.float().mean())
    assert abs(rate - 0.3) < 4 * (0.3 * 0.7 / r.hole.numel()) ** 0.5  # 4 sigma


def test_random_corruptions_are_deterministic_for_a_seed():
    x = _digits()
    for spec in ("mask:random:0.5", "noise:0.5", "salt_and_pepper:0.2"):
        a, b = corrupt(x, spec, generator=7).input, corrupt(x, spec, generator=7).input
        assert torch.equal(a, b), spec
        assert not torch.equal(a, corrupt(x, spec, generator=8).input), spec
    noisy = corrupt(x, "noise:0.5", generator=0).input
    assert float(noisy.min()) >= 0 and float(noisy.max()) <= 1


def test_edges_mark_the_stroke_outline():
    x = torch.zeros(1, 1, 28, 28)
    x[..., 12:16] = 1.0
    e = corrupt(x, "edges").input
    assert float(e.max()) == pytest.approx(1.0)
    assert float(e[0, 0, :, :10].abs().max()) == 0 and float(e[0, 0, :, 18:].abs().max()) == 0  # flat: no edge
    assert float(e[0, 0, 5, 11]) > 0.5 and float(e[0, 0, 5, 13]) < float(e[0, 0, 5, 12])  # the rim, not inside
    assert float(corrupt(torch.full((1, 1, 8, 8), 0.5), "edges").input.abs().max()) == 0
    binary = corrupt(x, "edges:0.5").input  # a line drawing: 1 where the magnitude exceeds half its peak
    assert set(binary.unique().tolist()) <= {0.0, 1.0} and torch.equal(binary, (e > 0.5).float())


def test_thicken_and_thin_change_the_stroke_width():
    x = torch.zeros(1, 1, 28, 28)
    x[..., 6:22, 12:16] = 1.0
    width = lambda t: int((t[0, 0, 14] > 0.5).sum())  # noqa: E731
    assert width(corrupt(x, "thicken").input) == 6 and width(corrupt(x, "thicken:2").input) == 8
    assert width(corrupt(x, "thin").input) == 2 and width(corrupt(x, "thin:2").input) == 0
    assert torch.equal(x, x.clone())  # the input is not changed in place


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("blur", "unknown corruption"),
        ("downsample", "downsample:F"),
        ("downsample:5", "must divide"),
        ("downsample:1", ">= 2"),
        ("downsample:x", "not an integer"),
        ("mask:center:40", "does not fit"),
        ("mask:corner:4", "mask:center:S"),
        ("mask:random:1.5", "probability"),
        ("edges:3", "edges"),
        ("noise:abc", "not a number"),
        ("", "spec string"),
    ],
)
def test_bad_specs_name_the_valid_forms(spec, match):
    with pytest.raises(DataError, match=match):
        corrupt(_digits(), spec)


def test_images_must_be_four_dimensional():
    with pytest.raises(DataError, match=r"\(N, C, H, W\)"):
        corrupt(torch.rand(4, 784), "edges")
    assert set(CORRUPTION_SPECS) >= {"downsample", "mask", "edges", "thicken", "thin", "noise"}
