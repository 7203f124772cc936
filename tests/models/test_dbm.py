"""Deep Boltzmann machines: log Z and the bound against brute force, AIS, Gibbs statistics, training."""

from __future__ import annotations

import pytest
import torch

import genlab
from genlab.data import load
from genlab.errors import ConfigError
from genlab.metrics import log_partition
from genlab.models.energy.sampling import states
from genlab.training import Trainer
from genlab.training.layerwise import pretrain_layerwise


def tiny_dbm(dims=(5, 3, 4), scale: float = 1.0, seed: int = 0, **kw):
    m = genlab.create("dbm", data_shape=(dims[0],), layer_dims=dims[1:], seed=seed, **kw)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for w in m.weights:
            w.copy_(torch.randn(w.shape, generator=g) * scale)
        for b in m.biases:
            b.copy_(torch.randn(b.shape, generator=g) * 0.5)
    return m


def joint_log_weights(m):
    """-E(v, h) for every joint state, and the states split by layer."""
    S = states(sum(m.dims))
    parts = torch.split(S, m.dims, 1)
    W = [w.detach().double() for w in m.weights]
    b = [t.detach().double() for t in m.biases]
    neg_e = sum(((parts[i] @ W[i]) * parts[i + 1]).sum(1) for i in range(len(W)))
    return neg_e + sum(p @ bb for p, bb in zip(parts, b, strict=True)), parts


def exact_log_p(m, v):
    neg_e, parts = joint_log_weights(m)
    log_z = torch.logsumexp(neg_e, 0)
    idx = (parts[0][None, :, :] == v.double()[:, None, :]).all(2)  # (B, states) joint states with visible v
    return torch.logsumexp(torch.where(idx, neg_e[None, :], -torch.inf), 1) - log_z, float(log_z)


@pytest.mark.parametrize("dims", [(5, 3, 4), (4, 3, 2, 3)])
def test_exact_log_z_matches_brute_force(dims):
    m = tiny_dbm(dims)
    assert m.exact_log_partition() == pytest.approx(float(torch.logsumexp(joint_log_weights(m)[0], 0)), abs=1e-6)


@pytest.mark.parametrize("dims", [(5, 3, 4), (4, 3, 2, 3)])
def test_ais_matches_the_exact_log_z(dims):
    m = tiny_dbm(dims, scale=0.8)
    est = log_partition(m, n_runs=100, betas=2000, generator=torch.Generator().manual_seed(0))
    assert abs(est.log_z - m.exact_log_partition()) < 0.1


def test_mean_field_bound_is_below_the_exact_log_likelihood():
    m = tiny_dbm(scale=0.8)
    v = states(5, dtype=torch.float32)
    exact, _ = exact_log_p(m, v)
    assert float(exact.exp().sum()) == pytest.approx(1.0, abs=1e-6)
    bound = m.log_prob(v)
    assert (bound <= exact + 1e-6).all()
    assert float((exact - bound).mean()) < 2.0


def test_block_gibbs_reaches_the_exact_marginals():
    m = tiny_dbm(scale=0.8, seed=1)
    neg_e, parts = joint_log_weights(m)
    p = torch.softmax(neg_e, 0)
    g = torch.Generator().manual_seed(0)
    s = m._gibbs(m._random_states(4000, g), g, 200)
    for layer, got in enumerate(s):
        assert torch.allclose(got.double().mean(0), p @ parts[layer], atol=0.035), layer


def test_pretraining_composes_the_modules_and_joint_training_raises_the_likelihood():
    g = torch.Generator().manual_seed(0)
    patterns = torch.tensor([[1, 1, 0, 0, 1], [0, 0, 1, 1, 0], [1, 0, 1, 0, 1]], dtype=torch.float32)
    x = patterns[torch.randint(0, 3, (600,), generator=g)]
    x = torch.where(torch.rand(x.shape, generator=g) < 0.05, 1 - x, x)
    m = genlab.create("dbm", data_shape=(5,), layer_dims=(4, 3), lr=0.02, n_chains=200, seed=0)
    assert m.rbms[0].config.up_factor == 2 and m.rbms[1].config.down_factor == 2
    pretrain_layerwise(m, x, epochs=10, batch_size=20)
    assert torch.equal(m.weights[0], m.rbms[0].W) and torch.equal(m.weights[1], m.rbms[1].W)
    assert torch.allclose(m.biases[1], (m.rbms[0].c + m.rbms[1].b) / 2)
    pretrained = float(exact_log_p(m, x)[0].mean())
    Trainer(epochs=20, batch_size=20, seed=0).fit(m, x)
    trained = float(exact_log_p(m, x)[0].mean())
    # independent bits: -3.3 nats; pretrained about -2.8; joint training about -2.35
    assert trained > pretrained + 0.2 and trained > -2.6, (pretrained, trained)


def test_three_layer_middle_weights_are_halved():
    m = genlab.create("dbm", data_shape=(6,), layer_dims=(4, 4, 3), seed=0)
    x = torch.rand(60, 6).round()
    pretrain_layerwise(m, x, epochs=1, batch_size=20)
    assert torch.allclose(m.weights[1], m.rbms[1].W / 2)


def test_fine_tuned_dbm_classifies_digits():
    ds = load("digits", binarize="static")
    test = load("digits", split="test", binarize="static")
    m = genlab.create("dbm", data_shape=(1, 8, 8), layer_dims=(64, 64), n_classes=10, seed=0)
    pretrain_layerwise(m, ds, epochs=8, batch_size=20)
    Trainer(epochs=25, batch_size=32, seed=0).fit(m, ds)
    acc = float((m.predict(test.x) == test.y).float().mean())
    assert acc > 0.85, acc


def test_errors():
    with pytest.raises(ConfigError, match="2 or 3 hidden layers"):
        genlab.create("dbm", layer_dims=(10,))
    with pytest.raises(ConfigError, match="AIS"):
        genlab.create("dbm", data_shape=(30,), layer_dims=(5, 5)).exact_log_partition()
    with pytest.raises(ConfigError, match="n_classes"):
        tiny_dbm().predict(torch.rand(2, 5))
