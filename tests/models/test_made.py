"""MADE: an exact density (sums to 1), strictly autoregressive, sampled from its conditionals, and it learns."""

from __future__ import annotations

import pytest
import torch

import genlab
from genlab.data import load
from genlab.errors import ConfigError, DataError
from genlab.models.energy.sampling import states
from genlab.training import Trainer


def made(**kw):
    return genlab.create("made", data_shape=(6,), hidden_dims=(16, 16), seed=0, **kw)


def randomize(m, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return m


@pytest.mark.parametrize("kw", [{}, {"order": "random"}, {"n_masks": 4, "test_masks": 4, "order_agnostic": True}])
def test_log_prob_sums_to_one_over_every_binary_vector(kw):
    m = randomize(made(**kw))
    total = m.log_prob(states(6, dtype=torch.float32)).exp().sum()
    assert float(total) == pytest.approx(1.0, abs=1e-6)  # float32 logits


@pytest.mark.parametrize("kw", [{}, {"order": "random"}, {"n_masks": 3, "order_agnostic": True}])
def test_output_d_never_sees_inputs_at_or_after_its_position(kw):
    m = randomize(made(**kw), seed=1)
    for index in range(m.config.n_masks):
        m.use_mask(index)
        order = m.order(index)  # order[d] = position of dimension d
        x = torch.rand(50, 6).round()
        base = m.logits(x)
        for j in range(6):
            moved = x.clone()
            moved[:, j] = 1 - moved[:, j]
            changed = (m.logits(moved) - base).abs().amax(0) > 1e-6
            allowed = order > order[j]  # only outputs later in the order may react to input j
            assert not (changed & ~allowed).any(), (index, j)
            assert changed[allowed].any() or int(order[j]) == 6, (index, j)  # and some do (the map is not empty)


def test_samples_follow_the_models_marginals():
    m = randomize(made(), seed=2)
    x = states(6, dtype=torch.float32)
    p = m.log_prob(x).exp()
    exact = (p[:, None] * x.double()).sum(0)
    s = m.sample(6000, generator=torch.Generator().manual_seed(0))
    assert s.shape == (6000, 6) and set(s.unique().tolist()) <= {0.0, 1.0}
    assert torch.allclose(s.double().mean(0), exact, atol=0.03)


def test_made_beats_independent_bits_on_digits():
    train, test = load("digits", binarize="static"), load("digits", split="test", binarize="static")
    m = genlab.create("made", data_shape=(1, 8, 8), hidden_dims=(128,), seed=0, lr=3e-3)
    Trainer(epochs=40, batch_size=64, seed=0).fit(m, train)
    p = train.x.reshape(len(train), -1).mean(0).clamp(1e-3, 1 - 1e-3)
    xt = test.x.reshape(len(test), -1)
    independent = float((xt * p.log() + (1 - xt) * (1 - p).log()).sum(1).mean())
    made_ll = float(m.log_prob(test.x).mean())
    assert made_ll > independent + 5, (made_ll, independent)  # about -17.7 against -24.4 nats


def test_a_loaded_model_rebuilds_the_mask_it_used(tmp_path):
    m = randomize(made(n_masks=4, test_masks=2), seed=3)
    m.use_mask(2)
    x = torch.rand(10, 6).round()
    m.save(tmp_path / "m")
    again = genlab.load(tmp_path / "m")
    assert int(again.current_mask) == 2 and torch.equal(again.logits(x), m.logits(x))
    assert torch.equal(again.log_prob(x), m.log_prob(x))


def test_made_errors():
    with pytest.raises(ConfigError, match="test_masks"):
        made(n_masks=2, test_masks=3)
    with pytest.raises(DataError, match="binarize"):
        Trainer(epochs=1).fit(made(), torch.randn(20, 6))
