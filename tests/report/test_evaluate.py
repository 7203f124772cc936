"""`genlab evaluate`: the metrics that apply to each kind of run, metrics.json, and the HTML report in Chromium."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess

import pytest

import genlab
from genlab.errors import ConfigError, RunExistsError
from genlab.report import evaluate_run, render_report, write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = {}
    out["vae"] = genlab.train(
        "vae",
        "digits",
        out=root / "vae",
        epochs=30,
        batch_size=64,
        overrides={"latent_dim": 4, "lr": 2e-3},
        progress=False,
    ).run_dir
    out["rbm"] = genlab.train(
        "rbm",
        "digits",
        out=root / "rbm",
        epochs=5,
        batch_size=20,
        overrides={"n_hidden": 16},
        data_options={"binarize": "static"},
        progress=False,
    ).run_dir
    out["gan"] = genlab.train(
        "gan",
        "ring8",
        out=root / "gan",
        max_steps=300,
        batch_size=256,
        progress=False,
    ).run_dir
    return out


def test_vae_run_gets_sample_reconstruction_and_likelihood_metrics(runs):
    ev = evaluate_run(runs["vae"], n=359)
    m = ev.results["metrics"]
    assert set(m) == {"fid", "kid", "is", "pr", "dc", "classes", "recon", "ll"}
    assert m["fid"]["n_fake"] == 359 and m["fid"]["n_real"] == 359 and m["fid"]["extractor"] == "digits-cnn"
    assert m["fid"]["fid"] > ev.results["floors"]["train_vs_test"]["fid"] > 0  # a 30-epoch VAE is not the data
    assert 1.0 <= m["is"]["is"] <= 10.0 and m["is"]["data"] > 8.0  # the test digits themselves score high
    assert 0 <= m["pr"]["precision"] <= 1 and 0 <= m["dc"]["coverage"] <= 1
    assert m["ll"]["method"] == "iwae" and m["ll"]["mean"] < 0 and m["ll"]["binarized"] is False
    assert m["recon"]["n"] == 359 and m["recon"]["psnr"] > 10
    assert {"samples", "reconstructions", "loss_curve", "codes"} <= set(ev.pictures)
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in ev.pictures.values())
    assert ev.results["floors"]["test_halves"]["n"] == [179, 180]


def test_energy_and_toy_runs_get_their_own_metrics(runs):
    rbm = evaluate_run(runs["rbm"], n=300, metrics=["fid", "ll"])
    assert set(rbm.results["metrics"]) == {"fid", "ll"}
    ll = rbm.results["metrics"]["ll"]
    assert ll["method"] == "exact" and ll["binarized"] is True  # 16 hidden units: log Z by enumeration
    assert {"gibbs_chain", "filters"} <= set(rbm.pictures)
    gan = evaluate_run(runs["gan"], n=2000)
    assert set(gan.results["metrics"]) == {"fid", "kid", "pr", "dc", "modes"}
    assert gan.results["metrics"]["modes"]["n_modes"] == 8 and gan.results["floors"] is None  # raw coordinates
    assert "samples" in gan.pictures


def test_evaluation_errors(runs, tmp_path):
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate_run(runs["vae"], metrics=["bleu"])
    with pytest.raises(ConfigError, match="do not apply"):
        evaluate_run(runs["gan"], metrics=["recon"])
    bare = tmp_path / "bare"
    shutil.copytree(runs["vae"] / "model", bare)
    with pytest.raises(ConfigError, match="--data"):
        evaluate_run(bare)
    assert evaluate_run(bare, data="digits", metrics=["fid"], n=100, floors=False).results["metrics"]["fid"]


def test_report_files_are_written_once_unless_overwritten(runs, tmp_path):
    ev = evaluate_run(runs["vae"], n=200, metrics=["fid", "kid"], pictures=False)
    paths = write_report(ev, tmp_path)
    assert json.loads(paths["metrics"].read_text())["metrics"]["kid"]["subset_size"] == 200
    before = paths["report"].read_text()
    with pytest.raises(RunExistsError, match="--overwrite"):
        write_report(ev, tmp_path)
    assert paths["report"].read_text() == before
    write_report(ev, tmp_path, overwrite=True)


def _browser() -> str | None:
    for name in BROWSERS:
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_report_renders_in_headless_chromium(runs, tmp_path):
    browser = _browser()
    if browser is None:
        if os.environ.get("GENLAB_REQUIRE_BROWSER"):
            pytest.fail("GENLAB_REQUIRE_BROWSER is set but no Chromium was found (apt-get install chromium)")
        pytest.skip("no headless Chromium here (Debian: apt-get install chromium)")
    ev = evaluate_run(runs["vae"], n=359)
    page = tmp_path / "report.html"
    page.write_text(render_report(ev.results, ev.pictures), encoding="utf-8")
    assert "http://" not in page.read_text() and "https://" not in page.read_text()  # self-contained
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    from PIL import Image

    img = Image.open(shot).convert("L")
    assert img.size == (1200, 1600)
    lo, hi = img.getextrema()
    assert hi - lo > 200  # text and pictures on the page, not a blank or an error page
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    fid_value = f"{ev.results['metrics']['fid']['fid']:.4g}"
    assert '<table id="metrics">' in dom and fid_value in dom
    assert dom.count("<img") == len(ev.pictures)
    # every picture decodes: the data URIs are intact
    for name, png in ev.pictures.items():
        assert base64.b64encode(png).decode()[:40] in dom, name


DATA_OPTIONS = {
    "boltzmann": {"binarize": "static"},
    "ssvae": {"n_labels": 100},
    "transformer_ar": {"binarize": "static"},
    # image-to-image models train on pairs (or two domains) built from the digits
    "pix2pix": {"corruption": "edges"},
    "inpaint": {"corruption": "mask:center:4"},
    "srnet": {"corruption": "downsample:2", "corruption_size": "small"},
    "cyclegan": {"domain_a": "digits"},
}
OVERRIDES = {
    "boltzmann": {"n_hidden": 4},
    **{k: {"layer_dims": (32, 32)} for k in ("dbm", "dbm_classifier", "dbn", "dbn_classifier")},
}


TABLE_MODELS = {"ctgan", "tvae", "gaussian_copula"}


@pytest.mark.parametrize("name", [e.name for e in genlab.list_models()])
def test_every_registered_model_can_be_evaluated(name, tmp_path):
    run = genlab.train(
        name,
        "iris" if name in TABLE_MODELS else "digits",
        out=tmp_path / name,
        epochs=1,
        batch_size=64,
        overrides=OVERRIDES.get(name),
        data_options=DATA_OPTIONS.get(name),
        mode_monitor=False,
        progress=False,
    ).run_dir
    ev = evaluate_run(run, n=64, floors=False, ll_samples=32, ll_k=4, ll_betas=20)
    m = ev.results["metrics"]
    model = genlab.load(run)
    if name in TABLE_MODELS:  # tables: fidelity, utility and privacy instead of image metrics
        assert set(m) == {"quality", "detection", "utility", "privacy"} and "marginals" in ev.pictures
        return
    if getattr(model, "translator", False):  # image-to-image: scores of the outputs beside a baseline
        t = m["translation"]
        assert set(m) == {"translation"} and "class_preservation" in t["AB"] and ("psnr" in t["AB"]) == t["paired"]
        assert "translations" in ev.pictures
        return
    if not model.generative:  # a Bayesian network: accuracy and calibration of its predictions
        assert set(m) == {"predictive"} and 0 <= m["predictive"]["ece"] <= 1 and "reliability" in ev.pictures
        return
    assert {"fid", "kid", "is", "pr", "dc", "classes"} <= set(m)
    assert ("recon" in m) == hasattr(model, "reconstruct")
    assert ("ll" in m) == (model.likelihood_method is not None)
    assert "samples" in ev.pictures
    assert "<table id='metrics'>" in render_report(ev.results, ev.pictures)


def test_evaluate_says_what_it_is_doing_on_standard_error_and_nothing_when_quiet(runs, capsys, monkeypatch):
    monkeypatch.setenv("GENLAB_PROGRESS_SECONDS", "0")
    evaluate_run(runs["rbm"], n=300, metrics=["fid", "ll"], pictures=False, progress=False)
    assert capsys.readouterr() == ("", "")
    evaluate_run(runs["rbm"], n=300, metrics=["fid", "ll"], pictures=False)  # the CLI's default: progress on
    out, err = capsys.readouterr()
    assert out == ""
    stages = [ln for ln in err.splitlines() if ln.startswith("evaluate [")]
    assert [ln.split("] ")[1].split()[0] for ln in stages] == ["sampling", "features", "fid", "ll", "floors:"]
    assert stages[0].startswith("evaluate [1/5] sampling 300 samples")
    assert "sampling (rbm): done 300/300 samples" in err and "features (digits-cnn): done" in err
    assert "log-likelihood of" in err and err.splitlines()[-1].startswith("evaluate: done in")
