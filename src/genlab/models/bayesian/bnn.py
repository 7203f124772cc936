"""Bayesian neural networks for uncertainty: Bayes by backprop, MC dropout and deep ensembles, one interface."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..._device import seed_from, seeded_global_rng
from ...config import (
    MAX_COPIES,
    MAX_LAYERS,
    MAX_STEPS,
    MAX_WIDTH,
    BaseConfig,
    param,
    shape_param,
)
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...nn import adam
from ...nn.bayes import BayesConv2d, BayesLinear, _Bayes
from ...registry import register_model
from ..base import Batch, GenerativeModel, eval_mode


@dataclass(frozen=True)
class BNNConfig(BaseConfig):
    """Configuration of :class:`BNN`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one input")
    task: Literal["classification", "regression"] = "classification"
    n_outputs: int = param(10, ge=1, le=MAX_WIDTH, help="classes, or regression targets per input")
    method: Literal["bayes_by_backprop", "mc_dropout", "ensemble", "plain"] = param(
        "bayes_by_backprop", help="bayes_by_backprop, mc_dropout, ensemble, or plain (baseline)"
    )
    architecture: Literal["mlp", "conv"] = param("mlp", help="mlp, or conv (images: two conv + pool blocks)")
    hidden_dims: tuple[int, ...] = param(
        (400, 400), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="mlp widths (conv: channels, then one fc width)"
    )
    activation: Literal["relu", "tanh"] = "relu"
    dropout: float = param(0.5, ge=0, lt=1, help="mc_dropout: dropout before every hidden and output layer")
    prior_std: float = param(1.0, gt=0, help="bayes_by_backprop: std of the Gaussian prior on the weights")
    init_std: float = param(1e-3, gt=0, help="bayes_by_backprop: initial posterior std of the weights")
    kl_weight: float = param(1.0, ge=0, help="bayes_by_backprop: weight of KL / N in the loss (1: the ELBO)")
    n_members: int = param(5, ge=1, le=MAX_COPIES, help="ensemble: independently initialised networks")
    n_samples: int = param(20, ge=1, le=MAX_STEPS, help="predictive draws (weights or dropout masks) at test time")
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    weight_decay: float = param(0.0, ge=0)

    def validate(self) -> None:
        if self.architecture == "conv" and len(self.data_shape) != 3:
            raise ConfigError(f"architecture='conv' needs images (C, H, W), got {self.data_shape}")
        if self.architecture == "conv" and len(self.hidden_dims) != 3:
            raise ConfigError("architecture='conv' takes hidden_dims=(channels1, channels2, fc width)")


@dataclass(frozen=True)
class Predictive:
    """The posterior predictive of a batch.

    Attributes:
        mean: classification: the mean class probabilities ``(B, K)``; regression: the mean ``(B, T)``.
        variance: classification: the variance of the probabilities across draws ``(B, K)``; regression: the
            total predictive variance (aleatoric + epistemic) ``(B, T)``.
        entropy: the entropy of the predictive ``(B,)`` in nats (classification: of the mean probabilities;
            regression: of the Gaussian with the total variance, summed over targets).
        epistemic: the part of the uncertainty due to the weights ``(B,)``: the mutual information between
            the prediction and the weights (classification), or the variance of the means summed over targets.
        draws: the per-draw outputs ``(S, B, K)`` (probabilities or means).
    """

    mean: torch.Tensor
    variance: torch.Tensor
    entropy: torch.Tensor
    epistemic: torch.Tensor
    draws: torch.Tensor


def _layer(bayes: bool, c: BNNConfig, a: int, b: int) -> nn.Module:
    return BayesLinear(a, b, c.prior_std, c.init_std) if bayes else nn.Linear(a, b)


def _network(c: BNNConfig) -> nn.Sequential:
    bayes = c.method == "bayes_by_backprop"
    drop = c.dropout if c.method == "mc_dropout" else 0.0
    act = nn.ReLU if c.activation == "relu" else nn.Tanh
    out_dim = c.n_outputs * (2 if c.task == "regression" else 1)
    layers: list[nn.Module] = []
    if c.architecture == "conv":
        ch, h, w = c.data_shape
        c1, c2, fc = c.hidden_dims
        for cin, cout in ((ch, c1), (c1, c2)):
            layers += [
                BayesConv2d(cin, cout, 3, 1, c.prior_std, c.init_std) if bayes else nn.Conv2d(cin, cout, 3, padding=1),
                act(),
                nn.MaxPool2d(2),
            ]
            h, w = h // 2, w // 2
        layers.append(nn.Flatten())
        dims = (c2 * h * w, fc)
    else:
        layers.append(nn.Flatten())
        dims = (math.prod(c.data_shape), *c.hidden_dims)
    for a, b in itertools.pairwise(dims):
        if drop:
            layers.append(nn.Dropout(drop))
        layers += [_layer(bayes, c, a, b), act()]
    if drop:
        layers.append(nn.Dropout(drop))
    layers.append(_layer(bayes, c, dims[-1], out_dim))
    return nn.Sequential(*layers)


