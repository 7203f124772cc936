"""Restricted Boltzmann machines: Bernoulli-Bernoulli and Gaussian-Bernoulli, trained by CD-k or PCD."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ...config import MAX_CHAINS, MAX_STEPS, MAX_WIDTH, BaseConfig, param, shape_param
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...nn.collective import shard_mean
from ...nn.optim import MomentumSGD
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating, require_unit_range
from . import contrastive
from .pictures import energy_pictures
from .pseudo_likelihood import pseudo_log_likelihood
from .sampling import bernoulli, inverse_temperature, rbm_log_partition

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class RBMConfig(BaseConfig):
    """Configuration of :class:`RBM`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one sample")
    n_hidden: int = param(500, ge=1, le=MAX_WIDTH, help="number of binary hidden units")
    visible: Literal["bernoulli", "gaussian"] = param(
        "bernoulli", help="bernoulli for data in [0, 1] (intensities or binary), gaussian for real values"
    )
    sigma: float = param(1.0, gt=0, help="gaussian visibles: initial (or fixed) standard deviation, standardized units")
    learn_sigma: bool = param(False, help="gaussian visibles: learn one standard deviation per visible unit")
    standardize: bool = param(
        True, help="gaussian visibles: model (x - mean) / std of the training data (the likelihood is in data units)"
    )
    method: Literal["cd", "pcd"] = param("cd", help="cd: chains start at the data; pcd: persistent chains")
    k: int = param(1, ge=1, le=MAX_STEPS, help="Gibbs steps per update (CD-k / PCD-k)")
    n_chains: int = param(100, ge=1, le=MAX_CHAINS, help="pcd: number of persistent fantasy chains")
    mean_field_negative: bool = param(
        False, help="cd: use E[v|h] as the last negative visible state (less noise, slightly biased; Hinton 2010)"
    )
    lr: float = param(0.05, gt=0, help="learning rate")
    optimizer: Literal["sgd", "adam"] = param("sgd", help="sgd (with momentum) or adam on the CD/PCD gradient")
    momentum: float = param(0.5, ge=0, lt=1, help="sgd momentum")
    weight_decay: float = param(2e-4, ge=0, help="L2 penalty on the weights (not the biases)")
    sparsity_target: float = param(0.0, ge=0, lt=1, help="> 0: target mean activation of the hidden units")
    sparsity_cost: float = param(0.1, ge=0, help="weight of the sparsity penalty")
    sparsity_decay: float = param(0.9, ge=0, lt=1, help="decay of the running estimate of the hidden activations")
    centering: bool = param(
        False, help="centered RBM: offsets at the data mean and a running mean of the hidden activations"
    )
    centering_rate: float = param(0.01, gt=0, le=1, help="centering: update rate of the hidden offset")
    init_std: float = param(0.01, gt=0, help="standard deviation of the initial weights")
    strict_range: bool = param(
        True, help="bernoulli visibles: reject data outside [0, 1] (False accepts any values, as scikit-learn does)"
    )
    up_factor: float = param(
        1.0, gt=0, help="multiplies W in P(h|v): 2 makes the bottom module of DBM pretraining (not a plain RBM)"
    )
    down_factor: float = param(
        1.0, gt=0, help="multiplies W in P(v|h): 2 makes the top module of DBM pretraining (not a plain RBM)"
    )

    @property
    def plain(self) -> bool:
        """True for an RBM with an energy function (both factors 1)."""
        return self.up_factor == 1.0 and self.down_factor == 1.0

    def validate(self) -> None:
        if not self.plain and (self.visible != "bernoulli" or self.centering):
            raise ConfigError("up_factor / down_factor (DBM pretraining modules) need bernoulli visibles, no centering")
        if self.centering and self.visible != "bernoulli":
            raise ConfigError(
                "centering is defined here for binary visibles: set visible='bernoulli' or centering=False"
            )
        if self.learn_sigma and self.visible != "gaussian":
            raise ConfigError("learn_sigma applies to gaussian visibles: set visible='gaussian'")


