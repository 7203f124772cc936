"""KL divergences in closed form."""

from __future__ import annotations

import torch


def kl_normal_std_normal(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, diag(exp(logvar))) || N(0, I))`` per sample, shape ``(B,)``.

    ``KL = 1/2 sum_j (mean_j^2 + exp(logvar_j) - logvar_j - 1)``.
    """
    return 0.5 * (mean.square() + logvar.exp() - logvar - 1.0).sum(1)
