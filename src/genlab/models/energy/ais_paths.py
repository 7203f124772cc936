"""Annealing paths for AIS: from a tractable base model to an RBM, one intermediate distribution per beta.

A path has ``log_base_partition()``, ``sample_base(n, generator)`` and ``step(x, beta_prev, beta, generator)``,
which returns ``log p*_beta(x) - log p*_beta_prev(x)`` for the current states ``x`` and then moves them with a
Gibbs transition that leaves ``p_beta`` invariant. :func:`genlab.metrics.ais` runs any such path.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .sampling import bernoulli

if TYPE_CHECKING:
    from .rbm import RBM

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class RBMPath:
    r"""Salakhutdinov & Murray (2008): :math:`p^*_\beta(v) = e^{(1-\beta) b_A^\top v}\, e^{\beta b^\top v}
    \prod_j (1 + e^{\beta (c_j + v^\top W_{:j})})` between a base-rate model with visible biases :math:`b_A`
    (and no weights) at :math:`\beta = 0` and the RBM at :math:`\beta = 1`.

    Gaussian visibles keep the RBM's means and variances in the base: :math:`p^*_\beta(v) =
    e^{-\|(v - b)/\sigma\|^2/2} \prod_j (1 + e^{\beta (c_j + (v/\sigma)^\top W_{:j})})`.

    Args:
        rbm: the target model.
        base_bias: visible biases of the base model (Bernoulli visibles), e.g. the log-odds of the training
            data's pixel means; default the RBM's own visible biases.
    """

    def __init__(self, rbm: RBM, base_bias: torch.Tensor | None = None) -> None:
        self.W, self.b, self.c = rbm.params()
        self.gaussian = rbm.gaussian
        self.sigma = rbm.sigma.detach()
        self.n_hidden = self.W.shape[1]
        self.base_bias = self.b if base_bias is None else torch.as_tensor(base_bias, dtype=self.W.dtype)
        if self.base_bias.shape != self.b.shape:
            raise ValueError(f"base_bias must have shape {tuple(self.b.shape)}, got {tuple(self.base_bias.shape)}")

    def log_base_partition(self) -> float:
        hidden = self.n_hidden * math.log(2.0)
        if self.gaussian:
            return hidden + float((_HALF_LOG_2PI + self.sigma.double().log()).sum())
        return hidden + float(F.softplus(self.base_bias.double()).sum())

    def sample_base(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self.gaussian:
            return self.b + self.sigma * torch.randn((n, self.b.shape[0]), generator=generator)
        return bernoulli(torch.sigmoid(self.base_bias).expand(n, -1).contiguous(), generator)

    def step(self, x: torch.Tensor, beta_prev: float, beta: float, generator: torch.Generator) -> tuple:
        xin = x / self.sigma if self.gaussian else x
        act = torch.addmm(self.c, xin, self.W)
        act64 = act.double()
        delta = (F.softplus(beta * act64) - F.softplus(beta_prev * act64)).sum(1)
        if not self.gaussian:
            delta += (beta - beta_prev) * (x.double() @ (self.b - self.base_bias).double())
        h = bernoulli(torch.sigmoid_(act.mul_(beta)), generator)
        if self.gaussian:
            mean = torch.addcmul(self.b, h @ self.W.t(), self.sigma, value=beta)
            x = mean + self.sigma * torch.randn(mean.shape, generator=generator)
        else:
            logits = torch.addmm(self.base_bias, h, self.W.t(), beta=1.0, alpha=beta)
            logits.add_(self.b - self.base_bias, alpha=beta)
            x = bernoulli(torch.sigmoid_(logits), generator)
        return delta, x
