"""Device cleanliness, checked on the CPU.

A model moved to a GPU must create every tensor of its training, validation and sampling code on its own device.
Without a GPU we check the cause instead of the symptom: under a :class:`~torch.overrides.TorchFunctionMode`, no
tensor factory (``torch.zeros``, ``torch.randn``, ``torch.arange``...) called directly from genlab's code may go
without an explicit ``device=`` (a factory without one makes its tensor on the CPU, whatever device the model is on).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch.overrides import TorchFunctionMode

import genlab
from genlab import _device
from genlab.errors import GenlabError
from genlab.metrics import log_likelihood, log_partition
from genlab.models.energy.sampling import bernoulli as energy_bernoulli
from genlab.registry import list_models

ENTRIES = list_models()
GENLAB_DIR = str(Path(genlab.__file__).resolve().parent)

#: factories that make a tensor on the default (CPU) device unless told ``device=``
FACTORIES = {
    torch.randn,
    torch.rand,
    torch.randint,
    torch.randperm,
    torch.zeros,
    torch.ones,
    torch.full,
    torch.empty,
    torch.arange,
    torch.linspace,
    torch.logspace,
    torch.eye,
    torch.tensor,
    torch.as_tensor,
    torch.normal,
}


class FactoryRecorder(TorchFunctionMode):
    """Records ``file:line function`` of each factory call made from a genlab file without ``device=`` whose
    result has at least one dimension (0-d tensors are combined with tensors on any device)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in FACTORIES and "device" not in kwargs and isinstance(out, torch.Tensor) and out.ndim >= 1:
            if func is torch.normal and any(isinstance(a, torch.Tensor) for a in args[:2]):
                return out  # normal(mean_tensor, std) follows its tensor arguments' device
            if func is torch.as_tensor and args and isinstance(args[0], torch.Tensor):
                return out  # as_tensor of a tensor keeps its device
            frame = sys._getframe(1)  # the immediate caller: torch's internals (optimizers...) are not ours
            path = str(Path(frame.f_code.co_filename).resolve())
            if path.startswith(GENLAB_DIR):
                rel = Path(path).relative_to(Path(GENLAB_DIR).parent)
                self.calls.append(f"{rel}:{frame.f_lineno} {frame.f_code.co_name} (torch.{func.__name__})")
        return out


def _sample_inputs(model) -> dict:
    """What ``sample`` needs beside ``n``: nothing for generative models, inputs for predictive ones and
    translators (as in the contract tests)."""
    if model.generative:
        return {}
    batch = model.example_batch(3, generator=torch.Generator().manual_seed(9))
    if getattr(model, "translator", False):
        return {"x": batch.source, "hole": batch.hole}
    return {"x": batch.x}


def _report(calls: list[str]) -> str:
    unique = list(dict.fromkeys(calls))
    return "tensor factories without device= in genlab code:\n  " + "\n  ".join(unique)


def test_recorder_catches_a_factory_without_device_and_ignores_one_with():
    rec = FactoryRecorder()
    with rec:
        torch.zeros(3)  # this file is not under src/genlab: ignored
    assert rec.calls == []
    # a call whose immediate caller is a genlab file: compile a snippet that claims to live in one
    code = compile("torch.zeros(3)\ntorch.zeros(3, device='cpu')\ntorch.zeros(())\n", f"{GENLAB_DIR}/x.py", "exec")
    with rec:
        exec(code, {"torch": torch})
    assert len(rec.calls) == 1
    assert rec.calls[0].startswith("genlab/x.py:1 ") and "torch.zeros" in rec.calls[0]


@pytest.fixture(params=ENTRIES, ids=[e.name for e in ENTRIES])
def model(request):
    return request.param.build(seed=0)


def test_training_validation_and_sampling_create_tensors_on_the_model_device(model):
    batch = model.example_batch(8, generator=torch.Generator().manual_seed(0))
    inputs = _sample_inputs(model)
    rec = FactoryRecorder()
    with rec:
        model.generator = torch.Generator().manual_seed(0)
        optimizers = model.configure_optimizers()
        model.on_train_start(batch.x)
        model.training_step(batch, optimizers, 0)
        model.validation_step(batch)
        model.on_train_end(batch.x)
        model.generator = None
        model.eval()
        model.sample(4, generator=torch.Generator().manual_seed(1), **inputs)
    assert not rec.calls, _report(rec.calls)


#: evaluation methods that take a batch of inputs; those a model lacks, or that its config does not support
#: (a conditional model without labels, an exact likelihood of a large RBM...), are skipped
EVALUATIONS = (
    "reconstruct",
    "encode",
    "transform",
    "free_energy",
    "score",
    "elbo",
    "log_prob",
    "predict_proba",
    "predictive",
    "translate",
)


