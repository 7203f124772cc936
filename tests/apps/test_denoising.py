"""Denoising: PSNR against exact values; a denoising autoencoder cleans noisy digits."""

import math

import pytest
import torch

import genlab
from genlab.apps import Denoiser, psnr
from genlab.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def digits():
    return genlab.data.load("digits"), genlab.data.load("digits", split="test")


def test_psnr_exact_values():
    x = torch.rand((4, 1, 3, 3), generator=torch.Generator().manual_seed(0))
    assert psnr(x, x + 0.1) == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    assert psnr(255 * x, 255 * x + 25.5, data_range=255.0) == pytest.approx(20.0)
    assert psnr(x, x) == math.inf
    y = x.clone()
    y[1] += 0.01  # only sample 1 differs: PSNR 40 dB there, inf elsewhere
    per = psnr(x, y, per_sample=True)
    assert per.shape == (4,)
    assert float(per[1]) == pytest.approx(40.0)
    assert torch.isinf(per[[0, 2, 3]]).all()
    with pytest.raises(DataError, match="shape"):
        psnr(x, x[:2])
    with pytest.raises(DataError, match="data_range"):
        psnr(x, x, data_range=0)


def test_denoiser_improves_psnr_on_noisy_digits(digits):
    train, test = digits
    den = Denoiser(corruption_level=0.2, latent_dim=32, hidden_dims=(128,), epochs=30, batch_size=64, seed=0)
    den.fit(train.x)
    assert den.model.config.corruption == "gaussian" and den.model.config.corruption_level == 0.2
    assert not den.scaler.enabled  # images are used as they are
    noisy = genlab.data.gaussian_noise(test.x, 0.2, generator=1)
    cleaned = den.transform(noisy)
    assert cleaned.shape == test.x.shape
    assert float(cleaned.min()) >= 0.0 and float(cleaned.max()) <= 1.0  # clipped to the training range
    before, after = psnr(test.x, noisy), psnr(test.x, cleaned)
    assert after > before + 3.0, f"PSNR {before:.2f} -> {after:.2f} dB"


def test_salt_and_pepper_denoiser(digits):
    train, test = digits
    den = Denoiser(corruption="salt_and_pepper", corruption_level=0.2, latent_dim=32, hidden_dims=(128,), epochs=20)
    den.fit(train.x)
    assert not den.scaler.enabled
    noisy = genlab.data.salt_and_pepper(test.x, 0.2, generator=2)
    assert psnr(test.x, den.transform(noisy)) > psnr(test.x, noisy) + 3.0


def test_denoiser_needs_a_model_with_a_corruption_and_valid_levels(digits):
    train, _ = digits
    with pytest.raises(ConfigError, match=r"'vae' has no config field\(s\) \['corruption', .*use one of ae, "):
        Denoiser("vae", epochs=1).fit(train.x[:20])
    with pytest.raises(ConfigError, match="corruption must be one of"):
        Denoiser(corruption="blur")
    with pytest.raises(ConfigError, match="fraction"):
        Denoiser(corruption="mask", corruption_level=1.5)
    with pytest.raises(ConfigError, match="model_params must not set 'corruption'"):
        Denoiser(model_params={"corruption": "mask"}, epochs=1).fit(train.x[:20])
