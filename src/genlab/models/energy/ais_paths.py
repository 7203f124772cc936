"""Annealing paths for AIS: from a tractable base model to an RBM or a DBM, one intermediate distribution per beta.

A path has ``log_base_partition()``, ``sample_base(n, generator)`` and ``step(x, beta_prev, beta, generator)``,
which returns ``log p*_beta(x) - log p*_beta_prev(x)`` for the current states ``x`` and then moves them with a
Gibbs transition that leaves ``p_beta`` invariant. :func:`genlab.metrics.ais` runs any such path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F

from ..._device import randn
from ...errors import ConfigError
from .sampling import bernoulli

if TYPE_CHECKING:
    from .dbm import DBM
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
        self.base_bias = (
            self.b if base_bias is None else torch.as_tensor(base_bias, dtype=self.W.dtype, device=self.W.device)
        )
        if self.base_bias.shape != self.b.shape:
            raise ValueError(f"base_bias must have shape {tuple(self.b.shape)}, got {tuple(self.base_bias.shape)}")

    def log_base_partition(self) -> float:
        hidden = self.n_hidden * math.log(2.0)
        if self.gaussian:
            return hidden + float((_HALF_LOG_2PI + self.sigma.double().log()).sum())
        return hidden + float(F.softplus(self.base_bias.double()).sum())

    def sample_base(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self.gaussian:
            return self.b + self.sigma * randn((n, self.b.shape[0]), generator=generator, device=self.b.device)
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
            x = mean + self.sigma * randn(mean.shape, generator=generator, device=mean.device)
        else:
            logits = torch.addmm(self.base_bias, h, self.W.t(), beta=1.0, alpha=beta)
            logits.add_(self.b - self.base_bias, alpha=beta)
            x = bernoulli(torch.sigmoid_(logits), generator)
        return delta, x


class DBMPath:
    r"""AIS path for a deep Boltzmann machine with layers :math:`h^0 = v, h^1, \dots, h^L`, over the layers of one
    parity with the layers of the other parity summed out exactly (they are independent given their neighbours).

    On all layers, the intermediate distributions run from a factorial base model with biases :math:`a^l` (no
    weights) at :math:`\beta = 0` to the DBM at :math:`\beta = 1`: :math:`p^*_\beta(h) = \exp\big((1-\beta)
    \sum_l {a^l}^\top h^l - \beta E(h)\big)`. With the layers :math:`S` summed out and :math:`K` kept,

    .. math::
        \log p^*_\beta(h^K) = \sum_{l \in K} \big((1-\beta) a^l + \beta b^l\big)^\top h^l
        + \sum_{l \in S} \sum_j \mathrm{softplus}\big((1-\beta) a^l_j
        + \beta (b^l + h^{l-1} W^{l-1} + h^{l+1} {W^l}^\top)_j\big),

    and :math:`\log Z_0 = \sum_l \sum_j \mathrm{softplus}(a^l_j)`. Each transition is one block-Gibbs sweep
    at :math:`\beta` (summed layers given kept, then kept given summed).

    The base matters: with uniform hidden layers (:math:`a^l = 0`) the runs of a trained DBM start far from
    its mass and AIS can underestimate :math:`\log Z` by a hundred nats or more while its interval looks
    tight (seen on MNIST). Base rates of every layer, :meth:`DBM.base_biases` of the training data (the
    log-odds of the pixel means and of the mean-field posterior's means), start the runs near the model.

    Args:
        dbm: the target model.
        base_bias: the base model's biases: a list with one tensor per layer (e.g. ``dbm.base_biases(x)``), or
            one tensor for the visible layer alone (hidden layers uniform); default the DBM's visible biases
            and uniform hidden layers.
        anneal: the layers whose states the runs carry, ``"even"`` (``v, h^2``, the odd ones summed out, as in
            Salakhutdinov & Hinton 2009) or ``"odd"`` (``h^1, h^3``; an independent check of the estimate).
    """

    def __init__(
        self,
        dbm: DBM,
        base_bias: torch.Tensor | Sequence[torch.Tensor] | None = None,
        anneal: Literal["even", "odd"] = "even",
    ) -> None:
        if anneal not in ("even", "odd"):
            raise ConfigError(f"anneal must be 'even' or 'odd', got {anneal!r}")
        self.W = [w.detach() for w in dbm.weights]
        self.b = [t.detach() for t in dbm.biases]
        self.dims = list(dbm.dims)
        self.L = len(self.dims) - 1
        parity = 0 if anneal == "even" else 1
        self.kept = [layer for layer in range(self.L + 1) if layer % 2 == parity]
        self.summed = [layer for layer in range(self.L + 1) if layer % 2 != parity]
        self.base = self._base(base_bias)

    def _base(self, base_bias) -> list[torch.Tensor]:
        dtype, device = self.b[0].dtype, self.b[0].device
        if base_bias is None:
            base = [self.b[0], *(torch.zeros(d, dtype=dtype, device=device) for d in self.dims[1:])]
        elif isinstance(base_bias, torch.Tensor) and base_bias.ndim == 1:
            base = [base_bias, *(torch.zeros(d, dtype=dtype, device=device) for d in self.dims[1:])]
        else:
            base = list(base_bias)
        base = [torch.as_tensor(a, dtype=dtype, device=device) for a in base]
        if [tuple(a.shape) for a in base] != [(d,) for d in self.dims]:
            raise ConfigError(
                f"base_bias must be one tensor per layer with sizes {self.dims} (or one visible tensor), got "
                f"{[tuple(a.shape) for a in base]}"
            )
        return base

    def split(self, s: torch.Tensor) -> list[torch.Tensor]:
        """Rows of concatenated kept-layer states -> one tensor per kept layer."""
        return list(torch.split(s, [self.dims[i] for i in self.kept], 1))

    def _layers(self, x: Sequence[torch.Tensor]) -> list[torch.Tensor | None]:
        full: list[torch.Tensor | None] = [None] * (self.L + 1)
        for i, t in zip(self.kept, x, strict=True):
            full[i] = t
        return full

    def _weighted(self, full: list, layer: int) -> torch.Tensor:
        """``b^l + h^{l-1} W^{l-1} + h^{l+1} W^{lT}``: the DBM's input to ``layer`` from its neighbours."""
        out = self.b[layer]
        if layer > 0:
            out = torch.addmm(out, full[layer - 1].to(out.dtype), self.W[layer - 1].to(out.dtype))
        if layer < self.L:
            out = torch.addmm(out, full[layer + 1].to(out.dtype), self.W[layer].t().to(out.dtype))
        return out

    def _mixed(self, a: torch.Tensor, layer: int, beta: float) -> torch.Tensor:
        """``(1 - beta) a_base + beta a``: the logits of ``layer`` in ``p_beta``."""
        base = self.base[layer].to(a.dtype)
        return torch.lerp(base.expand_as(a), a, beta)

    def _kept_term(self, full: list, beta: float) -> torch.Tensor:
        d = torch.float64
        return sum(full[i].to(d) @ torch.lerp(self.base[i].to(d), self.b[i].to(d), beta) for i in self.kept)

    def log_unnorm(self, x: Sequence[torch.Tensor], beta: float) -> torch.Tensor:
        """``log p*_beta`` of kept-layer states ``x`` (float64)."""
        full = self._layers(x)
        out = self._kept_term(full, beta)
        for layer in self.summed:
            out = out + F.softplus(self._mixed(self._weighted(full, layer).double(), layer, beta)).sum(1)
        return out

    def log_base_partition(self) -> float:
        return float(sum(F.softplus(a.double()).sum() for a in self.base))

    def sample_base(self, n: int, generator: torch.Generator) -> list[torch.Tensor]:
        return [bernoulli(torch.sigmoid(self.base[i]).expand(n, -1).contiguous(), generator) for i in self.kept]

    def step(self, x: list[torch.Tensor], beta_prev: float, beta: float, generator: torch.Generator):
        full = self._layers(x)
        delta = self._kept_term(full, beta) - self._kept_term(full, beta_prev)
        for layer in self.summed:  # the summed layers given the kept ones, at beta
            a = self._weighted(full, layer)
            a64 = a.double()
            delta = delta + (
                F.softplus(self._mixed(a64, layer, beta)) - F.softplus(self._mixed(a64, layer, beta_prev))
            ).sum(1)
            full[layer] = bernoulli(torch.sigmoid_(self._mixed(a, layer, beta)), generator)
        for layer in self.kept:  # the kept layers given the summed ones
            full[layer] = bernoulli(torch.sigmoid_(self._mixed(self._weighted(full, layer), layer, beta)), generator)
        return delta, [full[i] for i in self.kept]