def test_evaluation_methods_create_tensors_on_the_model_device(model):
    batch = model.example_batch(8, generator=torch.Generator().manual_seed(0))
    model.on_train_start(batch.x)
    x = batch.source if getattr(model, "translator", False) else batch.x
    rec = FactoryRecorder()
    for name in EVALUATIONS:
        method = getattr(model, name, None)
        if not callable(method):
            continue
        kw = {"k": 4} if name == "log_prob" and model.likelihood_method == "iwae" else {}
        try:
            with rec:
                method(x, **kw)
        except GenlabError:
            continue
    if hasattr(model, "annealing_path"):  # AIS: log Z, and a likelihood bound with it
        with rec:
            log_partition(model, n_runs=4, betas=5, generator=torch.Generator().manual_seed(0))
            log_likelihood(model, batch.x, method="ais", n_runs=4, betas=5)
    assert not rec.calls, _report(rec.calls)


def test_noise_helpers_draw_the_numbers_of_the_plain_torch_calls():
    def g():
        return torch.Generator().manual_seed(7)

    p = torch.rand(5, 6, generator=g())
    same = [
        (_device.randn((3, 4), generator=g(), device="cpu"), torch.randn((3, 4), generator=g())),
        (
            _device.rand(3, 4, generator=g(), device="cpu", dtype=torch.float64),
            torch.rand(3, 4, generator=g(), dtype=torch.float64),
        ),
        (_device.randint(2, 9, (5,), generator=g(), device="cpu"), torch.randint(2, 9, (5,), generator=g())),
        (_device.randperm(10, generator=g(), device="cpu"), torch.randperm(10, generator=g())),
        (_device.bernoulli(p, generator=g()), torch.bernoulli(p, generator=g())),
        (_device.multinomial(p, 3, generator=g()), torch.multinomial(p, 3, generator=g())),
        (energy_bernoulli(p, g()), torch.rand(p.shape, generator=g()) < p),
    ]
    for a, b in same:
        assert a.device == b.device and torch.equal(a, b.to(a.dtype))
    assert _device.seed_from(g()) == int(torch.randint(0, 2**62, (1,), generator=g()))


def test_seeded_global_rng_seeds_the_block_and_restores_the_state():
    state = torch.get_rng_state()
    with _device.seeded_global_rng(5, "cpu"):
        a = torch.rand(3)
    assert torch.equal(state, torch.get_rng_state())
    with _device.seeded_global_rng(5):
        b = torch.rand(3)
    assert torch.equal(a, b)
    assert torch.equal(a, torch.rand(3, generator=torch.Generator().manual_seed(5)))


# --- inputs from another device ---------------------------------------------------------------------------
# The "meta" device is a second device every CPU build has: a model moved there computes shapes only, and a CPU
# tensor handed to it fails with "Tensor on device meta is not on the expected device cpu" unless it is moved.
# Other failures on meta (``.item()`` has no value to give) say nothing about devices and are let through.
def _device_mismatch(exc: BaseException) -> bool:
    msg = str(exc)
    return "device" in msg and ("expected" in msg or "same device" in msg)


def test_evaluation_methods_move_inputs_from_another_device_to_the_model(model):
    batch = model.example_batch(8, generator=torch.Generator().manual_seed(0))
    model.on_train_start(batch.x)
    x = batch.source if getattr(model, "translator", False) else batch.x
    model.to("meta")
    for name in EVALUATIONS:
        method = getattr(model, name, None)
        if not callable(method) or not getattr(method, "__evaluating__", False):
            continue
        kw = {"k": 4} if name == "log_prob" and model.likelihood_method == "iwae" else {}
        try:
            method(x, **kw)  # x is a CPU tensor
        except GenlabError:
            continue
        except (RuntimeError, NotImplementedError) as exc:
            assert not _device_mismatch(exc), f"{model.registry_name}.{name} did not move its input: {exc}"


def test_an_evaluation_method_returns_on_the_model_device_and_the_check_would_catch_a_missing_move(monkeypatch):
    model = genlab.create("ae", data_shape=(1, 8, 8), latent_dim=4, seed=0).to("meta")
    x = torch.rand(3, 1, 8, 8)
    assert model.reconstruct(x).device.type == "meta"
    monkeypatch.setattr(_device, "move_args", lambda args, kwargs, device: (args, kwargs))
    with pytest.raises(RuntimeError) as info:
        model.reconstruct(x)
    assert _device_mismatch(info.value)


def test_every_tensor_genlab_hands_to_numpy_goes_through_to_numpy():
    """``t.numpy()`` fails on a GPU tensor: library code converts with ``genlab._device.to_numpy`` (which brings
    the tensor to the CPU first). The one exception is a tensor genlab has just made on the CPU to fill."""
    offenders = []
    for path in Path(GENLAB_DIR).rglob("*.py"):
        if path.name == "_device.py":
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ".numpy()" in line and "a fresh CPU tensor" not in line:
                offenders.append(f"{path.relative_to(GENLAB_DIR)}:{i}: {line.strip()}")
    assert not offenders, "use genlab._device.to_numpy:\n  " + "\n  ".join(offenders)
