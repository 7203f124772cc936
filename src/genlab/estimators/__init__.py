"""scikit-learn compatible estimators (numpy in, numpy out, ``get_params``, pipelines).

- autoencoder applications: :class:`AnomalyDetector`, :class:`Denoiser`, :class:`Imputer`,
  :class:`AutoencoderFeatures` (see :mod:`genlab.estimators.autoencoders`);
- energy-based models: :class:`RBM` (a drop-in for scikit-learn's ``BernoulliRBM``) and
  :class:`DBNClassifier` (see :mod:`genlab.estimators.energy`).

Run scikit-learn's conformance checks with :func:`expected_failed_checks`::

    from sklearn.utils.estimator_checks import check_estimator
    check_estimator(AnomalyDetector(epochs=2), expected_failed_checks=expected_failed_checks(AnomalyDetector()))
"""

from sklearn.base import BaseEstimator

from . import autoencoders, energy
from .autoencoders import AnomalyDetector, AutoencoderFeatures, Denoiser, Imputer
from .energy import RBM, DBNClassifier


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    """The scikit-learn estimator checks that do not apply to ``estimator``, with the reason.

    Pass it to ``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)`` or
    ``check_estimator(est, expected_failed_checks=expected_failed_checks(est))``.
    """
    return {**autoencoders.expected_failed_checks(estimator), **energy.expected_failed_checks(estimator)}


__all__ = [
    "RBM",
    "AnomalyDetector",
    "AutoencoderFeatures",
    "DBNClassifier",
    "Denoiser",
    "Imputer",
    "expected_failed_checks",
]
