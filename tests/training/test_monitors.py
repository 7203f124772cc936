"""The mode-collapse monitor's advice fits the model family and names options the model really has."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest
import torch

import genlab
from genlab.data import load
from genlab.errors import ModeCollapseWarning
from genlab.registry import get_model, list_models
from genlab.training import ModeCollapseMonitor

GAN_WORDS = ("wasserstein", "non_saturating", "minibatch_std", "spectral_norm", "n_critic", "pack", "lr_d")


class _Trainer:
    epoch = 1


def _collapse_warning(model) -> str:
    """The monitor's warning for ``model`` when its samples go from all 8 ring modes to one."""
    ring = load("ring8", n_samples=200)
    calls = []

    def sample(n, generator=None):  # the model's samples: every mode, then a single one
        calls.append(n)
        idx = torch.arange(n) % 8 if len(calls) == 1 else torch.zeros(n, dtype=torch.long)
        return ring.centers[idx]

    model.sample = sample
    monitor = ModeCollapseMonitor(ring, n=80)
    monitor.epoch_metrics(_Trainer(), model)
    with pytest.warns(ModeCollapseWarning, match="cover 1 modes, down from 8") as record:
        monitor.epoch_metrics(_Trainer(), model)
    (w,) = record
    return str(w.message)


def test_a_vae_gets_vae_advice_not_gan_advice():
    msg = _collapse_warning(genlab.create("vae", data_shape=(2,), hidden_dims=(8,), latent_dim=2, seed=0))
    assert not any(word in msg for word in GAN_WORDS), msg
    assert "kl_warmup_steps" in msg and "beta" in msg and "latent_dim" in msg and "active_units" in msg


def test_a_gan_gets_gan_advice():
    msg = _collapse_warning(genlab.create("gan", data_shape=(2,), hidden_dims=(8,), latent_dim=2, seed=0))
    assert "loss='wasserstein_gp'" in msg and "minibatch_std=True" in msg and "spectral_norm=True" in msg


def test_gan_advice_leaves_out_what_is_already_on():
    m = genlab.create("gan", data_shape=(2,), hidden_dims=(8,), loss="wasserstein_gp", spectral_norm=True)
    advice = m.diversity_advice()
    assert "wasserstein_gp" not in advice and "spectral_norm" not in advice and "non_saturating" in advice


def test_an_energy_model_is_told_about_gibbs_chains():
    msg = _collapse_warning(genlab.create("rbm", data_shape=(2,), n_hidden=3, seed=0))
    assert "method='pcd'" in msg and "steps" in msg and not any(word in msg for word in GAN_WORDS)


ENTRIES = [e for e in list_models() if e.cls.generative]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_every_family_s_advice_names_only_options_it_has(entry):
    """Every option the advice names (``name=...`` or a snake_case word outside quoted values) is a field of the model's
    config, a keyword of its ``sample`` or one of its methods, and at least one config field is named; only GANs
    get GAN remedies."""
    m = entry.build()
    advice = m.diversity_advice()
    fields = {f.name for f in dataclasses.fields(m.config)}
    unquoted = re.sub(r"='[^']*'", "=", advice)  # option values ('wasserstein_gp') are not option names
    named = set(re.findall(r"(\w+)=", unquoted)) | set(re.findall(r"\b([a-z]+(?:_[a-z0-9]+)+)\b", unquoted))
    known = fields | set(inspect.signature(m.sample).parameters) | {n for n in dir(m) if not n.startswith("_")}
    assert named & fields, advice  # a concrete option to change, not only prose
    assert named <= known, (entry.name, named - known)
    if entry.cls is not get_model("gan").cls:
        assert not any(word in advice for word in GAN_WORDS), (entry.name, advice)
