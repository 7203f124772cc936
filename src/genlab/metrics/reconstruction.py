"""Reconstruction metrics: how closely an autoencoder's output matches its input.

For samples ``x`` and reconstructions ``x_hat`` with values in ``value_range = (lo, hi)``:

- ``mse``: the mean squared error per value, and ``mse_per_sample``: summed over a sample's values;
- ``bce``: the binary cross-entropy per sample (summed over values), for data in [0, 1] only (the Bernoulli
  negative log-likelihood of ``x`` under ``x_hat``, reconstructions clamped to ``[1e-7, 1 - 1e-7]``);
- ``psnr``: :math:`10 \\log_{10}((hi - lo)^2 / \\mathrm{MSE}_i)` per sample, averaged over samples (dB; a
  perfect reconstruction is capped at 100 dB).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..errors import DataError
from .image import psnr


def reconstruction_metrics(
    x: torch.Tensor, x_hat: torch.Tensor, value_range: tuple[float, float] = (0.0, 1.0)
) -> dict[str, float]:
    """``mse``, ``mse_per_sample``, ``psnr`` and (for [0, 1] data) ``bce`` of reconstructions ``x_hat`` of ``x``."""
    x, x_hat = torch.as_tensor(x).double(), torch.as_tensor(x_hat).double()
    if x.shape != x_hat.shape or x.ndim < 2 or x.shape[0] == 0:
        raise DataError(
            f"reconstruction metrics need x and x_hat of one shape (N, ...), got {tuple(x.shape)} and "
            f"{tuple(x_hat.shape)}"
        )
    if not (torch.isfinite(x).all() and torch.isfinite(x_hat).all()):
        raise DataError("reconstruction metrics got NaN or Inf values")
    lo, hi = value_range
    per_sample = (x - x_hat).square().reshape(x.shape[0], -1)
    mse_i = per_sample.mean(1)
    psnr_i = psnr(x, x_hat, data_range=hi - lo, per_sample=True).clamp(max=100.0)
    out = {
        "mse": float(mse_i.mean()),
        "mse_per_sample": float(per_sample.sum(1).mean()),
        "psnr": float(psnr_i.mean()),
    }
    if (lo, hi) == (0.0, 1.0):
        p = x_hat.clamp(1e-7, 1 - 1e-7)
        out["bce"] = float(
            F.binary_cross_entropy(p, x.clamp(0, 1), reduction="none").reshape(x.shape[0], -1).sum(1).mean()
        )
    return {k: v if math.isfinite(v) else float("nan") for k, v in out.items()}


__all__ = ["reconstruction_metrics"]
