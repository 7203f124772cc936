"""The energy-based scikit-learn estimators: conformance checks, BernoulliRBM parity, pipelines."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import shuffle
from sklearn.utils.estimator_checks import check_classifiers_train

from genlab.data import load
from genlab.estimators import RBM, DBNClassifier, expected_failed_checks

# scikit-learn's estimator checks of RBM and DBNClassifier run with every other estimator's in test_estimators.py


def test_expected_failures_are_only_the_stochastic_pseudo_likelihood():
    assert set(expected_failed_checks(RBM())) == {
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
    }
    assert expected_failed_checks(DBNClassifier()) == {}


def test_dbn_classifier_defaults_pass_check_classifiers_train():
    """At its default settings (not only a tuned test instance) the classifier fits scikit-learn's blobs."""
    check_classifiers_train("DBNClassifier", DBNClassifier())


def _blobs():
    """The data of ``check_classifiers_train``: 3 standardized blobs, and the binary problem of the first two."""
    X, y = make_blobs(n_samples=300, random_state=0)
    X, y = shuffle(X, y, random_state=7)
    X = StandardScaler().fit_transform(X)
    return [(X[y != 2], y[y != 2]), (X, y)]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_dbn_classifier_defaults_fit_the_blobs_for_any_seed(seed):
    for X, y in _blobs():
        acc = float((DBNClassifier(random_state=seed).fit(X, y).predict(X) == y).mean())
        assert acc > 0.86, (seed, acc)  # scikit-learn asks > 0.83


@pytest.fixture(scope="module")
def digits():
    tr, te = load("digits", flatten=True), load("digits", split="test", flatten=True)
    return tr.x.numpy(), tr.y.numpy(), te.x.numpy(), te.y.numpy()


def test_same_api_and_attributes_as_bernoulli_rbm(digits):
    X, _, Xt, _ = digits
    ours = RBM(n_components=32, learning_rate=0.05, batch_size=10, n_iter=5, random_state=0).fit(X)
    theirs = BernoulliRBM(n_components=32, learning_rate=0.05, batch_size=10, n_iter=5, random_state=0).fit(X)
    for name in ("components_", "intercept_hidden_", "intercept_visible_", "h_samples_"):
        assert getattr(ours, name).shape == getattr(theirs, name).shape, name
    assert ours.transform(Xt).shape == theirs.transform(Xt).shape == (len(Xt), 32)
    assert ours.gibbs(Xt[:5]).dtype == theirs.gibbs(Xt[:5]).dtype == bool
    # same algorithm and settings: the pseudo-likelihoods of the two fits are close
    ours_pl, theirs_pl = ours.score_samples(Xt).mean(), theirs.score_samples(Xt).mean()
    assert abs(ours_pl - theirs_pl) < 0.25 * abs(theirs_pl), (ours_pl, theirs_pl)
    assert ours.transform(Xt.astype(np.float32)).dtype == np.float32


def test_rbm_features_in_a_pipeline_beat_raw_pixels_with_few_components(digits):
    X, y, Xt, yt = digits
    pipe = Pipeline(
        [
            ("rbm", RBM(n_components=100, learning_rate=0.05, n_iter=15, random_state=0)),
            ("clf", LogisticRegression(C=100, max_iter=2000)),
        ]
    )
    acc = pipe.fit(X, y).score(Xt, yt)
    assert acc > 0.9, acc


def test_partial_fit_continues_the_same_model(digits):
    X = digits[0]
    rbm = RBM(n_components=16, random_state=0).partial_fit(X[:500])
    w = rbm.components_.copy()
    rbm.partial_fit(X[500:1000])
    assert rbm.components_.shape == w.shape and not np.allclose(rbm.components_, w)


def test_rbm_log_likelihood_by_ais_and_samples(digits):
    X, _, Xt, _ = digits
    rbm = RBM(n_components=20, learning_rate=0.05, n_iter=10, random_state=0).fit((X > 0.5).astype(np.float64))
    exact = float(rbm.model_.log_prob(__import__("torch").from_numpy((Xt > 0.5).astype(np.float32))).mean())
    res = rbm.log_likelihood((Xt > 0.5).astype(np.float64), n_runs=50, betas=1000)
    assert abs(res["mean"] - exact) < 0.3
    assert res["lower"] <= res["mean"] <= res["upper"]
    s = rbm.sample(5, steps=50, random_state=0)
    assert s.shape == (5, 64) and (s >= 0).all() and (s <= 1).all()


def test_dbn_classifier_on_digits(digits):
    X, y, Xt, yt = digits
    labels = np.array(list("abcdefghij"))[y]
    clf = DBNClassifier((100, 100), pretrain_epochs=10, finetune_epochs=30, random_state=0).fit(X, labels)
    assert set(clf.classes_) == set("abcdefghij")
    acc = float((clf.predict(Xt) == np.array(list("abcdefghij"))[yt]).mean())
    assert acc > 0.9, acc
    assert clf.predict_proba(Xt).shape == (len(Xt), 10)
    assert np.allclose(clf.predict_proba(Xt).sum(1), 1)
