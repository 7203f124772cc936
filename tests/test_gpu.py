"""The CUDA paths, run where a GPU is present (``pytest -m gpu``); on a machine without one every test here skips.

The CPU suite checks the causes of device bugs without a GPU (tensor factories without ``device=``, inputs moved on
the ``meta`` device, every NumPy conversion through ``to_numpy``, the GradScaler bookkeeping). These tests check
the symptoms on a real GPU: each family trains, samples and evaluates on CUDA at each precision it declares, a
CUDA-trained run loads and samples on the CPU, the estimators hand back NumPy, and ``16-mixed`` scales its loss.

``GENLAB_TEST_DEVICE=cpu pytest -m gpu tests/test_gpu.py`` runs them on the CPU instead (``16-mixed`` skips), to
check the tests themselves on a machine without a GPU.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import genlab
import genlab.registry

DEVICE = os.environ.get("GENLAB_TEST_DEVICE", "cuda")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        DEVICE == "cuda" and not torch.cuda.is_available(), reason="needs a CUDA GPU (this machine has none)"
    ),
]

FAMILIES = {
    "vae": {"latent_dim": 4},
    "dcgan": {},
    "wgan_gp": {"n_critic": 2},
    "rbm": {"n_hidden": 16},
    "dbm": {"layer_dims": [16, 8]},
    "realnvp": {},
    "made": {},
    "bnn": {},
    "srnet": {"channels": 8, "n_blocks": 1},
}


def _data(name: str):
    from genlab.data import load

    if name == "srnet":
        return load("digits", split="train", corruption="downsample:2", corruption_size="small")
    if name in ("dcgan", "wgan_gp"):
        return load("digits", split="train", scale="symmetric")
    return load("digits", split="train")


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("precision", ["32", "bf16-mixed", "16-mixed"])
def test_each_family_trains_and_samples_on_cuda(name, precision, tmp_path):
    d = _data(name)
    declared = genlab.registry.get_model(name).cls.precisions
    if precision not in declared:
        pytest.skip(f"{name} declares precisions {declared}")
    if precision == "16-mixed" and DEVICE == "cpu":
        pytest.skip("16-mixed needs a GPU")
    if precision == "bf16-mixed" and DEVICE == "cuda" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    settings = {"epochs": 1, "max_steps": 20, "batch_size": 64, "seed": 0, "device": DEVICE, "precision": precision}
    run = genlab.train(name, d, overrides=FAMILIES[name], progress=False, **settings)
    model, t = run.model, run.trainer
    assert model.device.type == DEVICE
    assert np.isfinite(t.history.all_rows[-1]["loss"])
    gen = torch.Generator().manual_seed(1)
    kwargs = {"x": d.source[:4].to(DEVICE)} if getattr(model, "translator", False) else {}
    if not model.generative and not kwargs:
        kwargs = {"x": d.x[:4]}
    x = model.sample(4, generator=gen, **kwargs)
    assert torch.isfinite(x.float()).all()
    # a CUDA-trained model saves and loads on the CPU, where it samples too
    loaded = genlab.load(model.save(tmp_path / "m"))
    assert loaded.device.type == "cpu"
    assert torch.isfinite(
        loaded.sample(4, generator=torch.Generator().manual_seed(1), **{k: v.cpu() for k, v in kwargs.items()}).float()
    ).all()


def test_the_same_seed_draws_the_same_noise_on_cpu_and_cuda():
    model = genlab.create("vae", data_shape=(1, 8, 8), latent_dim=4, seed=0)
    cpu = model.sample(8, generator=torch.Generator().manual_seed(3))
    gpu = model.to(DEVICE).sample(8, generator=torch.Generator().manual_seed(3)).cpu()
    torch.testing.assert_close(cpu, gpu, rtol=1e-4, atol=1e-5)


def test_evaluation_methods_take_cpu_inputs_on_a_cuda_model():
    d = _data("vae")
    model = genlab.create("vae", data_shape=(1, 8, 8), latent_dim=4, seed=0).to(DEVICE)
    assert model.elbo(d.x[:16]).device.type == DEVICE


def test_estimators_train_on_cuda_and_give_numpy():
    from genlab.estimators import RBM, AnomalyDetector

    X = np.random.default_rng(0).random((128, 16)).astype(np.float32)
    det = AnomalyDetector(epochs=2, device=DEVICE, random_state=0).fit(X)
    assert det.model_.device.type == DEVICE and isinstance(det.decision_function(X), np.ndarray)
    rbm = RBM(n_components=8, n_iter=2, device=DEVICE, random_state=0).fit(X)
    assert isinstance(rbm.transform(X), np.ndarray) and isinstance(rbm.components_, np.ndarray)


@pytest.mark.skipif(DEVICE == "cpu", reason="16-mixed needs a GPU")
def test_fp16_scales_the_loss_and_resumes_the_scale(tmp_path):
    settings = {"epochs": 2, "batch_size": 64, "seed": 0, "device": "cuda", "precision": "16-mixed", "progress": False}
    run = genlab.train("vae", "digits", out=tmp_path / "r", overrides={"latent_dim": 4}, **settings)
    assert run.trainer.precision.scaler is not None and run.trainer.precision.scaler.get_scale() > 1
    resumed = genlab.train("vae", out=tmp_path / "r", resume=True, epochs=3, progress=False)
    assert resumed.trainer.epoch == 3
