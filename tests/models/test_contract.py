"""Contract tests: every registered model honours the GenerativeModel protocol."""

from __future__ import annotations

import pytest
import torch

import genlab
from genlab.models.base import GenerativeModel
from genlab.registry import list_models

ENTRIES = list_models()


@pytest.fixture(params=ENTRIES, ids=[e.name for e in ENTRIES])
def model(request) -> GenerativeModel:
    return request.param.build()


def test_registry_is_not_empty():
    assert "vae" in [e.name for e in ENTRIES]


def test_builds_from_default_config(model):
    assert isinstance(model, GenerativeModel)
    assert isinstance(model.config, model.config_class)
    assert model.registry_name
    # closed-form models (the Gaussian copula) keep their fitted state in buffers instead of parameters
    assert sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers()) > 0


def test_training_step_changes_parameters_and_reports_a_finite_loss(model, gen):
    batch = model.example_batch(16, generator=gen)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.generator = torch.Generator().manual_seed(1)
    out = model.training_step(batch, model.configure_optimizers(), 0)
    assert torch.isfinite(torch.as_tensor(out["loss"]))
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "one training step changed no parameter"


def test_save_load_roundtrip_is_exact(model, tmp_path):
    model.save(tmp_path / "m")
    again = genlab.load(tmp_path / "m")
    assert type(again) is type(model)
    assert again.config == model.config
    assert again.registry_name == model.registry_name
    a, b = model.state_dict(), again.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _sample(model, n, **kw):
    """Generative models draw data; predictive ones (Bayesian networks) draw predictions for inputs."""
    if model.generative:
        return model.sample(n, **kw)
    batch = model.example_batch(3, generator=torch.Generator().manual_seed(9))
    if getattr(model, "translator", False):  # image-to-image: outputs for inputs (and an inpainting hole)
        return model.sample(n, x=batch.source, hole=batch.hole, **kw)
    return model.sample(n, x=batch.x, **kw)


def test_sample_shape_dtype_range_and_seed(model):
    model.eval()
    s1 = _sample(model, 5, generator=torch.Generator().manual_seed(3))
    s2 = _sample(model, 5, generator=torch.Generator().manual_seed(3))
    s3 = _sample(model, 5, generator=torch.Generator().manual_seed(4))
    if model.generative:
        expected = (5, *model.data_shape)
    elif getattr(model, "translator", False):  # image-to-image: n outputs for each of the 3 inputs
        expected = (5, 3, *model.data_shape)
    else:
        expected = (5, 3, *(() if model.classification else (model.config.n_outputs,)))
    assert s1.shape == expected
    assert s1.dtype == torch.float32
    assert torch.isfinite(s1).all()
    if model.output_range is not None:
        lo, hi = model.output_range
        assert s1.min() >= lo and s1.max() <= hi
    assert torch.equal(s1, s2)
    if getattr(model, "stochastic", True):  # deterministic maps (super-resolution) repeat their output
        assert not torch.equal(s1, s3)
    else:
        assert torch.equal(s1, s3)


def test_sampling_leaves_global_rng_alone(model):
    state = torch.get_rng_state()
    _sample(model, 3)
    assert torch.equal(state, torch.get_rng_state())
