"""Metrics as staged pure functions of samples (this package never imports the trainer)."""

from .likelihood import AISResult, LogLikelihood, ais, base_bias_from_data, default_betas, log_likelihood, log_partition
from .modes import ModeCoverage, class_histogram, fit_probe, histogram_kl, mode_coverage

__all__ = [
    "AISResult",
    "LogLikelihood",
    "ModeCoverage",
    "ais",
    "base_bias_from_data",
    "class_histogram",
    "default_betas",
    "fit_probe",
    "histogram_kl",
    "log_likelihood",
    "log_partition",
    "mode_coverage",
]
