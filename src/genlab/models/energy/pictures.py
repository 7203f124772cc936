"""Pictures of energy-based models: receptive fields ("filters") and Gibbs chains as image grids."""

from __future__ import annotations

import math

import torch


def as_images(flat: torch.Tensor, data_shape: tuple[int, ...]) -> torch.Tensor | None:
    """Rows ``(N, D)`` as images ``(N, C, H, W)``: the data's own image shape, or a square for flat data."""
    if len(data_shape) == 3:
        return flat.reshape(flat.shape[0], *data_shape)
    side = math.isqrt(flat.shape[1])
    if side * side == flat.shape[1]:
        return flat.reshape(flat.shape[0], 1, side, side)
    return None


def filters(W: torch.Tensor, data_shape: tuple[int, ...], n: int = 100) -> torch.Tensor | None:
    """The first ``n`` columns of ``W`` ``(D, H)`` as images, each scaled to [0, 1] on its own."""
    cols = W.detach()[:, :n].t()
    lo = cols.min(1, keepdim=True).values
    hi = cols.max(1, keepdim=True).values
    return as_images((cols - lo) / (hi - lo).clamp_min(1e-12), data_shape)


def chain_strip(chain: torch.Tensor) -> torch.Tensor:
    """A Gibbs chain ``(T, N, ...)`` as rows of ``T`` frames, one row per chain: ``(N * T, ...)``."""
    return chain.transpose(0, 1).reshape(-1, *chain.shape[2:])
