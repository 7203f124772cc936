import math

import pytest
import torch

import genlab
from genlab.errors import ConfigError, DataError
from genlab.models import AEConfig
from genlab.training import Trainer


def digits():
    return genlab.data.load("digits")


def test_kl_sparsity_penalty_matches_its_formula():
    m = genlab.create("sparse_ae", data_shape=(4,), hidden_dims=(8,), latent_dim=3, sparsity_target=0.1, seed=0)
    h = torch.tensor([[0.2, 0.5, 0.05], [0.4, 0.3, 0.15]])
    rho, rho_hat = 0.1, h.mean(0)
    expected = (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
    assert torch.allclose(m.sparsity_penalty(h), expected)
    assert m.sparsity_penalty(torch.full((5, 3), 0.1)).abs() < 1e-6  # zero exactly at the target
    l1 = genlab.create("ae", data_shape=(4,), hidden_dims=(8,), latent_dim=3, sparsity="l1", seed=0)
    assert torch.allclose(l1.sparsity_penalty(-h), h.sum(1).mean())


def test_reconstruction_losses_and_score():
    m = genlab.create("ae", data_shape=(1, 2, 2), hidden_dims=(8,), latent_dim=2, seed=0)
    out, x = torch.rand(3, 1, 2, 2), torch.rand(3, 1, 2, 2)
    assert torch.allclose(m.reconstruction_loss(out, x), (out - x).square().sum((1, 2, 3)))
    b = genlab.create("ae", data_shape=(1, 2, 2), hidden_dims=(8,), latent_dim=2, loss="bce", seed=0)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none").sum((1, 2, 3))
    assert torch.allclose(b.reconstruction_loss(out, x), bce)
    assert torch.allclose(m.score(x), m.reconstruction_loss(m.decoder_output(m.encode(x)), x))


@pytest.mark.parametrize(("kind", "level"), [("gaussian", 0.5), ("salt_and_pepper", 0.2), ("mask", 0.5)])
def test_denoising_corruption_is_what_the_config_says(kind, level):
    m = genlab.create("denoising_ae", data_shape=(1, 28, 28), corruption=kind, corruption_level=level, seed=0)
    x = torch.full((64, 1, 28, 28), 0.5)
    xt = m.corrupt(x, torch.Generator().manual_seed(0))
    assert torch.equal(xt, m.corrupt(x, torch.Generator().manual_seed(0)))
    if kind == "gaussian":
        assert abs((xt - x).std().item() - level) < 0.01
    else:
        changed = (xt != x).float().mean().item()
        assert abs(changed - level) < 0.01


def test_configs_check_their_combinations():
    with pytest.raises(ConfigError, match="code_activation='sigmoid'"):
        AEConfig(sparsity="kl")
    with pytest.raises(ConfigError, match="needs image data"):
        AEConfig(data_shape=(10,), architecture="conv")
    with pytest.raises(ConfigError, match="fraction"):
        AEConfig(corruption="mask", corruption_level=1.5)
    m = genlab.create("ae", data_shape=(1, 8, 8), loss="bce")
    with pytest.raises(DataError, match="bce loss needs data in"):
        Trainer(epochs=1).fit(m, genlab.data.load("digits", scale="symmetric"))


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_an_autoencoder_learns_the_digits(architecture):
    train, test = digits(), genlab.data.load("digits", split="test")
    hidden = (64,) if architecture == "mlp" else (16, 32)
    m = genlab.create(
        "ae", data_shape=(1, 8, 8), architecture=architecture, hidden_dims=hidden, latent_dim=16, lr=3e-3, seed=0
    )
    before = m.score(test.x).mean().item()
    Trainer(epochs=30, batch_size=64, seed=0).fit(m, train)
    after = m.score(test.x).mean().item()
    baseline = (test.x - train.x.mean(0)).square().sum((1, 2, 3)).mean().item()  # predict the mean digit
    assert after < 0.35 * baseline < before
    # sampling decodes codes from the Gaussian fitted to the training codes at the end of the fit
    codes = m.encode(train.x)
    assert torch.allclose(m.code_mean, codes.mean(0), atol=1e-4)
    assert m.sample(8, generator=torch.Generator().manual_seed(0)).shape == (8, 1, 8, 8)


def test_sparse_autoencoder_meets_its_target_rate():
    m = genlab.create(
        "sparse_ae",
        data_shape=(1, 8, 8),
        hidden_dims=(64,),
        latent_dim=100,
        sparsity_weight=1.0,
        sparsity_target=0.05,
        lr=3e-3,
        seed=0,
    )
    Trainer(epochs=40, batch_size=64, seed=0).fit(m, digits())
    rate = m.encode(digits().x).mean().item()
    assert math.isclose(rate, 0.05, abs_tol=0.02)


def test_missing_values_are_left_out_of_the_loss():
    m = genlab.create("ae", data_shape=(4,), hidden_dims=(8,), latent_dim=2, missing_values=True, seed=0)
    x = torch.tensor([[0.5, float("nan"), -1.0, 2.0], [1.0, 0.0, float("nan"), float("nan")]])
    observed = ~torch.isnan(x)
    x0 = torch.where(observed, x, 0.0)
    out = m.decoder_output(m.encode(x0))
    expected = (((out - x0) ** 2) * observed).sum(1).mean()
    assert torch.allclose(m.loss(x), expected)
    # the trainer accepts NaN for such a model, and refuses it for the others
    data = torch.where(torch.rand(64, 4, generator=torch.Generator().manual_seed(0)) < 0.3, float("nan"), 1.0)
    Trainer(epochs=1, batch_size=16).fit(m, data)
    plain = genlab.create("ae", data_shape=(4,), hidden_dims=(8,), latent_dim=2, seed=0)
    with pytest.raises(DataError, match="NaN"):
        Trainer(epochs=1).fit(plain, data)


def test_missing_indicator_needs_missing_values_and_a_mask():
    with pytest.raises(ConfigError, match="missing_values=True"):
        AEConfig(missing_indicator=True)
    with pytest.raises(ConfigError, match="corruption='mask'"):
        AEConfig(missing_values=True, missing_indicator=True, corruption="gaussian")
    m = genlab.create(
        "ae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=2, missing_values=True, missing_indicator=True,
        corruption="mask", corruption_level=0.3, seed=0,
    )  # fmt: skip
    x = torch.rand(6, 1, 4, 4)
    x[0, 0, 0, 0] = float("nan")
    m.generator = torch.Generator().manual_seed(0)
    out = m.training_step(genlab.models.base.Batch(x), m.configure_optimizers(), 0)
    assert torch.isfinite(out["loss"]) and torch.isfinite(m.encode(x)).all()
