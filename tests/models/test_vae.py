import math

import pytest
import torch

import genlab
from genlab.data.dataset import DatasetInfo
from genlab.errors import ConfigError, DataError
from genlab.losses import bernoulli_log_likelihood, gaussian_log_likelihood, kl_normal_std_normal
from genlab.models import VAE, VAEConfig
from genlab.models.base import Batch


def tiny(**kw) -> VAE:
    cfg = VAEConfig(data_shape=(1, 2, 2), hidden_dims=(8,), latent_dim=2, **kw)
    m = VAE(cfg)
    m.registry_name = "vae"
    return m


def test_kl_matches_the_closed_form_and_torch_distributions():
    mean = torch.tensor([[0.3, -1.2], [0.0, 0.0]])
    logvar = torch.tensor([[0.5, -0.7], [0.0, 0.0]])
    q = torch.distributions.Normal(mean, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(kl_normal_std_normal(mean, logvar), expected, atol=1e-6)
    assert kl_normal_std_normal(mean, logvar)[1] == 0.0


def test_likelihoods_match_torch_distributions():
    logits = torch.tensor([[0.2, -3.0, 4.0]])
    x = torch.tensor([[1.0, 0.0, 1.0]])
    bern = torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(1)
    assert torch.allclose(bernoulli_log_likelihood(logits, x), bern, atol=1e-6)
    mean, log_std = torch.tensor([[0.1, 0.5, -1.0]]), torch.tensor([0.0, -1.0, 0.3])
    gauss = torch.distributions.Normal(mean, log_std.exp()).log_prob(x).sum(1)
    assert torch.allclose(gaussian_log_likelihood(mean, x, log_std), gauss, atol=1e-5)


def test_elbo_is_reconstruction_minus_kl_with_the_same_noise():
    m = tiny()
    x = torch.rand(4, 1, 2, 2)
    g = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    mean, logvar = m.posterior(x)
    z = m.reparameterize(mean, logvar, g())
    by_hand = bernoulli_log_likelihood(m.decoder_output(z), x) - kl_normal_std_normal(mean, logvar)
    assert torch.allclose(m.elbo(x, g()), by_hand)
    assert m.elbo(x, g()).shape == (4,)


def test_beta_weights_the_kl_term():
    x = torch.rand(8, 1, 2, 2)
    m1, m2 = tiny(beta=1.0), tiny(beta=3.0)
    m2.load_state_dict(m1.state_dict())
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    _, kl = m1.elbo_terms(x, g())
    assert torch.allclose(m2.loss(x, g()) - m1.loss(x, g()), 2.0 * kl.mean(), atol=1e-5)


def one_d_latent_vae() -> tuple[VAE, torch.Tensor, torch.Tensor]:
    """A VAE with a 1-D latent, whose log p(x) = log E_{p(z)} p(x|z) is computed exactly by quadrature."""
    m = genlab.create("vae", data_shape=(4,), hidden_dims=(8,), latent_dim=1, activation="tanh", seed=3)
    x = (torch.rand(6, 4, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    return m, x, exact_log_likelihood(m, x)


def exact_log_likelihood(m: VAE, x: torch.Tensor) -> torch.Tensor:
    z = torch.linspace(-9, 9, 6001).unsqueeze(1)
    log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).squeeze(1)
    with torch.no_grad():
        logits = m.decoder_output(z)
    terms = [torch.logsumexp(bernoulli_log_likelihood(logits, xi.expand_as(logits)) + log_pz, 0) for xi in x]
    return torch.stack(terms) + math.log(18 / 6000)


def test_elbo_and_iwae_bounds_are_ordered_below_the_exact_log_likelihood():
    m, x, _ = one_d_latent_vae()
    with torch.no_grad():  # a decoder that depends strongly on z makes the gaps between the bounds clear
        for p in m.decoder.parameters():
            p.mul_(4.0)
    exact = exact_log_likelihood(m, x)
    g = torch.Generator().manual_seed(0)

    def estimate(fn, n):  # n independent estimates per input, computed as one batch
        with torch.no_grad():
            draws = fn(x.repeat(n, 1)).reshape(n, len(x))
        return draws.mean(0), draws.std(0) / n**0.5

    elbo, se1 = estimate(lambda xs: m.elbo(xs, g), 4000)
    l5, se5 = estimate(lambda xs: m.iwae_bound(xs, 5, g), 1000)
    l50, se50 = estimate(lambda xs: m.iwae_bound(xs, 50, g), 200)
    assert (elbo + 3 * se1 < l5 - 3 * se5).all()
    assert (l5 + 3 * se5 < l50 + 3 * se50).all()
    assert (l50 - 3 * se50 <= exact).all()


def test_log_prob_with_many_samples_matches_the_exact_log_likelihood_in_bounded_memory():
    m, x, exact = one_d_latent_vae()
    lp = m.log_prob(x, k=5000, generator=torch.Generator().manual_seed(0), memory_floats=4 * 6 * 100)
    assert torch.allclose(lp, exact, atol=0.02)
    assert (lp <= exact + 0.02).all()


def test_gaussian_likelihood_with_learned_std_has_a_parameter():
    m = tiny(likelihood="gaussian", learn_obs_std=True, obs_std=0.5)
    assert any(n == "log_obs_std" for n, _ in m.named_parameters())
    assert torch.allclose(m.log_obs_std, torch.full((4,), math.log(0.5)))
    fixed = tiny(likelihood="gaussian")
    assert "log_obs_std" in dict(fixed.named_buffers())
    assert fixed.output_range is None


def test_encode_decode_reconstruct_shapes():
    m = tiny()
    x = torch.rand(3, 1, 2, 2)
    mean, logvar = m.posterior(x)
    assert mean.shape == logvar.shape == (3, 2)
    assert torch.equal(m.encode(x), mean)
    assert m.decode(mean).shape == (3, 1, 2, 2)
    r = m.reconstruct(x)
    assert r.shape == x.shape and r.min() >= 0 and r.max() <= 1


def test_bernoulli_vae_rejects_data_outside_unit_interval():
    m = tiny()
    with pytest.raises(DataError, match=r"needs data in \[0, 1\].*scale='unit'"):
        m.check_data(DatasetInfo("x", (1, 2, 2), (-1.0, 1.0)))
    with pytest.raises(DataError, match=r"data_shape=\(5,\)"):
        m.check_data(DatasetInfo("x", (5,), (0.0, 1.0)))
    tiny(likelihood="gaussian").check_data(DatasetInfo("x", (4,), (-3.0, 3.0)))


def test_config_rejects_nonsense():
    with pytest.raises(ConfigError, match="latent_dim"):
        VAEConfig(latent_dim=0)
    with pytest.raises(ConfigError, match="did you mean 'gaussian'"):
        VAEConfig(likelihood="gausian")


def test_conditional_vae_uses_its_labels():
    m = genlab.create("cvae", data_shape=(1, 8, 8), hidden_dims=(32,), latent_dim=2, seed=0)
    assert m.config.n_classes == 10
    z = torch.zeros(2, 2)
    with torch.no_grad():
        for p in m.decoder.parameters():
            p.normal_(0, 1, generator=torch.Generator().manual_seed(0))
    a, b = m.decode(z, torch.tensor([0, 1]))
    assert not torch.allclose(a, b)  # same code, different label, different image
    s = m.sample(12, generator=torch.Generator().manual_seed(0))
    assert s.shape == (12, 1, 8, 8)
    with pytest.raises(DataError, match="needs labels"):
        m.encode(torch.rand(2, 1, 8, 8))
    with pytest.raises(DataError, match=r"labels must lie in 0\.\.9"):
        m.encode(torch.rand(2, 1, 8, 8), torch.tensor([0, 10]))
    with pytest.raises(DataError, match="needs labelled data"):
        m.check_data(DatasetInfo("x", (1, 8, 8), (0.0, 1.0)))


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_conv_vae_round_trips_image_shapes(shape):
    m = genlab.create("vae", data_shape=shape, architecture="conv", hidden_dims=(8, 16), latent_dim=3, seed=0)
    x = torch.rand(2, *shape)
    assert m.reconstruct(x).shape == x.shape and m.log_prob(x, k=3).shape == (2,)
    with pytest.raises(ConfigError, match=r"conv.*needs image data"):
        VAEConfig(data_shape=(64,), architecture="conv")


def test_iwae_objective_trains_and_is_checked():
    m = genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=2, objective="iwae", k=5, seed=0)
    out = m.training_step(m.example_batch(8), m.configure_optimizers(), 0)
    assert set(out) == {"loss"} and torch.isfinite(out["loss"])
    with pytest.raises(ConfigError, match="beta = 1"):
        VAEConfig(objective="iwae", beta=2.0)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_log_weights_agree_with_the_per_sample_likelihood(likelihood):
    m = genlab.create("vae", data_shape=(1, 3, 3), hidden_dims=(8,), latent_dim=2, likelihood=likelihood, seed=0)
    x = torch.rand(4, 1, 3, 3)
    w = m.log_weights(x, 3, torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    mean, logvar = m.posterior(x)
    eps = torch.randn((3, *mean.shape), generator=g)
    for i in range(3):
        z = mean + eps[i] * torch.exp(0.5 * logvar)
        log_q = torch.distributions.Normal(mean, torch.exp(0.5 * logvar)).log_prob(z).sum(1)
        log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
        expected = m.log_likelihood(m.decoder_output(z), x) + log_pz - log_q
        assert torch.allclose(w[i], expected, atol=1e-4)


def test_active_units_follow_the_variance_of_the_posterior_mean():
    m = genlab.create("vae", data_shape=(6,), hidden_dims=(), latent_dim=3, likelihood="gaussian", seed=0)
    with torch.no_grad():  # unit 0 reads the input, units 1 and 2 ignore it
        w = m.encoder.blocks[0].weight
        w.zero_()
        w[0, 0] = 1.0
    x = torch.randn(500, 6, generator=torch.Generator().manual_seed(0))
    assert m.active_units(x).tolist() == [True, False, False]
    assert m.active_units(x * 0.01).tolist() == [False, False, False]  # variance 1e-4 < 0.01


def test_kl_warmup_ramps_the_kl_weight_from_zero_to_beta():
    m = genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=2, beta=2.0, kl_warmup_steps=10)
    assert [m.kl_weight(s) for s in (0, 5, 10, 50)] == [0.0, 1.0, 2.0, 2.0]
    assert genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=2).kl_weight(0) == 1.0
    x = torch.rand(8, 1, 4, 4)
    m.generator = torch.Generator().manual_seed(0)
    out = m.training_step(Batch(x), m.configure_optimizers(), 0)
    assert torch.allclose(out["loss"], out["recon"])  # step 0: the KL term has weight 0
    with pytest.raises(ConfigError, match="warm-up"):
        VAEConfig(kl_warmup_steps=5, objective="iwae", k=3)
