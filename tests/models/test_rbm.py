"""RBM: energies and partition functions against brute force, Gibbs statistics, CD/PCD gradients, training."""

from __future__ import annotations

import math

import pytest
import torch

import genlab
from genlab.data import load
from genlab.errors import ConfigError, DataError
from genlab.metrics import base_bias_from_data, log_partition
from genlab.models.energy.sampling import states
from genlab.training import Trainer


def random_rbm(d: int = 6, h: int = 4, scale: float = 1.0, seed: int = 0, **kw) -> genlab.models.RBM:
    m = genlab.create("rbm", data_shape=(d,), n_hidden=h, seed=seed, **kw)
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        m.W.copy_(torch.randn(d, h, generator=g) * scale)
        m.b.copy_(torch.randn(d, generator=g) * 0.5)
        m.c.copy_(torch.randn(h, generator=g) * 0.5)
    return m


def brute_log_z(m) -> float:
    """log sum_{v,h} exp(-E(v, h)) over every joint state of a tiny Bernoulli RBM, using model.energy."""
    V, H = states(m.n_visible, dtype=torch.float32), states(m.config.n_hidden, dtype=torch.float32)
    vv = V.repeat_interleave(len(H), 0)
    hh = H.repeat(len(V), 1)
    return float(torch.logsumexp(-m.energy(vv, hh).double(), 0))


# --- exact quantities ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 4), (4, 7)])  # enumerates hidden, then visible states
def test_exact_log_z_matches_brute_force(shape):
    m = random_rbm(*shape)
    assert m.exact_log_partition() == pytest.approx(brute_log_z(m), abs=1e-6)


def test_free_energy_is_minus_log_sum_over_hidden_states():
    m = random_rbm(5, 4, seed=1)
    v = states(5, dtype=torch.float32)
    H = states(4, dtype=torch.float32)
    e = torch.stack([m.energy(v, h.expand(len(v), -1)) for h in H], 1).double()
    assert torch.allclose(m.free_energy(v).double(), -torch.logsumexp(-e, 1), atol=1e-5)


def test_log_prob_sums_to_one_over_all_binary_vectors():
    m = random_rbm(7, 5, seed=2)
    assert float(m.log_prob(states(7, dtype=torch.float32)).exp().sum()) == pytest.approx(1.0, abs=1e-6)


def test_centered_rbm_is_the_plain_rbm_with_shifted_biases():
    m = random_rbm(5, 3, seed=3, centering=True)
    with torch.no_grad():
        m.v_offset.copy_(torch.rand(5))
        m.h_offset.copy_(torch.rand(3))
    V, H = states(5, dtype=torch.float32), states(3, dtype=torch.float32)
    vv, hh = V.repeat_interleave(len(H), 0), H.repeat(len(V), 1)
    mu, lam = m.v_offset, m.h_offset
    centered = -(((vv - mu) @ m.W) * (hh - lam)).sum(1) - (vv - mu) @ m.b - (hh - lam) @ m.c
    diff = (m.energy(vv, hh) - centered).detach()  # equal up to one constant
    assert torch.allclose(diff, diff[0].expand_as(diff), atol=1e-5)


def test_gaussian_rbm_density_integrates_to_one_in_data_units():
    m = random_rbm(1, 3, seed=4, visible="gaussian", learn_sigma=True)
    with torch.no_grad():
        m.data_mean.fill_(2.0)
        m.data_std.fill_(3.0)
        m.log_sigma.fill_(math.log(0.7))
    x = torch.linspace(-60, 60, 200_001)[:, None]
    density = m.log_prob(x).exp()
    assert float(torch.trapezoid(density, x[:, 0].double())) == pytest.approx(1.0, abs=1e-4)


def test_gaussian_free_energy_matches_energy_summed_over_hidden():
    m = random_rbm(3, 4, seed=5, visible="gaussian")
    v = torch.randn(6, 3)
    H = states(4, dtype=torch.float32)
    e = torch.stack([m.energy(v, h.expand(6, -1)) for h in H], 1).double()
    assert torch.allclose(m.free_energy(v).double(), -torch.logsumexp(-e, 1), atol=1e-4)


