"""The command line, driven through real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

QUICK = ["--epochs", "2", "--batch-size", "128", "--quiet", "--set", "hidden_dims=32", "--set", "latent_dim=2"]


def genlab(*args: str, cwd=None) -> subprocess.CompletedProcess:
    # tiny models run fastest on one thread, and OpenMP threads spin badly when the cores are shared
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "genlab", *args], capture_output=True, text=True, cwd=cwd, timeout=300, env=env
    )


def assert_user_error(r: subprocess.CompletedProcess, *fragments: str) -> None:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 2, r.stderr
    for f in fragments:
        assert f in r.stderr, r.stderr


def test_models_lists_vae():
    r = genlab("models")
    assert r.returncode == 0
    assert any(line.startswith("vae ") for line in r.stdout.splitlines())
    r = genlab("models", "-v")
    assert "latent_dim (int, default 50)" in r.stdout


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    r = genlab("train", "vae", "--data", "digits", "--out", str(out), *QUICK)
    assert r.returncode == 0, r.stderr
    return out


def test_train_writes_a_complete_run_directory(run_dir):
    for name in ("run.json", "metrics.csv", "loss_curve.png", "samples.png", "reconstructions.png"):
        assert (run_dir / name).is_file(), name
    assert sorted(p.name for p in (run_dir / "model").iterdir()) == ["config.json", "meta.json", "model.safetensors"]
    assert list((run_dir / "checkpoints").glob("step-*.ckpt"))
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed" and info["model"]["config"]["latent_dim"] == 2
    assert info["model"]["config"]["data_shape"] == [1, 8, 8]
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 3


def test_existing_run_is_not_overwritten(run_dir):
    before = (run_dir / "model" / "model.safetensors").read_bytes()
    r = genlab("train", "vae", "--out", str(run_dir), *QUICK)
    assert_user_error(r, "already exists", "--overwrite")
    assert (run_dir / "model" / "model.safetensors").read_bytes() == before


def test_overwrite_replaces(tmp_path):
    out = tmp_path / "run"
    assert genlab("train", "vae", "--out", str(out), *QUICK).returncode == 0
    r = genlab("train", "vae", "--out", str(out), "--overwrite", *QUICK, "--set", "latent_dim=3")
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "model" / "config.json").read_text())["config"]["latent_dim"] == 3


def test_sample_png_npy_csv(run_dir, tmp_path):
    r = genlab("sample", str(run_dir), "-n", "16", "--out", str(tmp_path / "s.png"))
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "s.png").size[0] > 8 * 4
    assert genlab("sample", str(run_dir), "-n", "5", "--out", str(tmp_path / "s.npy")).returncode == 0
    arr = np.load(tmp_path / "s.npy")
    assert arr.shape == (5, 1, 8, 8) and arr.min() >= 0 and arr.max() <= 1
    assert genlab("sample", str(run_dir / "model"), "-n", "3", "--out", str(tmp_path / "s.csv")).returncode == 0
    assert np.loadtxt(tmp_path / "s.csv", delimiter=",").shape == (3, 64)
    r = genlab("sample", str(run_dir), "-n", "3", "--out", str(tmp_path / "s.png"))
    assert_user_error(r, "already exists")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["train", "vea"], ["unknown model 'vea'", "did you mean 'vae'"]),
        (["train", "vae", "--set", "latnet_dim=3"], ["no option 'latnet_dim'", "did you mean 'latent_dim'"]),
        (["train", "vae", "--set", "latent_dim=0"], ["latent_dim = 0 must be >= 1"]),
        (["train", "vae", "--data", "nosuchdata"], ["nosuchdata"]),
        (["train", "vae", "--data", "ring8"], ["Bernoulli likelihood needs data in [0, 1]"]),
        (["sample", "/nonexistent/run", "--out", "x.png"], ["does not exist"]),
        (["train", "--resume"], ["--resume needs --out"]),
        (["train", "vae", "--epochs", "many"], ["invalid int value"]),
        (["train", "vae", "--lr-schedule", "cosin"], ["unknown learning-rate schedule 'cosin'"]),
    ],
)
def test_user_errors_are_one_or_two_lines(args, fragments, tmp_path):
    r = genlab(*args, cwd=tmp_path)
    assert_user_error(r, *fragments)


def test_resume_continues_to_more_epochs(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    r = genlab("train", "--out", str(copy), "--resume", "--epochs", "3", "--quiet")
    assert r.returncode == 0, r.stderr
    assert len((copy / "metrics.csv").read_text().splitlines()) == 4
    r = genlab("train", "vae", "--out", str(copy), "--resume", "--set", "latent_dim=5")
    assert_user_error(r, "keeps its recorded config")


def test_demo_runs_and_reports_where_things_are(tmp_path):
    r = genlab("demo", "--epochs", "3", "--out", str(tmp_path / "demo"), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "samples.png" in r.stdout and "held-out ELBO" in r.stdout
    for name in ("samples.png", "reconstructions.png", "loss_curve.png"):
        assert (tmp_path / "demo" / name).is_file()


def test_config_file_sets_the_model_and_set_overrides_it(run_dir, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"latent_dim": 3, "hidden_dims": [16]}))
    out = tmp_path / "run"
    r = genlab("train", "vae", "--config", str(cfg), "--set", "beta=0.5", "--epochs", "1", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    saved = json.loads((out / "model" / "config.json").read_text())["config"]
    assert (saved["latent_dim"], saved["hidden_dims"], saved["beta"]) == (3, [16], 0.5)
    # a saved model's config.json is accepted as it is
    out2 = tmp_path / "run2"
    r = genlab(
        "train",
        "vae",
        "--config",
        str(run_dir / "model" / "config.json"),
        "--epochs",
        "1",
        "--quiet",
        "--out",
        str(out2),
    )
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"latentdim": 3}))
    assert_user_error(genlab("train", "vae", "--config", str(bad)), "no option 'latentdim'")


def test_overwrite_refuses_a_directory_that_is_not_a_run(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    r = genlab("train", "vae", "--out", str(precious), "--overwrite", *QUICK)
    assert_user_error(r, "not a genlab run directory")
    assert (precious / "chapter1.tex").read_text() == "years of work"


def test_overwrite_with_a_bad_option_keeps_the_old_run(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    before = (copy / "model" / "model.safetensors").read_bytes()
    r = genlab("train", "vae", "--out", str(copy), "--overwrite", *QUICK, "--set", "latent_dim=-1")
    assert_user_error(r, "latent_dim")
    assert (copy / "model" / "model.safetensors").read_bytes() == before


def test_resume_refuses_to_change_recorded_settings(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    r = genlab("train", "--out", str(copy), "--resume", "--batch-size", "7")
    assert_user_error(r, "keeps its recorded batch_size (128)")


@pytest.mark.parametrize(("model", "data_opt"), [("cvae", []), ("ssvae", ["--data-opt", "n_labels=50"])])
def test_conditional_and_semi_supervised_vaes_train_from_the_cli(model, data_opt, tmp_path):
    r = genlab(
        "train",
        model,
        "--epochs",
        "2",
        "--set",
        "hidden_dims=32",
        "--set",
        "latent_dim=4",
        "--lr-schedule",
        "cosine:0.1",
        *data_opt,
        "--out",
        str(tmp_path / "run"),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "reconstructions.png").is_file() and (tmp_path / "run" / "samples.png").is_file()
    recorded = json.loads((tmp_path / "run" / "run.json").read_text())
    assert recorded["settings"]["lr_schedule"] == "cosine:0.1"


def test_gan_on_a_toy_logs_mode_coverage_and_draws_a_scatter(tmp_path):
    out = tmp_path / "gan"
    r = genlab(
        "train",
        "gan",
        "--data",
        "ring8",
        "--data-opt",
        "n_samples=512",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--set",
        "hidden_dims=32,32",
        "--set",
        "latent_dim=4",
        "--out",
        str(out),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    for column in ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "modes", "high_quality"):
        assert column in header
    assert Image.open(out / "samples.png").size[0] > 100  # a scatter plot of the 2-D samples
    r = genlab("sample", str(out), "-n", "4", "--labels", "3", "--out", str(tmp_path / "x.npy"))
    assert_user_error(r, "not a conditional model")


def test_conditional_gan_samples_requested_digits_from_the_cli(tmp_path):
    out = tmp_path / "cgan"
    r = genlab(
        "train", "cgan", "--epochs", "1", "--batch-size", "64", "--set", "hidden_dims=16", "--out", str(out), "--quiet"
    )
    assert r.returncode == 0, r.stderr
    r = genlab("sample", str(out), "-n", "6", "--labels", "1,7", "--out", str(tmp_path / "x.npy"))
    assert r.returncode == 0, r.stderr
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (6, 1, 8, 8) and x.min() >= 0.0 and x.max() <= 1.0
    r = genlab("sample", str(out), "-n", "2", "--labels", "one", "--out", str(tmp_path / "y.npy"))
    assert_user_error(r, "--labels takes a class")


@pytest.mark.parametrize(
    "model, settings",
    [
        ("rbm", ["n_hidden=16"]),
        ("dbn", ["layer_dims=16,8", "pretrain_epochs=1"]),
        ("dbm", ["layer_dims=16,8", "pretrain_epochs=1"]),
    ],
)
def test_energy_models_train_from_the_cli_with_filters_and_gibbs_chains(model, settings, tmp_path):
    out = tmp_path / model
    sets = [a for s in settings for a in ("--set", s)]
    r = genlab("train", model, "--epochs", "1", "--batch-size", "32", *sets, "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert Image.open(out / "filters.png").size[0] > 50  # 16 receptive fields of 8x8 digits
    if model != "dbn":
        assert (out / "gibbs_chain.png").exists()
    info = json.loads((out / "run.json").read_text())
    if model != "rbm":
        assert len(info["pretraining"]) == 2  # one greedy stage per hidden layer
    r = genlab("sample", str(out), "-n", "3", "--out", str(tmp_path / "x.npy"))
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "x.npy").shape == (3, 1, 8, 8)


def test_evaluate_writes_metrics_and_a_report_and_refuses_to_overwrite(run_dir, tmp_path):
    out = tmp_path / "eval"
    r = genlab("evaluate", str(run_dir), "-n", "200", "--metrics", "fid,kid,recon", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "FID" in r.stdout and "floor train vs test" in r.stdout and "Reconstruction MSE" in r.stdout
    results = json.loads((out / "metrics.json").read_text())
    assert set(results["metrics"]) == {"fid", "kid", "recon"} and results["n_samples"] == 200
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert_user_error(genlab("evaluate", str(run_dir), "--out", str(out)), "--overwrite")
    assert_user_error(
        genlab("evaluate", str(run_dir), "--metrics", "fid,bleu", "--out", str(tmp_path / "x")), "unknown metric"
    )
    r = genlab("evaluate", str(run_dir), "-n", "100", "--metrics", "fid", "--out", str(out), "--overwrite")
    assert r.returncode == 0 and json.loads((out / "metrics.json").read_text())["n_samples"] == 100


def test_transformer_learns_text_and_samples_it(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question. " * 60, encoding="utf-8")
    out = tmp_path / "run"
    r = genlab(
        "train",
        "transformer_ar",
        "--data",
        str(corpus),
        "--data-opt",
        "seq_len=24",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--set",
        "d_model=32",
        "--out",
        str(out),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "model" / "config.json").read_text())["config"]["vocab"] == " ,.abehinoqrstu"
    assert (out / "samples.txt").is_file() and (out / "attention.png").is_file()
    r = genlab("sample", str(out), "-n", "3", "--out", str(tmp_path / "s.txt"))
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "s.txt").read_text().splitlines()
    assert len(lines) == 3 and all(len(line) == 24 and set(line) <= set(" ,.abehinoqrstu") for line in lines)
    assert_user_error(genlab("sample", str(out), "--out", str(tmp_path / "s.txt")), "already exists")
