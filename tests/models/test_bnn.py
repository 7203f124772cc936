"""Bayesian networks: the KL term, predictive uncertainty that grows away from the data, classification,
calibration (ECE) and out-of-distribution AUROC."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.metrics import roc_auc_score

import genlab
from genlab.data import Dataset, load
from genlab.errors import ConfigError
from genlab.metrics import auroc, expected_calibration_error
from genlab.nn.bayes import BayesLinear
from genlab.training import Trainer


def test_bayes_linear_kl_matches_monte_carlo_and_vanishes_at_the_prior():
    layer = BayesLinear(3, 2, prior_std=0.7, init_std=0.3)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        layer.weight_mu.copy_(torch.randn(2, 3, generator=g) * 0.5)
    mu = torch.cat([layer.weight_mu.flatten(), layer.bias_mu]).detach().double()
    std = torch.nn.functional.softplus(torch.cat([layer.weight_rho.flatten(), layer.bias_rho])).detach().double()
    w = mu + std * torch.randn(200_000, mu.numel(), generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu, std).log_prob(w).sum(1)
    p = torch.distributions.Normal(0.0, 0.7).log_prob(w).sum(1)
    assert float(layer.kl().detach()) == pytest.approx(float((q - p).mean()), abs=0.02)
    with torch.no_grad():  # posterior = prior: KL = 0
        layer.weight_mu.zero_()
        layer.bias_mu.zero_()
        rho = math.log(math.expm1(0.7))
        layer.weight_rho.fill_(rho)
        layer.bias_rho.fill_(rho)
    assert float(layer.kl().detach()) == pytest.approx(0.0, abs=1e-6)


def toy_regression(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 2 - 1
    y = torch.sin(3 * x) + 0.1 * torch.randn(n, 1, generator=g)
    return Dataset(x, y)


@pytest.mark.parametrize("method, factor", [("bayes_by_backprop", 5), ("mc_dropout", 2), ("ensemble", 5)])
def test_predictive_variance_grows_away_from_the_training_data(method, factor):
    data = toy_regression()
    m = genlab.create(
        "bnn",
        data_shape=(1,),
        task="regression",
        n_outputs=1,
        hidden_dims=(64, 64),
        method=method,
        dropout=0.1,
        init_std=0.05,
        n_samples=50,
        lr=5e-3,
        seed=0,
    )
    Trainer(epochs=150, batch_size=64, seed=0).fit(m, data)
    near = m.predictive(torch.linspace(-0.8, 0.8, 50)[:, None], generator=torch.Generator().manual_seed(1))
    far = m.predictive(torch.tensor([[-3.0], [3.0]]), generator=torch.Generator().manual_seed(1))
    assert float((near.mean - torch.sin(3 * torch.linspace(-0.8, 0.8, 50)[:, None])).abs().mean()) < 0.15
    # MC dropout widens least (Osband 2016 notes its spread does not shrink with data): a factor of 2 there
    assert float(far.epistemic.min()) > factor * float(near.epistemic.mean()), (far.epistemic, near.epistemic.mean())


@pytest.fixture(scope="module")
def digits():
    return load("digits"), load("digits", split="test")


@pytest.mark.parametrize("method", ["plain", "bayes_by_backprop", "mc_dropout", "ensemble"])
def test_classifiers_predict_digits_with_a_proper_predictive(method, digits):
    train, test = digits
    m = genlab.create(
        "bnn",
        data_shape=(1, 8, 8),
        hidden_dims=(128,),
        method=method,
        n_members=3,
        n_samples=10,
        dropout=0.2,
        seed=0,
        lr=3e-3,
    )
    Trainer(epochs=30, batch_size=64, seed=0).fit(m, train)
    pred = m.predictive(test.x, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(pred.mean.sum(1), torch.ones(len(test), dtype=torch.float64), atol=1e-9)
    assert float((pred.mean.argmax(1) == test.y).double().mean()) > 0.9
    assert (pred.entropy >= 0).all() and (pred.epistemic >= -1e-12).all()
    if method == "plain":
        assert float(pred.epistemic.abs().max()) < 1e-12  # one network: no uncertainty about the weights
    else:
        assert float(pred.epistemic.mean()) > 0
    again = m.predictive(test.x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(pred.mean, again.mean)  # the same generator, the same draws


def test_sampling_needs_inputs():
    m = genlab.create("bnn", data_shape=(4,), hidden_dims=(8,), n_outputs=3, seed=0)
    with pytest.raises(ConfigError, match="pass x="):
        m.sample(3)
    assert m.sample(7, x=torch.rand(2, 4)).shape == (7, 2)


def test_ece_on_known_cases():
    g = torch.Generator().manual_seed(2)
    n = 20_000
    conf = torch.rand(n, generator=g) * 0.5 + 0.5
    correct = torch.rand(n, generator=g) < conf  # right with exactly the stated probability: calibrated
    labels = torch.where(correct, 0, 1)
    probs = torch.stack([conf, 1 - conf], 1)
    assert expected_calibration_error(probs, labels).ece < 0.02
    over = expected_calibration_error(probs, torch.where(torch.rand(n, generator=g) < 0.5, 0, 1))  # coin flips
    assert over.ece == pytest.approx(float(conf.mean()) - 0.5, abs=0.02) and over.accuracy == pytest.approx(
        0.5, abs=0.02
    )
    small = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]], dtype=torch.float64)  # bins of 0.9, 0.6, 0.7
    r = expected_calibration_error(small, torch.tensor([0, 1, 1]), n_bins=10)
    assert r.ece == pytest.approx((0.1 + 0.6 + 0.3) / 3)


def test_auroc_matches_scikit_learn_with_ties():
    g = torch.Generator().manual_seed(3)
    pos = torch.randint(0, 5, (300,), generator=g).double() + 0.5
    neg = torch.randint(0, 5, (200,), generator=g).double()
    scores = torch.cat([pos, neg]).numpy()
    labels = [1] * 300 + [0] * 200
    assert auroc(pos, neg) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    tied = torch.tensor([1.0, 1.0])
    assert auroc(tied, tied) == 0.5
