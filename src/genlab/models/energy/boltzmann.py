"""The general Boltzmann machine: binary units, symmetric weights between any two, sequential Gibbs sampling."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from ...config import MAX_CHAINS, MAX_STEPS, MAX_WIDTH, BaseConfig, param, shape_param
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...nn.optim import MomentumSGD
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating, require_unit_range
from .sampling import MAX_EXACT_UNITS, bernoulli, inverse_temperature, logsumexp_chunks, states


@dataclass(frozen=True)
class BoltzmannConfig(BaseConfig):
    """Configuration of :class:`BoltzmannMachine`."""

    data_shape: tuple[int, ...] = shape_param((10,), "shape of one sample (the visible units)")
    n_hidden: int = param(4, ge=0, le=MAX_WIDTH, help="number of hidden units (0: a fully visible Boltzmann machine)")
    data_phase: Literal["mean_field", "gibbs"] = param(
        "mean_field", help="clamped phase: mean-field updates of the hidden units, or Gibbs sweeps"
    )
    data_sweeps: int = param(
        10, ge=1, le=MAX_STEPS, help="clamped phase: mean-field iterations or Gibbs sweeps per update"
    )
    sweeps: int = param(
        1, ge=1, le=MAX_STEPS, help="free phase: sequential Gibbs sweeps of the persistent chains per update"
    )
    n_chains: int = param(100, ge=1, le=MAX_CHAINS, help="free phase: number of persistent chains")
    lr: float = param(0.05, gt=0, help="learning rate")
    momentum: float = param(0.5, ge=0, lt=1, help="sgd momentum")
    weight_decay: float = param(1e-4, ge=0, help="L2 penalty on the weights")
    init_std: float = param(0.01, gt=0, help="standard deviation of the initial weights")


@register_model(
    "boltzmann",
    config=BoltzmannConfig,
    description="general Boltzmann machine (sequential Gibbs, temperature, annealing, exact log Z when small)",
)
class BoltzmannMachine(GenerativeModel):
    r"""Boltzmann machine (Ackley, Hinton & Sejnowski 1985): binary units :math:`s = (v, h)`, a symmetric weight
    between every pair, no self-connections,

    .. math::
        E(s) = -\sum_{i<j} w_{ij} s_i s_j - \sum_i b_i s_i, \qquad p_T(s) = e^{-E(s)/T} / Z_T,

    sampled by sequential Gibbs updates :math:`p(s_i{=}1 | s_{-i}) = \sigma\big((\sum_j w_{ij} s_j + b_i)/T\big)`.
    Learning follows the log-likelihood gradient of the visible data,

    .. math::
        \Delta w_{ij} \propto \langle s_i s_j \rangle_{\text{clamped}} - \langle s_i s_j \rangle_{\text{free}},

    with the clamped statistics from the hidden units given the data (mean-field, Salakhutdinov & Hinton 2009,
    or Gibbs sweeps) and the free statistics from persistent chains (Tieleman 2008). For up to 20 units,
    :meth:`exact_log_partition` enumerates every state; :meth:`anneal` lowers the temperature gradually
    (simulated annealing, Kirkpatrick et al. 1983) to find low-energy states.

    References:
        Ackley, D. H., Hinton, G. E. & Sejnowski, T. J. (1985). A Learning Algorithm for Boltzmann Machines.
        Cognitive Science 9.
        Salakhutdinov, R. & Hinton, G. E. (2009). Deep Boltzmann Machines. AISTATS.
    """

    precisions = ("32",)
    precision_note = (
        "its updates are sufficient statistics of Gibbs samples "
        "(differences of small averages that bfloat16/float16 would round away)"
    )

    likelihood_method = "exact"

    output_range = (0.0, 1.0)

    def __init__(self, config: BoltzmannConfig) -> None:
        super().__init__(config)
        c = config
        self.n_visible = math.prod(c.data_shape)
        n = self.n_visible + c.n_hidden
        w = torch.randn(n, n) * c.init_std
        self.W = nn.Parameter(torch.triu(w, 1) + torch.triu(w, 1).t())
        self.b = nn.Parameter(torch.zeros(n))
        self.register_buffer("chains", torch.zeros(c.n_chains, n))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    @property
    def n_units(self) -> int:
        return self.W.shape[0]

    # --- energy and exact quantities ------------------------------------------------------------------
    @evaluating
    def energy(self, s: torch.Tensor) -> torch.Tensor:
        """``E(s)`` ``(B,)`` of full states ``s`` ``(B, n_visible + n_hidden)``."""
        s = s.to(self.W.dtype)
        return -0.5 * ((s @ self.W) * s).sum(1) - s @ self.b

    @staticmethod
    def _check_enumerable(n: int) -> None:
        if n > MAX_EXACT_UNITS:
            raise ConfigError(
                f"exact sums over 2**{n} states are limited to {MAX_EXACT_UNITS} units; "
                "use a smaller machine (the general Boltzmann machine has no tractable AIS path here)"
            )

    @torch.no_grad()
    def exact_log_partition(self, temperature: float = 1.0) -> float:
        """``log Z_T`` by enumerating all ``2**n`` states (at most 20 units)."""
        self._check_enumerable(self.n_units)
        W, b = self.W.double(), self.b.double()
        beta = inverse_temperature(temperature)
        return float(
            logsumexp_chunks(lambda s: beta * (0.5 * ((s @ W) * s).sum(1) + s @ b), self.n_units, device=W.device)
        )

    @evaluating
    def free_energy(self, x: torch.Tensor) -> torch.Tensor:
        """``F(v) = -log sum_h exp(-E(v, h))`` ``(B,)`` by enumerating the hidden states (at most 20)."""
        v = self._flat(x).double()
        H = self.config.n_hidden
        self._check_enumerable(H)
        W, b = self.W.double(), self.b.double()
        D = self.n_visible
        Wvv, Wvh, Whh = W[:D, :D], W[:D, D:], W[D:, D:]
        vis = 0.5 * ((v @ Wvv) * v).sum(1) + v @ b[:D]  # (B,)
        if H == 0:
            return -vis
        hs = states(H, device=W.device)  # (2^H, H)
        hid = 0.5 * ((hs @ Whh) * hs).sum(1) + hs @ b[D:]  # (2^H,)
        return -(vis + torch.logsumexp(hid[None, :] + v @ Wvh @ hs.t(), 1))

    @evaluating
    def log_prob(self, x: torch.Tensor, log_z: float | None = None) -> torch.Tensor:
        """Exact ``log p(v)`` ``(B,)`` of visible vectors (small machines)."""
        return -self.free_energy(x) - (self.exact_log_partition() if log_z is None else log_z)

    # --- sampling ---------------------------------------------------------------------------------------
    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        v = x.reshape(x.shape[0], -1)
        if v.shape[1] != self.n_visible:
            raise DataError(
                f"this Boltzmann machine has {self.n_visible} visible units but got samples of shape "
                f"{tuple(x.shape[1:])}"
            )
        return v.to(self.W.dtype)

    @torch.no_grad()
    def gibbs(
        self,
        s: torch.Tensor,
        sweeps: int = 1,
        temperature: float | torch.Tensor = 1.0,
        generator: torch.Generator | None = None,
        units: range | None = None,
    ) -> torch.Tensor:
        """Sequential Gibbs sweeps over ``units`` (default all) of full states ``s`` ``(B, n)``; a new tensor.

        ``temperature`` is one value or one per sweep (simulated annealing).
        """
        gen = self.rng(generator)
        temps = torch.as_tensor(temperature, dtype=torch.float64, device="cpu").flatten()  # read as Python floats
        if temps.numel() not in (1, sweeps) or bool((temps <= 0).any()):
            raise ConfigError(f"temperature must be > 0, one value or one per sweep ({sweeps}); got {temperature}")
        s = s.to(self.W.dtype).clone()
        W, b = self.W.detach(), self.b.detach()
        field = torch.addmm(b, s, W)  # the input of every unit (W has a zero diagonal)
        order = list(units if units is not None else range(self.n_units))
        for t in range(sweeps):
            beta = 1.0 / float(temps[min(t, temps.numel() - 1)])
            u = self.rand((s.shape[0], len(order)), generator=gen)
            for j, i in enumerate(order):
                new = (u[:, j] < torch.sigmoid(field[:, i] * beta)).to(s.dtype)
                delta = new - s[:, i]
                s[:, i] = new
                field.addr_(delta, W[i])
        return s

    def _random_states(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return bernoulli(torch.full((n, self.n_units), 0.5, device=self.device), gen)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        sweeps: int = 200,
        temperature: float = 1.0,
        anneal_from: float | None = None,
        return_hidden: bool = False,
    ) -> torch.Tensor:
        """``n`` visible samples ``(n, *data_shape)`` after ``sweeps`` sequential Gibbs sweeps from random states.

        With ``anneal_from`` the temperature falls geometrically from it to ``temperature`` over the sweeps.
        ``return_hidden`` returns the full states ``(n, n_visible + n_hidden)``.
        """
        gen = self.rng(generator)
        temps = _schedule(anneal_from, temperature, sweeps)
        s = self.gibbs(self._random_states(n, gen), sweeps, temps, gen)
        return s if return_hidden else s[:, : self.n_visible].reshape(n, *self.config.data_shape)

    @torch.no_grad()
    def anneal(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        t_start: float = 10.0,
        t_end: float = 0.05,
        sweeps: int = 200,
        clamp: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Simulated annealing: full low-energy states ``(n, n_units)`` found by cooling from ``t_start`` to ``t_end``.

        ``clamp`` ``(n, n_visible)`` with NaN for free entries fixes the other visible units (pattern completion).
        """
        gen = self.rng(generator)
        s = self._random_states(n, gen)
        temps = _schedule(t_start, t_end, sweeps)
        if clamp is None:
            return self.gibbs(s, sweeps, temps, gen)
        clamp = self._flat(clamp)
        known = ~torch.isnan(clamp)
        s[:, : self.n_visible] = torch.where(known, clamp, s[:, : self.n_visible])
        free = [i for i in range(self.n_visible) if not bool(known[:, i].all())]
        s = self.gibbs(s, sweeps, temps, gen, units=[*free, *range(self.n_visible, self.n_units)])
        s[:, : self.n_visible] = torch.where(known, clamp, s[:, : self.n_visible])  # rows that differ in mask
        return s

    def diversity_advice(self) -> str:
        c = self.config
        return (
            "Gibbs chains that do not mix between modes: sample with more sweeps (sample(sweeps=...)) or "
            f"anneal_from=..., train with more sweeps (now {c.sweeps}) or n_chains (now {c.n_chains})"
        )

    # --- training ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def on_train_start(self, x: torch.Tensor) -> None:
        if bool(self.initialized):
            return
        v = self._flat(x)
        p = v.mean(0).clamp(1e-3, 1 - 1e-3)
        self.b[: self.n_visible] = torch.log(p / (1 - p))
        self.chains.copy_(self._random_states(self.config.n_chains, self.rng()))
        self.initialized.fill_(True)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        groups = [{"params": [self.W], "weight_decay": c.weight_decay}, {"params": [self.b], "weight_decay": 0.0}]
        return [MomentumSGD(groups, lr=c.lr, momentum=c.momentum)]

    def clamped_states(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Full states ``(B, n)`` with the visibles at ``x`` and the hiddens inferred (mean-field or Gibbs)."""
        c = self.config
        v = self._flat(x)
        D = self.n_visible
        gen = self.rng(generator)
        s = torch.cat([v, torch.full((v.shape[0], c.n_hidden), 0.5, device=v.device)], 1)
        if c.n_hidden == 0:
            return s
        W, b = self.W.detach(), self.b.detach()
        if c.data_phase == "mean_field":
            ext = torch.addmm(b[D:], v, W[:D, D:])
            mu = s[:, D:]
            for _ in range(c.data_sweeps):  # damped fixed-point iterations
                mu = 0.5 * mu + 0.5 * torch.sigmoid(ext + mu @ W[D:, D:])
            s[:, D:] = mu
            return s
        s[:, D:] = bernoulli(s[:, D:], gen)
        return self.gibbs(s, c.data_sweeps, 1.0, gen, units=range(D, self.n_units))

    @torch.no_grad()
    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        c = self.config
        if not bool(self.initialized):
            self.on_train_start(batch.x)
        gen = self.rng()
        data = self.clamped_states(batch.x, gen)
        self.chains.copy_(self.gibbs(self.chains, c.sweeps, 1.0, gen))
        model = self.chains
        gW = model.t() @ model / model.shape[0] - data.t() @ data / data.shape[0]
        gW.fill_diagonal_(0.0)
        self.W.grad = gW
        self.b.grad = model.mean(0) - data.mean(0)
        optimizers[0].step()
        # a cheap progress signal: how far the model's visible means are from the data's
        gap = (model[:, : self.n_visible].mean(0) - data[:, : self.n_visible].mean(0)).abs().mean()
        return {"loss": gap, "energy_gap": self.energy(data).mean() - self.energy(model).mean()}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        require_unit_range(info, "Boltzmann machine", "binary data in [0, 1]")

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        return Batch(self.rand((n, *self.data_shape), generator=generator).round(), None)


def _schedule(t_start: float | None, t_end: float, sweeps: int) -> torch.Tensor:
    """Temperatures per sweep: constant ``t_end``, or geometric from ``t_start`` to ``t_end``."""
    if sweeps < 1:
        raise ConfigError(f"sweeps must be >= 1, got {sweeps}")
    inverse_temperature(t_end)
    if t_start is None:
        return torch.tensor([t_end], dtype=torch.float64, device="cpu")  # read as Python floats
    inverse_temperature(t_start)
    return torch.logspace(math.log10(t_start), math.log10(t_end), sweeps, dtype=torch.float64, device="cpu")
