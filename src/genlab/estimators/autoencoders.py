"""scikit-learn compatible estimators around the autoencoder applications of :mod:`genlab.apps`.

- :class:`AnomalyDetector`: an outlier detector. ``predict`` gives **0 = inlier, 1 = outlier** (PyOD's
  convention), ``decision_function`` the anomaly score (**higher = more abnormal**) and ``score_samples`` its
  negative (**higher = more normal**, like scikit-learn's ``IsolationForest.score_samples``).
- :class:`Denoiser`: a transformer from noisy to cleaned samples (a denoising autoencoder).
- :class:`Imputer`: a transformer that fills NaN entries by iterative reconstruction; observed entries are
  returned bit for bit.
- :class:`AutoencoderFeatures`: a transformer from samples to codes, for ``Pipeline`` and ``GridSearchCV``.

They follow scikit-learn's rules: constructor arguments are stored unchanged and checked in ``fit``;
``fit(X, y=None)`` returns ``self`` and sets attributes ending in ``_``; an unfitted estimator raises
``NotFittedError``; ``random_state`` (an int) makes two fits give identical results; training prints
nothing unless ``verbose``. ``X`` is a 2-D array ``(n_samples, n_features)``; the genlab-specific use also
takes images ``(n_samples, C, H, W)``. Outputs keep ``X``'s float dtype (float64 for integer input).

Fitted estimators are saved as a directory with ``est.save(dir)`` and rebuilt with ``AnomalyDetector.load(dir)``:
the model directory of :mod:`genlab.io` plus a JSON file of the parameters and fitted values (no pickle).

Run scikit-learn's conformance checks with :func:`expected_failed_checks`::

    from sklearn.utils.estimator_checks import check_estimator
    check_estimator(AnomalyDetector(epochs=2), expected_failed_checks=expected_failed_checks(AnomalyDetector()))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OneToOneFeatureMixin,
    OutlierMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from .._device import to_numpy
from ..apps import anomaly, denoising, features, imputation
from ..apps._base import AutoencoderApp
from ..apps._common import plain
from ..apps.compression import CompressionReport, compression_report
from ..errors import ModelFileError
from ..models.base import GenerativeModel
from ._common import seed_from

_PYOD_CONVENTION = (
    "genlab follows PyOD's convention: predict returns 0 (inlier) / 1 (outlier) and decision_function is higher "
    "for more abnormal samples, while this check expects scikit-learn's -1 / +1 labels and negative decision "
    "values for outliers"
)


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    """The scikit-learn estimator checks that do not apply to ``estimator``, with the reason.

    Pass it to ``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)`` or
    ``check_estimator(est, expected_failed_checks=expected_failed_checks(est))``.
    """
    if isinstance(estimator, AnomalyDetector):
        return {"check_outliers_train": _PYOD_CONVENTION, "check_outliers_fit_predict": _PYOD_CONVENTION}
    return {}


class _AutoencoderEstimator(BaseEstimator):
    """What the estimators share: input checks, the seed, the application, fitted properties, files."""

    _app_class: ClassVar[type[AutoencoderApp]]
    _allow_nan: ClassVar[bool] = False
    #: constructor parameters passed on to the application (besides the common ones)
    _app_params: ClassVar[tuple[str, ...]] = ()

    # --- fitting -----------------------------------------------------------------------------------
    def _seed(self) -> int:
        return seed_from(self.random_state)

    def _make_app(self) -> AutoencoderApp:
        common = {
            "latent_dim": self.latent_dim,
            "hidden_dims": self.hidden_dims,
            "lr": self.lr,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "standardize": self.standardize,
            "model_params": self.model_params,
            "device": self.device,
        }
        specific = {k: getattr(self, k) for k in self._app_params}
        kwargs = {k: plain(v) for k, v in {**common, **specific}.items()}
        return self._app_class(self.model, seed=self._seed(), verbose=bool(self.verbose), **kwargs)

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        """``X`` as a float32 / float64 numpy array (n_features checked against fit), NaN/Inf checked by genlab."""
        if not reset:
            check_is_fitted(self)
        arr = validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], ensure_all_finite=False, allow_nd=True
        )
        return arr if arr.flags.writeable else arr.copy()  # torch cannot wrap read-only memory (memmaps)

    def fit(self, X: Any, y: Any = None) -> _AutoencoderEstimator:
        """Train on ``X`` ``(n_samples, n_features)`` (or images ``(n_samples, C, H, W)``); ``y`` is ignored."""
        arr = self._validate(X, reset=True)
        app = self._make_app()
        app.fit(arr)
        self.app_ = app
        self._after_fit()
        return self

    def _after_fit(self) -> None:
        """Set estimator-specific fitted attributes from ``app_`` (after fit and load)."""

    def _out(self, t: torch.Tensor, X: np.ndarray) -> np.ndarray:
        """A result as numpy in ``X``'s float dtype."""
        return to_numpy(t).astype(X.dtype, copy=False)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "app_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allow_nan
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # --- fitted values -----------------------------------------------------------------------------
    @property
    def model_(self) -> GenerativeModel:
        """The trained genlab model (it sees standardized inputs when ``standardize`` applied)."""
        check_is_fitted(self)
        return self.app_.model

    @property
    def history_(self) -> list[dict[str, float]]:
        """Training metrics, one dict per epoch."""
        check_is_fitted(self)
        return self.app_.history

    @property
    def sample_shape_(self) -> tuple[int, ...]:
        """Shape of one training sample: ``(n_features,)`` or ``(C, H, W)``."""
        check_is_fitted(self)
        return self.app_.sample_shape

    # --- files -------------------------------------------------------------------------------------
    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the fitted estimator to the directory ``path``: ``model/`` and ``app.json`` (no pickle).

        A ``random_state`` that is not an int is saved as the seed this fit used.
        """
        check_is_fitted(self)
        params = {k: plain(v) for k, v in self.get_params(deep=False).items()}
        params["random_state"] = (
            self.app_.seed if not isinstance(params["random_state"], int) else params["random_state"]
        )
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
        fitted = {"n_features_in_": int(self.n_features_in_)}
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        return self.app_.save(
            path, overwrite=overwrite, extra={"estimator": type(self).__name__, "params": params, "fitted": fitted}
        )

    @classmethod
    def load(cls, path: str | Path) -> _AutoencoderEstimator:
        """Rebuild an estimator saved by :meth:`save`."""
        extra = cls._app_class.read_document(path, check_class=False).get("extra") or {}
        if extra.get("estimator") != cls.__name__:
            found = f"a saved {extra['estimator']}" if extra.get("estimator") else "no estimator"
            raise ModelFileError(f"{path} does not hold a saved {cls.__name__} ({found}); load it with its own class")
        params = dict(extra["params"])
        if isinstance(params.get("hidden_dims"), list):
            params["hidden_dims"] = tuple(params["hidden_dims"])
        est = cls(**params)
        est.app_ = cls._app_class.load(path)
        fitted = dict(extra.get("fitted") or {})
        names = fitted.pop("feature_names_in_", None)
        if names is not None:
            est.feature_names_in_ = np.asarray(names, dtype=object)
        est.n_features_in_ = int(fitted["n_features_in_"])
        est._after_fit()
        return est


class AnomalyDetector(OutlierMixin, _AutoencoderEstimator):
    """Autoencoder / VAE anomaly detector (:class:`genlab.apps.anomaly.Detector`), PyOD-style.

    Conventions (as PyOD): ``predict`` returns **0 for inliers and 1 for outliers**; ``decision_function``
    returns the raw anomaly score (reconstruction error, or the negative ELBO for a VAE), **higher = more
    abnormal**, and ``predict(X) == (decision_function(X) > threshold_)``; ``score_samples`` returns its
    negative, **higher = more normal**, as scikit-learn's ``IsolationForest.score_samples`` does.

    Args:
        model: registry name of an autoencoder (``"ae"``, ``"vae"``, ``"sparse_ae"``...).
        latent_dim: code size.
        hidden_dims: encoder widths (the decoder mirrors them).
        epochs: training epochs.
        batch_size: samples per training step.
        lr: learning rate.
        contamination: fraction of outliers assumed in the training data, in [0, 0.5]; the threshold is the
            ``1 - contamination`` quantile of the training scores.
        threshold_quantile: if set (e.g. 0.99), the threshold is this quantile of the scores of a held-out
            ``val_fraction`` of the training data instead (``contamination`` is then unused).
        val_fraction: fraction held out for ``threshold_quantile``.
        k: importance samples for a VAE's score (1: negative ELBO).
        standardize: ``"auto"`` (tabular data with an MSE model), ``True`` or ``False``.
        model_params: other fields of the model's config, e.g. ``{"loss": "bce"}``.
        random_state: seeds the weights, batches and noise; an int gives repeatable fits.
        verbose: 0 trains silently; > 0 shows a progress bar.
        device: where to train: ``"auto"`` (a GPU when there is one), ``"cpu"``, ``"cuda[:N]"``, ``"mps"``.

    Attributes:
        threshold_: scores above it are outliers.
        decision_scores_: anomaly scores of the training data ``(n_samples,)`` (the part trained on).
        labels_: 0/1 labels of the training data.
        model_: the trained genlab model.
        n_features_in_: number of features seen in ``fit``.
    """

    _app_class = anomaly.Detector
    _app_params = ("contamination", "threshold_quantile", "val_fraction", "k")

    def __init__(
        self,
        model: str = "ae",
        *,
        latent_dim: int = 8,
        hidden_dims: tuple[int, ...] = (64,),
        epochs: int = 20,
        batch_size: int = 128,
        lr: float = 1e-3,
        contamination: float = 0.1,
        threshold_quantile: float | None = None,
        val_fraction: float = 0.2,
        k: int = 1,
        standardize: bool | str = "auto",
        model_params: dict[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        device: str = "auto",
    ) -> None:
        self.model = model
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.contamination = contamination
        self.threshold_quantile = threshold_quantile
        self.val_fraction = val_fraction
        self.k = k
        self.standardize = standardize
        self.model_params = model_params
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def _after_fit(self) -> None:
        self.threshold_ = float(self.app_.threshold)
        self.decision_scores_ = to_numpy(self.app_.train_scores.double())
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores ``(n_samples,)`` float64: **higher = more abnormal** (outlier when ``> threshold_``)."""
        arr = self._validate(X, reset=False)
        return to_numpy(self.app_.score(arr).double())

    def score_samples(self, X: Any) -> np.ndarray:
        """Normality scores ``(n_samples,)``: ``-decision_function(X)``, **higher = more normal**."""
        return -self.decision_function(X)

    def predict(self, X: Any) -> np.ndarray:
        """Labels ``(n_samples,)`` int64: **1 = outlier**, 0 = inlier."""
        return (self.decision_function(X) > self.threshold_).astype(np.int64)


