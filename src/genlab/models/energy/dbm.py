"""Deep Boltzmann machines: undirected layers, mean-field for the data, persistent chains for the model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from ...config import (
    MAX_CHAINS,
    MAX_LAYERS,
    MAX_STEPS,
    MAX_WIDTH,
    BaseConfig,
    param,
    shape_param,
)
from ...data.dataset import DatasetInfo
from ...errors import ConfigError
from ...nn import adam
from ...nn.optim import MomentumSGD
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating, require_unit_range
from ._stack import StackMixin
from .ais_paths import DBMPath
from .pictures import energy_pictures
from .rbm import RBM, RBMConfig
from .sampling import MAX_EXACT_UNITS, bernoulli, logsumexp_chunks


@dataclass(frozen=True)
class DBMConfig(BaseConfig):
    """Configuration of :class:`DBM`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one (binary or [0, 1]) sample")
    layer_dims: tuple[int, ...] = param(
        (500, 1000), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="hidden units per layer, bottom to top (2 or 3)"
    )
    mean_field_steps: int = param(10, ge=1, le=MAX_STEPS, help="mean-field updates of q(h|v) per data phase")
    gibbs_steps: int = param(1, ge=1, le=MAX_STEPS, help="block-Gibbs steps of the persistent chains per update")
    n_chains: int = param(100, ge=1, le=MAX_CHAINS, help="persistent chains of the model phase")
    lr: float = param(0.005, gt=0, help="learning rate of joint training")
    momentum: float = param(0.5, ge=0, lt=1, help="sgd momentum")
    weight_decay: float = param(2e-4, ge=0, help="L2 penalty on the weights")
    pretrain_epochs: int = param(0, ge=0, help="epochs per layer of greedy pretraining with the doubling trick")
    pretrain_lr: float = param(0.05, gt=0, help="learning rate of the pretraining RBMs")
    pretrain_k: int = param(1, ge=1, le=MAX_STEPS, help="CD steps of the pretraining RBMs")
    n_classes: int = param(
        0, ge=0, le=MAX_WIDTH, help="> 0: a softmax layer on mean-field features, fine-tuned with labels"
    )
    finetune_lr: float = param(1e-3, gt=0, help="Adam learning rate of discriminative fine-tuning")

    def validate(self) -> None:
        if not 2 <= len(self.layer_dims) <= 3:
            raise ConfigError(f"a DBM here has 2 or 3 hidden layers, got layer_dims={self.layer_dims}")

    def module_config(self, i: int) -> RBMConfig:
        """Pretraining module ``i`` (Salakhutdinov & Hinton 2009): the bottom one doubles its bottom-up input,
        the top one its top-down input (each stands in for the missing layer on the other side)."""
        top = i == len(self.layer_dims) - 1
        return RBMConfig(
            data_shape=self.data_shape if i == 0 else (self.layer_dims[i - 1],),
            n_hidden=self.layer_dims[i],
            k=self.pretrain_k,
            lr=self.pretrain_lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            up_factor=2.0 if i == 0 else 1.0,
            down_factor=2.0 if top else 1.0,
        )


