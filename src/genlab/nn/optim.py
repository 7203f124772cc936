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


class MomentumSGD(torch.optim.Optimizer):
    """SGD with heavy-ball momentum and L2 weight decay, in four fused passes per step.

    The update is torch's ``SGD(momentum=m, weight_decay=wd)`` (dampening 0, no Nesterov):
    ``buf = m * buf + (grad + wd * p)``, ``p -= lr * buf``; the state (``momentum_buffer``) has the same
    name. It skips torch's generic bookkeeping, which costs as much as the arithmetic for the few large
    tensors of an RBM (0.6 ms vs 0.3 ms per step for a 784x500 RBM here).
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        if lr <= 0 or not 0 <= momentum < 1 or weight_decay < 0:
            raise ValueError(f"need lr > 0, 0 <= momentum < 1, weight_decay >= 0; got {lr}, {momentum}, {weight_decay}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if wd:
                    g.add_(p, alpha=wd)
                if mom:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = g.clone()
                    else:
                        buf.mul_(mom).add_(g)
                    g = buf
                p.add_(g, alpha=-lr)
