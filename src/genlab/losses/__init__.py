"""Objectives as pure functions of tensors."""

from .adversarial import ADVERSARIAL_LOSSES, discriminator_loss, generator_loss, gradient_penalty, r1_penalty
from .divergence import kl_normal_std_normal
from .reconstruction import bernoulli_log_likelihood, gaussian_log_likelihood, reconstruction_error

__all__ = [
    "ADVERSARIAL_LOSSES",
    "bernoulli_log_likelihood",
    "discriminator_loss",
    "gaussian_log_likelihood",
    "generator_loss",
    "gradient_penalty",
    "kl_normal_std_normal",
    "r1_penalty",
    "reconstruction_error",
]
