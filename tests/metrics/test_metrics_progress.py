"""Progress of the long metric computations (AIS, feature extraction, likelihoods): lines on standard error when
asked for, nothing otherwise, and the same numbers either way."""

from __future__ import annotations

import pytest
import torch

import genlab
from genlab.data import load
from genlab.metrics import ais, dataset_features, extract_features, log_likelihood
from genlab.metrics.features import DomainFeatures
from genlab.progress import INTERVAL_ENV


@pytest.fixture
def every_update(monkeypatch):
    monkeypatch.setenv(INTERVAL_ENV, "0")  # a progress line at every update


@pytest.fixture(scope="module")
def rbm():
    return genlab.create("rbm", data_shape=(1, 4, 4), n_hidden=4, seed=0)


@pytest.fixture(scope="module")
def digits_test():
    return load("digits", split="test")


def test_ais_reports_progress_every_few_hundred_betas(rbm, capsys, every_update):
    quiet = ais(rbm.annealing_path(), n_runs=8, betas=600, generator=torch.Generator().manual_seed(3))
    assert capsys.readouterr() == ("", "")
    loud = ais(rbm.annealing_path(), n_runs=8, betas=600, generator=torch.Generator().manual_seed(3), progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert [ln.split()[3] for ln in lines[:-1]] == ["250/600", "500/600", "600/600"]
    assert all(ln.startswith("AIS (8 runs): ") and "beta/s" in ln and "ETA" in ln for ln in lines[:-1])
    assert "log Z_beta" in lines[0] and "beta 1.0000" in lines[-1]
    assert lines[-1].startswith("AIS (8 runs): done 600/600 betas in")
    assert torch.equal(quiet.log_weights, loud.log_weights)  # progress does not touch the random stream


def test_log_likelihood_says_which_estimator_runs(rbm, capsys, every_update):
    x = (torch.rand(30, 1, 4, 4, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    log_likelihood(rbm, x, method="ais", n_runs=8, betas=300)
    assert capsys.readouterr().err == ""
    log_likelihood(rbm, x, method="ais", n_runs=8, betas=300, progress=True)
    err = capsys.readouterr().err
    assert "log-likelihood of 30 samples under the RBM: ais" in err
    assert "AIS (8 runs): done 300/300 betas" in err and "log-likelihood (ais): done 30/30 samples" in err


def test_feature_extraction_reports_progress_over_batches(digits_test, capsys, every_update):
    ext = DomainFeatures("digits-cnn", batch_size=100)
    quiet = extract_features(digits_test.x, ext)
    assert capsys.readouterr() == ("", "")
    loud = extract_features(digits_test.x, ext, progress=True)
    lines = capsys.readouterr().err.splitlines()
    n = len(digits_test)
    assert [ln.split()[2] for ln in lines[:-1]] == [f"{k}/{n}" for k in (100, 200, 300, n)]
    assert all(ln.startswith("features (digits-cnn): ") and "image/s" in ln and "ETA" in ln for ln in lines[:-1])
    assert lines[-1].startswith(f"features (digits-cnn): done {n}/{n} images")
    assert torch.equal(quiet.features, loud.features)


def test_a_custom_extractor_gets_a_final_line_and_the_cache_says_so(digits_test, capsys, every_update):
    extract_features(digits_test.x[:50], lambda x: x.reshape(len(x), -1), progress=True)
    assert capsys.readouterr().err.splitlines()[-1].startswith("features (custom): done 50/50 images")
    dataset_features(digits_test.x, "digits-cnn", label="digits-test", progress=True)
    assert "features (digits-cnn): done" in capsys.readouterr().err
    dataset_features(digits_test.x, "digits-cnn", label="digits-test", progress=True)
    assert (
        capsys.readouterr().err.strip()
        == f"features (digits-cnn) of digits-test: {len(digits_test)} images from the cache"
    )
    dataset_features(digits_test.x, "digits-cnn", label="digits-test")
    assert capsys.readouterr().err == ""
