"""Masked layers for autoregressive networks (MADE): a linear layer whose weight is multiplied by a fixed mask."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskedLinear(nn.Linear):
    """``y = x (W * M)^T + b`` with a binary mask ``M`` (set by :meth:`set_mask`; not saved: the owner rebuilds
    it from its config)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias)
        self.register_buffer("mask", torch.ones(out_features, in_features), persistent=False)

    def set_mask(self, mask: torch.Tensor) -> None:
        if tuple(mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"mask of shape {tuple(mask.shape)} for a layer of shape {tuple(self.mask.shape)}")
        self.mask.copy_(mask.to(self.mask.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


def made_degrees(order: torch.Tensor, hidden_dims: tuple[int, ...], generator: torch.Generator) -> list[torch.Tensor]:
    """Connectivity degrees of MADE (Germain et al. 2015): the inputs' degrees are their positions in the
    autoregressive ``order`` (1..D); each hidden unit gets a degree drawn uniformly from
    ``[min degree of the layer below, D - 1]``, so it may only depend on inputs of degree at most its own.

    The degrees are drawn on ``generator``'s device; :meth:`MaskedLinear.set_mask` copies a mask to the layer's."""
    d = order.numel()
    degrees = [order.clone()]
    for h in hidden_dims:
        low = int(degrees[-1].min()) if d > 1 else 1
        high = max(low, d - 1)
        degrees.append(torch.randint(low, high + 1, (h,), generator=generator, device=generator.device))
    return degrees


def made_masks(degrees: list[torch.Tensor]) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """The masks from the degrees: hidden ``M[k, j] = m_l(k) >= m_{l-1}(j)``, output ``M[d, k] = m_in(d) > m_L(k)``
    (strict: an output never sees its own input), and the direct input-to-output mask ``m_in(d) > m_in(j)``.

    Returns:
        ``(hidden masks, output mask, direct mask)``, each ``(out_features, in_features)``.
    """
    hidden = [(degrees[i + 1][:, None] >= degrees[i][None, :]).float() for i in range(len(degrees) - 1)]
    out = (degrees[0][:, None] > degrees[-1][None, :]).float()
    direct = (degrees[0][:, None] > degrees[0][None, :]).float()
    return hidden, out, direct


__all__ = ["MaskedLinear", "made_degrees", "made_masks"]