def test_exact_pseudo_likelihood_and_its_stochastic_estimate():
    m = random_rbm(6, 4, seed=6)
    v = states(6, dtype=torch.float32)[::5]
    fe = m.free_energy(v)
    manual = torch.zeros(len(v))
    for i in range(6):
        f = v.clone()
        f[:, i] = 1 - f[:, i]
        manual += torch.nn.functional.logsigmoid(m.free_energy(f) - fe)
    assert torch.allclose(m.pseudo_likelihood(v, exact=True), manual, atol=1e-5)
    reps = v.repeat(4000, 1)
    est = m.pseudo_likelihood(reps, generator=torch.Generator().manual_seed(0)).reshape(4000, -1).mean(0)
    assert torch.allclose(est, manual, atol=0.15)


# --- AIS --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_rbm():
    ds = load("digits", binarize="static")
    m = genlab.create("rbm", data_shape=(1, 8, 8), n_hidden=15, lr=0.05, seed=0)
    Trainer(epochs=15, batch_size=20, seed=0).fit(m, ds)
    return m, ds


def test_ais_is_within_a_tenth_of_a_nat_of_exact_log_z(digits_rbm):
    m, ds = digits_rbm
    est = log_partition(m, n_runs=100, betas=3000, base_bias=base_bias_from_data(ds.x))
    exact = m.exact_log_partition()
    assert abs(est.log_z - exact) < 0.1
    assert est.lower - 0.05 <= exact <= est.upper + 0.05
    assert est.effective_sample_size > 20


def test_ais_on_a_gaussian_rbm():
    m = random_rbm(8, 6, scale=0.3, seed=7, visible="gaussian")
    est = log_partition(m, n_runs=100, betas=2000, generator=torch.Generator().manual_seed(1))
    assert abs(est.log_z - m.exact_log_partition()) < 0.1


def test_ais_rejects_bad_schedules():
    m = random_rbm()
    with pytest.raises(ConfigError, match="increase from 0 to 1"):
        log_partition(m, betas=[0.0, 0.7, 0.5, 1.0])
    with pytest.raises(ConfigError, match="n_runs"):
        log_partition(m, n_runs=0)


# --- Gibbs sampling ---------------------------------------------------------------------------------------
def test_hidden_and_visible_draws_match_the_conditionals():
    m = random_rbm(6, 4, seed=8)
    g = torch.Generator().manual_seed(0)
    v = torch.tensor([[1.0, 0, 1, 1, 0, 0]]).expand(20_000, -1)
    from genlab.models.energy.sampling import bernoulli

    p_h = torch.sigmoid(v[:1] @ m.W + m.c).detach()
    h = bernoulli(torch.sigmoid(m._hidden_logits(v)), g)
    se = (p_h * (1 - p_h) / 20_000).sqrt()
    assert ((h.mean(0) - p_h).abs() < 4 * se + 1e-4).all()
    hs = h[:1].expand(20_000, -1)
    p_v = torch.sigmoid(hs[:1] @ m.W.t() + m.b).detach()
    vs = m._sample_visible(hs, g)
    assert ((vs.mean(0) - p_v).abs() < 4 * (p_v * (1 - p_v) / 20_000).sqrt() + 1e-4).all()


