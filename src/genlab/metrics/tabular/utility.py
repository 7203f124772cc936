"""Utility of a synthetic table: detection (real vs synthetic) and train on synthetic, test on real.

Both share one preprocessing (:func:`_preprocessor`): standardized numbers with a missing indicator and
one-hot categories, fitted on the training rows only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ...errors import ConfigError, DataError
from ._columns import _check_frames, _Col, _encode, _subsample


def _matrix(cols: Mapping[str, _Col], names: Sequence[str], frame: int, rows: np.ndarray | None = None) -> np.ndarray:
    x = np.column_stack([cols[n].values[frame].astype(np.float64) for n in names])
    return x if rows is None else x[rows]


def _preprocessor(cols: Mapping[str, _Col], names: Sequence[str]) -> Any:
    """Standardized numbers with a missing indicator (missing filled by the median), one-hot categories (a
    category unseen when fitting is all zeros); fitted on the training rows only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = [i for i, n in enumerate(names) if cols[n].continuous]
    cat = [i for i, n in enumerate(names) if not cols[n].continuous]
    parts = []
    if num:
        imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
        parts.append(("num", make_pipeline(imputer, StandardScaler()), num))
    if cat:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat))
    return ColumnTransformer(parts)


@dataclass(frozen=True)
class DetectionResult:
    """The result of :func:`detection_score`."""

    auc: float  #: mean cross-validated ROC AUC of the real-vs-synthetic classifier
    score: float  #: 1 - mean_k(max(AUC_k, 0.5) * 2 - 1): 1 = indistinguishable, 0 = perfectly separable
    fold_aucs: tuple[float, ...]
    model: str
    n_per_class: int  #: rows of each frame used

    def as_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "score": self.score,
            "fold_aucs": list(self.fold_aucs),
            "model": self.model,
            "n_per_class": self.n_per_class,
        }


def _classifier(model: str, seed: int) -> Any:
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)
    if model == "gbm":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed)
    raise ConfigError(f"model must be 'logistic' or 'gbm', got {model!r}")


