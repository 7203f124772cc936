"""Invertible layers for normalizing flows: affine couplings (flat and image masks), activation norm, squeeze.

Every layer maps ``x -> (y, log|det dy/dx|)`` in ``forward`` and back in ``inverse``; the log-determinants are
per sample, ``(B,)``.
"""

from __future__ import annotations

import torch
from torch import nn

from .collective import shard_mean, world_size
from .mlp import mlp


def checkerboard(h: int, w: int, parity: int) -> torch.Tensor:
    """``(1, 1, h, w)`` mask of the pixels with ``(i + j) % 2 == parity``."""
    i, j = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return ((i + j) % 2 == parity).float().reshape(1, 1, h, w)


def flat_mask(d: int, kind: int) -> torch.Tensor:
    """``(1, d)`` masks cycled by flat couplings: even indices, odd indices, first half, second half."""
    idx = torch.arange(d)
    masks = [idx % 2 == 0, idx % 2 == 1, idx < d // 2, idx >= d // 2]
    m = masks[kind % (4 if d > 2 else 2)]
    return m.float().reshape(1, d)


class _ConvNet(nn.Module):
    """The scale-and-shift network of an image coupling: 3x3 convolutions with residual blocks."""

    def __init__(self, c_in: int, c_out: int, width: int, blocks: int) -> None:
        super().__init__()
        self.inp = nn.Conv2d(c_in, width, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 1))
            for _ in range(blocks)
        )
        self.out = nn.Conv2d(width, c_out, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # each coupling starts as the identity
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for b in self.blocks:
            h = h + b(h)
        return self.out(torch.relu(h))


class AffineCoupling(nn.Module):
    r"""Affine coupling (Dinh et al. 2017): with a binary mask :math:`b`,

    .. math::
        y = b \odot x + (1 - b) \odot \big(x \odot e^{s(b \odot x)} + t(b \odot x)\big), \qquad
        \log |\det J| = \sum (1 - b) \odot s(b \odot x),

    with :math:`s = \lambda \tanh(\cdot)` bounded by a learned per-feature scale :math:`\lambda`. The masked
    half passes through and parameterizes the transform of the other half, so the inverse is explicit.

    Args:
        mask: ``(1, d)`` for flat data or ``(1, C, H, W)`` for images (1 = kept).
        hidden: MLP widths (flat) or ``(width, residual blocks)`` (images).
    """

    def __init__(self, mask: torch.Tensor, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("mask", mask)
        self.image = mask.ndim == 4
        if self.image:
            c = mask.shape[1]
            width, blocks = hidden
            self.net = _ConvNet(c + 1, 2 * c, width, blocks)  # the masked input and the mask itself
            self.scale = nn.Parameter(torch.ones(1, c, 1, 1))
        else:
            d = mask.shape[1]
            self.net = mlp(d, hidden, 2 * d)
            # near the identity, not at it: with exact zeros every coupling's gradient vanishes on data whose
            # standardized coordinates are independent (a grid of modes), and the flow never leaves a Gaussian
            nn.init.normal_(self.net[-1].weight, std=1e-2)
            nn.init.zeros_(self.net[-1].bias)
            self.scale = nn.Parameter(torch.ones(1, d))

    def _st(self, x_kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.image:
            inp = torch.cat([x_kept, self.mask[:, :1].expand(x_kept.shape[0], 1, *x_kept.shape[2:])], 1)
            raw = self.net(inp)
        else:
            raw = self.net(x_kept)
        s, t = raw.chunk(2, dim=1)
        free = 1 - self.mask
        return self.scale * torch.tanh(s) * free, t * free

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self._st(x * self.mask)
        return x * torch.exp(s) + t, s.reshape(x.shape[0], -1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        s, t = self._st(y * self.mask)  # the kept part is unchanged, so s and t are recomputed exactly
        return (y - t) * torch.exp(-s)


class ActNorm(nn.Module):
    """Per-feature (per-channel for images) affine map ``y = (x + bias) * exp(log_scale)``, initialised from
    the first training batch it sees (zero mean, unit variance; Kingma & Dhariwal 2018)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(shape))
        self.log_scale = nn.Parameter(torch.zeros(shape))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    def _dims(self, x: torch.Tensor) -> list[int]:
        return [0, 2, 3] if x.ndim == 4 else [0]

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        mean = x.mean(self._dims(x), keepdim=True)
        if world_size() == 1:
            std = x.std(self._dims(x), keepdim=True).clamp_min(1e-3)
        else:  # under torchrun, the moments of the whole first batch (every process's shard): all start alike
            mean, second = shard_mean(mean), shard_mean(x.square().mean(self._dims(x), keepdim=True))
            n = x.numel() // mean.numel() * world_size()
            std = ((second - mean.square()).clamp_min(0.0) * n / max(n - 1, 1)).sqrt().clamp_min(1e-3)
        self.bias.copy_(-mean.reshape(self.bias.shape))
        self.log_scale.copy_(-std.log().reshape(self.log_scale.shape))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not bool(self.initialized):
            self.initialize(x)
        per_position = x[0].numel() // self.log_scale.numel()
        logdet = self.log_scale.sum() * per_position
        return (x + self.bias) * torch.exp(self.log_scale), logdet.expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.exp(-self.log_scale) - self.bias


class Squeeze(nn.Module):
    """``(C, H, W) -> (4C, H/2, W/2)``: each 2x2 patch becomes four channels (volume preserving)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = x.shape
        y = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)
        return y, x.new_zeros(b)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        b, c4, h, w = y.shape
        c = c4 // 4
        return y.reshape(b, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c, 2 * h, 2 * w)


__all__ = ["ActNorm", "AffineCoupling", "Squeeze", "checkerboard", "flat_mask"]
