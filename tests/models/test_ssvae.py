"""The semi-supervised VAE (M2, Kingma et al. 2014): its bounds against their formulas, training on few labels."""

from __future__ import annotations

import math

import pytest
import torch

import genlab
from genlab.errors import ConfigError, DataError
from genlab.models.autoencoders import VAEConfig
from genlab.models.base import Batch
from genlab.training import Trainer


def small_ssvae(**kw):
    return genlab.create(
        "ssvae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=2, classifier_dims=(8,), seed=0, **kw
    )


def test_labelled_bound_is_the_cvae_elbo_plus_log_prior_of_y():
    m = small_ssvae()
    x, y = torch.rand(5, 1, 4, 4), torch.tensor([0, 3, 9, 1, 1])
    got = m.labelled_bound(x, y, torch.Generator().manual_seed(2))
    expected = m.elbo(x, torch.Generator().manual_seed(2), y=y) - math.log(10)
    assert torch.allclose(got, expected, atol=1e-5)


def class_bounds(m, x, seed):
    """``L(x_b, y)`` for every class, ``(B, K)``, with the draws ``unlabelled_bound`` makes from ``seed``:
    it evaluates every sample with every class in one class-major batch."""
    b = x.shape[0]
    ys = torch.arange(10).repeat_interleave(b)
    return m.labelled_bound(x.repeat(10, 1, 1, 1), ys, torch.Generator().manual_seed(seed)).reshape(10, b).T


def test_unlabelled_bound_sums_the_classes_out_with_the_entropy():
    m = small_ssvae()
    x = torch.rand(3, 1, 4, 4)
    got = m.unlabelled_bound(x, torch.Generator().manual_seed(5))
    bounds = class_bounds(m, x, 5)
    q = m.class_logits(x).softmax(1)
    expected = (q * bounds).sum(1) - (q * q.log()).sum(1)  # E_q[L(x, y)] + H(q(y|x))
    assert torch.allclose(got, expected, atol=1e-4)
    assert torch.allclose(m.elbo(x, torch.Generator().manual_seed(5)), got)  # elbo(x) without labels is U(x)


def test_unlabelled_bound_is_at_most_the_best_class_bound_plus_log_k():
    # U(x) = sum_y q (L_y - log q) <= log sum_y exp(L_y) <= max_y L_y + log K  (Jensen on the same draws)
    m = small_ssvae()
    x = torch.rand(6, 1, 4, 4)
    u = m.unlabelled_bound(x, torch.Generator().manual_seed(1))
    bounds = class_bounds(m, x, 1)
    assert (u <= torch.logsumexp(bounds, 1) + 1e-4).all()


@pytest.mark.parametrize("labels", [[-1, -1, -1, -1], [1, 2, 3, 4], [-1, 5, -1, 0]])
def test_steps_on_unlabelled_labelled_and_mixed_batches(labels):
    m = small_ssvae()
    m.generator = torch.Generator().manual_seed(0)
    opt = m.configure_optimizers()
    w0 = m.classifier[0].weight.clone()
    out = m.training_step(Batch(torch.rand(4, 1, 4, 4), torch.tensor(labels)), opt, 0)
    assert torch.isfinite(out["loss"])
    assert ("acc" in out) == any(v >= 0 for v in labels)
    assert not torch.equal(w0, m.classifier[0].weight)  # the classifier learns from both kinds of term


def test_configuration_and_data_errors():
    with pytest.raises(ConfigError, match="n_classes"):
        VAEConfig(semi_supervised=True)
    with pytest.raises(ConfigError, match="objective='elbo'"):
        VAEConfig(semi_supervised=True, n_classes=10, objective="iwae", k=5)
    with pytest.raises(ConfigError, match="classifies"):
        genlab.create("vae", data_shape=(1, 4, 4), hidden_dims=(8,), latent_dim=2).predict(torch.rand(2, 1, 4, 4))
    with pytest.raises(DataError, match="some labelled samples"):
        Trainer(epochs=1).fit(small_ssvae(), torch.rand(10, 1, 4, 4))


def test_semi_supervised_dataset_keeps_balanced_labels():
    d = genlab.data.load("digits")
    s = d.semi_supervised(23, seed=4)
    kept = s.y >= 0
    assert int(kept.sum()) == 23 and len(s) == len(d)
    assert torch.bincount(s.y[kept]).tolist() == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    assert torch.equal(s.y[kept], d.y[kept])  # the kept labels are the true ones
    assert torch.equal(d.semi_supervised(23, seed=4).y, s.y)  # seeded
    r = d.semi_supervised(23, seed=4, repeat=3)
    assert len(r) == len(d) + 2 * 23 and int((r.y >= 0).sum()) == 3 * 23
    assert torch.equal(genlab.data.load("digits", n_labels=23, label_seed=4).y, s.y)
    with pytest.raises(DataError, match="n_labels"):
        d.semi_supervised(0)
    with pytest.raises(DataError, match="no labels"):
        genlab.data.as_dataset(torch.rand(5, 3)).semi_supervised(2)


def test_m2_on_few_labels_beats_a_classifier_trained_on_the_labels_alone():
    """30 labels of the 8x8 digits (3 per class): the unlabelled images must help the classifier."""
    train, test = genlab.data.load("digits"), genlab.data.load("digits", split="test")
    few = train.semi_supervised(30, seed=0)
    kw = dict(
        data_shape=(1, 8, 8), hidden_dims=(256,), latent_dim=8, classifier_dims=(256,), classifier_weight=10.0, seed=0
    )
    m2 = genlab.create("ssvae", **kw)
    Trainer(epochs=25, batch_size=64, seed=0).fit(m2, train.semi_supervised(30, seed=0, repeat=10))
    acc_m2 = float((m2.predict(test.x) == test.y).float().mean())
    # the same classifier network, trained on the 30 labelled images only (its cross-entropy alone)
    sup = genlab.create("ssvae", **kw)
    opt = torch.optim.Adam(sup.classifier.parameters(), lr=1e-3)
    lab = few.y >= 0
    for _ in range(300):
        loss = torch.nn.functional.cross_entropy(sup.class_logits(few.x[lab]), few.y[lab])
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc_sup = float((sup.predict(test.x) == test.y).float().mean())
    assert acc_m2 > 0.82 and acc_m2 > acc_sup + 0.03, (acc_m2, acc_sup)
