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


def energy_pictures(
    W: torch.Tensor, data_shape: tuple[int, ...], chain: torch.Tensor | None
) -> dict[str, tuple[torch.Tensor, int]]:
    """``{"filters": ..., "gibbs_chain": ...}`` for a run directory, each ``(images in [0, 1], images per row)``;
    ``chain`` is ``(T, N, ...)`` visible means, or ``None``. Data that are not images give no pictures."""
    out = {}
    f = filters(W, data_shape)
    if f is not None:
        out["filters"] = (f, 10)
    if chain is not None:
        imgs = as_images(chain_strip(chain).reshape(chain.shape[0] * chain.shape[1], -1), data_shape)
        if imgs is not None:
            out["gibbs_chain"] = (imgs, chain.shape[0])
    return out