@register_model(
    "dbm",
    config=DBMConfig,
    description="deep Boltzmann machine (mean-field + persistent chains, doubling-trick pretraining, AIS bound)",
    presets={"dbm_classifier": {"n_classes": 10}},
)
class DBM(StackMixin, GenerativeModel):
    r"""Deep Boltzmann machine (Salakhutdinov & Hinton 2009): binary layers :math:`h^0 = v, h^1, \dots, h^L`,
    undirected connections between neighbouring layers only,

    .. math::
        E(v, h) = -\sum_{l=0}^{L-1} {h^l}^\top W^l h^{l+1} - \sum_{l=0}^{L} {b^l}^\top h^l .

    The data phase uses a factorial mean-field posterior :math:`q(h|v) = \prod_l \prod_j \mu^l_j`, from the
    fixed-point updates :math:`\mu^l = \sigma(\mu^{l-1} W^{l-1} + \mu^{l+1} {W^l}^\top + b^l)`; the model phase
    uses persistent block-Gibbs chains (odd layers given even, then even given odd). The update is
    :math:`\Delta W^l \propto \langle \mu^l {\mu^{l+1}}^\top\rangle_{\text{data}} - \langle h^l {h^{l+1}}^\top
    \rangle_{\text{model}}`. Pretraining trains one RBM per layer through the same trainer, the bottom one with
    doubled bottom-up weights and the top one with doubled top-down weights, middle ones plain with their weights
    halved in the DBM. The likelihood bound is

    .. math::
        \log p(v) \ge E_q[-E(v, h)] + H(q) - \log Z,

    with :math:`\log Z` from AIS over the even (or odd) layers, the others summed out exactly, from a base model
    with the base rates of every layer (:meth:`base_biases`).

    With ``n_classes > 0``, a softmax layer reads the top layer of an MLP built from the DBM's weights whose
    first layers also take the mean-field posterior of the layer above as input (the paper's construction).

    References:
        Salakhutdinov, R. & Hinton, G. E. (2009). Deep Boltzmann Machines. AISTATS.
        Salakhutdinov, R. & Hinton, G. E. (2012). An Efficient Learning Procedure for Deep Boltzmann Machines.
        Neural Computation 24.
    """

    precisions = ("32",)
    precision_note = (
        "its updates are sufficient statistics of Gibbs samples "
        "(differences of small averages that bfloat16/float16 would round away)"
    )

    likelihood_method = "ais"

    output_range = (0.0, 1.0)

    def __init__(self, config: DBMConfig) -> None:
        super().__init__(config)
        c = config
        self.dims = [math.prod(c.data_shape), *c.layer_dims]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.randn(a, b) * 0.01) for a, b in zip(self.dims[:-1], self.dims[1:], strict=True)
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(d)) for d in self.dims)
        self.rbms = nn.ModuleList(RBM(c.module_config(i)) for i in range(len(c.layer_dims)))
        for i, d in enumerate(self.dims):
            self.register_buffer(f"chains_{i}", torch.zeros(c.n_chains, d))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))
        self.head = nn.Linear(c.layer_dims[-1], c.n_classes) if c.n_classes else None
        self.stage: int | None = None

    @property
    def n_layers(self) -> int:
        """Hidden layers ``L``."""
        return len(self.dims) - 1

    def _chains(self) -> list[torch.Tensor]:
        return [getattr(self, f"chains_{i}") for i in range(len(self.dims))]

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1).to(self.weights[0].dtype)

    # --- conditionals -------------------------------------------------------------------------------------
    def _input(self, layers: list[torch.Tensor], layer: int) -> torch.Tensor:
        """Total input of ``layer`` given its neighbours in ``layers`` (``None`` entries are skipped)."""
        W, b = self.weights, self.biases
        out = b[layer].detach()
        if layer > 0 and layers[layer - 1] is not None:
            out = torch.addmm(out, layers[layer - 1], W[layer - 1].detach())
        if layer < self.n_layers and layers[layer + 1] is not None:
            out = torch.addmm(out, layers[layer + 1], W[layer].detach().t())
        return out

    @torch.no_grad()
    def mean_field(self, x: torch.Tensor, steps: int | None = None) -> list[torch.Tensor]:
        """``[v, mu^1, ..., mu^L]``: the mean-field posterior, started from a bottom-up pass with doubled weights."""
        v = self._flat(x)
        L = self.n_layers
        W = [w.detach() for w in self.weights]
        b = [t.detach() for t in self.biases]
        bottom = v @ W[0]  # the data's input to h^1: the same in every update, computed once
        mus: list[torch.Tensor] = [v, torch.sigmoid(torch.add(b[1], bottom, alpha=2.0 if L > 1 else 1.0))]
        for layer in range(2, L + 1):
            factor = 2.0 if layer < L else 1.0
            mus.append(torch.sigmoid_(torch.addmm(b[layer], mus[-1], W[layer - 1], alpha=factor)))
        fixed = bottom.add_(b[1])
        for _ in range(self.config.mean_field_steps if steps is None else steps):
            mus[1] = torch.sigmoid_(torch.addmm(fixed, mus[2], W[1].t())) if L > 1 else torch.sigmoid(fixed)
            for layer in range(2, L + 1):
                mus[layer] = torch.sigmoid_(self._input([*mus, None], layer))
        return mus

    def _gibbs(self, s: list[torch.Tensor], gen: torch.Generator, steps: int) -> list[torch.Tensor]:
        """Block Gibbs: odd layers given even, then even given odd; ``s`` is ``[v, h1, ..., hL]``."""
        s = list(s)
        ext = [*s, None]
        for _ in range(steps):
            for parity in (1, 0):
                for layer in range(parity, self.n_layers + 1, 2):
                    ext[layer] = bernoulli(torch.sigmoid(self._input(ext, layer)), gen)
        return ext[:-1]

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Top-layer mean-field features ``(B, layer_dims[-1])``."""
        return self.mean_field(x)[-1]

    encode = transform

    # --- generation ---------------------------------------------------------------------------------------
    def _random_states(self, n: int, gen: torch.Generator) -> list[torch.Tensor]:
        v = bernoulli(torch.sigmoid(self.biases[0].detach()).expand(n, -1).contiguous(), gen)
        return [v] + [bernoulli(torch.full((n, d), 0.5, device=v.device), gen) for d in self.dims[1:]]

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, *, steps: int = 1000) -> torch.Tensor:
        """``n`` samples ``(n, *data_shape)``: ``E[v | h^1]`` after ``steps`` block-Gibbs steps from random states."""
        gen = self.rng(generator)
        s = self._gibbs(self._random_states(n, gen), gen, steps)
        v = torch.sigmoid(self._input([*s, None], 0))
        return v.reshape(n, *self.config.data_shape).float()

    @torch.no_grad()
    def pictures(self, generator: torch.Generator | None = None) -> dict[str, tuple[torch.Tensor, int]]:
        """``filters`` of the first layer and a ``gibbs_chain`` (8 chains, ``E[v|h1]`` every 50 steps)."""
        gen = self.rng(generator)
        s, frames = self._random_states(8, gen), []
        for _ in range(12):
            s = self._gibbs(s, gen, 50)
            frames.append(torch.sigmoid(self._input([*s, None], 0)))
        return energy_pictures(self.weights[0], self.config.data_shape, torch.stack(frames))

    # --- likelihood ---------------------------------------------------------------------------------------
    def annealing_path(
        self,
        base_bias: torch.Tensor | Sequence[torch.Tensor] | None = None,
        anneal: Literal["even", "odd"] = "even",
    ) -> DBMPath:
        """The AIS path from a factorial base model to this DBM over the ``anneal`` layers, the others summed out
        (see :class:`~genlab.models.energy.ais_paths.DBMPath`); pass ``base_bias=dbm.base_biases(x_train)``."""
        return DBMPath(self, base_bias, anneal)

    @torch.no_grad()
    def base_biases(self, x: torch.Tensor, smoothing: float = 0.05, batch_size: int = 10_000) -> list[torch.Tensor]:
        """Biases of the AIS base model, one tensor per layer: the smoothed log-odds of the means of binary data
        ``x`` and of its mean-field posterior ``q(h^l|x)`` (the base rates of every layer)."""
        sums = [torch.zeros(d, dtype=torch.float64, device=self.device) for d in self.dims]
        for a in range(0, x.shape[0], batch_size):
            for total, mu in zip(sums, self.mean_field(x[a : a + batch_size]), strict=True):
                total += mu.double().sum(0)
        n = x.shape[0]
        return [torch.logit((t + smoothing) / (n + 2 * smoothing)).to(self.weights[0].dtype) for t in sums]

    @torch.no_grad()
    def exact_log_partition(self) -> float:
        """``log Z`` by enumerating the layers of one parity (the smaller, at most 20 units), the others summed
        out."""
        paths = [self.annealing_path(anneal=a) for a in ("even", "odd")]
        sizes = [sum(p.dims[i] for i in p.kept) for p in paths]
        n, path = min(zip(sizes, paths, strict=True), key=lambda t: t[0])
        if n > MAX_EXACT_UNITS:
            raise ConfigError(
                f"exact log Z enumerates the even or the odd layers: {min(sizes)} units > {MAX_EXACT_UNITS}; "
                "use AIS (genlab.metrics.log_partition)"
            )
        return float(logsumexp_chunks(lambda s: path.log_unnorm(path.split(s), 1.0), n, device=self.device))

    @evaluating
    def log_prob(self, x: torch.Tensor, log_z: float | None = None) -> torch.Tensor:
        """The mean-field lower bound on ``log p(x)`` ``(B,)``: ``E_q[-E(x, h)] + H(q) - log Z``."""
        if log_z is None:
            log_z = self.exact_log_partition()
        mus = [m.double() for m in self.mean_field(x)]
        W = [w.detach().double() for w in self.weights]
        b = [t.detach().double() for t in self.biases]
        neg_e = sum(((mus[i] @ W[i]) * mus[i + 1]).sum(1) for i in range(self.n_layers))
        neg_e = neg_e + sum(mus[i] @ b[i] for i in range(len(mus)))
        ent = sum(-(m * m.clamp_min(1e-12).log() + (1 - m) * (1 - m).clamp_min(1e-12).log()).sum(1) for m in mus[1:])
        return neg_e + ent - log_z

    # --- classification -------------------------------------------------------------------------------------
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(B, n_classes)`` (differentiable): an MLP with the DBM's weights whose layer ``l`` also
        sees the mean-field posterior of layer ``l + 1``."""
        self._require_head()
        q = self.mean_field(x)
        h = q[0]
        for layer in range(1, self.n_layers + 1):
            pre = torch.addmm(self.biases[layer], h, self.weights[layer - 1])
            if layer < self.n_layers:
                pre = torch.addmm(pre, q[layer + 1], self.weights[layer].t())
            h = torch.sigmoid(pre)
        return self.head(h)

    # --- greedy pretraining ----------------------------------------------------------------------------------
    def set_stage(self, stage: int | None) -> None:
        self._check_stage(stage)
        if stage is None and self.stage is not None and all(bool(r.initialized) for r in self.rbms):
            self.compose()
        self.stage = stage

    @torch.no_grad()
    def compose(self) -> None:
        """Set the DBM's weights from the pretrained modules: middle weights halved, shared biases averaged."""
        L = self.n_layers
        for i, r in enumerate(self.rbms):
            self.weights[i].copy_(r.W / (2.0 if 0 < i < L - 1 else 1.0))
        self.biases[0].copy_(self.rbms[0].b)
        for layer in range(1, L):
            self.biases[layer].copy_((self.rbms[layer - 1].c + self.rbms[layer].b) / 2)
        self.biases[L].copy_(self.rbms[L - 1].c)
        self._reset_chains(self.rng())
        self.initialized.fill_(True)

    @torch.no_grad()
    def _up_modules(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        h = x
        for i in range(stage):
            h = bernoulli(self.rbms[i].transform(h), self.rng())
        return h

    def _reset_chains(self, gen: torch.Generator) -> None:
        for buf, s in zip(self._chains(), self._random_states(self.config.n_chains, gen), strict=True):
            buf.copy_(s)

    @torch.no_grad()
    def on_train_start(self, x: torch.Tensor) -> None:
        if self.stage is not None:
            r = self.rbms[self.stage]
            if not bool(r.initialized):
                r.generator = self.rng()
                h = torch.cat([self._up_modules(x[a : a + 10_000], self.stage) for a in range(0, len(x), 10_000)])
                r.on_train_start(h)
            return
        if bool(self.initialized):
            return
        p = self._flat(x).mean(0).clamp(1e-3, 1 - 1e-3)
        self.biases[0].copy_(torch.log(p / (1 - p)))
        self._reset_chains(self.rng())
        self.initialized.fill_(True)

    def diversity_advice(self) -> str:
        c = self.config
        return (
            "Gibbs chains that do not mix between modes: sample with more steps (sample(steps=...)), train with "
            f"more gibbs_steps (now {c.gibbs_steps}) or n_chains (now {c.n_chains}), or set pretrain_epochs"
        )

    # --- training ---------------------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        if self.stage is not None:
            return self.rbms[self.stage].configure_optimizers()
        groups = [
            {"params": list(self.weights), "weight_decay": c.weight_decay},
            {"params": list(self.biases), "weight_decay": 0.0},
        ]
        opts: list[torch.optim.Optimizer] = [MomentumSGD(groups, lr=c.lr, momentum=c.momentum)]
        if self.head is not None:
            opts.append(adam(self.parameters(), lr=c.finetune_lr))
        return opts

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        gen = self.rng()
        if self.stage is not None:
            r = self.rbms[self.stage]
            r.generator = gen
            return r.training_step(Batch(self._up_modules(batch.x, self.stage)), optimizers, step)
        if self.head is not None and batch.y is not None:
            return self._finetune_step(batch, optimizers[-1])
        return self._joint_step(batch.x, optimizers[0], gen)

    @torch.no_grad()
    def _joint_step(self, x: torch.Tensor, optimizer: torch.optim.Optimizer, gen: torch.Generator) -> dict[str, Any]:
        if not bool(self.initialized):
            self.on_train_start(x)
        data = self.mean_field(x)
        model = self._gibbs(self._chains(), gen, self.config.gibbs_steps)
        for buf, s in zip(self._chains(), model, strict=True):
            buf.copy_(s)
        nd, nm = data[0].shape[0], model[0].shape[0]
        for i, W in enumerate(self.weights):
            g = torch.mm(model[i].t(), model[i + 1]).div_(nm)
            g.addmm_(data[i].t(), data[i + 1], alpha=-1.0 / nd)
            W.grad = g
        for i, b in enumerate(self.biases):
            b.grad = model[i].mean(0) - data[i].mean(0)
        optimizer.step()
        recon = torch.sigmoid(self._input([*data, None], 0))
        return {"loss": (recon - data[0]).square().sum(1).mean()}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        if self.stage is not None:
            return self.rbms[self.stage].validation_step(Batch(self._up_modules(batch.x, self.stage)))
        if self.head is not None and batch.y is not None:
            return self._classification_metrics(batch)
        data = self.mean_field(batch.x)
        recon = torch.sigmoid(self._input([*data, None], 0))
        return {"loss": (recon - data[0]).square().sum(1).mean()}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        require_unit_range(info, "deep Boltzmann machine", "binary data or intensities in [0, 1]")

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        return Batch(self.rand((n, *self.data_shape), generator=generator).round(), None)


__all__ = ["DBM", "DBMConfig"]
