"""Evaluation methods run in eval mode without gradients and give every submodule its own mode back."""

from __future__ import annotations

import inspect
import itertools

import pytest
import torch
from torch import nn

import genlab
from genlab.models.autoencoders.vae import VAE
from genlab.models.base import Batch, GenerativeModel, eval_mode, evaluating
from genlab.registry import get_model, list_models

#: a tiny model of every registered class (registry name -> build overrides)
TINY: dict[str, dict] = {
    "ae": {"data_shape": (4,), "hidden_dims": (8,), "latent_dim": 2},
    "stacked_ae": {"data_shape": (4,), "layer_dims": (3, 2)},
    "vae": {"data_shape": (4,), "hidden_dims": (8,), "latent_dim": 2},
    "ssvae": {"data_shape": (4,), "hidden_dims": (8,), "latent_dim": 2, "classifier_dims": (8,), "n_classes": 3},
    "made": {"data_shape": (4,), "hidden_dims": (8,)},
    "transformer_ar": {"data_shape": (4,), "d_model": 8, "n_heads": 2, "n_layers": 1, "dropout": 0.3},
    "realnvp": {"data_shape": (2,), "n_couplings": 2, "hidden_dims": (8,)},
    "rbm": {"data_shape": (4,), "n_hidden": 3},
    "boltzmann": {"data_shape": (4,), "n_hidden": 2},
    "dbm": {"data_shape": (4,), "layer_dims": (3, 2)},
    "dbn": {"data_shape": (4,), "layer_dims": (3, 2)},
    "gan": {"data_shape": (2,), "hidden_dims": (8,), "latent_dim": 2},
    "bnn": {"data_shape": (4,), "hidden_dims": (8,), "n_outputs": 3, "method": "mc_dropout"},
    "ctgan": {"embedding_dim": 4, "generator_dims": (8,), "discriminator_dims": (8,), "pac": 2},
    "tvae": {"embedding_dim": 2, "compress_dims": (8,), "decompress_dims": (8,)},
    "gaussian_copula": {"n_quantiles": 11},
    "pix2pix": {"data_shape": (1, 8, 8), "source_shape": (1, 8, 8), "base": 4, "d_base": 4},
    "srnet": {"data_shape": (1, 8, 8), "source_shape": (1, 4, 4), "channels": 4, "n_blocks": 1, "d_base": 4},
    "cyclegan": {"data_shape": (1, 8, 8), "source_shape": (1, 8, 8), "base": 4, "n_blocks": 1, "d_base": 4},
}

#: how each decorated method is called on a tiny model ``m`` with a batch ``x`` (labels ``y`` where needed)
CALLS = {
    "log_prob": lambda m, x, y: m.log_prob(x, k=3, y=y) if isinstance(m, VAE) else m.log_prob(x),
    "score": lambda m, x, y: m.score(x, y=y) if isinstance(m, VAE) else m.score(x),
    "elbo": lambda m, x, y: m.elbo(x),
    "free_energy": lambda m, x, y: m.free_energy(x),
    "energy": lambda m, x, y: (
        m.energy(torch.cat([x, torch.ones(len(x), 2)], 1)) if m.registry_name == "boltzmann" else m.energy(x, y)
    ),
    "pseudo_likelihood": lambda m, x, y: m.pseudo_likelihood(x),
    "reconstruct": lambda m, x, y: m.reconstruct(x),
    "sample": lambda m, x, y: m.sample(3),
    "attention_maps": lambda m, x, y: m.attention_maps(x),
    "bits_per_dim": lambda m, x, y: m.bits_per_dim(x),
    "active_units": lambda m, x, y: m.active_units(x),
    "predict_proba": lambda m, x, y: m.predict_proba(x),
    "discriminate": lambda m, x, y: m.discriminate(x),
    "translate": lambda m, x, y: m.translate(m.example_batch(len(x)).source),
    "sample_remaining": lambda m, x, y: m.sample_remaining(x, torch.arange(x.numel()).reshape(x.shape) % 2 == 0),
}
#: decorated methods a model of this configuration rejects by design (not semi-supervised: no classifier)
SKIP = {("vae", "predict_proba")}
#: the public evaluation verbs: wherever a model has one, it must be an ``@evaluating`` method
EVAL_VERBS = ("log_prob", "score", "elbo", "free_energy", "energy", "pseudo_likelihood", "bits_per_dim")


def _tiny(name: str) -> GenerativeModel:
    return genlab.create(name, seed=0, **TINY[name])


def _decorated(cls: type) -> list[str]:
    return sorted(n for n, f in inspect.getmembers(cls, callable) if getattr(f, "__evaluating__", False))


