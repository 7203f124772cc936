"""Devices, precision and data-parallel training (torchrun, gloo, 2 processes on the CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import genlab
from genlab.cli.main import main as cli
from genlab.errors import ConfigError, TrainingError
from genlab.training import Trainer
from genlab.training import distributed as D

WORKER = Path(__file__).with_name("ddp_worker.py")
sys.path.insert(0, str(WORKER.parent))
import ddp_worker  # noqa: E402


def torchrun(tmp: Path, *scenarios: str, nproc: int = 2) -> dict[str, list[dict]]:
    """Run the worker's scenarios in ``nproc`` processes; ``{scenario: [rank 0's result, rank 1's...]}``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]
    proc = subprocess.run(
        [*cmd, str(WORKER), str(tmp), *scenarios], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {s: [torch.load(tmp / f"{s}.{r}.pt", weights_only=True) for r in range(nproc)] for s in scenarios}


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("ddp")
    scenarios = ("ae", "vae", "gan", "rbm", "rbm_centered", "realnvp", "wgan_gp", "stacked_ae", "dbm")
    scenarios += ("sync_batchnorm", "resume")
    return {"root": root, **torchrun(root, *scenarios)}


# --- data-parallel training -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ae", "vae", "gan", "rbm", "rbm_centered", "realnvp", "wgan_gp", "stacked_ae", "dbm"])
def test_every_process_holds_the_same_weights(two, name):
    r0, r1 = two[name]
    for a, b in zip(r0["params"], r1["params"], strict=True):
        assert torch.equal(a, b)  # the same averaged gradient, the same step, on every process
    assert r0["loss"] == r1["loss"]  # the logged metrics are the batch's, averaged over the processes


def test_two_processes_reach_the_loss_history_of_one_exactly_without_noise(two):
    # the autoencoder draws no noise: with the same global batches, 2 processes compute the same gradients
    # as 1 up to the order of float additions
    one = ddp_worker.fit("ae")
    assert two["ae"][0]["loss"] == pytest.approx(one["loss"], rel=1e-5)
    for a, b in zip(two["ae"][0]["params"], one["params"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_layerwise_pretraining_under_two_processes_matches_one(two):
    # the stacked autoencoder draws no noise either: its layer-wise stages and joint epochs agree with 1 process
    one = ddp_worker.fit("stacked_ae")
    assert two["stacked_ae"][0]["loss"] == pytest.approx(one["loss"], rel=1e-5)
    for a, b in zip(two["stacked_ae"][0]["params"], one["params"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["vae", "gan", "rbm"])
def test_two_processes_reach_the_loss_history_of_one_within_noise(two, name):
    # each process draws its own noise (its rank's seed), so the histories agree statistically: measured
    # differences are 0.1% or less after 2 epochs; 0.5% is below what a wrong reduction gives (see below)
    one = ddp_worker.fit(name)
    assert two[name][0]["loss"] == pytest.approx(one["loss"], rel=0.005)


def test_a_wrong_reduction_would_fail_the_tolerance():
    # steps on a shard's 32 rows alone (what a process that ignored the others' gradients would take) move the
    # VAE's loss history by more than the tolerance above (measured: 1.3%)
    one = ddp_worker.fit("vae")
    alone = ddp_worker.fit("vae", batch_size=32)
    assert abs(alone["loss"][-1] - one["loss"][-1]) / one["loss"][-1] > 0.005


def _whole_batch_norm():
    """Batch norm of the worker's 8 rows in one process, and the gradient of the sum of the two shards' losses."""
    x = torch.randn(8, 3, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64).requires_grad_(True)
    bn = torch.nn.BatchNorm2d(3).double().train()
    y = bn(x)
    w = torch.arange(y[:4].numel(), dtype=y.dtype).reshape(y[:4].shape).sin()  # each shard weights its rows so
    ((y[:4] * w).sum() + (y[4:] * w).sum()).backward()
    return y.detach(), x.grad, bn.running_var


def test_sync_batchnorm_is_batch_norm_of_the_whole_batch(two):
    y, grad, running_var = _whole_batch_norm()
    for r in two["sync_batchnorm"]:
        lo, hi = r["rows"]
        torch.testing.assert_close(r["y"], y[lo:hi], rtol=1e-10, atol=1e-10)
        # the gradient flows through the other process's rows via the shared statistics
        torch.testing.assert_close(r["grad"], grad[lo:hi], rtol=1e-8, atol=1e-10)
        torch.testing.assert_close(r["running_var"], running_var, rtol=1e-10, atol=1e-10)


def test_a_resumed_data_parallel_run_continues_exactly(two):
    r = two["resume"][0]
    assert r["resumed"] == r["full"]  # every rank resumes its own noise streams from the checkpoint
    for a, b in zip(r["resumed_params"], r["full_params"], strict=True):
        assert torch.equal(a, b)
    assert "batch_size" in r["refused"]


def test_a_data_parallel_run_loads_and_resumes_in_one_process(two, capsys):
    part = two["root"] / "part"
    model = genlab.load(part / "model")
    x = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert x.shape == (4, 1, 8, 8) and torch.isfinite(x).all()
    res = genlab.train("vae", out=part, resume=True, epochs=4, device="cpu", progress=False)
    assert res.trainer.epoch == 4
    assert "written by 2 process(es) and resumes on 1" in capsys.readouterr().err


# --- the launcher -------------------------------------------------------------------------------------------
def test_genlab_train_nproc_trains_in_two_processes(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli(["train", "vae", "--nproc", "2", "--epochs", "1", "--max-steps", "4", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    info = json.loads((out / "run.json").read_text())
    assert info["processes"] == 2 and info["status"] in ("completed", "stopped")
    assert (out / "model" / "model.safetensors").is_file()


def test_nproc_larger_than_the_cores_is_a_one_line_error(tmp_path, capsys):
    code = cli(["train", "vae", "--nproc", "64", "--out", str(tmp_path / "r"), "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "--nproc 64 is more than the" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


# --- the pieces ---------------------------------------------------------------------------------------------
def test_shards_cover_a_batch_once_in_order():
    for n in (1, 2, 5, 64, 65):
        for size in (1, 2, 3):
            if n < size:
                continue
            parts = [D.shard(n, D.World(rank=r, size=size)) for r in range(size)]
            rows = [i for p in parts for i in range(n)[p]]
            assert rows == list(range(n))
            assert max(p.stop - p.start for p in parts) - min(p.stop - p.start for p in parts) <= 1


def test_rank_zero_draws_the_noise_of_a_one_process_run():
    assert D.rank_seed(7, 0) == 7
    seeds = {D.rank_seed(7, r) for r in range(8)}
    assert len(seeds) == 8 and D.rank_seed(7, 3) == D.rank_seed(7, 3) != D.rank_seed(8, 3)


def test_batch_smaller_than_the_processes_is_refused():
    with pytest.raises(ConfigError, match="smaller than the 4 processes"):
        D.check_world(3, D.World(rank=0, size=4), torch.device("cpu"))


@pytest.mark.parametrize(
    ("spec", "message"),
    [("tpu", "unknown device 'tpu'"), ("cuda:x", "cuda or cuda:N"), ("gpu0", "choose auto, cpu")],
)
def test_unknown_devices_are_one_line_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        D.resolve_device(spec)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_on_a_machine_without_one_says_so(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"no CUDA GPU|CPU-only build"):
        D.resolve_device("cuda")
    code = cli(["train", "vae", "--device", "cuda", "--epochs", "1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "--device cuda" in err and len(err.splitlines()) == 1


def test_auto_and_cpu_resolve_on_this_machine():
    assert D.resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if D._mps_available() else "cpu")
    assert D.resolve_device("auto").type == expected


def test_precision_errors():
    with pytest.raises(ConfigError, match=r"16-mixed .*needs a GPU"):
        D.Precision("16-mixed", "cpu")
    with pytest.raises(ConfigError, match="unknown precision 'int8'"):
        Trainer(precision="int8")
    rbm = genlab.create("rbm", data_shape=(1, 8, 8), n_hidden=4)
    with pytest.raises(ConfigError, match="rbm trains at precision 32 only: its updates are sufficient statistics"):
        D.Precision("bf16-mixed", "cpu").check_model(rbm)


def test_bf16_mixed_trains_a_vae_close_to_float32():
    d = ddp_worker.data()
    losses = {}
    for precision in ("32", "bf16-mixed"):
        model = genlab.create("vae", data_shape=(1, 8, 8), latent_dim=8, seed=0)
        t = Trainer(epochs=2, batch_size=64, seed=3, device="cpu", precision=precision)
        t.fit(model, d)
        losses[precision] = t.history.rows[-1]["loss"]
        assert next(model.parameters()).dtype == torch.float32  # autocast keeps the weights in float32
    assert losses["bf16-mixed"] == pytest.approx(losses["32"], rel=0.03)
    assert losses["bf16-mixed"] != losses["32"]  # the step really ran in bfloat16


def test_gradient_scaler_path_steps_like_plain_steps():
    # 16-mixed needs a GPU; its GradScaler bookkeeping runs on the CPU too: with no overflow, scaled
    # backward + scaler.step take exactly the plain step (the scale is a power of two)
    from genlab.training.trainer import _ScaledSteps

    d = ddp_worker.data()
    out = []
    for scaled in (False, True):
        model = genlab.create("ae", data_shape=(1, 8, 8), latent_dim=4, seed=0)
        opt = model.configure_optimizers()
        model.generator = torch.Generator().manual_seed(0)
        scaler = torch.amp.GradScaler("cpu") if scaled else None
        model.grad_scaler = _ScaledSteps(scaler, None) if scaled else None
        for step in range(3):
            model.training_step(genlab.models.base.Batch(d.x[:32], None), opt, step)
            if scaler is not None:
                scaler.update()
        out.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=0)


def test_trainer_moves_model_and_data_to_the_device_and_back_to_cpu_loads():
    d = ddp_worker.data()
    model = genlab.create("vae", data_shape=(1, 8, 8), latent_dim=4, seed=0)
    Trainer(epochs=1, batch_size=64, device="cpu").fit(model, d)
    assert model.device == torch.device("cpu")
    assert d.to("cpu") is d


def test_training_error_is_a_genlab_error():
    assert issubclass(TrainingError, genlab.GenlabError)


# --- torch.compile --------------------------------------------------------------------------------------
def _has_cxx() -> bool:
    import shutil

    return any(shutil.which(c) for c in ("g++", "c++", "clang++"))


@pytest.mark.skipif(not _has_cxx(), reason="torch.compile's CPU backend needs a C++ compiler (apt-get install g++)")
def test_compile_keeps_the_results_and_the_saved_weights(tmp_path):
    d = ddp_worker.data()
    runs = {}
    for compiled in (False, True):
        model = genlab.create("ae", data_shape=(1, 8, 8), latent_dim=4, seed=0)
        t = Trainer(epochs=1, batch_size=256, seed=3, device="cpu", compile=compiled)
        t.fit(model, d)
        runs[compiled] = (t.history.rows[-1]["loss"], model)
    assert runs[True][0] == pytest.approx(runs[False][0], rel=1e-4)  # fused kernels round differently
    # Module.compile() compiles in place: the state dict, and so checkpoints and model dirs, are unchanged
    assert list(runs[True][1].state_dict()) == list(runs[False][1].state_dict())
    path = runs[True][1].save(tmp_path / "m")
    torch.testing.assert_close(genlab.load(path).reconstruct(d.x[:4]), runs[True][1].reconstruct(d.x[:4]))


def test_compile_without_a_cxx_compiler_says_how_to_get_one(monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    model = genlab.create("ae", data_shape=(1, 8, 8), latent_dim=4, seed=0)
    with pytest.raises(TrainingError, match="needs a C\\+\\+ compiler"):
        D.compile_model(model)


def test_shared_memory_and_gloo_reductions_agree_bit_for_bit(two, tmp_path, monkeypatch):
    # the same-host fast path adds the processes' rows in rank order, as gloo does for two processes
    monkeypatch.setenv("GENLAB_COLLECTIVES", "gloo")
    gloo = torchrun(tmp_path, "ae")["ae"][0]
    assert gloo["loss"] == two["ae"][0]["loss"]
    for a, b in zip(gloo["params"], two["ae"][0]["params"], strict=True):
        assert torch.equal(a, b)


# --- every entry point takes the device ------------------------------------------------------------------
def test_apps_estimators_and_the_synthesizer_train_on_the_device_they_are_given(tmp_path):
    import numpy as np

    from genlab.apps.anomaly import Detector
    from genlab.estimators import RBM, AnomalyDetector, DBNClassifier
    from genlab.tabular import Synthesizer, load_frame

    rng = np.random.default_rng(0)
    X = rng.random((64, 6)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    bad = [
        lambda: Detector(epochs=1, device="tpu").fit(X),
        lambda: AnomalyDetector(epochs=1, device="tpu").fit(X),
        lambda: RBM(n_components=4, n_iter=1, device="tpu").fit(X),
        lambda: DBNClassifier((4,), pretrain_epochs=1, finetune_epochs=1, device="tpu").fit(X, y),
        lambda: Synthesizer("gaussian_copula", device="tpu").fit(load_frame("iris")),
    ]
    for fit in bad:  # the device reaches the trainer, which names the problem
        with pytest.raises(ConfigError, match="unknown device 'tpu'"):
            fit()
    det = AnomalyDetector(epochs=1, device="cpu", random_state=0).fit(X)
    assert det.get_params()["device"] == "cpu" and det.model_.device.type == "cpu"
    assert AnomalyDetector.load(det.save(tmp_path / "det")).get_params()["device"] == "cpu"
    rbm = RBM(n_components=4, n_iter=1, device="cpu", random_state=0).fit(X)
    assert rbm.transform(X).shape == (64, 4) and isinstance(rbm.components_, np.ndarray)


def test_sample_and_translate_take_a_device_and_refuse_a_bad_one(tmp_path, capsys):
    run = tmp_path / "ae"
    assert cli(["train", "ae", "--epochs", "1", "--out", str(run), "--quiet", "--device", "cpu"]) == 0
    assert cli(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.npy"), "--device", "cpu"]) == 0
    capsys.readouterr()
    for cmd in (["sample", str(run), "-n", "4", "--out", str(tmp_path / "t.npy")], ["translate", str(run), "x.npy"]):
        extra = ["--out", str(tmp_path / "o.npy")] if cmd[0] == "translate" else []
        assert cli([*cmd, *extra, "--device", "tpu"]) == 1
        err = capsys.readouterr().err.strip()
        assert "unknown device 'tpu'" in err and len(err.splitlines()) == 1
