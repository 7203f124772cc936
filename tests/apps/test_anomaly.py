"""Anomaly detection: scores that separate digits, thresholds that flag the fractions they promise."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import genlab
from genlab.apps import Detector, NotFittedError
from genlab.errors import ConfigError, DataError, ModelFileError, RunExistsError

NORMAL = 8  # the digit taken as normal (the hardest to tell from the others)


@pytest.fixture(scope="module")
def digits():
    return genlab.data.load("digits"), genlab.data.load("digits", split="test")


def _auroc(det, test):
    return roc_auc_score((test.y != NORMAL).numpy(), det.score(test.x).numpy())


@pytest.mark.parametrize(
    ("model", "params", "min_auroc"),
    [  # measured over seeds 0-2: AE 0.986-0.989, VAE 0.921-0.929
        ("ae", {"latent_dim": 8, "hidden_dims": (64,)}, 0.95),
        ("vae", {"latent_dim": 4, "hidden_dims": (64,), "lr": 3e-3}, 0.85),  # Bernoulli: the negative ELBO
    ],
)
def test_digit_detector_separates_normal_from_other_digits(digits, model, params, min_auroc):
    train, test = digits
    normal = train.x[train.y == NORMAL]
    det = Detector(model, epochs=40, batch_size=32, seed=0, **params).fit(normal)
    auroc = _auroc(det, test)
    assert auroc > min_auroc, f"{model}: AUROC {auroc:.3f}"


def test_contamination_flags_that_fraction_of_the_training_data(digits):
    train, _ = digits
    x = train.x[:600]
    for c in (0.05, 0.2):
        det = Detector(contamination=c, latent_dim=4, hidden_dims=(32,), epochs=3, seed=1).fit(x)
        flagged = int(det.predict(x).sum())
        assert abs(flagged - c * len(x)) <= 1  # a quantile of distinct scores: exact up to rounding
        assert torch.equal(det.train_scores, det.score(x))
        assert det.threshold == pytest.approx(float(np.quantile(det.train_scores.numpy(), 1 - c)))


def test_threshold_from_held_out_quantile(digits):
    train, test = digits
    normal = train.x[train.y == NORMAL]
    held_out = test.x[test.y == NORMAL]
    det = Detector(threshold_quantile=0.9, latent_dim=8, hidden_dims=(64,), epochs=20, batch_size=32, seed=0)
    det.fit(normal, val_data=held_out)
    assert len(det.train_scores) == len(normal)  # the model trained on all of x
    assert abs(float(det.predict(held_out).float().mean()) - 0.1) <= 1 / len(held_out)
    # without val_data a split is held out: the model trains on the rest, the threshold comes from the split
    det = Detector(threshold_quantile=0.95, val_fraction=0.25, latent_dim=8, epochs=2, seed=0).fit(normal)
    n_val = round(0.25 * len(normal))
    assert len(det.train_scores) == len(normal) - n_val
    assert len(det.threshold_scores) == n_val
    assert det.threshold == pytest.approx(float(np.quantile(det.threshold_scores.numpy(), 0.95)))


def test_vae_scores_are_repeatable_and_iwae_is_tighter(digits):
    train, _ = digits
    x = train.x[:300]
    elbo = Detector("vae", latent_dim=4, hidden_dims=(32,), epochs=5, seed=0).fit(x)
    s1 = elbo.score(x)
    assert torch.equal(s1, elbo.score(x))  # Monte-Carlo draws from a generator seeded per call
    iwae = Detector("vae", k=20, latent_dim=4, hidden_dims=(32,), epochs=5, seed=0).fit(x)
    assert torch.equal(
        iwae.model.state_dict()["decoder.blocks.1.weight"], elbo.model.state_dict()["decoder.blocks.1.weight"]
    )
    # -L_k <= -ELBO on average (Burda et al. 2016), by a clear margin for an untrained-ish posterior
    assert float(iwae.score(x).mean()) < float(s1.mean()) - 0.1


def test_tabular_data_are_standardized_and_outliers_found():
    g = torch.Generator().manual_seed(0)
    scales = torch.tensor([1.0, 100.0, 0.01, 5.0, 1e3])
    latent = torch.randn((1000, 2), generator=g)
    mix = torch.randn((2, 5), generator=g)
    normal = (latent @ mix + 0.05 * torch.randn((1000, 5), generator=g)) * scales
    test_normal = (torch.randn((200, 2), generator=g) @ mix) * scales
    outliers = test_normal.clone()
    outliers[torch.arange(200), torch.arange(200) % 5] += 3 * scales[torch.arange(200) % 5]  # off the plane
    det = Detector(latent_dim=2, hidden_dims=(16,), epochs=60, batch_size=64, seed=0, lr=3e-3).fit(normal)
    assert det.scaler.enabled
    assert torch.allclose(det.scaler.mean, normal.mean(0), rtol=1e-4, atol=1e-3 * float(scales.max()))
    labels = np.r_[np.zeros(200), np.ones(200)]
    auroc = roc_auc_score(labels, torch.cat([det.score(test_normal), det.score(outliers)]).numpy())
    assert auroc > 0.95


def test_save_load_round_trip(tmp_path, digits):
    train, test = digits
    det = Detector(contamination=0.05, latent_dim=4, hidden_dims=(16,), epochs=2, seed=3).fit(train.x[:200])
    path = det.save(tmp_path / "det")
    back = Detector.load(path)
    assert back.threshold == det.threshold
    assert torch.equal(back.train_scores, det.train_scores) and back.train_scores.dtype == torch.float64
    assert back.settings() == det.settings()
    assert torch.equal(back.score(test.x), det.score(test.x))
    with pytest.raises(RunExistsError, match="already exists"):
        det.save(path)
    det.save(path, overwrite=True)
    (path / "app.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="corrupt"):
        Detector.load(path)


def test_errors_say_what_is_wrong(digits):
    train, _ = digits
    with pytest.raises(NotFittedError, match="not fitted"):
        Detector().score(train.x)
    with pytest.raises(ConfigError, match="contamination"):
        Detector(contamination=0.7)
    with pytest.raises(ConfigError, match="threshold_quantile"):
        Detector(threshold_quantile=1.5)
    bad = train.x[:50].clone()
    bad[3, 0, 2, 2] = float("nan")
    with pytest.raises(DataError, match="NaN"):
        Detector(epochs=1).fit(bad)
    det = Detector(latent_dim=2, hidden_dims=(8,), epochs=1).fit(train.x[:50])
    with pytest.raises(DataError, match=r"shape \(64,\)"):
        det.score(train.x[:5].reshape(5, 64))
    with pytest.raises(DataError, match="conditional VAE needs labelled data"):
        Detector("cvae", epochs=1).fit(train.x[:20])
    with pytest.raises(genlab.UnknownModelError, match="did you mean 'vae'"):
        Detector("vea", epochs=1).fit(train.x[:20])
