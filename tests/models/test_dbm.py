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


@pytest.mark.parametrize("dims", [(5, 3, 4), (4, 3, 2, 3)])
def test_both_parities_enumerate_the_same_log_z(dims):
    m = tiny_dbm(dims)
    exact = float(torch.logsumexp(joint_log_weights(m)[0], 0))
    for anneal in ("even", "odd"):
        path = m.annealing_path(anneal=anneal)
        n = sum(path.dims[i] for i in path.kept)
        got = float(torch.logsumexp(path.log_unnorm(path.split(states(n, dtype=torch.float32)), 1.0), 0))
        assert got == pytest.approx(exact, abs=1e-5), anneal


def test_exact_log_z_enumerates_the_smaller_parity():
    m = tiny_dbm((12, 3, 10), scale=0.3)  # 22 even units (too many), 3 odd ones
    path = m.annealing_path(anneal="odd")
    assert m.exact_log_partition() == pytest.approx(float(path.log_unnorm([states(3)], 1.0).logsumexp(0)), abs=1e-9)


@pytest.mark.parametrize("anneal", ["even", "odd"])
def test_ais_from_the_layers_base_rates_matches_the_exact_log_z(anneal):
    # a peaked top layer: far from uniform, the case where uniform hidden base models fail on MNIST
    m = tiny_dbm((8, 6, 10), scale=1.2, seed=2)
    with torch.no_grad():
        m.biases[2].sub_(3.0)
    g = torch.Generator().manual_seed(0)
    v = m._gibbs(m._random_states(2000, g), g, 100)[0]
    base = m.base_biases(v)
    assert [b.shape[0] for b in base] == [8, 6, 10]
    assert float((torch.sigmoid(base[2]) - 0.5).abs().mean()) > 0.3  # the top layer's rates, far from one half
    exact = m.exact_log_partition()
    est = log_partition(m, n_runs=100, betas=100, base_bias=base, anneal=anneal, generator=g)
    assert abs(est.log_z - exact) < 0.05, (est.log_z, exact)
    assert est.lower <= exact + 0.02 and est.upper >= exact - 0.02
    # uniform hidden layers at the start: the same short schedule is off by more and carries fewer runs
    uniform = log_partition(m, n_runs=100, betas=100, anneal=anneal, generator=torch.Generator().manual_seed(1))
    assert est.effective_sample_size > 95 > uniform.effective_sample_size + 30


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
        genlab.create("dbm", data_shape=(30,), layer_dims=(25, 5)).exact_log_partition()
    with pytest.raises(ConfigError, match="one tensor per layer"):
        tiny_dbm().annealing_path(base_bias=[torch.zeros(5), torch.zeros(3)])
    with pytest.raises(ConfigError, match="anneal"):
        tiny_dbm().annealing_path(anneal="all")
    with pytest.raises(ConfigError, match="n_classes"):
        tiny_dbm().predict(torch.rand(2, 5))
