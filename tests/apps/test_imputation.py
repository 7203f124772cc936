"""Imputation: observed entries come back bit for bit; missing ones beat the column means."""

import numpy as np
import pytest
import torch

import genlab
from genlab.apps import Imputer
from genlab.errors import DataError


@pytest.fixture(scope="module")
def digits():
    return genlab.data.load("digits"), genlab.data.load("digits", split="test")


def _hide(x: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` with a random ``fraction`` set to NaN, and the mask of missing entries."""
    corrupted, kept = genlab.data.random_mask(x, fraction, generator=seed, fill=float("nan"))
    return corrupted, ~kept


def _rmse(estimate, truth, missing):
    return float((estimate - truth)[missing].double().square().mean().sqrt())


def test_beats_column_means_on_digit_images_and_keeps_observed_values(digits):
    train, test = digits
    x_train, _ = _hide(train.x, 0.3, seed=0)
    x_test, missing = _hide(test.x, 0.3, seed=1)
    imp = Imputer(latent_dim=16, hidden_dims=(128,), epochs=40, batch_size=64, seed=0).fit(x_train)
    assert imp.scaler.enabled  # mse model: standardized, so the mask's 0 is the pixel mean
    assert imp.model.config.corruption == "mask"
    assert imp.model.config.missing_values  # trains on the NaN entries as missing, the mask hides half as many again
    assert imp.model.config.corruption_level == pytest.approx(imp.missing_fraction / 2)
    assert imp.model.config.missing_indicator  # and knows which entries are missing
    out = imp.transform(x_test)
    assert out.dtype == torch.float32 and out.shape == test.x.shape
    assert torch.equal(out[~missing], x_test[~missing])  # observed entries exactly
    assert not torch.isnan(out).any()
    pixel_means = torch.nanmean(x_train, 0)
    mean_filled = torch.where(missing, pixel_means, x_test)
    ae, mean = _rmse(out, test.x, missing), _rmse(mean_filled, test.x, missing)
    assert ae < 0.8 * mean, f"RMSE {ae:.4f} vs column means {mean:.4f}"
    # n_iter=0 is mean imputation (up to float32 rounding of the means)
    imp.n_iter = 0
    assert torch.allclose(imp.transform(x_test), mean_filled, atol=1e-6)


def test_fit_transform_on_tabular_float64_keeps_observed_values_bit_for_bit():
    g = np.random.default_rng(0)
    latent = g.normal(size=(400, 3))
    x = latent @ g.normal(size=(3, 8)) * np.array([1, 10, 100, 0.1, 1, 1, 5, 50]) + 3.0
    missing = g.random(x.shape) < 0.2
    x_nan = np.where(missing, np.nan, x)
    imp = Imputer(latent_dim=3, hidden_dims=(32,), epochs=60, batch_size=32, seed=0, lr=3e-3)
    out = imp.fit_transform(x_nan)
    assert out.dtype == torch.float64
    assert np.array_equal(out.numpy()[~missing], x[~missing])
    col_means = np.nanmean(x_nan, 0)
    scaled_err = lambda est: np.sqrt((((est - x) / x.std(0))[missing] ** 2).mean())  # noqa: E731
    assert scaled_err(out.numpy()) < 0.5 * scaled_err(np.where(missing, col_means, x))  # rank-3 data: easy


def test_edge_cases():
    x = torch.rand((30, 4), generator=torch.Generator().manual_seed(0))
    x[:, 2] = float("nan")  # a feature never observed: filled with the overall mean of the observed values
    x[5, 0] = float("nan")
    imp = Imputer(latent_dim=2, hidden_dims=(8,), epochs=2, seed=0).fit(x)
    assert float(imp.fill_values[2]) == pytest.approx(float(torch.nanmean(x)))
    assert (float(imp.low[2]), float(imp.high[2])) == (float(x[~x.isnan()].min()), float(x[~x.isnan()].max()))
    out = imp.transform(x)
    assert not torch.isnan(out).any()
    complete = torch.rand((5, 4), generator=torch.Generator().manual_seed(1))
    assert torch.equal(imp.transform(complete), complete)  # nothing missing: returned as given
    with pytest.raises(DataError, match="every value"):
        Imputer(epochs=1).fit(torch.full((5, 3), float("nan")))
    with pytest.raises(DataError, match="infinite"):
        Imputer(epochs=1).fit(torch.tensor([[1.0, float("inf")], [0.0, 1.0]]))
    with pytest.raises(DataError, match="shape"):
        imp.transform(torch.zeros((2, 5)))


def test_save_load_and_vae_imputer(tmp_path, digits):
    train, test = digits
    x_train, _ = _hide(train.x[:300], 0.3, seed=0)
    x_test, _ = _hide(test.x[:50], 0.3, seed=1)
    imp = Imputer("vae", latent_dim=4, hidden_dims=(32,), epochs=3, seed=0).fit(x_train)
    assert not imp.scaler.enabled  # Bernoulli VAE: [0, 1] images as they are, no corruption in its config
    back = Imputer.load(imp.save(tmp_path / "imp"))
    assert torch.equal(back.fill_values, imp.fill_values)
    assert torch.equal(back.transform(x_test), imp.transform(x_test))


def test_the_missing_indicator_helps_and_is_what_the_encoder_sees(digits):
    train, test = digits
    x_train, _ = _hide(train.x, 0.5, seed=0)
    x_test, missing = _hide(test.x, 0.5, seed=1)
    kw = dict(latent_dim=16, hidden_dims=(128,), epochs=40, batch_size=64, seed=0)
    told = Imputer(**kw).fit(x_train)
    blind = Imputer(indicator=False, **kw).fit(x_train)
    assert not blind.model.config.missing_indicator
    err_told = _rmse(told.transform(x_test), test.x, missing)
    err_blind = _rmse(blind.transform(x_test), test.x, missing)
    assert err_told < 0.95 * err_blind, (err_told, err_blind)
    # the encoder's input is (values with missing entries at 0, indicators): 2 x 64 features for 8x8 digits
    m = told.model
    assert m.encoder.blocks[0][0].in_features == 128
    x = told.scaler.transform(x_test[:4])
    explicit = torch.cat([torch.nan_to_num(x, nan=0.0), torch.isnan(x).float()], 1)
    assert torch.allclose(m.encode(x), m.encoder(explicit))
