"""One interface for every likelihood estimator: exact, IWAE and AIS."""

from __future__ import annotations

import pytest
import torch

import genlab
from genlab.data import load
from genlab.errors import ConfigError
from genlab.metrics import base_bias_from_data, log_likelihood
from genlab.training import Trainer


@pytest.fixture(scope="module")
def digits_bin():
    return load("digits", binarize="static"), load("digits", split="test", binarize="static")


@pytest.fixture(scope="module")
def small_rbm(digits_bin):
    train, _ = digits_bin
    m = genlab.create("rbm", data_shape=(1, 8, 8), n_hidden=12, seed=0)
    Trainer(epochs=10, batch_size=20, seed=0).fit(m, train)
    return m


def test_auto_is_exact_for_a_small_rbm_and_ais_agrees(small_rbm, digits_bin):
    train, test = digits_bin
    exact = log_likelihood(small_rbm, test.x)
    assert exact.method == "exact" and exact.n == len(test) and exact.log_z is None
    assert exact.mean == pytest.approx(float(small_rbm.log_prob(test.x).mean()), abs=1e-9)
    assert exact.lower == pytest.approx(exact.mean - 3 * exact.stderr)
    est = log_likelihood(
        small_rbm, test.x, method="ais", n_runs=100, betas=1000, base_bias=base_bias_from_data(train.x)
    )
    assert est.method == "ais" and est.log_z is not None and est.options["n_betas"] == 1000
    assert abs(est.mean - exact.mean) < 0.1 and est.lower <= exact.mean + 0.05


def test_iwae_for_a_vae_is_its_importance_weighted_bound(digits_bin):
    train, test = digits_bin
    vae = genlab.create("vae", data_shape=(1, 8, 8), latent_dim=4, hidden_dims=(32,), seed=0)
    Trainer(epochs=3, batch_size=64, seed=0).fit(vae, train)
    x = test.x[:50]
    r = log_likelihood(vae, x, k=64, generator=torch.Generator().manual_seed(3))
    direct = vae.log_prob(x, k=64, generator=torch.Generator().manual_seed(3))
    assert r.method == "iwae" and r.options == {"k": 64}
    assert r.mean == pytest.approx(float(direct.double().mean()), abs=1e-6)
    elbo = log_likelihood(vae, x, k=1, generator=torch.Generator().manual_seed(3))
    assert elbo.mean < r.mean  # L_1 (the ELBO) <= L_64


def test_likelihood_errors(small_rbm, digits_bin):
    _, test = digits_bin
    gan = genlab.create("gan", data_shape=(1, 8, 8), seed=0)
    with pytest.raises(ConfigError, match="no likelihood"):
        log_likelihood(gan, test.x)
    with pytest.raises(ConfigError, match="unknown likelihood method"):
        log_likelihood(small_rbm, test.x, method="elbo")
    with pytest.raises(ConfigError, match="'ais'"):
        log_likelihood(small_rbm, test.x, method="iwae")
    big = genlab.create("rbm", data_shape=(1, 8, 8), n_hidden=40, seed=0)
    with pytest.raises(ConfigError, match="AIS"):
        log_likelihood(big, test.x, method="exact")
