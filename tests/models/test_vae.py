import math

import pytest
import torch

from genlab.data.dataset import DatasetInfo
from genlab.errors import ConfigError, DataError
from genlab.losses import bernoulli_log_likelihood, gaussian_log_likelihood, kl_normal_std_normal
from genlab.models import VAE, VAEConfig


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
    mean, logvar = m.encode(x)
    z = m.reparameterize(mean, logvar, g())
    by_hand = bernoulli_log_likelihood(m.decoder_output(z), x.reshape(4, -1)) - kl_normal_std_normal(mean, logvar)
    assert torch.allclose(m.elbo(x, g()), by_hand)
    assert m.elbo(x, g()).shape == (4,)


def test_beta_weights_the_kl_term():
    x = torch.rand(8, 1, 2, 2)
    m1, m2 = tiny(beta=1.0), tiny(beta=3.0)
    m2.load_state_dict(m1.state_dict())
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    _, kl = m1.elbo_terms(x, g())
    assert torch.allclose(m2.loss(x, g()) - m1.loss(x, g()), 2.0 * kl.mean(), atol=1e-5)


def test_elbo_is_a_lower_bound_on_an_exactly_computable_log_likelihood():
    """With a 1-D latent, log p(x) = log E_{p(z)} p(x|z) is computed by quadrature; the ELBO stays below it."""
    torch.manual_seed(0)
    m = tiny()
    m.config = VAEConfig(data_shape=(1, 2, 2), hidden_dims=(8,), latent_dim=1)
    m.encoder = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    m.decoder = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    x = (torch.rand(6, 1, 2, 2) > 0.5).float()
    z = torch.linspace(-8, 8, 4001).unsqueeze(1)
    log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).squeeze(1)
    logits = m.decoder_output(z)
    exact = []
    for xi in x.reshape(6, -1):
        ll = bernoulli_log_likelihood(logits, xi.expand_as(logits)) + log_pz
        exact.append(torch.logsumexp(ll, 0) + math.log(16 / 4000))
    exact = torch.stack(exact)
    elbo = torch.stack([m.elbo(x, torch.Generator().manual_seed(s)) for s in range(2000)]).mean(0)
    assert (elbo <= exact + 0.05).all()


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
    mean, logvar = m.encode(x)
    assert mean.shape == logvar.shape == (3, 2)
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
