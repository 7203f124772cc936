"""scikit-learn compatible estimators: conformance checks, pipelines, grid search, results on digits."""

import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import genlab.estimators
from genlab.apps import psnr
from genlab.errors import ConfigError, DataError, ModelFileError, UnknownModelError
from genlab.estimators import (
    RBM,
    AnomalyDetector,
    AutoencoderFeatures,
    DBNClassifier,
    Denoiser,
    Imputer,
    expected_failed_checks,
)

TINY = {"epochs": 2, "latent_dim": 2, "hidden_dims": (8,), "batch_size": 64}


@pytest.fixture(scope="module")
def digits():
    """Digits as a table in [0, 1]: a fixed train / test split."""
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    perm = np.random.RandomState(0).permutation(len(x))
    train, test = perm[:1400], perm[1400:]
    return x[train], y[train], x[test], y[test]


#: one small instance of every public estimator, run through all of scikit-learn's checks (small epochs: fast)
CHECKED = [
    AnomalyDetector(**TINY),
    Denoiser(**TINY),
    Imputer(**TINY),
    AutoencoderFeatures(**TINY),
    RBM(n_components=8, n_iter=3, random_state=0),
    DBNClassifier((16,), pretrain_epochs=2, finetune_epochs=40, finetune_lr=0.01, random_state=0),
]


@parametrize_with_checks(
    CHECKED,
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,  # a check listed as failing that starts to pass must be taken off the list
)
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_every_public_estimator_is_checked():
    """A new estimator in ``genlab.estimators.__all__`` must join ``CHECKED``."""
    public = {
        obj
        for name in genlab.estimators.__all__
        if isinstance(obj := getattr(genlab.estimators, name), type) and issubclass(obj, BaseEstimator)
    }
    assert public == {type(est) for est in CHECKED}
    assert len(public) >= 6


def test_expected_failures_are_only_the_label_convention():
    assert set(expected_failed_checks(AnomalyDetector())) == {"check_outliers_train", "check_outliers_fit_predict"}
    assert all("PyOD" in reason for reason in expected_failed_checks(AnomalyDetector()).values())
    for est in (Denoiser(), Imputer(), AutoencoderFeatures()):
        assert expected_failed_checks(est) == {}


def test_anomaly_detector_pyod_conventions_on_digits(digits):
    x, y, xt, yt = digits
    det = AnomalyDetector(latent_dim=8, epochs=40, batch_size=32, contamination=0.05, random_state=0)
    det.fit(x[y == 8])
    decision = det.decision_function(xt)
    assert decision.dtype == np.float64
    auroc = roc_auc_score(yt != 8, decision)  # higher decision = more abnormal
    assert auroc > 0.95, auroc
    assert np.array_equal(det.score_samples(xt), -decision)  # higher = more normal
    labels = det.predict(xt)
    assert labels.dtype == np.int64 and set(np.unique(labels)) <= {0, 1}
    assert np.array_equal(labels, (decision > det.threshold_).astype(np.int64))
    assert abs(det.labels_.mean() - 0.05) <= 1 / len(det.labels_)
    assert np.array_equal(det.fit_predict(x[y == 8]), det.labels_)
    assert labels[yt != 8].mean() > 0.5 > labels[yt == 8].mean()  # most other digits flagged, few eights