class Denoiser(OneToOneFeatureMixin, TransformerMixin, _AutoencoderEstimator):
    """A denoising autoencoder (:class:`genlab.apps.denoising.Denoiser`): ``fit`` clean data, ``transform`` noisy data.

    Args:
        corruption: training corruption: ``"gaussian"``, ``"salt_and_pepper"`` or ``"mask"``.
        corruption_level: noise standard deviation (gaussian; in units of each feature's standard deviation
            when the data are standardized, in data units otherwise) or the fraction of corrupted values.
        clip: clamp the output into the range of the training data.
        Other arguments: as :class:`AnomalyDetector`.
    """

    _app_class = denoising.Denoiser
    _app_params = ("corruption", "corruption_level", "clip")

    def __init__(
        self,
        model: str = "ae",
        *,
        latent_dim: int = 8,
        hidden_dims: tuple[int, ...] = (64,),
        epochs: int = 20,
        batch_size: int = 128,
        lr: float = 1e-3,
        corruption: str = "gaussian",
        corruption_level: float = 0.2,
        clip: bool = True,
        standardize: bool | str = "auto",
        model_params: dict[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        device: str = "auto",
    ) -> None:
        self.model = model
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.corruption = corruption
        self.corruption_level = corruption_level
        self.clip = clip
        self.standardize = standardize
        self.model_params = model_params
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def transform(self, X: Any) -> np.ndarray:
        """Cleaned samples, shaped like ``X``."""
        arr = self._validate(X, reset=False)
        return self._out(self.app_.transform(arr), arr)


class Imputer(OneToOneFeatureMixin, TransformerMixin, _AutoencoderEstimator):
    """Missing-value imputer (:class:`genlab.apps.imputation.Imputer`): NaN entries are filled, others kept exactly.

    An autoencoder is trained on the observed entries with the mask corruption (missing ones are left out of
    its loss); missing entries then start at the feature means and the samples are reconstructed ``n_iter``
    times, each time replacing only the missing entries.

    Args:
        n_iter: reconstruct-and-replace iterations (0: mean imputation; 2-3 are usually best).
        mask_level: fraction of inputs hidden while training (``None``: the missing fraction of ``X``).
        clip: keep filled values within the range each feature took in training.
        indicator: also give the autoencoder an indicator of the missing entries (one pass then fills them).
        Other arguments: as :class:`AnomalyDetector`.
    """

    _app_class = imputation.Imputer
    _allow_nan = True
    _app_params = ("n_iter", "mask_level", "clip", "indicator")

    def __init__(
        self,
        model: str = "ae",
        *,
        latent_dim: int = 8,
        hidden_dims: tuple[int, ...] = (64,),
        epochs: int = 20,
        batch_size: int = 128,
        lr: float = 1e-3,
        n_iter: int = 3,
        mask_level: float | None = None,
        clip: bool = True,
        indicator: bool = True,
        standardize: bool | str = "auto",
        model_params: dict[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        device: str = "auto",
    ) -> None:
        self.model = model
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.n_iter = n_iter
        self.mask_level = mask_level
        self.clip = clip
        self.indicator = indicator
        self.standardize = standardize
        self.model_params = model_params
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def transform(self, X: Any) -> np.ndarray:
        """``X`` with NaN entries filled; every observed entry is returned exactly as given."""
        arr = self._validate(X, reset=False)
        return self._out(self.app_.transform(arr), arr)


class AutoencoderFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _AutoencoderEstimator):
    """Autoencoder codes as features (:class:`genlab.apps.features.FeatureExtractor`), for pipelines.

    ``transform`` gives ``(n_samples, latent_dim)`` codes (a VAE: posterior means), ``inverse_transform``
    decodes codes back to samples, and ``score`` is the negative mean squared reconstruction error per
    value (higher is better), so ``GridSearchCV`` can choose ``latent_dim`` without labels.

    Args: as :class:`AnomalyDetector` (without the threshold settings).
    """

    _app_class = features.FeatureExtractor

    def __init__(
        self,
        model: str = "ae",
        *,
        latent_dim: int = 8,
        hidden_dims: tuple[int, ...] = (64,),
        epochs: int = 20,
        batch_size: int = 128,
        lr: float = 1e-3,
        standardize: bool | str = "auto",
        model_params: dict[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        device: str = "auto",
    ) -> None:
        self.model = model
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.standardize = standardize
        self.model_params = model_params
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    @property
    def _n_features_out(self) -> int:
        return self.app_.n_features_out

    def transform(self, X: Any) -> np.ndarray:
        """Codes ``(n_samples, latent_dim)``."""
        arr = self._validate(X, reset=False)
        return self._out(self.app_.transform(arr), arr)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Samples ``(n_samples, *sample_shape_)`` decoded from codes ``(n_samples, latent_dim)``."""
        check_is_fitted(self)
        codes = np.asarray(X)
        out = self.app_.decode(codes)
        return to_numpy(out).astype(codes.dtype if codes.dtype in (np.float32, np.float64) else np.float64, copy=False)

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean squared reconstruction error per value (higher is better); ``y`` is ignored."""
        arr = self._validate(X, reset=False)
        rec = self.app_.reconstruct(arr).double()
        return -float((rec - torch.from_numpy(arr).double()).square().mean())

    def compression_report(self, X: Any, bits: int | None = 8, data_range: float | None = None) -> CompressionReport:
        """Compression ratio against reconstruction error of storing ``X`` as its (quantized) codes."""
        arr = self._validate(X, reset=False)
        return compression_report(self.app_, arr, bits=bits, data_range=data_range)


__all__ = ["AnomalyDetector", "AutoencoderFeatures", "Denoiser", "Imputer", "expected_failed_checks"]