def test_long_gibbs_chains_reach_the_exact_marginals():
    m = random_rbm(6, 4, seed=9)
    V = states(6, dtype=torch.float32)
    exact = (m.log_prob(V).exp()[:, None] * V.double()).sum(0)
    s = m.sample(4000, steps=200, mean=False, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(s.mean(0).double(), exact, atol=0.035)


def test_temperature_flattens_the_distribution():
    m = random_rbm(6, 4, scale=2.0, seed=10)
    V = states(6, dtype=torch.float32)
    g = torch.Generator().manual_seed(2)
    cold = m.sample(3000, steps=100, mean=False, generator=g)
    hot = m.sample(3000, steps=100, mean=False, temperature=50.0, generator=g)
    # at a high temperature every unit is a fair coin; at T=1 they are not
    assert (hot.mean(0) - 0.5).abs().max() < 0.06
    assert (cold.mean(0) - 0.5).abs().max() > 0.15
    with pytest.raises(ConfigError, match="temperature"):
        m.sample(2, temperature=0.0)
    assert V.shape == (64, 6)


def test_gibbs_chain_shape_burn_in_and_thinning():
    m = random_rbm(6, 4, seed=11)
    chain = m.gibbs_chain(3, 5, burn_in=10, thin=2, generator=torch.Generator().manual_seed(0))
    assert chain.shape == (5, 3, 6)
    assert ((chain >= 0) & (chain <= 1)).all()
    s = m.sample(7, n_chains=2, steps=3, generator=torch.Generator().manual_seed(0))
    assert s.shape == (7, 6)


# --- gradients and training ------------------------------------------------------------------------------
def exact_gradient(m, x):
    """Minus the gradient of the mean exact log-likelihood of x, by autograd through the enumeration."""
    W, b, c = (p.detach().double().requires_grad_() for p in (m.W, m.b, m.c))
    H = states(m.config.n_hidden)
    xd = x.double()

    def neg_free(v):
        return v @ b + torch.nn.functional.softplus(v @ W + c).sum(1)

    log_z = torch.logsumexp(H @ c + torch.nn.functional.softplus(H @ W.t() + b).sum(1), 0)
    loss = -(neg_free(xd).mean() - log_z)
    return torch.autograd.grad(loss, (W, b, c))


@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_gibbs_gradient_with_many_steps_approaches_the_exact_gradient(method):
    m = random_rbm(6, 4, scale=0.8, seed=12, method=method, k=30, n_chains=20_000, weight_decay=0.0)
    x = states(6, dtype=torch.float32)[torch.tensor([3, 17, 40, 63, 21, 9])].repeat(3000, 1)
    m.on_train_start(x)
    with torch.no_grad():  # undo the data-dependent bias init: keep the random model
        m.b.copy_(random_rbm(6, 4, scale=0.8, seed=12).b)
    if method == "pcd":  # equilibrate the persistent chains under the model first
        m.chains.copy_(m.gibbs(m.chains, steps=50, generator=torch.Generator().manual_seed(3)))
        m.chains_ph.copy_(m.transform(m.chains))
    m.estimate_gradient(x, generator=torch.Generator().manual_seed(4))
    for est, ex in zip((m.W.grad, m.b.grad, m.c.grad), exact_gradient(m, x), strict=True):
        assert torch.allclose(est.double(), ex, atol=0.03), (est, ex)


def test_cd1_is_biased_where_cd_many_is_not():
    # on a strongly coupled model, one Gibbs step from the data does not reach the model distribution
    base = random_rbm(6, 4, scale=2.5, seed=13, k=1, weight_decay=0.0)
    x = states(6, dtype=torch.float32)[torch.tensor([0, 63])].repeat(10_000, 1)
    exact = exact_gradient(base, x)[0]
    errs = {}
    for k in (1, 50):
        m = random_rbm(6, 4, scale=2.5, seed=13, k=k, weight_decay=0.0)
        m.initialized.fill_(True)
        m.estimate_gradient(x, generator=torch.Generator().manual_seed(5))
        errs[k] = float((m.W.grad.double() - exact).abs().max())
    assert errs[50] < 0.05 < errs[1]


@pytest.mark.parametrize("options", [{}, {"method": "pcd"}, {"centering": True}, {"optimizer": "adam", "lr": 0.01}])
def test_training_on_digits_beats_the_base_rate_model(options):
    ds = load("digits", binarize="static")
    test = load("digits", split="test", binarize="static")
    m = genlab.create("rbm", data_shape=(1, 8, 8), n_hidden=16, seed=0, **options)
    Trainer(epochs=0, seed=0).fit(m, ds)  # initialisation only: the base-rate model (W ~ 0)
    before = float(m.log_prob(test.x).mean())
    hist = Trainer(epochs=20, batch_size=20, seed=0).fit(m, ds)
    after = float(m.log_prob(test.x).mean())
    assert after > before + 3, (before, after)  # base rate -24.4 nats; 50 epochs reach about -18.5
    assert hist is m


def test_sparsity_target_lowers_the_mean_activation():
    ds = load("digits", binarize="static")
    means = {}
    for target in (0.0, 0.05):
        m = genlab.create("rbm", data_shape=(1, 8, 8), n_hidden=32, sparsity_target=target, sparsity_cost=1.0, seed=0)
        Trainer(epochs=8, batch_size=20, seed=0).fit(m, ds)
        means[target] = float(m.transform(ds.x).mean())
    assert means[0.05] < 0.12 < means[0.0]


def test_gaussian_rbm_with_learned_sigma_fits_real_data():
    g = torch.Generator().manual_seed(0)
    centers = torch.tensor([[3.0, -1.0, 0.0], [-3.0, 1.0, 2.0]]) * 4
    x = centers[torch.randint(0, 2, (4000,), generator=g)] + torch.randn(4000, 3, generator=g)
    m = genlab.create("rbm", data_shape=(3,), n_hidden=8, visible="gaussian", learn_sigma=True, lr=0.01, seed=0)
    Trainer(epochs=0, seed=0).fit(m, x)
    before = float(m.log_prob(x).mean())
    Trainer(epochs=30, batch_size=50, seed=0).fit(m, x)
    after = float(m.log_prob(x).mean())
    assert after > before + 1.0, (before, after)
    assert not torch.allclose(m.sigma, torch.ones(3))


def test_pcd_chains_live_in_the_checkpointed_state(tmp_path):
    ds = load("digits", binarize="static")
    m = genlab.create("rbm", data_shape=(1, 8, 8), n_hidden=8, method="pcd", n_chains=7, seed=0)
    Trainer(epochs=1, seed=0).fit(m, ds)
    assert m.chains.shape == (7, 64) and set(m.chains.unique().tolist()) <= {0.0, 1.0}
    m.save(tmp_path / "m")
    assert torch.equal(genlab.load(tmp_path / "m").chains, m.chains)


# --- errors -------------------------------------------------------------------------------------------------
def test_errors_name_the_problem_and_the_fix():
    with pytest.raises(ConfigError, match="visible='bernoulli'"):
        genlab.create("rbm", visible="gaussian", centering=True)
    with pytest.raises(ConfigError, match="learn_sigma"):
        genlab.create("rbm", learn_sigma=True)
    big = genlab.create("rbm", data_shape=(30,), n_hidden=25)
    with pytest.raises(ConfigError, match="AIS"):
        big.exact_log_partition()
    m = genlab.create("rbm", data_shape=(1, 8, 8), n_hidden=4)
    with pytest.raises(DataError, match="visible='gaussian'"):
        Trainer(epochs=1).fit(m, torch.randn(20, 1, 8, 8))
    with pytest.raises(DataError, match="64 visible units"):
        m.transform(torch.rand(3, 10))
    with pytest.raises(ConfigError, match="binary visibles"):
        genlab.create("rbm", visible="gaussian", data_shape=(4,)).pseudo_likelihood(torch.rand(2, 4))


@pytest.mark.parametrize("n0, nk", [(20, 20), (30, 7), (100, 100)])  # one stacked product, or two
def test_weight_gradient_is_the_difference_of_the_phase_statistics(n0, nk):
    m = random_rbm(6, 4, weight_decay=0.0)
    g = torch.Generator().manual_seed(0)
    v0, vk = torch.rand(n0, 6, generator=g).round(), torch.rand(nk, 6, generator=g).round()
    p0, pk = torch.rand(n0, 4, generator=g), torch.rand(nk, 4, generator=g)
    m._set_gradients(v0, p0, vk, pk)
    assert torch.allclose(m.W.grad, vk.t() @ pk / nk - v0.t() @ p0 / n0, atol=1e-6)
    assert torch.allclose(m.b.grad, vk.mean(0) - v0.mean(0)) and torch.allclose(m.c.grad, pk.mean(0) - p0.mean(0))