def _inputs(m: GenerativeModel, name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A batch ``x`` and what else the calls need: labels for a semi-supervised VAE, hidden states for an RBM."""
    x = m.example_batch(6, generator=torch.Generator().manual_seed(1)).x
    if name == "ssvae":
        return x, torch.arange(6) % 3
    if name == "rbm":
        return x, torch.ones(6, 3)
    return x, None


CASES = [(n, meth) for n in TINY for meth in _decorated(get_model(n).cls) if (n, meth) not in SKIP]


def test_every_registered_class_has_a_tiny_model_here():
    classes = {e.cls for e in list_models()}
    assert classes == {get_model(n).cls for n in TINY}


def test_every_decorated_method_is_called_here_and_every_evaluation_verb_is_decorated():
    for name in TINY:
        cls = get_model(name).cls
        assert set(_decorated(cls)) <= set(CALLS), (name, set(_decorated(cls)) - set(CALLS))
        for verb in EVAL_VERBS:
            if hasattr(cls, verb):
                assert getattr(getattr(cls, verb), "__evaluating__", False), f"{cls.__name__}.{verb}"


def _mixed_modes(m: nn.Module) -> dict[str, bool]:
    """Train mode, except one submodule (and its children) in eval mode."""
    m.train()
    children = [c for _, c in m.named_children()]
    if children:
        children[0].eval()
    return {k: v.training for k, v in m.named_modules()}


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{n}.{m}" for n, m in CASES])
def test_evaluation_runs_in_eval_mode_without_grad_and_restores_every_flag(name, method):
    m = _tiny(name)
    x, y = _inputs(m, name)
    seen: list[str] = []
    for k, mod in m.named_modules():
        mod.register_forward_pre_hook(lambda mod, _args, k=k: seen.append(k) if mod.training else None)
    for before in (_mixed_modes(m), {k: False for k, _ in m.named_modules()}):
        if not any(before.values()):
            m.eval()
        out = CALLS[method](m, x, y)
        assert seen == [], f"{name}.{method} ran {seen[:3]} in train mode"
        assert {k: v.training for k, v in m.named_modules()} == before
        for t in out if isinstance(out, (list, tuple)) else [out]:
            assert not (isinstance(t, torch.Tensor) and t.requires_grad)


def test_the_decorator_keeps_name_docstring_and_signature():
    f = VAE.elbo
    assert f.__name__ == "elbo" and "ELBO" in f.__doc__
    assert list(inspect.signature(f).parameters) == ["self", "x", "generator", "y"]

    class M(nn.Module):
        @evaluating
        def f(self, a, *, b=2):
            """Doc."""
            return self.training, torch.is_grad_enabled()

    assert M().f(1) == (False, False) and M.f.__doc__ == "Doc."
    assert list(inspect.signature(M.f).parameters) == ["self", "a", "b"]


def test_eval_mode_restores_flags_even_on_error():
    m = _tiny("vae")
    before = _mixed_modes(m)
    with pytest.raises(RuntimeError), eval_mode(m):
        raise RuntimeError
    assert {k: v.training for k, v in m.named_modules()} == before


# --- the transformer with dropout: an exact, repeatable density in any mode -------------------------------
def _all_sequences(length: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=length)))


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_transformer_with_dropout_log_prob_sums_to_one_and_repeats(mode):
    m = _tiny("transformer_ar").train(mode == "train")
    xs = _all_sequences(4)
    a, b = m.log_prob(xs), m.log_prob(xs)
    assert float(a.exp().sum()) == pytest.approx(1.0, abs=1e-5)
    assert torch.equal(a, b)
    assert m.training is (mode == "train")
    assert all(mod.training is (mode == "train") for mod in m.modules())


def test_transformer_keeps_a_partly_frozen_model_s_flags_and_still_trains_with_dropout():
    m = _tiny("transformer_ar")
    m.blocks[0].eval()  # one submodule frozen in eval mode, the rest training
    before = {k: v.training for k, v in m.named_modules()}
    m.log_prob(_all_sequences(4))
    m.sample(2)
    assert {k: v.training for k, v in m.named_modules()} == before
    # the training step still runs in train mode (dropout on) with gradients
    m.train()
    opt = m.configure_optimizers()
    batch = m.example_batch(8, generator=torch.Generator().manual_seed(0))
    w = m.head.weight.detach().clone()
    m.training_step(batch, opt, 0)
    assert m.head.weight.grad is not None and not torch.equal(w, m.head.weight)
    torch.manual_seed(0)
    n1 = m._nll(batch.x)
    torch.manual_seed(1)
    n2 = m._nll(batch.x)
    assert n1.requires_grad and not torch.allclose(n1, n2)  # dropout active in training


# --- public evaluation returns no gradients; training still learns ----------------------------------------
def test_vae_elbo_has_no_gradient_and_training_still_lowers_the_loss():
    m = _tiny("vae")
    x = torch.rand(64, 4, generator=torch.Generator().manual_seed(0)).round()
    assert m.elbo(x).requires_grad is False
    assert m.score(x).requires_grad is False
    rec, kl = m.elbo_terms(x)
    assert (rec - kl).requires_grad  # the differentiable form stays available
    opt = m.configure_optimizers()
    first = float(m.training_step(Batch(x), opt, 0)["loss"])
    for step in range(1, 200):
        last = float(m.training_step(Batch(x), opt, step)["loss"])
    assert last < first - 0.3


def test_mc_dropout_stays_active_at_prediction_and_flags_come_back():
    m = _tiny("bnn")
    m.members[0].eval()  # a mixed state: the network frozen in eval mode, the root training
    before = {k: v.training for k, v in m.named_modules()}
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    p1 = m.predict_proba(x, n_samples=1)
    p2 = m.predict_proba(x, n_samples=1)
    assert not torch.allclose(p1, p2)  # each call draws fresh dropout masks
    assert {k: v.training for k, v in m.named_modules()} == before
