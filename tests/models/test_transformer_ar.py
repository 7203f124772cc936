"""The autoregressive transformer: an exact density, causal, a consistent key/value cache, and it learns."""

from __future__ import annotations

import itertools

import pytest
import torch

import genlab
from genlab.errors import ConfigError, DataError
from genlab.training import Trainer


def tiny(**kw):
    base = {"data_shape": (5,), "vocab_size": 3, "d_model": 16, "n_heads": 2, "n_layers": 2, "seed": 0}
    return genlab.create("transformer_ar", **{**base, **kw})


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_log_prob_sums_to_one_over_every_sequence(heads):
    m = tiny(n_heads=heads)
    x = torch.tensor(list(itertools.product(range(3), repeat=5)), dtype=torch.float32)
    assert float(m.log_prob(x).exp().sum()) == pytest.approx(1.0, abs=1e-5)


def test_position_i_never_sees_tokens_at_or_after_i():
    m = tiny(data_shape=(8,), vocab_size=4)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 4, (20, 8), generator=g).float()
    base = m.logits(x)
    for j in range(8):
        moved = x.clone()
        moved[:, j] = (moved[:, j] + 1) % 4
        changed = (m.logits(moved) - base).abs().amax((0, 2)) > 1e-6  # per position
        assert not changed[: j + 1].any(), j  # the prediction of token i uses tokens < i only
        assert changed[j + 1 :].all(), j


def test_cached_decoding_matches_the_full_forward_pass():
    m = tiny(data_shape=(7,), vocab_size=3)
    x = torch.randint(0, 3, (4, 7), generator=torch.Generator().manual_seed(1))
    full = m.logits(x.float())
    from genlab.nn.attention import KVCache

    cache = KVCache()
    inputs = m._inputs(x)
    steps = [m._run(inputs[:, :3], 0, cache)[0]]  # a prefix of three, then one token at a time
    steps += [m._run(inputs[:, i : i + 1], i, cache)[0] for i in range(3, 7)]
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-5)


def test_sampling_follows_the_model_and_its_knobs():
    m = tiny()
    g = torch.Generator().manual_seed(2)
    s = m.sample(4000, g)
    first = torch.softmax(m.logits(s[:1])[0, 0], 0)  # p(x_1), the same for every sequence
    freq = torch.bincount(s[:, 0].long(), minlength=3).double() / len(s)
    assert torch.allclose(freq, first.double(), atol=0.03)
    greedy = m.sample(5, g, top_k=1)
    assert (greedy == greedy[0]).all()  # top-1 sampling is deterministic
    cold = m.sample(2000, g, temperature=0.05)
    assert (cold[:, 0] == first.argmax()).double().mean() > 0.99
    prompted = m.sample(3, g, prompt=torch.tensor([2, 0]))
    assert (prompted[:, :2] == torch.tensor([2.0, 0.0])).all()


def test_attention_maps_are_causal_distributions():
    m = tiny(data_shape=(6,), vocab_size=3, n_heads=2, n_layers=3)
    maps = m.attention_maps(torch.randint(0, 3, (2, 6)).float())
    assert len(maps) == 3 and maps[0].shape == (2, 2, 6, 6)
    for w in maps:
        assert torch.allclose(w.sum(-1), torch.ones(2, 2, 6), atol=1e-6)
        assert (w.triu(1) == 0).all()


def test_learns_a_repeating_pattern_far_below_uniform():
    # sequences that count up from a random start (mod 4): after the first token everything is determined
    g = torch.Generator().manual_seed(3)
    starts = torch.randint(0, 4, (800,), generator=g)
    x = ((starts[:, None] + torch.arange(10)) % 4).float()
    m = tiny(data_shape=(10,), vocab_size=4, d_model=32, lr=3e-3)
    Trainer(epochs=15, batch_size=64, seed=0).fit(m, x)
    nll = -float(m.log_prob(x[:200]).mean())
    assert nll < 2.0, nll  # uniform: 10 log 4 = 13.9 nats; the ideal: log 4 = 1.39


def test_text_vocab_and_errors():
    m = tiny(data_shape=(4,), vocab_size=3, vocab="abc")
    assert m.decode_text(torch.tensor([[0, 1, 2, 2]])) == ["abcc"]
    assert m.sample(2, prompt="ab")[:, :2].tolist() == [[0.0, 1.0], [0.0, 1.0]]
    with pytest.raises(ConfigError, match="outside the model's vocab"):
        m.sample(1, prompt="z")
    with pytest.raises(ConfigError, match="must divide"):
        tiny(d_model=10, n_heads=4)
    with pytest.raises(ConfigError, match="vocab has"):
        tiny(vocab="ab")
    with pytest.raises(DataError, match="whole numbers"):
        m.log_prob(torch.full((1, 4), 0.5))
    with pytest.raises(DataError, match="binarize"):
        Trainer(epochs=1).fit(tiny(), torch.rand(10, 5) * 5)