@register_model(
    "bnn",
    config=BNNConfig,
    description="Bayesian neural network: Bayes by backprop, MC dropout or deep ensemble; predictive uncertainty",
    presets={"mc_dropout": {"method": "mc_dropout"}, "deep_ensemble": {"method": "ensemble"}},
)
class BNN(GenerativeModel):
    r"""A classifier or regressor whose predictions carry their uncertainty.

    - **Bayes by backprop** (Blundell et al. 2015): a factorized Gaussian posterior :math:`q(w)` over every
      weight, trained on the ELBO :math:`E_q[\log p(y|x, w)] - \mathrm{KL}(q(w) \| p(w)) / N` per sample (the
      KL of the whole data set shared over its :math:`N` samples), with one reparameterized draw per step.
    - **MC dropout** (Gal & Ghahramani 2016): dropout kept on at test time, each mask a draw from an
      approximate posterior.
    - **Deep ensembles** (Lakshminarayanan et al. 2017): independently initialised networks trained on the
      same data; their spread is the uncertainty.
    - **plain**: one deterministic network, the baseline.

    The predictive :math:`p(y|x) \approx \frac1S \sum_s p(y|x, w_s)` comes from ``n_samples`` draws (the
    ensemble's members); see :meth:`predictive`. Regression outputs a mean and a variance per target
    (heteroscedastic Gaussian), so the total variance splits into aleatoric and epistemic parts.

    This model predicts; it does not generate data: :meth:`sample` draws predictions for given inputs.

    References:
        Blundell, C. et al. (2015). Weight Uncertainty in Neural Networks. ICML.
        Gal, Y. & Ghahramani, Z. (2016). Dropout as a Bayesian Approximation. ICML.
        Lakshminarayanan, B., Pritzel, A. & Blundell, C. (2017). Simple and Scalable Predictive Uncertainty
        Estimation using Deep Ensembles. NeurIPS.
    """

    generative = False

    def __init__(self, config: BNNConfig) -> None:
        super().__init__(config)
        n = config.n_members if config.method == "ensemble" else 1
        self.members = nn.ModuleList(_network(config) for _ in range(n))
        self.register_buffer("n_train", torch.zeros((), dtype=torch.long))

    @property
    def classification(self) -> bool:
        return self.config.task == "classification"

    def _bayes_layers(self) -> list[_Bayes]:
        return [m for m in self.modules() if isinstance(m, _Bayes)]

    def _set_generator(self, gen: torch.Generator | None, sample_weights: bool = True) -> None:
        for layer in self._bayes_layers():
            layer.generator, layer.sample_weights = gen, sample_weights

    def _outputs(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return net(x.to(next(net.parameters()).dtype))

    # --- the predictive ---------------------------------------------------------------------------------
    def _draws(self, x: torch.Tensor, n_samples: int, gen: torch.Generator) -> torch.Tensor:
        """Raw outputs of every draw ``(S, B, out)``."""
        c = self.config
        # eval mode for everything, each submodule's own mode back afterwards (MC dropout's switches included)
        with eval_mode(self):
            if c.method == "ensemble":
                return torch.stack([self._outputs(net, x) for net in self.members])
            if c.method == "plain":
                return self._outputs(self.members[0], x)[None]
            if c.method == "mc_dropout":
                # MC dropout: the dropout layers deliberately stay active at prediction time (Gal & Ghahramani
                # 2016); every other layer evaluates
                for m in self.modules():
                    if isinstance(m, nn.Dropout):
                        m.train()
                # dropout draws from torch's global RNG (of the CPU or the model's device): seed it, then restore
                with seeded_global_rng(seed_from(gen), x.device):
                    return torch.stack([self._outputs(self.members[0], x) for _ in range(n_samples)])
            self._set_generator(gen)
            try:
                return torch.stack([self._outputs(self.members[0], x) for _ in range(n_samples)])
            finally:
                self._set_generator(None)

    def _split(self, raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, v = raw.chunk(2, dim=-1)
        return mean, F.softplus(v) + 1e-6

    @torch.no_grad()
    def predictive(
        self, x: torch.Tensor, n_samples: int | None = None, generator: torch.Generator | None = None
    ) -> Predictive:
        """The posterior predictive of inputs ``x`` from ``n_samples`` draws (default the config's)."""
        s = self.config.n_samples if n_samples is None else n_samples
        if s < 1:
            raise ConfigError(f"n_samples must be >= 1, got {s}")
        raw = self._draws(self._checked(x), s, self.rng(generator)).double()
        if self.classification:
            p = raw.softmax(-1)
            mean = p.mean(0)
            entropy = -(mean * mean.clamp_min(1e-30).log()).sum(-1)
            expected = -(p * p.clamp_min(1e-30).log()).sum(-1).mean(0)
            var = p.var(0, unbiased=False)
            return Predictive(mean, var, entropy, (entropy - expected).clamp_min(0), p)
        mu, var = self._split(raw)
        mean = mu.mean(0)
        epistemic = mu.var(0, unbiased=False)
        total = var.mean(0) + epistemic
        entropy = (0.5 * torch.log(2 * math.pi * math.e * total)).sum(-1)
        return Predictive(mean, total, entropy, epistemic.sum(-1), mu)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, n_samples: int | None = None) -> torch.Tensor:
        """Mean class probabilities ``(B, K)`` (classification)."""
        self._require("classification")
        return self.predictive(x, n_samples).mean

    @torch.no_grad()
    def predict(self, x: torch.Tensor, n_samples: int | None = None) -> torch.Tensor:
        """Classes ``(B,)`` (classification) or predictive means ``(B, T)`` (regression)."""
        pred = self.predictive(x, n_samples)
        return pred.mean.argmax(1) if self.classification else pred.mean.float()

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, *, x: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``n`` draws from the posterior predictive of the inputs ``x``: classes ``(n, B)`` (as floats) or
        targets ``(n, B, T)``; each draw uses fresh weights (a new member, mask or weight sample)."""
        if x is None:
            raise ConfigError("a Bayesian network samples predictions for inputs: pass x=(B, *data_shape)")
        gen = self.rng(generator)
        raw = self._draws(self._checked(x), n, gen).double()  # n draws; an ensemble gives its members
        if raw.shape[0] != n:  # a fixed set of networks: one drawn per sample
            raw = raw[self.randint(0, raw.shape[0], (n,), generator=gen)]
        if self.classification:
            p = raw.softmax(-1).reshape(-1, raw.shape[-1])
            return self.multinomial(p, 1, generator=gen).reshape(n, -1).float()
        mu, var = self._split(raw)
        return (mu + var.sqrt() * self.randn(mu.shape, generator=gen, dtype=mu.dtype)).float()

    def _require(self, task: str) -> None:
        if self.config.task != task:
            raise ConfigError(f"this BNN does {self.config.task}, not {task}")

    def _checked(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, device=self.device)  # user data on any device: the outputs are on the model's
        if tuple(x.shape[1:]) != tuple(self.config.data_shape) and x[0].numel() != math.prod(self.config.data_shape):
            raise DataError(f"this BNN takes inputs of shape {tuple(self.config.data_shape)}, got {tuple(x.shape[1:])}")
        return x.reshape(x.shape[0], *self.config.data_shape)

    # --- training ---------------------------------------------------------------------------------------
    def _nll(self, raw: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.classification:
            return F.cross_entropy(raw, y.long())
        mu, var = self._split(raw)
        t = y.reshape(mu.shape).to(mu.dtype)
        return (0.5 * (torch.log(2 * math.pi * var) + (t - mu).square() / var)).sum(-1).mean()

    def kl(self) -> torch.Tensor:
        """``KL(q(w) || p(w))`` of all Bayesian layers (0 for the other methods)."""
        layers = self._bayes_layers()
        return sum((layer.kl() for layer in layers), torch.zeros((), device=self.device))

    @torch.no_grad()
    def on_train_start(self, x: torch.Tensor) -> None:
        if int(self.n_train) == 0:
            self.n_train.fill_(len(x))

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        if batch.y is None:
            raise DataError("a Bayesian network learns from labelled data: pass a dataset with targets (y)")
        x = self._checked(batch.x)
        self._set_generator(self.rng())
        try:
            outs = [self._outputs(net, x) for net in self.members]
        finally:
            self._set_generator(None)
        nll = sum(self._nll(o, batch.y) for o in outs) / len(outs)
        loss = nll * len(outs)  # each member minimises its own loss
        out: dict[str, Any] = {"nll": nll.detach()}
        if self.config.method == "bayes_by_backprop":
            kl = self.kl() / max(int(self.n_train), len(x))
            loss = loss + self.config.kl_weight * kl
            out["kl"] = kl.detach()
        self.optimize(loss, optimizers[0])
        if self.classification:
            out["acc"] = (torch.stack(outs).softmax(-1).mean(0).argmax(1) == batch.y).double().mean()
        out["loss"] = loss.detach()
        return out

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        pred = self.predictive(batch.x, generator=torch.Generator().manual_seed(0))
        if self.classification:
            y = batch.y.long()
            nll = -pred.mean.clamp_min(1e-30).log().gather(1, y[:, None]).mean()
            return {"loss": nll, "acc": (pred.mean.argmax(1) == y).double().mean()}
        t = batch.y.reshape(pred.mean.shape).double()
        nll = (0.5 * (torch.log(2 * math.pi * pred.variance) + (t - pred.mean).square() / pred.variance)).sum(-1)
        return {"loss": nll.mean(), "rmse": (t - pred.mean).square().mean().sqrt()}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        if self.classification and info.class_names is not None and len(info.class_names) != self.config.n_outputs:
            raise DataError(
                f"the data has {len(info.class_names)} classes but this BNN has n_outputs={self.config.n_outputs}"
            )

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        g = self.rng(generator)
        x = self.rand((n, *self.data_shape), generator=g)
        if self.classification:
            return Batch(x, self.randint(0, self.config.n_outputs, (n,), generator=g))
        return Batch(x, self.randn((n, self.config.n_outputs), generator=g))


__all__ = ["BNN", "BNNConfig", "Predictive"]
