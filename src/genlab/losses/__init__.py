"""Objectives as pure functions of tensors."""

from .divergence import kl_normal_std_normal
from .reconstruction import bernoulli_log_likelihood, gaussian_log_likelihood, reconstruction_error

__all__ = [
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "kl_normal_std_normal",
    "reconstruction_error",
]
