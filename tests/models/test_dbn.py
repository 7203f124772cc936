"""Deep belief nets: greedy stages, the likelihood bound against exact enumeration, sampling, fine-tuning."""

from __future__ import annotations

import pytest
import torch

import genlab
from genlab.data import load
from genlab.errors import ConfigError
from genlab.models.energy.sampling import states
from genlab.training import Trainer
from genlab.training.layerwise import pretrain_layerwise


def tiny_dbn(seed: int = 0):
    m = genlab.create("dbn", data_shape=(6,), layer_dims=(4, 3), seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for r in m.rbms:
            r.W.copy_(torch.randn(r.W.shape, generator=g) * 1.5)
            r.b.copy_(torch.randn(r.b.shape, generator=g))
            r.c.copy_(torch.randn(r.c.shape, generator=g))
    return m


def exact_log_p(m, v):
    """log p(v) = log sum_h1 p(v | h1) p_top(h1) for a two-layer DBN, by enumeration."""
    r0, top = m.rbms
    H1 = states(4, dtype=torch.float32)
    log_top = top.log_prob(H1)  # (16,)
    cond = torch.stack([r0.log_visible_given_hidden(v, h.expand(len(v), -1)).double() for h in H1], 1)
    return torch.logsumexp(cond + log_top[None, :], 1)


def test_the_bound_is_below_the_exact_log_likelihood_and_close_to_it():
    m = tiny_dbn()
    v = states(6, dtype=torch.float32)
    exact = exact_log_p(m, v)
    assert float(exact.exp().sum()) == pytest.approx(1.0, abs=1e-6)  # the enumeration is a distribution
    bound = m.log_prob(v, n_samples=2000, generator=torch.Generator().manual_seed(0))
    assert (bound <= exact + 0.05).all()
    assert float((exact - bound).mean()) < 3.0


def test_a_one_layer_dbn_is_its_rbm():
    m = genlab.create("dbn", data_shape=(5,), layer_dims=(3,), seed=0)
    v = states(5, dtype=torch.float32)
    assert torch.allclose(m.log_prob(v), m.rbms[0].log_prob(v))


def test_greedy_stages_train_one_rbm_each_on_the_layer_below():
    ds = load("digits", binarize="static")
    m = genlab.create("dbn", data_shape=(1, 8, 8), layer_dims=(32, 16), seed=0)
    before = [r.W.detach().clone() for r in m.rbms]
    hist = pretrain_layerwise(m, ds, epochs=2, batch_size=32)
    assert len(hist) == 2 and m.stage is None
    assert all(not torch.equal(b, r.W) for b, r in zip(before, m.rbms, strict=True))
    # the second RBM was initialised from the first layer's codes, not from the pixels
    h1 = m.up(ds.x, 1).mean(0).clamp(1e-3, 1 - 1e-3)
    assert m.rbms[1].initialized and m.rbms[1].b.shape == (32,)
    assert torch.corrcoef(torch.stack([m.rbms[1].b.detach(), torch.logit(h1)]))[0, 1] > 0.5


@pytest.fixture(scope="module")
def digits_dbn():
    ds = load("digits", binarize="static")
    m = genlab.create("dbn", data_shape=(1, 8, 8), layer_dims=(100, 100), n_classes=10, lr=0.05, seed=0)
    pretrain_layerwise(m, ds, epochs=15, batch_size=20)
    return m, ds


def knn_agreement(x, ref, k: int = 10) -> torch.Tensor:
    """Fraction of the k nearest training digits that share the majority label: a classifier's confidence that
    does not grow without bound away from the data (a linear probe is over-confident on noise)."""
    d = torch.cdist(x.reshape(len(x), -1), ref.x.reshape(len(ref), -1))
    labels = ref.y[d.topk(k, largest=False).indices]
    return (labels == labels.mode(1).values[:, None]).float().mean(1)


def test_dbn_samples_look_like_digits_more_often_than_noise(digits_dbn):
    m, ds = digits_dbn
    samples = m.sample(300, steps=300, generator=torch.Generator().manual_seed(0))
    noise = torch.rand(300, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    digit_like = float((knn_agreement(samples, ds) >= 0.9).float().mean())  # test digits: 0.77
    noise_like = float((knn_agreement(noise, ds) >= 0.9).float().mean())  # about 0.09
    assert digit_like > noise_like + 0.3, (digit_like, noise_like)
    assert samples.shape == (300, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1


def test_fine_tuning_classifies_digits(digits_dbn):
    m, ds = digits_dbn
    test = load("digits", split="test", binarize="static")
    Trainer(epochs=30, batch_size=32, seed=0).fit(m, ds)
    acc = float((m.predict(test.x) == test.y).float().mean())
    assert acc > 0.9, acc


def test_unsupervised_steps_update_every_rbm_and_errors():
    m = genlab.create("dbn", data_shape=(6,), layer_dims=(4, 3), seed=0)
    before = [r.W.detach().clone() for r in m.rbms]
    Trainer(epochs=1, batch_size=10, seed=0).fit(m, torch.rand(40, 6).round())
    assert all(not torch.equal(b, r.W) for b, r in zip(before, m.rbms, strict=True))
    with pytest.raises(ConfigError, match="n_classes"):
        m.predict(torch.rand(2, 6))
    with pytest.raises(ConfigError, match="stage"):
        m.set_stage(5)
