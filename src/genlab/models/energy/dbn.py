"""Deep belief nets: a stack of RBMs trained greedily, sampled top-down, fine-tuned as a classifier."""

from __future__ import annotations

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
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating
from ._stack import StackMixin
from .rbm import RBM, RBMConfig, gibbs_advice
from .sampling import bernoulli


@dataclass(frozen=True)
class DBNConfig(BaseConfig):
    """Configuration of :class:`DBN`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one sample")
    layer_dims: tuple[int, ...] = param(
        (500, 500), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="hidden units per layer, bottom to top"
    )
    visible: Literal["bernoulli", "gaussian"] = param("bernoulli", help="visible units of the bottom RBM")
    method: Literal["cd", "pcd"] = param("cd", help="how each RBM is trained: CD-k or PCD-k")
    k: int = param(1, ge=1, le=MAX_STEPS, help="Gibbs steps per update of each RBM")
    n_chains: int = param(100, ge=1, le=MAX_CHAINS, help="pcd: persistent chains per RBM")
    lr: float = param(0.05, gt=0, help="learning rate of the RBMs")
    momentum: float = param(0.5, ge=0, lt=1, help="sgd momentum of the RBMs")
    weight_decay: float = param(2e-4, ge=0, help="L2 penalty on the RBM weights")
    centering: bool = param(False, help="centered RBMs (Bernoulli layers)")
    propagate: Literal["sample", "mean"] = param(
        "sample", help="what an upper RBM trains on: binary samples of the layer below, or its probabilities"
    )
    pretrain_epochs: int = param(0, ge=0, help="epochs per RBM of greedy layer-wise pretraining (genlab train)")
    n_classes: int = param(
        0, ge=0, le=MAX_WIDTH, help="> 0: a softmax layer on top, fine-tuned with labels as a classifier"
    )
    finetune_lr: float = param(1e-3, gt=0, help="Adam learning rate of discriminative fine-tuning")
    strict_range: bool = param(True, help="bernoulli visibles: reject data outside [0, 1]")

    def validate(self) -> None:
        if not self.layer_dims:
            raise ConfigError("DBNConfig.layer_dims needs at least one layer")
        if self.centering and self.visible != "bernoulli":
            raise ConfigError("centering is defined for binary visibles: set visible='bernoulli' or centering=False")

    def rbm_config(self, i: int) -> RBMConfig:
        """The config of RBM ``i`` (layer ``i`` below, ``i + 1`` above)."""
        below = self.data_shape if i == 0 else (self.layer_dims[i - 1],)
        return RBMConfig(
            data_shape=below,
            n_hidden=self.layer_dims[i],
            visible=self.visible if i == 0 else "bernoulli",
            method=self.method,
            k=self.k,
            n_chains=self.n_chains,
            lr=self.lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            centering=self.centering,
            strict_range=self.strict_range,
        )


@register_model(
    "dbn",
    config=DBNConfig,
    description="deep belief net (greedy RBM stack, top-down sampling, fine-tuning, AIS lower bound)",
    presets={"dbn_classifier": {"n_classes": 10}},
)
class DBN(StackMixin, GenerativeModel):
    r"""Deep belief net (Hinton, Osindero & Teh 2006): an RBM on top of directed sigmoid layers,

    .. math::
        p(v, h^1, \dots, h^L) = p(h^{L-1}, h^L) \prod_{l=0}^{L-2} p(h^l | h^{l+1}), \qquad h^0 = v,

    where :math:`p(h^{L-1}, h^L)` is the top RBM and :math:`p(h^l|h^{l+1})` the visible conditional of RBM
    :math:`l`. Greedy layer-wise pretraining (one stage per layer through the same trainer) trains RBM
    :math:`l` by CD/PCD on samples of :math:`Q(h^l | h^{l-1})` from the frozen layers below; each added layer
    improves a variational lower bound on :math:`\log p(v)`. Sampling runs Gibbs in the top RBM, then one
    down pass. The bound, with the recognition path :math:`Q` and :math:`Z` of the top RBM by AIS
    (Salakhutdinov & Murray 2008):

    .. math::
        \log p(v) \ge E_{Q}\Big[\sum_{l=0}^{L-2} \big(\log p(h^l|h^{l+1}) - \log Q(h^{l+1}|h^l)\big)
        - F_{\text{top}}(h^{L-1})\Big] - \log Z_{\text{top}}.

    With ``n_classes > 0`` a softmax layer on the top features is trained with the whole stack as an MLP
    (discriminative fine-tuning). Outside a pretraining stage, a step fine-tunes with labels, or without
    labels updates every RBM once on the batch (the greedy objectives trained together).

    References:
        Hinton, G. E., Osindero, S. & Teh, Y.-W. (2006). A Fast Learning Algorithm for Deep Belief Nets.
        Neural Computation 18.
        Salakhutdinov, R. & Murray, I. (2008). On the Quantitative Analysis of Deep Belief Networks. ICML.
    """

    precisions = ("32",)
    precision_note = (
        "its updates are sufficient statistics of Gibbs samples "
        "(differences of small averages that bfloat16/float16 would round away)"
    )

    likelihood_method = "ais"

    def __init__(self, config: DBNConfig) -> None:
        super().__init__(config)
        c = config
        self.rbms = nn.ModuleList(RBM(c.rbm_config(i)) for i in range(len(c.layer_dims)))
        for r in self.rbms:
            r.registry_name = "rbm"
        self.head = nn.Linear(c.layer_dims[-1], c.n_classes) if c.n_classes else None
        self.stage: int | None = None

    @property
    def output_range(self) -> tuple[float, float] | None:  # type: ignore[override]
        return (0.0, 1.0) if self.config.visible == "bernoulli" else None

    @property
    def n_layers(self) -> int:
        return len(self.rbms)

    # --- the layers -----------------------------------------------------------------------------------
    def _share_rng(self, generator: torch.Generator | None) -> torch.Generator:
        gen = self.rng(generator)
        for r in self.rbms:
            r.generator = gen
        return gen

    @torch.no_grad()
    def up(self, x: torch.Tensor, upto: int | None = None, sample: bool = False, generator=None) -> torch.Tensor:
        """The recognition pass: ``Q(h^upto | x)`` probabilities (or binary samples), ``(B, layer_dims[upto-1])``."""
        gen = self.rng(generator)
        h = x
        for i in range(self.n_layers if upto is None else upto):
            p = self.rbms[i].transform(h)
            h = bernoulli(p, gen) if sample else p
        return h

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Top-layer features ``Q(h^L = 1 | x)`` by the mean-field up pass, ``(B, layer_dims[-1])``."""
        return self.up(x)

    encode = transform

    def _train_input(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        return self.up(x, stage, sample=self.config.propagate == "sample")

    # --- generation ----------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, *, steps: int = 1000, temperature: float = 1.0
    ) -> torch.Tensor:
        """``n`` samples ``(n, *data_shape)``: ``steps`` Gibbs steps in the top RBM, then a down pass (means at v)."""
        gen = self._share_rng(generator)
        top = self.rbms[-1]
        if self.n_layers == 1:
            return top.sample(n, gen, steps=steps, temperature=temperature)
        h = top.sample(n, gen, steps=steps, temperature=temperature, mean=False)
        for i in range(self.n_layers - 2, -1, -1):
            mean = self.rbms[i].visible_mean(h)
            h = mean if i == 0 else bernoulli(mean, gen)
        return h.reshape(n, *self.config.data_shape).float()

    @torch.no_grad()
    def pictures(self, generator: torch.Generator | None = None) -> dict[str, tuple[torch.Tensor, int]]:
        """``filters`` of the bottom RBM (``name -> (images, per row)``)."""
        return {k: v for k, v in self.rbms[0].pictures(generator).items() if k == "filters"}

    # --- likelihood --------------------------------------------------------------------------------------
    def annealing_path(self, base_bias: torch.Tensor | None = None):
        """The AIS path of the top RBM (its ``log Z`` enters the bound)."""
        return self.rbms[-1].annealing_path(base_bias)

    @evaluating
    def log_prob(
        self,
        x: torch.Tensor,
        log_z: float | None = None,
        n_samples: int = 10,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """A stochastic variational lower bound on ``log p(x)`` ``(B,)`` (average of ``n_samples`` recognition paths).

        ``log_z`` is the top RBM's ``log Z`` (from :func:`genlab.metrics.log_partition` on this model); exact when
        omitted and the top RBM is small. A one-layer DBN is its RBM and the value is exact.
        """
        top = self.rbms[-1]
        if log_z is None:
            log_z = top.exact_log_partition()
        if self.n_layers == 1:
            return top.log_prob(x, log_z)
        gen = self.rng(generator)
        total = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
        for _ in range(n_samples):
            below, bound = x, torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
            for i in range(self.n_layers - 1):
                h = bernoulli(self.rbms[i].transform(below), gen)
                bound += self.rbms[i].log_visible_given_hidden(below, h).double()
                bound -= self.rbms[i].log_hidden_given_visible(h, below).double()
                below = h
            total += bound - top.free_energy(below).double()
        return total / n_samples - log_z

    # --- classification ---------------------------------------------------------------------------------
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(B, n_classes)`` of the fine-tuned MLP (differentiable)."""
        self._require_head()
        h = x
        for r in self.rbms:
            h = torch.sigmoid(r.hidden_logits(h))
        return self.head(h)

    def diversity_advice(self) -> str:
        return f"the top RBM's Gibbs chains do not mix between modes: {gibbs_advice(self.config)}"

    # --- greedy layer-wise training ----------------------------------------------------------------------
    def set_stage(self, stage: int | None) -> None:
        self._check_stage(stage)
        self.stage = stage

    @torch.no_grad()
    def on_train_start(self, x: torch.Tensor) -> None:
        todo = [self.stage] if self.stage is not None else range(self.n_layers)
        for i in todo:
            if not bool(self.rbms[i].initialized):
                h = torch.cat([self.up(x[a : a + 10_000], i) for a in range(0, x.shape[0], 10_000)])
                self.rbms[i].on_train_start(h)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        if self.stage is not None:
            return self.rbms[self.stage].configure_optimizers()
        opts = [r.configure_optimizers()[0] for r in self.rbms]
        if self.head is not None:
            opts.append(adam(self.parameters(), lr=self.config.finetune_lr))
        return opts

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        gen = self._share_rng(None)
        if self.stage is not None:
            h = self._train_input(batch.x, self.stage)
            return self.rbms[self.stage].training_step(Batch(h), optimizers, step)
        if self.head is not None and batch.y is not None:  # discriminative fine-tuning of the whole stack
            return self._finetune_step(batch, optimizers[-1])
        out: dict[str, Any] = {}
        with torch.no_grad():
            h = batch.x
            for i, r in enumerate(self.rbms):
                out[f"loss_{i}"] = r.training_step(Batch(h), [optimizers[i]], step)["loss"]
                if i + 1 < self.n_layers:
                    p = r.transform(h)
                    h = bernoulli(p, gen) if self.config.propagate == "sample" else p
        out["loss"] = out["loss_0"]
        return out

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        if self.stage is not None:
            return self.rbms[self.stage].validation_step(Batch(self.up(batch.x, self.stage)))
        if self.head is not None and batch.y is not None:
            return self._classification_metrics(batch)
        return self.rbms[0].validation_step(batch)

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        self.rbms[0].check_data(info)

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        return self.rbms[0].example_batch(n, generator)


__all__ = ["DBN", "DBNConfig"]
