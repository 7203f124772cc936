"""General Boltzmann machine: exact quantities, sequential Gibbs statistics, annealing, learning."""

from __future__ import annotations

import pytest
import torch

import genlab
from genlab.errors import ConfigError, DataError
from genlab.models.energy.sampling import states
from genlab.training import Trainer


def random_bm(d: int = 4, h: int = 3, scale: float = 1.0, seed: int = 0, **kw):
    m = genlab.create("boltzmann", data_shape=(d,), n_hidden=h, seed=seed, **kw)
    g = torch.Generator().manual_seed(seed)
    w = torch.triu(torch.randn(d + h, d + h, generator=g) * scale, 1)
    with torch.no_grad():
        m.W.copy_(w + w.t())
        m.b.copy_(torch.randn(d + h, generator=g) * 0.5)
    return m


def test_energy_is_the_sum_over_pairs():
    m = random_bm(3, 2, seed=1)
    s = states(5, dtype=torch.float32)
    W, b = m.W.detach(), m.b.detach()
    manual = torch.stack([-sum(W[i, j] * x[i] * x[j] for i in range(5) for j in range(i + 1, 5)) - x @ b for x in s])
    assert torch.allclose(m.energy(s), manual, atol=1e-5)


def test_exact_log_z_equals_the_rbms_for_bipartite_weights():
    rbm = genlab.create("rbm", data_shape=(5,), n_hidden=3, seed=0)
    with torch.no_grad():
        rbm.W.normal_(0, 1, generator=torch.Generator().manual_seed(0))
        rbm.b.normal_(generator=torch.Generator().manual_seed(1))
        rbm.c.normal_(generator=torch.Generator().manual_seed(2))
    bm = genlab.create("boltzmann", data_shape=(5,), n_hidden=3)
    with torch.no_grad():
        bm.W.zero_()
        bm.W[:5, 5:] = rbm.W
        bm.W[5:, :5] = rbm.W.t()
        bm.b.copy_(torch.cat([rbm.b, rbm.c]))
    assert bm.exact_log_partition() == pytest.approx(rbm.exact_log_partition(), abs=1e-6)
    v = states(5, dtype=torch.float32)
    assert torch.allclose(bm.free_energy(v), rbm.free_energy(v).double(), atol=1e-5)
    assert float(bm.log_prob(v).exp().sum()) == pytest.approx(1.0, abs=1e-6)


def test_sequential_gibbs_reaches_the_exact_marginals_and_correlations():
    m = random_bm(4, 3, seed=2)
    S = states(7)
    p = torch.softmax(-m.energy(S).double(), 0)
    exact_mean = p @ S
    exact_corr = (S * p[:, None]).t() @ S
    s = m.sample(4000, sweeps=100, return_hidden=True, generator=torch.Generator().manual_seed(0)).double()
    assert torch.allclose(s.mean(0), exact_mean, atol=0.035)
    assert torch.allclose(s.t() @ s / len(s), exact_corr, atol=0.035)


def test_temperature_and_annealing():
    m = random_bm(4, 3, scale=2.0, seed=3)
    S = states(7, dtype=torch.float32)
    e_min = float(m.energy(S).min())
    low = m.anneal(200, t_start=10, t_end=0.02, sweeps=100, generator=torch.Generator().manual_seed(0))
    assert (m.energy(low) - e_min).abs().lt(1e-4).float().mean() > 0.9  # annealing finds the ground state
    hot = m.sample(4000, sweeps=30, temperature=100.0, generator=torch.Generator().manual_seed(1))
    assert (hot.mean(0) - 0.5).abs().max() < 0.05
    with pytest.raises(ConfigError, match="temperature"):
        m.sample(3, temperature=-1.0)
    assert m.exact_log_partition(temperature=1e6) == pytest.approx(7 * torch.log(torch.tensor(2.0)).item(), abs=1e-3)


def test_annealing_with_clamped_visibles_completes_a_pattern():
    m = random_bm(4, 3, scale=2.0, seed=4)
    clamp = torch.tensor([[1.0, float("nan"), 0.0, float("nan")]]).expand(50, -1)
    out = m.anneal(50, clamp=clamp, sweeps=80, generator=torch.Generator().manual_seed(0))
    assert (out[:, 0] == 1).all() and (out[:, 2] == 0).all()
    S = states(7, dtype=torch.float32)
    ok = S[(S[:, 0] == 1) & (S[:, 2] == 0)]
    assert (m.energy(out) - float(m.energy(ok).min())).abs().lt(1e-4).float().mean() > 0.9


@pytest.mark.parametrize("data_phase", ["mean_field", "gibbs"])
def test_learning_raises_the_exact_log_likelihood(data_phase):
    g = torch.Generator().manual_seed(0)
    patterns = torch.tensor([[1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1], [1, 0, 1, 0, 1, 0]], dtype=torch.float32)
    x = patterns[torch.randint(0, 3, (600,), generator=g)]
    x = torch.where(torch.rand(x.shape, generator=g) < 0.05, 1 - x, x)
    m = genlab.create("boltzmann", data_shape=(6,), n_hidden=4, data_phase=data_phase, lr=0.05, seed=0)
    Trainer(epochs=0).fit(m, x)
    before = float(m.log_prob(x).mean())
    Trainer(epochs=30, batch_size=20, seed=0).fit(m, x)
    after = float(m.log_prob(x).mean())
    assert after > before + 1.0, (before, after)  # 6 independent bits: about -4.1 nats; the patterns: about -2.5


def test_fully_visible_machine_matches_the_data_correlations():
    g = torch.Generator().manual_seed(1)
    a = (torch.rand(2000, 1, generator=g) < 0.5).float()
    x = torch.cat([a, a, 1 - a, (torch.rand(2000, 2, generator=g) < 0.3).float()], 1)
    x = torch.where(torch.rand(x.shape, generator=g) < 0.1, 1 - x, x)
    m = genlab.create("boltzmann", data_shape=(5,), n_hidden=0, lr=0.1, n_chains=500, weight_decay=0.0, seed=0)
    Trainer(epochs=40, batch_size=100, seed=0).fit(m, x)
    S = states(5)
    p = torch.softmax(-m.energy(S).double(), 0)
    model_corr = (S * p[:, None]).t() @ S
    data_corr = x.double().t() @ x.double() / len(x)
    assert torch.allclose(model_corr, data_corr, atol=0.05)


def test_errors():
    with pytest.raises(ConfigError, match="20 units"):
        genlab.create("boltzmann", data_shape=(20,), n_hidden=5).exact_log_partition()
    m = genlab.create("boltzmann", data_shape=(4,), n_hidden=2)
    with pytest.raises(DataError, match="4 visible units"):
        m.free_energy(torch.rand(2, 5))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        Trainer(epochs=1).fit(m, torch.randn(10, 4))
