"""The log pseudo-likelihood of a binary RBM: scikit-learn's stochastic estimate, or the exact sum."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ..._device import randint

if TYPE_CHECKING:
    from .rbm import RBM


def pseudo_log_likelihood(rbm: RBM, v: torch.Tensor, generator: torch.Generator, exact: bool) -> torch.Tensor:
    r""":math:`\sum_i \log p(v_i | v_{-i})` ``(B,)`` of flat visible states ``v`` from free-energy differences.

    ``exact=False``: ``D * log sigmoid(F(v~) - F(v))`` with one unit of each sample flipped at random (as
    scikit-learn's BernoulliRBM); ``exact=True``: the sum over every unit, each flip changing the hidden
    logits by ``(1 - 2 v_i) W_i``.
    """
    fe = rbm.free_energy(v)
    d = v.shape[1]
    if not exact:
        idx = randint(0, d, (v.shape[0],), generator=generator, device=v.device)
        flipped = v.clone()
        rows = torch.arange(v.shape[0], device=v.device)
        flipped[rows, idx] = 1 - flipped[rows, idx]
        return d * F.logsigmoid(rbm.free_energy(flipped) - fe)
    W, b, c = rbm.params()
    act = rbm._hidden_logits(v, (W, b, c))  # (B, H)
    total = torch.zeros(v.shape[0], device=v.device)
    for i in range(d):
        delta = (1 - 2 * v[:, i : i + 1]) * W[i]
        fe_flip = -(v @ b + (1 - 2 * v[:, i]) * b[i]) - F.softplus(act + delta).sum(1)
        total += F.logsigmoid(fe_flip - fe)
    return total


__all__ = ["pseudo_log_likelihood"]
