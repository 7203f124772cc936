"""Features (codes) and compression (ratio against error, quantization)."""

import math

import pytest
import torch

import genlab
from genlab.apps import Compressor, FeatureExtractor, compression_report, encode, quantize
from genlab.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def fitted():
    train, test = genlab.data.load("digits"), genlab.data.load("digits", split="test")
    settings = {"latent_dim": 8, "hidden_dims": (64,), "epochs": 30, "batch_size": 64, "seed": 0}
    return Compressor(**settings).fit(train.x), FeatureExtractor(**settings).fit(train.x), test


def test_codes_match_the_model_and_separate_classes(fitted):
    comp, fx, test = fitted
    codes = fx.transform(test.x)
    assert codes.shape == (len(test.x), 8) and fx.n_features_out == 8
    assert torch.equal(codes, comp.compress(test.x, bits=None))  # same settings and seed: the same model
    assert torch.allclose(codes, encode(fx.model, test.x), atol=1e-5)  # images: no scaling
    # codes of a class sit closer to their own class mean than to the others' (nearest class mean > 80%)
    means = torch.stack([codes[test.y == k].mean(0) for k in range(10)])
    accuracy = float((torch.cdist(codes, means).argmin(1) == test.y).float().mean())
    assert accuracy > 0.8, accuracy
    with pytest.raises(DataError, match="shape"):
        encode(comp.model, test.x.reshape(len(test.x), 64)[:, :10])


def test_quantize_round_trip_error_is_at_most_half_a_step():
    codes = torch.randn((100, 6), generator=torch.Generator().manual_seed(0))
    codes[:, 3] = 2.5  # a constant dimension comes back exactly
    q = quantize(codes, bits=8)
    assert q.q.dtype == torch.uint8 and q.q.shape == codes.shape
    step = (codes.amax(0) - codes.amin(0)) / 255
    err = (q.dequantize() - codes).abs()
    assert bool((err <= step / 2 + 1e-6).all())
    assert torch.equal(q.dequantize()[:, 3], codes[:, 3])
    assert q.n_bits == 100 * 6 * 8 + 2 * 6 * 32
    assert quantize(codes, bits=12).q.dtype == torch.int32
    with pytest.raises(ConfigError, match="bits"):
        quantize(codes, bits=0)


def test_compression_report_ratio_and_error(fitted):
    comp, _, test = fitted
    n = len(test.x)
    full = comp.report(test.x, bits=None, data_range=1.0)
    assert (full.input_floats, full.code_floats, full.bits) == (64, 8, 32)
    assert full.ratio == pytest.approx(64 / 8)
    rec = comp.reconstruct(test.x)
    assert full.mse == pytest.approx(float((rec.double() - test.x.double()).square().mean()), rel=1e-5)
    assert full.psnr == pytest.approx(10 * math.log10(1 / full.mse), rel=1e-5)
    q8 = compression_report(comp, test.x, bits=8, data_range=1.0)
    assert q8.ratio == pytest.approx(32 * n * 64 / (n * 8 * 8 + 2 * 8 * 32))
    assert q8.bits_per_sample == pytest.approx((n * 8 * 8 + 2 * 8 * 32) / n)
    assert full.mse <= q8.mse < 1.2 * full.mse  # 8-bit codes cost little accuracy
    q2 = comp.report(test.x, bits=2)
    assert q2.mse > q8.mse and q2.psnr is None
    assert torch.allclose(comp.decompress(comp.compress(test.x, bits=None)), rec, atol=1e-6)
    with pytest.raises(DataError, match="codes have 3 values per sample but this model's codes have 8"):
        comp.decode(torch.zeros((2, 3)))
