"""Metrics as staged pure functions of samples (this package never imports the trainer)."""

from .modes import ModeCoverage, class_histogram, fit_probe, histogram_kl, mode_coverage

__all__ = ["ModeCoverage", "class_histogram", "fit_probe", "histogram_kl", "mode_coverage"]
