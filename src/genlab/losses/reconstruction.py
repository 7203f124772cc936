"""Reconstruction log-likelihoods, summed over every dimension but the batch one."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_LOG_2PI = math.log(2 * math.pi)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``sum_d [x_d log p_d + (1 - x_d) log(1 - p_d)]`` with ``p = sigmoid(logits)``; shape ``(B,)``.

    Computed from logits for numerical stability; ``x`` may hold intensities in [0, 1]
    (the continuous-Bernoulli-free "BCE on intensities" convention) or binary values.
    """
    ll = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return ll.reshape(ll.shape[0], -1).sum(1)


def gaussian_log_likelihood(mean: torch.Tensor, x: torch.Tensor, log_std: torch.Tensor | float) -> torch.Tensor:
    """``sum_d log N(x_d; mean_d, exp(log_std_d)^2)`` in nats; shape ``(B,)``."""
    if not isinstance(log_std, torch.Tensor):
        log_std = torch.tensor(float(log_std), dtype=mean.dtype, device=mean.device)
    z = (x - mean) * torch.exp(-log_std)
    ll = -0.5 * z.square() - log_std - 0.5 * _LOG_2PI
    return ll.reshape(ll.shape[0], -1).sum(1)


def reconstruction_error(
    out: torch.Tensor, x: torch.Tensor, kind: str = "mse", observed: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-sample reconstruction loss ``(B,)`` of an autoencoder, summed over the dimensions.

    Args:
        out: raw decoder output: values (``"mse"``: squared error) or logits (``"bce"``: binary cross-entropy).
        x: targets, reshaped to ``out``'s shape.
        kind: ``"mse"`` or ``"bce"``.
        observed: optional boolean mask; entries where it is False (missing values) add nothing.
    """
    x = x.reshape(out.shape)
    per = F.binary_cross_entropy_with_logits(out, x, reduction="none") if kind == "bce" else (out - x).square()
    if observed is not None:
        per = per * observed.reshape(out.shape)
    return per.reshape(per.shape[0], -1).sum(1)