@register_model(
    "rbm",
    config=RBMConfig,
    description="restricted Boltzmann machine (Bernoulli or Gaussian visibles; CD-k or PCD; AIS log-likelihood)",
    presets={
        "pcd_rbm": {"method": "pcd"},
        "gaussian_rbm": {"visible": "gaussian", "lr": 0.005, "data_shape": (64,), "n_hidden": 64},
    },
)
class RBM(GenerativeModel):
    r"""Restricted Boltzmann machine: visible units :math:`v`, binary hidden units :math:`h`, no connections within
    a layer.

    Bernoulli visibles (Smolensky 1986; Hinton 2002):

    .. math::
        E(v, h) = -v^\top W h - b^\top v - c^\top h, \qquad
        F(v) = -\log \sum_h e^{-E(v,h)} = -b^\top v - \sum_j \mathrm{softplus}(c_j + v^\top W_{:j}),

    with :math:`p(h_j{=}1|v) = \sigma(c_j + v^\top W_{:j})` and :math:`p(v_i{=}1|h) = \sigma(b_i + W_{i:} h)`.
    Gaussian visibles (real values; Hinton & Salakhutdinov 2006, Cho et al. 2011):

    .. math::
        E(v, h) = \sum_i \frac{(v_i - b_i)^2}{2\sigma_i^2} - c^\top h - \sum_{ij} \frac{v_i}{\sigma_i} W_{ij} h_j,

    with :math:`p(v_i|h) = N(b_i + \sigma_i W_{i:} h, \sigma_i^2)`. :math:`p(v) = e^{-F(v)}/Z`. The log-likelihood
    gradient is :math:`-\partial F/\partial\theta` at the data minus its expectation under the model; CD-k
    estimates the second term with k Gibbs steps started at the data (Hinton 2002), PCD with persistent chains
    that are never reset (Tieleman 2008). The gradient is computed in closed form (no autograd) and handed to a
    torch optimizer (SGD with momentum by default); weight decay, a sparsity target (Lee et al. 2008) and the
    centering trick (Montavon & Müller 2012; Melchior et al. 2016) are options. A centered RBM has the energy
    :math:`-(v-\mu)^\top W (h-\lambda) - b^\top (v-\mu) - c^\top (h-\lambda)`, which is an ordinary RBM with
    biases :math:`b - W\lambda` and :math:`c - W^\top\mu` (what inference and AIS use).

    At temperature :math:`T` the model is :math:`p_T(v, h) \propto e^{-E(v,h)/T}`.

    References:
        Hinton, G. E. (2002). Training Products of Experts by Minimizing Contrastive Divergence. Neural Comp.
        Tieleman, T. (2008). Training RBMs using Approximations to the Likelihood Gradient. ICML.
        Hinton, G. E. (2010). A Practical Guide to Training Restricted Boltzmann Machines. UTML TR 2010-003.
        Salakhutdinov, R. & Murray, I. (2008). On the Quantitative Analysis of Deep Belief Networks. ICML.
        Cho, K., Ilin, A. & Raiko, T. (2011). Improved Learning of Gaussian-Bernoulli RBMs. ICANN.
        Melchior, J., Fischer, A. & Wiskott, L. (2016). How to Center Deep Boltzmann Machines. JMLR.
    """

    precisions = ("32",)
    precision_note = (
        "its updates are sufficient statistics of Gibbs samples "
        "(differences of small averages that bfloat16/float16 would round away)"
    )

    likelihood_method = "ais"

    def __init__(self, config: RBMConfig) -> None:
        super().__init__(config)
        c = config
        d = math.prod(c.data_shape)
        self.n_visible = d
        self.W = nn.Parameter(torch.randn(d, c.n_hidden) * c.init_std)
        self.b = nn.Parameter(torch.zeros(d))  # visible bias
        self.c = nn.Parameter(torch.zeros(c.n_hidden))  # hidden bias
        self.log_sigma = nn.Parameter(torch.full((d,), math.log(c.sigma)), requires_grad=c.learn_sigma)
        self.register_buffer("v_offset", torch.zeros(d))  # centering: mu (the data mean)
        self.register_buffer("h_offset", torch.zeros(c.n_hidden))  # centering: lambda (running hidden mean)
        self.register_buffer("data_mean", torch.zeros(d))  # gaussian + standardize: the data's mean and std
        self.register_buffer("data_std", torch.ones(d))
        self.register_buffer("q_hidden", torch.full((c.n_hidden,), c.sparsity_target))  # running mean activation
        self.register_buffer("chains", torch.zeros(c.n_chains if c.method == "pcd" else 0, d))
        # P(h|chains) from the end of the last update: the next update samples h from it (as scikit-learn does),
        # which saves one matrix product per step; the chain stays a valid Markov chain
        self.register_buffer("chains_ph", torch.zeros(c.n_chains if c.method == "pcd" else 0, c.n_hidden))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))
        if c.centering:
            self.h_offset.fill_(0.5)

    @property
    def output_range(self) -> tuple[float, float] | None:  # type: ignore[override]
        return (0.0, 1.0) if self.config.visible == "bernoulli" else None

    @property
    def gaussian(self) -> bool:
        return self.config.visible == "gaussian"

    @property
    def sigma(self) -> torch.Tensor:
        """Standard deviations of the Gaussian visibles (standardized units), ``(D,)``."""
        return self.log_sigma.exp()

    # --- parameters of the equivalent plain RBM -----------------------------------------------------------
    def params(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(W, b, c)`` of the plain (uncentered) RBM that defines the same distribution."""
        W = self.W.detach()
        if not self.config.centering:
            return W, self.b.detach(), self.c.detach()
        return W, self.b.detach() - W @ self.h_offset, self.c.detach() - self.v_offset @ W

    # --- data space <-> model space ------------------------------------------------------------------------
    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        v = x.reshape(x.shape[0], -1)
        if v.shape[1] != self.n_visible:
            raise DataError(
                f"this RBM has {self.n_visible} visible units but got samples of shape {tuple(x.shape[1:])}"
            )
        v = v.to(self.W.dtype)
        return (v - self.data_mean) / self.data_std if self.gaussian else v

    def _unflat(self, v: torch.Tensor) -> torch.Tensor:
        if self.gaussian:
            v = v * self.data_std + self.data_mean
        return v.reshape(v.shape[0], *self.config.data_shape)

    def _log_jacobian(self) -> torch.Tensor:
        """``sum log std``: the change of density from standardized units to data units."""
        return self.data_std.log().sum() if self.gaussian else torch.zeros((), device=self.data_std.device)

    # --- conditionals (model space, flat) -----------------------------------------------------------------
    def _vis_in(self, v: torch.Tensor) -> torch.Tensor:
        """What the hidden units see of ``v``: ``v`` (bernoulli) or ``v / sigma`` (gaussian)."""
        return v / self.sigma.detach() if self.gaussian else v

    def _hidden_logits(self, v: torch.Tensor, params=None, beta: float = 1.0) -> torch.Tensor:
        W, _, c = params or self.params()
        out = torch.addmm(c, self._vis_in(v), W, alpha=self.config.up_factor)
        return out.mul_(beta) if beta != 1.0 else out

    def _visible_mean(self, h: torch.Tensor, params=None, beta: float = 1.0) -> torch.Tensor:
        """E[v|h] (bernoulli: probabilities) at inverse temperature ``beta``."""
        W, b, _ = params or self.params()
        if self.gaussian:  # the mean does not depend on the temperature, only the variance does
            return torch.addcmul(b, h @ W.t(), self.sigma.detach())
        logits = torch.addmm(b, h, W.t(), alpha=self.config.down_factor)
        return torch.sigmoid_(logits.mul_(beta) if beta != 1.0 else logits)

    def _sample_visible(self, h: torch.Tensor, gen: torch.Generator, params=None, beta: float = 1.0) -> torch.Tensor:
        return self._sample_visible_from_mean(self._visible_mean(h, params, beta), gen, beta)

    def _sample_visible_from_mean(self, mean: torch.Tensor, gen: torch.Generator, beta: float) -> torch.Tensor:
        if self.gaussian:
            return mean + (self.sigma.detach() / math.sqrt(beta)) * self.randn(mean.shape, generator=gen)
        return bernoulli(mean, gen)

    def _chain(self, v: torch.Tensor, steps: int, gen: torch.Generator, beta: float):
        """Yield ``(t, E[v|h], v)`` after each of ``steps`` block-Gibbs steps (v -> h -> v) from ``v``."""
        params = self.params()
        for t in range(steps):
            h = bernoulli(torch.sigmoid_(self._hidden_logits(v, params, beta)), gen)
            mean = self._visible_mean(h, params, beta)
            v = self._sample_visible_from_mean(mean, gen, beta)
            yield t, mean, v

    # --- public inference ------------------------------------------------------------------------------
    @torch.no_grad()
    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden activation probabilities ``P(h=1|x)``, ``(B, n_hidden)`` (the features of ``x``)."""
        return torch.sigmoid_(self._hidden_logits(self._flat(x)))

    encode = transform

    def hidden_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-activations of the hidden units ``(B, n_hidden)``, differentiable in the parameters (fine-tuning)."""
        v = self._flat(x)
        if self.gaussian:
            v = v / self.sigma
        if self.config.centering:
            v = v - self.v_offset
        return torch.addmm(self.c, v, self.W, alpha=self.config.up_factor)

    @torch.no_grad()
    def log_visible_given_hidden(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``log p(x | h)`` ``(B,)`` (in data units for gaussian visibles)."""
        v = self._flat(x)
        W, b, _ = self.params()
        if self.gaussian:
            sig = self.sigma.detach()
            z = (v - torch.addcmul(b, h @ W.t(), sig)) / sig
            return -(z.square() / 2 + _HALF_LOG_2PI + sig.log()).sum(1) - self._log_jacobian()
        logits = torch.addmm(b, h, W.t())
        return -F.binary_cross_entropy_with_logits(logits, v, reduction="none").sum(1)

    @torch.no_grad()
    def log_hidden_given_visible(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``log P(h | x)`` ``(B,)`` of binary hidden states ``h``."""
        logits = self._hidden_logits(self._flat(x))
        return -F.binary_cross_entropy_with_logits(logits, h, reduction="none").sum(1)

    @torch.no_grad()
    def sample_hidden(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A binary draw of ``h ~ P(h | x)`` ``(B, n_hidden)``."""
        return bernoulli(self.transform(x), self.rng(generator))

    @torch.no_grad()
    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """``E[v | h]`` in data units, ``(B, *data_shape)``."""
        return self._unflat(self._visible_mean(h))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, generator: torch.Generator | None = None, sample_hidden: bool = False):
        """``E[v | h]`` with ``h = P(h|x)`` (or a sample of it with ``sample_hidden``), shaped like ``x``."""
        p = torch.sigmoid_(self._hidden_logits(self._flat(x)))
        h = bernoulli(p, self.rng(generator)) if sample_hidden else p
        return self._unflat(self._visible_mean(h)).reshape(x.shape)

    @evaluating
    def free_energy(self, x: torch.Tensor) -> torch.Tensor:
        r"""Free energy ``F(x)`` ``(B,)`` with :math:`p(x) = e^{-F(x)} / Z` (in data units for gaussian visibles)."""
        self._require_energy()
        v = self._flat(x)
        W, b, c = self.params()
        hidden = F.softplus(self._hidden_logits(v, (W, b, c))).sum(1)
        if self.gaussian:
            sig = self.sigma.detach()
            return ((v - b) / sig).square().sum(1) / 2 - hidden + self._log_jacobian()
        return -(v @ b) - hidden

    @evaluating
    def energy(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Energy ``E(x, h)`` ``(B,)`` of visible states ``x`` and hidden states ``h`` ``(B, n_hidden)``."""
        self._require_energy()
        v = self._flat(x)
        W, b, c = self.params()
        h = h.to(v.dtype)
        inter = ((self._vis_in(v) @ W) * h).sum(1)
        if self.gaussian:
            quad = ((v - b) / self.sigma.detach()).square().sum(1) / 2
            return quad - h @ c - inter + self._log_jacobian()
        return -(v @ b) - h @ c - inter

    @torch.no_grad()
    def gibbs(
        self,
        x: torch.Tensor,
        steps: int = 1,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Run ``steps`` block-Gibbs steps (v -> h -> v) from ``x``; returns the visible sample, shaped like ``x``."""
        state = self._flat(x)
        for _, _, v in self._chain(state, steps, self.rng(generator), inverse_temperature(temperature)):
            state = v
        return self._unflat(state).reshape(x.shape)

    @torch.no_grad()
    def gibbs_chain(
        self,
        n_chains: int,
        length: int,
        *,
        burn_in: int = 0,
        thin: int = 1,
        temperature: float = 1.0,
        init: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """States of ``n_chains`` Gibbs chains: ``(length, n_chains, *data_shape)`` (the means ``E[v|h]``).

        The chains start at ``init`` (else at the visible biases' marginals), run ``burn_in`` steps, then record
        a state every ``thin`` steps.
        """
        if length < 1 or thin < 1 or burn_in < 0:
            raise ConfigError(f"need length >= 1, thin >= 1, burn_in >= 0; got {length}, {thin}, {burn_in}")
        beta, gen = inverse_temperature(temperature), self.rng(generator)
        v = self._init_chains(n_chains, gen) if init is None else self._flat(init)
        steps = burn_in + (length - 1) * thin + 1
        return torch.stack(
            [
                self._unflat(m)
                for t, m, _ in self._chain(v, steps, gen, beta)
                if t >= burn_in and (t - burn_in) % thin == 0
            ]
        )

    def _init_chains(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """Start states: independent draws from the visible biases alone (the data's marginals after init)."""
        _, b, _ = self.params()
        if self.gaussian:
            return b + self.sigma.detach() * self.randn((n, self.n_visible), generator=gen)
        return bernoulli(torch.sigmoid(b).expand(n, -1), gen)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        steps: int = 1000,
        burn_in: int = 0,
        temperature: float = 1.0,
        n_chains: int | None = None,
        init: torch.Tensor | None = None,
        mean: bool = True,
    ) -> torch.Tensor:
        """``n`` samples ``(n, *data_shape)`` by block Gibbs sampling.

        ``n_chains`` chains (default ``n``) start at ``init`` or at the visible biases' marginals, run
        ``burn_in + steps`` steps and then give one sample every ``steps`` steps until ``n`` are collected.
        ``mean=True`` returns ``E[v|h]`` of the last step (smooth pictures), ``False`` a draw of ``v``.
        """
        if steps < 1:
            raise ConfigError(f"steps must be >= 1, got {steps}")
        chains = n if n_chains is None else max(1, min(n_chains, n))
        per_chain = -(-n // chains)
        gen, beta = self.rng(generator), inverse_temperature(temperature)
        v = self._init_chains(chains, gen) if init is None else self._flat(init)
        got = [
            self._unflat(m if mean else v)
            for t, m, v in self._chain(v, burn_in + per_chain * steps, gen, beta)
            if t >= burn_in and (t - burn_in + 1) % steps == 0
        ]
        return torch.stack(got, 1).reshape(-1, *self.config.data_shape)[:n].float()

    @evaluating
    def pseudo_likelihood(
        self, x: torch.Tensor, generator: torch.Generator | None = None, exact: bool = False
    ) -> torch.Tensor:
        r"""Log pseudo-likelihood ``(B,)`` of binary ``x``: :math:`\sum_i \log p(x_i | x_{-i})`.

        ``exact=False`` estimates it as scikit-learn does, ``D * log sigmoid(F(x~) - F(x))`` with one randomly
        chosen unit of each sample flipped to ``1 - x_i`` (cheap, noisy, unbiased); ``exact=True`` sums over all
        ``D`` units. Intensities are used as they are (as scikit-learn does); binarize them for the true PL.
        """
        if self.gaussian:
            raise ConfigError("the pseudo-likelihood is defined here for binary visibles (visible='bernoulli')")
        return pseudo_log_likelihood(self, self._flat(x), self.rng(generator), exact)

    # --- exact partition function (small models) ---------------------------------------------------------
    @torch.no_grad()
    def exact_log_partition(self) -> float:
        """``log Z`` by summing over every configuration of the smaller layer (at most 20 units there).

        In standardized units for gaussian visibles (the constant ``sum log std`` is part of :meth:`free_energy`).
        """
        self._require_energy()
        return rbm_log_partition(*self.params(), self.sigma.detach() if self.gaussian else None)

    @evaluating
    def log_prob(self, x: torch.Tensor, log_z: float | None = None) -> torch.Tensor:
        """``log p(x)`` ``(B,)`` = ``-F(x) - log Z``; ``log_z`` from AIS for large models, exact when omitted."""
        if log_z is None:
            log_z = self.exact_log_partition()
        return -self.free_energy(x).double() - log_z

    def annealing_path(self, base_bias: torch.Tensor | None = None):
        """The AIS path from a base-rate model to this RBM (see :func:`genlab.metrics.ais`)."""
        from .ais_paths import RBMPath

        self._require_energy()
        return RBMPath(self, base_bias)

    def _require_energy(self) -> None:
        if not self.config.plain:
            raise ConfigError(
                "this RBM scales its weights differently up and down (a DBM pretraining module): it has no energy "
                "function, free energy or partition function"
            )

    # --- pictures ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def pictures(self, generator: torch.Generator | None = None) -> dict[str, tuple[torch.Tensor, int]]:
        """``filters`` (receptive fields of 100 hidden units) and ``gibbs_chain`` (8 chains, a frame every 50 steps,
        left to right) for a run directory: ``name -> (images in [0, 1], images per row)``."""
        chain = None if self.gaussian else self.gibbs_chain(8, 12, thin=50, generator=generator)
        return energy_pictures(self.W, self.config.data_shape, chain)

    def diversity_advice(self) -> str:
        return f"Gibbs chains that do not mix between modes: {gibbs_advice(self.config)}"

    # --- training --------------------------------------------------------------------------------------
    @torch.no_grad()
    def on_train_start(self, x: torch.Tensor) -> None:
        if bool(self.initialized):
            return
        c = self.config
        v = x.reshape(x.shape[0], -1).to(self.W.dtype)
        if self.gaussian:
            if c.standardize:
                self.data_mean.copy_(v.mean(0))
                self.data_std.copy_(v.std(0).clamp_min(1e-3) if v.shape[0] > 1 else torch.ones_like(self.data_std))
            v = (v - self.data_mean) / self.data_std
            self.b.copy_(v.mean(0))
        else:
            p = v.mean(0).clamp(1e-3, 1 - 1e-3)  # Hinton's guide: visible biases at the log-odds of the data
            self.b.copy_(torch.log(p / (1 - p)))
            if c.centering:
                self.v_offset.copy_(v.mean(0))
        if c.method == "pcd":
            self.chains.copy_(self._init_chains(c.n_chains, self.rng()))
            self.chains_ph.copy_(torch.sigmoid(self._hidden_logits(self.chains)))
        self.initialized.fill_(True)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        groups = [
            {"params": [self.W], "weight_decay": c.weight_decay},
            {"params": [self.b, self.c] + ([self.log_sigma] if c.learn_sigma else []), "weight_decay": 0.0},
        ]
        if c.optimizer == "adam":
            return [torch.optim.Adam(groups, lr=c.lr, foreach=True)]
        return [MomentumSGD(groups, lr=c.lr, momentum=c.momentum)]

    @torch.no_grad()
    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        c = self.config
        if not bool(self.initialized):  # trained without the Trainer (or an empty fit): initialise from the batch
            self.on_train_start(batch.x)
        recon, mean_h = self.estimate_gradient(batch.x)
        optimizers[0].step()
        if c.centering:  # move the hidden offset, keep the distribution (b absorbs the change)
            # the whole batch's mean activation under torchrun, so every process moves its offset alike
            new = torch.lerp(self.h_offset, shard_mean(mean_h), c.centering_rate)
            self.b.add_(self.W @ (new - self.h_offset))
            self.h_offset.copy_(new)
        return {"loss": recon}

    def estimate_gradient(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """The CD-k / PCD-k estimate of minus the log-likelihood gradient on ``x``, written into each parameter's
        ``.grad`` (PCD also advances the chains); see :func:`~genlab.models.energy.contrastive.estimate_gradient`.

        Returns:
            ``(reconstruction error, mean hidden activation on x)``.
        """
        return contrastive.estimate_gradient(self, x, generator)

    def _set_gradients(self, v0, ph0, vk, phk, stacked=None) -> None:
        contrastive.set_gradients(self, v0, ph0, vk, phk, stacked)

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        recon = (self.reconstruct(batch.x) - batch.x).reshape(batch.x.shape[0], -1)
        if self.gaussian:
            recon = recon / self.data_std
        return {"loss": recon.square().sum(1).mean(), "free_energy": self.free_energy(batch.x).mean()}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        if not self.gaussian and self.config.strict_range:
            require_unit_range(info, "Bernoulli RBM", "visible='gaussian'")

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        g = self.rng(generator)
        if self.gaussian:
            return Batch(self.randn((n, *self.data_shape), generator=g), None)
        return Batch(self.rand((n, *self.data_shape), generator=g).round(), None)


__all__ = ["RBM", "RBMConfig"]


def gibbs_advice(c: Any) -> str:
    """What to change when Gibbs chains stay in few modes, for a config with ``method``, ``k`` and ``n_chains``."""
    train = (
        f"raise k (now {c.k}) or n_chains (now {c.n_chains})"
        if c.method == "pcd"
        else f"train with method='pcd' (persistent chains) or more Gibbs steps k (now {c.k})"
    )
    return f"sample with more steps (sample(steps=...)), {train}"
