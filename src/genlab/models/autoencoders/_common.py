"""Small pieces the autoencoder models share."""

from __future__ import annotations

import torch

from ..base import eval_mode


@torch.no_grad()
def fit_code_gaussian(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1024) -> None:
    """Set ``model.code_mean`` / ``model.code_std`` to the mean and spread of the codes of ``x``.

    An autoencoder has no prior; its ``sample`` decodes codes drawn from this diagonal Gaussian.
    """
    with eval_mode(model):  # the codes the model gives at evaluation (no dropout), whatever its mode
        codes = torch.cat([model.encode(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    model.code_mean.copy_(codes.mean(0))
    model.code_std.copy_(codes.std(0).clamp_min(1e-6) if len(codes) > 1 else torch.ones_like(model.code_std))
