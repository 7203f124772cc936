"""RealNVP: invertible, log-determinants equal to autograd Jacobians, a density that integrates to 1, learning."""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd.functional import jacobian

import genlab
from genlab.data import load
from genlab.errors import ConfigError, DataError
from genlab.nn.flows import ActNorm
from genlab.training import Trainer


def perturbed(scale=0.3, seed=1, **kw):
    m = genlab.create("realnvp", seed=0, **kw).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=torch.float64) * scale)
    return m.eval()


FLAT = {"data_shape": (4,), "n_couplings": 6, "hidden_dims": (16,)}
IMAGE = {"data_shape": (1, 4, 4), "n_couplings": 2, "channels": 8, "res_blocks": 1, "dequantize": False}


@pytest.mark.parametrize("kw, x", [(FLAT, (6, 4)), (IMAGE, (3, 1, 4, 4))], ids=["flat", "image"])
def test_x_to_z_to_x_is_the_identity(kw, x):
    m = perturbed(scale=0.3 if kw is FLAT else 0.05, **kw)
    data = torch.rand(x, dtype=torch.float64) * 0.9 + 0.05
    z, _ = m.transform(data)
    assert z.shape == (x[0], math.prod(x[1:]))
    assert torch.allclose(m.inverse(z), data, atol=1e-9)


@pytest.mark.parametrize("kw, shape", [(FLAT, (4,)), (IMAGE, (1, 4, 4))], ids=["flat", "image"])
def test_log_determinant_equals_the_autograd_jacobian(kw, shape):
    m = perturbed(scale=0.3 if kw is FLAT else 0.05, **kw)
    x = torch.rand(1, *shape, dtype=torch.float64) * 0.9 + 0.05
    d = math.prod(shape)
    jac = jacobian(lambda t: m.transform(t)[0], x).reshape(d, d)
    assert float(m.transform(x)[1].detach()) == pytest.approx(float(torch.linalg.slogdet(jac)[1]), abs=1e-8)


def test_a_2d_density_integrates_to_one():
    m = perturbed(scale=0.2, data_shape=(2,), n_couplings=4, hidden_dims=(16,))
    with torch.no_grad():
        m.data_mean.copy_(torch.tensor([0.5, -0.3], dtype=torch.float64))
        m.data_std.copy_(torch.tensor([0.7, 1.3], dtype=torch.float64))
    lin = torch.linspace(-12, 12, 801, dtype=torch.float64)
    g = torch.stack(torch.meshgrid(lin, lin, indexing="ij"), -1).reshape(-1, 2)
    cell = float(lin[1] - lin[0]) ** 2
    assert float(m.log_prob(g).exp().sum()) * cell == pytest.approx(1.0, abs=5e-3)


@pytest.mark.parametrize(("data", "epochs", "margin"), [("ring8", 60, 1.0), ("grid25", 30, 0.8)])
def test_flow_beats_a_gaussian_on_toys(data, epochs, margin):
    # grid25 has independent, standardized coordinates: a flow whose couplings start exactly at the identity
    # gets zero gradients there and stays the Gaussian (+0.49 nats after 30 epochs); it must learn the modes
    train, test = load(data, n_samples=4000), load(data, split="test")
    m = genlab.create("realnvp", data_shape=(2,), n_couplings=6, hidden_dims=(64, 64), lr=3e-3, seed=0)
    Trainer(epochs=epochs, batch_size=256, seed=0).fit(m, train)
    mean, cov = train.x.double().mean(0), torch.cov(train.x.double().t())
    gauss = torch.distributions.MultivariateNormal(mean, cov).log_prob(test.x.double()).mean()
    flow = m.log_prob(test.x).mean()
    assert float(flow) > float(gauss) + margin, (float(flow), float(gauss))
    s = m.sample(500, generator=torch.Generator().manual_seed(0))
    assert s.shape == (500, 2) and torch.isfinite(s).all()


def test_image_flow_reports_bits_per_dim_below_uniform():
    train = load("digits")
    m = genlab.create("realnvp_mnist", data_shape=(1, 8, 8), channels=16, seed=0)
    Trainer(epochs=3, batch_size=64, seed=0).fit(m, train)
    bpd = m.bits_per_dim(load("digits", split="test").x, generator=torch.Generator().manual_seed(0))
    assert 0 < bpd < 6.0, bpd  # uniform dequantized noise would be 8 bits per dimension
    s = m.sample(4, generator=torch.Generator().manual_seed(1))
    assert s.shape == (4, 1, 8, 8) and s.min() >= 0 and s.max() <= 1


def test_activation_norms_start_from_the_data():
    x = torch.randn(3000, 3) * torch.tensor([5.0, 0.1, 2.0]) + 7
    m = genlab.create("realnvp", data_shape=(3,), standardize=False, seed=0)
    m.on_train_start(x)
    first = m.layers[0]
    assert isinstance(first, ActNorm) and bool(first.initialized)
    y, _ = first(x[:2000])
    assert torch.allclose(y.mean(0), torch.zeros(3), atol=1e-4) and torch.allclose(y.std(0), torch.ones(3), atol=1e-3)


def test_realnvp_errors():
    with pytest.raises(ConfigError, match="even"):
        genlab.create("realnvp", data_shape=(1, 7, 8))
    with pytest.raises(ConfigError, match="2 dimensions"):
        genlab.create("realnvp", data_shape=(1,))
    with pytest.raises(ConfigError, match="temperature"):
        genlab.create("realnvp").sample(2, temperature=0)
    with pytest.raises(DataError, match="scale the images"):
        Trainer(epochs=1).fit(genlab.create("realnvp_mnist", data_shape=(1, 8, 8)), torch.randn(10, 1, 8, 8))