def detection_score(
    real: Any,
    synthetic: Any,
    columns: Mapping[str, str] | None = None,
    *,
    model: Literal["logistic", "gbm"] = "logistic",
    seed: int = 0,
    folds: int = 3,
    max_rows: int = 20_000,
) -> DetectionResult:
    """How hard it is to tell synthetic rows from real ones (SDMetrics' ``LogisticDetection`` convention).

    The bigger frame is subsampled (with ``seed``) to the smaller one's size, both to at most ``max_rows``
    rows, so the classes are balanced. A classifier (``"logistic"``: logistic regression; ``"gbm"``:
    histogram gradient boosting) on standardized numbers (missing cells filled by the median, plus a missing
    indicator) and one-hot categories learns real = 1 vs synthetic = 0; stratified ``folds``-fold
    cross-validation (preprocessing fitted on each training fold) gives ROC AUCs :math:`A_k` and

    .. math:: \\mathrm{score} = 1 - \\frac1K \\sum_k (2 \\max(A_k, \\tfrac12) - 1)

    An AUC near 0.5 (score near 1) means the classifier cannot tell them apart. ``max_rows=20_000`` keeps
    diamonds (54k rows) to about 1.5 s on two cores. SDMetrics uses a robust scaler, mean imputation, no class
    balancing and no fixed seed, so its numbers differ by sampling noise (and it fails on a synthetic
    category the real table lacks).

    Raises:
        DataError: an empty frame, a missing column, or fewer rows than ``folds``.
        ConfigError: an unknown ``model``, ``folds < 2`` or ``max_rows < folds``.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    if not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"folds must be an integer >= 2, got {folds!r}")
    if max_rows < folds:
        raise ConfigError(f"max_rows must be at least folds ({folds}), got {max_rows}")
    _classifier(model, seed)  # validate early
    frames = {"real": real, "synthetic": synthetic}
    kinds = _check_frames(frames, columns)
    cols = _encode(frames, kinds)
    n = min(len(real), len(synthetic), max_rows)
    if n < folds:
        raise DataError(f"detection needs at least {folds} rows in each frame (one per fold), got {n}")
    rng = np.random.default_rng(seed)
    names = list(cols)
    x = np.vstack(
        [
            _matrix(cols, names, 0, _subsample(len(real), n, rng)),
            _matrix(cols, names, 1, _subsample(len(synthetic), n, rng)),
        ]
    )
    y = np.r_[np.ones(n), np.zeros(n)]
    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        pipe = make_pipeline(_preprocessor(cols, names), _classifier(model, seed))
        pipe.fit(x[train], y[train])
        aucs.append(float(roc_auc_score(y[test], pipe.predict_proba(x[test])[:, 1])))
    score = 1.0 - float(np.mean([max(a, 0.5) * 2.0 - 1.0 for a in aucs]))
    return DetectionResult(float(np.mean(aucs)), score, tuple(aucs), model, n)


def tstr(
    real_train: Any,
    synthetic: Any,
    real_test: Any,
    target: str,
    columns: Mapping[str, str] | None = None,
    *,
    seed: int = 0,
    max_rows: int = 5_000,
) -> dict[str, Any]:
    """Train on synthetic, test on real (TSTR), beside train on real, test on real (TRTR).

    Each model is trained once on ``real_train`` and once on ``synthetic`` (each subsampled to ``max_rows``
    rows with ``seed``) to predict ``target`` from the other columns, and tested on ``real_test``; features
    go through the preprocessing of :func:`detection_score`, fitted on the training source (a category absent
    from it is all zeros). Rows whose target is missing are dropped from all three frames; ``real_test`` is
    not subsampled. ``max_rows=5_000`` keeps a 5-class diamonds target near 3 s on two cores; raise it for
    tighter numbers.

    - categorical / boolean target: classification with histogram gradient boosting (``"gbm"``) and
      logistic regression (``"linear"``); accuracy and macro F1 (primary). A training source with a single
      class gives a model that predicts that class (``"constant": true``), not an error;
    - numerical / datetime target: regression with histogram gradient boosting and ridge regression
      (:math:`\\alpha = 1`); :math:`R^2` (primary) and mean absolute error.

    Returns:
        ``{"task": "classification" | "regression", "target", "primary": "f1_macro" | "r2",
        "n_train": {"real", "synthetic"}, "n_test", "models": {"gbm": {"real": {metric: value, ...},
        "synthetic": {...}}, "linear": {...}}, "best_real", "best_synthetic", "gap"}`` where ``gap`` = best
        real primary score minus best synthetic one (near 0: the synthetic table is as useful as the real one).

    Raises:
        DataError: an empty frame, a missing column, ``target`` not among the columns, no rows with a target.
    """
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score
    from sklearn.pipeline import make_pipeline

    frames = {"real_train": real_train, "synthetic": synthetic, "real_test": real_test}
    kinds = _check_frames(frames, columns)
    if target not in kinds:
        raise DataError(f"target {target!r} is not among the columns {list(kinds)}; name one of them")
    features = [c for c in kinds if c != target]
    if not features:
        raise DataError(f"tstr needs at least one feature column besides the target {target!r}")
    cols = _encode(frames, kinds)
    tcol = cols[target]
    classification = not tcol.continuous
    rng = np.random.default_rng(seed)
    data = []
    for i, label in enumerate(frames):
        y = tcol.values[i]
        keep = np.flatnonzero(y != tcol.levels - 1 if classification else ~np.isnan(y))
        if len(keep) == 0:
            raise DataError(f"every row of {label} lacks the target {target!r}; tstr needs rows with a target")
        if i < 2:
            keep = keep[_subsample(len(keep), max_rows, rng)]
        data.append((_matrix(cols, features, i, keep), y[keep]))
    (x_test, y_test) = data[2]
    models: dict[str, dict[str, Any]] = {"gbm": {}, "linear": {}}
    for source, (x, y) in zip(("real", "synthetic"), data[:2], strict=True):
        for name in models:
            if classification:
                constant = len(np.unique(y)) < 2
                if constant:
                    est = DummyClassifier(strategy="most_frequent")
                elif name == "gbm":
                    est = HistGradientBoostingClassifier(random_state=seed)
                else:
                    est = LogisticRegression(max_iter=1000)
            else:
                est = HistGradientBoostingRegressor(random_state=seed) if name == "gbm" else Ridge(alpha=1.0)
            pipe = make_pipeline(_preprocessor(cols, features), est).fit(x, y)
            pred = pipe.predict(x_test)
            if classification:
                models[name][source] = {
                    "accuracy": float(accuracy_score(y_test, pred)),
                    "f1_macro": float(f1_score(y_test, pred, average="macro", zero_division=0)),
                    "constant": bool(constant),
                }
            else:
                models[name][source] = {
                    "r2": float(r2_score(y_test, pred)),
                    "mae": float(mean_absolute_error(y_test, pred)),
                }
    primary = "f1_macro" if classification else "r2"
    best_real = max(m["real"][primary] for m in models.values())
    best_syn = max(m["synthetic"][primary] for m in models.values())
    return {
        "task": "classification" if classification else "regression",
        "target": target,
        "primary": primary,
        "n_train": {"real": len(data[0][1]), "synthetic": len(data[1][1])},
        "n_test": len(y_test),
        "models": models,
        "best_real": best_real,
        "best_synthetic": best_syn,
        "gap": best_real - best_syn,
    }
