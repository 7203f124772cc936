import pytest
import torch

import genlab
from genlab.errors import ConfigError
from genlab.training import Trainer
from genlab.training.layerwise import pretrain_layerwise


def stacked(**kw):
    kw.setdefault("layer_dims", (32, 16, 4))
    return genlab.create("stacked_ae", data_shape=(1, 8, 8), seed=0, **kw)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_tied_weights_halve_the_weights_and_are_really_shared():
    tied, untied = stacked(), stacked(tied_weights=False)
    weights = 64 * 32 + 32 * 16 + 16 * 4
    enc_biases, dec_biases = 32 + 16 + 4, 64 + 32 + 16
    assert n_params(tied) == weights + enc_biases + dec_biases
    assert n_params(untied) == 2 * weights + enc_biases + dec_biases
    assert not any("decoders" in k for k in tied.state_dict())
    # the decoder of layer 0 uses W_0^T: changing the encoder weight changes the decoding
    h = torch.randn(3, 32)
    before = tied.decode_layer(0, h)
    with torch.no_grad():
        tied.encoders[0].weight.mul_(2.0)
    expected = h @ tied.encoders[0].weight + tied.decoder_biases[0]
    assert torch.allclose(tied.decode_layer(0, h), expected, atol=1e-6)
    assert not torch.allclose(tied.decode_layer(0, h), before)


def test_a_tied_weight_gets_gradient_from_encoder_and_decoder():
    m = stacked(layer_dims=(8,))
    x = torch.rand(5, 1, 8, 8)
    w = m.encoders[0].weight
    enc_only = torch.autograd.grad(m.encode(x).sum(), w)[0]
    total = torch.autograd.grad(m.decoder_output(m.encode(x)).sum(), w)[0]
    assert not torch.allclose(enc_only, total)  # the decoder path adds to the same tensor's gradient


def test_each_pretraining_stage_changes_only_its_layer():
    m = stacked()
    data = genlab.data.load("digits")
    before = {k: v.clone() for k, v in m.state_dict().items()}
    m.set_stage(1)
    Trainer(epochs=1, batch_size=128).fit(m, data)
    changed = {k for k, v in m.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"encoders.1.weight", "encoders.1.bias", "decoder_biases.1"}
    with pytest.raises(ConfigError, match=r"stage must be in 0\.\.2"):
        m.set_stage(3)


def test_greedy_pretraining_then_fine_tuning_beats_fine_tuning_alone():
    train, test = genlab.data.load("digits"), genlab.data.load("digits", split="test")
    pre = stacked(layer_dims=(64, 32, 8))
    histories = pretrain_layerwise(pre, train, epochs=15, batch_size=64, seed=0)
    assert len(histories) == 3 and all(h.rows[-1]["loss"] < h.rows[0]["loss"] for h in histories)
    assert pre.stage is None
    Trainer(epochs=5, batch_size=64).fit(pre, train)
    scratch = stacked(layer_dims=(64, 32, 8))
    Trainer(epochs=5, batch_size=64).fit(scratch, train)
    assert pre.score(test.x).mean() < scratch.score(test.x).mean()


def test_train_runs_pretraining_from_the_config(tmp_path):
    import json

    run = genlab.train(
        "stacked_ae",
        "digits",
        out=tmp_path / "r",
        epochs=1,
        batch_size=256,
        progress=False,
        overrides={"layer_dims": (16, 4), "pretrain_epochs": 2},
    )
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert [p["stage"] for p in info["pretraining"]] == [0, 1]
    assert genlab.load(tmp_path / "r").config.pretrain_epochs == 2
    assert run.model.stage is None