def test_features_in_pipeline_and_grid_search(digits):
    x, y, xt, yt = digits
    pipe = Pipeline(
        [
            ("ae", AutoencoderFeatures(latent_dim=16, epochs=20, batch_size=64, random_state=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    pipe.fit(x, y)
    accuracy = pipe.score(xt, yt)
    assert accuracy > 0.85, accuracy
    assert list(pipe[:-1].get_feature_names_out())[:2] == ["autoencoderfeatures0", "autoencoderfeatures1"]
    search = GridSearchCV(pipe.set_params(ae__epochs=10), {"ae__latent_dim": [2, 16]}, cv=2)
    search.fit(x[:600], y[:600])
    assert search.best_params_ == {"ae__latent_dim": 16}  # 2 codes cannot hold ten classes apart
    assert search.cv_results_["mean_test_score"][0] < search.cv_results_["mean_test_score"][1] - 0.1
    # without labels, score() is the negative reconstruction error: a bigger code reconstructs better
    unsupervised = GridSearchCV(AutoencoderFeatures(epochs=10, random_state=0), {"latent_dim": [1, 16]}, cv=2)
    assert unsupervised.fit(x[:600]).best_params_ == {"latent_dim": 16}


def test_imputer_keeps_observed_entries_and_beats_column_means(digits):
    x, _, xt, _ = digits
    rng = np.random.RandomState(0)
    hide, hide_t = rng.rand(*x.shape) < 0.3, rng.rand(*xt.shape) < 0.3
    imp = Imputer(latent_dim=16, hidden_dims=(128,), epochs=40, batch_size=64, random_state=0)
    imp.fit(np.where(hide, np.nan, x))
    filled = imp.transform(np.where(hide_t, np.nan, xt))
    assert filled.dtype == np.float64
    assert np.array_equal(filled[~hide_t], xt[~hide_t])  # bit for bit
    col_means = np.nanmean(np.where(hide, np.nan, x), 0)
    rmse = np.sqrt(((filled - xt)[hide_t] ** 2).mean())
    rmse_mean = np.sqrt(((np.broadcast_to(col_means, xt.shape) - xt)[hide_t] ** 2).mean())
    assert rmse < 0.8 * rmse_mean, (rmse, rmse_mean)
    filled32 = imp.transform(np.where(hide_t, np.nan, xt).astype(np.float32))
    assert filled32.dtype == np.float32 and np.array_equal(filled32[~hide_t], xt.astype(np.float32)[~hide_t])


def test_denoiser_on_digit_images(digits):
    x, _, xt, _ = digits
    images, test_images = x.reshape(-1, 1, 8, 8), xt.reshape(-1, 1, 8, 8)  # the genlab-specific 4-D use
    den = Denoiser(latent_dim=32, hidden_dims=(128,), epochs=30, batch_size=64, random_state=0).fit(images)
    noisy = test_images + 0.2 * np.random.RandomState(1).randn(*test_images.shape)
    cleaned = den.transform(noisy)
    assert cleaned.shape == test_images.shape and cleaned.dtype == np.float64
    assert psnr(test_images, cleaned) > psnr(test_images, noisy) + 3.0


@pytest.mark.parametrize("cls", [AnomalyDetector, Denoiser, Imputer, AutoencoderFeatures])
def test_same_random_state_same_results(cls, digits):
    x = digits[0][:300].copy()
    if cls is Imputer:  # something to fill
        x[np.random.RandomState(0).rand(*x.shape) < 0.2] = np.nan
    method = {AnomalyDetector: "decision_function"}.get(cls, "transform")
    a, b, c = cls(random_state=7, **TINY), cls(random_state=7, **TINY), cls(random_state=8, **TINY)
    out_a, out_b, out_c = (getattr(e.fit(x), method)(x) for e in (a, b, c))
    assert np.array_equal(out_a, out_b)
    assert not np.allclose(out_a, out_c)


def test_save_load_pickle_round_trips(tmp_path, digits):
    x, _, xt, _ = digits
    det = AnomalyDetector(contamination=0.2, random_state=None, **TINY).fit(x[:200])
    back = AnomalyDetector.load(det.save(tmp_path / "det"))
    assert back.threshold_ == det.threshold_ and back.n_features_in_ == 64
    assert np.array_equal(back.decision_scores_, det.decision_scores_)
    assert np.array_equal(back.labels_, det.labels_)
    assert back.get_params()["contamination"] == 0.2 and back.get_params()["hidden_dims"] == (8,)
    assert back.random_state == det.app_.seed  # None is saved as the seed the fit drew
    assert np.array_equal(back.predict(xt), det.predict(xt))
    assert np.array_equal(back.decision_function(xt), det.decision_function(xt))
    with pytest.raises(ModelFileError, match="does not hold a saved Imputer"):
        Imputer.load(tmp_path / "det")
    feats = AutoencoderFeatures(random_state=0, **TINY).fit(x[:200])
    clone = pickle.loads(pickle.dumps(feats))
    assert np.array_equal(clone.transform(xt), feats.transform(xt))
    decoded = clone.inverse_transform(clone.transform(xt[:3]))  # codes back to data units: the reconstructions
    assert np.allclose(decoded, feats.app_.reconstruct(xt[:3]).numpy(), atol=1e-5)
    report = feats.compression_report(xt, bits=8, data_range=1.0)
    assert report.ratio == pytest.approx(32 * len(xt) * 64 / (len(xt) * 2 * 8 + 2 * 2 * 32))


def test_bad_input_gives_clear_errors(digits):
    x = digits[0][:100]
    with pytest.raises(NotFittedError, match="not fitted"):
        AnomalyDetector().predict(x)
    with pytest.raises(NotFittedError):
        Imputer().transform(x)
    bad = x.copy()
    bad[4, 7] = np.nan
    with pytest.raises(DataError, match="1 NaN value"):
        AnomalyDetector(**TINY).fit(bad)
    feats = AutoencoderFeatures(**TINY).fit(x)
    with pytest.raises(ValueError, match="X has 10 features, but AutoencoderFeatures is expecting 64 features"):
        feats.transform(x[:, :10])
    with pytest.raises(DataError, match="NaN"):
        feats.transform(bad)
    with pytest.raises(ConfigError, match="contamination"):
        AnomalyDetector(contamination=0.9).fit(x)  # checked in fit, not in __init__
    with pytest.raises(UnknownModelError, match="unknown model 'gann'"):
        AnomalyDetector(model="gann").fit(x)
    with pytest.raises(ConfigError, match="random_state"):
        AutoencoderFeatures(random_state="seven", **TINY).fit(x)
