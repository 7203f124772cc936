"""Metrics as staged pure functions: samples -> features -> statistics -> value (never importing the trainer).

Sample quality (``real=`` and ``fake=`` keywords, samples or precomputed :class:`Features`):
:func:`fid`, :func:`kid`, :func:`inception_score`, :func:`precision_recall`, :func:`density_coverage`,
:func:`class_distribution`, :func:`mode_coverage` (2-D toys); reconstruction: :func:`reconstruction_metrics`;
image restoration: :func:`psnr`, :func:`ssim`, :func:`masked_error`, :func:`class_preservation`, and all of
them for an image-to-image model's outputs, :func:`translation_scores`;
likelihood: :func:`log_likelihood` (exact, IWAE or AIS); floors: :func:`metric_floors`.
"""

from .calibration import Calibration, auroc, expected_calibration_error
from .features import (
    DomainFeatures,
    FeatureNet,
    Features,
    InceptionFeatures,
    dataset_features,
    extract_features,
    feature_extractor,
    list_feature_nets,
)
from .fid import FIDResult, GaussianStats, fid, frechet_distance, gaussian_stats
from .floors import metric_floors
from .image import masked_error, psnr, ssim
from .kid import KIDResult, kid, mmd2_unbiased
from .likelihood import (
    AISResult,
    LogLikelihood,
    ais,
    base_bias_from_data,
    default_betas,
    log_likelihood,
    log_partition,
)
from .modes import ModeCoverage, class_histogram, fit_probe, histogram_kl, mode_coverage
from .quality import class_distribution, class_preservation, density_coverage, inception_score, precision_recall
from .reconstruction import reconstruction_metrics
from .translation import translation_scores

__all__ = [
    "AISResult",
    "Calibration",
    "DomainFeatures",
    "FIDResult",
    "FeatureNet",
    "Features",
    "GaussianStats",
    "InceptionFeatures",
    "KIDResult",
    "LogLikelihood",
    "ModeCoverage",
    "ais",
    "auroc",
    "base_bias_from_data",
    "class_distribution",
    "class_histogram",
    "class_preservation",
    "dataset_features",
    "default_betas",
    "density_coverage",
    "expected_calibration_error",
    "extract_features",
    "feature_extractor",
    "fid",
    "fit_probe",
    "frechet_distance",
    "gaussian_stats",
    "histogram_kl",
    "inception_score",
    "kid",
    "list_feature_nets",
    "log_likelihood",
    "log_partition",
    "masked_error",
    "metric_floors",
    "mmd2_unbiased",
    "mode_coverage",
    "precision_recall",
    "psnr",
    "reconstruction_metrics",
    "ssim",
    "translation_scores",
]
