"""Stacked autoencoders with optional tied weights and greedy layer-wise pretraining."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ...config import MAX_LAYERS, MAX_WIDTH, BaseConfig, param, shape_param
from ...data.dataset import DatasetInfo
from ...errors import ConfigError
from ...losses import reconstruction_error
from ...nn import activation as make_activation
from ...nn import adam
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating, require_unit_range
from ._common import fit_code_gaussian


@dataclass(frozen=True)
class StackedAEConfig(BaseConfig):
    """Configuration of :class:`StackedAE`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one sample")
    layer_dims: tuple[int, ...] = param(
        (256, 64, 16), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="widths of the encoder layers; the last is the code"
    )
    activation: Literal["relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus"] = "relu"
    tied_weights: bool = param(True, help="decoder layer i uses the transposed weights of encoder layer i")
    loss: Literal["mse", "bce"] = param("mse", help="reconstruction loss of the data (bce for data in [0, 1])")
    pretrain_epochs: int = param(0, ge=0, help="epochs per layer of greedy layer-wise pretraining before fine-tuning")
    lr: float = param(1e-3, gt=0, help="Adam learning rate (pretraining and fine-tuning)")
    weight_decay: float = param(0.0, ge=0)

    def validate(self) -> None:
        if not self.layer_dims:
            raise ConfigError("StackedAEConfig.layer_dims needs at least one layer")


@register_model(
    "stacked_ae",
    config=StackedAEConfig,
    description="stacked autoencoder (tied weights, greedy layer-wise pretraining)",
)
class StackedAE(GenerativeModel):
    r"""A deep autoencoder built from a stack of one-layer autoencoders (Bengio et al. 2007).

    Encoder layer :math:`i` maps :math:`h_{i-1} \mapsto h_i = s(W_i h_{i-1} + b_i)` (the last layer, the code,
    is linear); decoder layer :math:`i` maps back with :math:`W_i'` (with tied weights
    :math:`W_i' = W_i^\top`, which halves the weights). Greedy layer-wise pretraining trains layer
    :math:`i` alone as a one-layer autoencoder of the (frozen) codes :math:`h_{i-1}` of the layers below,

    .. math:: \min_{W_i, b_i, b_i'} \; \| h_{i-1} - s'(W_i' s(W_i h_{i-1} + b_i) + b_i') \|^2,

    one stage per layer through the same trainer (:func:`genlab.training.layerwise.pretrain_layerwise`);
    the whole stack is then fine-tuned end to end on the reconstruction of the data.

    References:
        Bengio, Y., Lamblin, P., Popovici, D. & Larochelle, H. (2007). Greedy Layer-Wise Training of Deep
        Networks. NeurIPS.
        Hinton, G. E. & Salakhutdinov, R. R. (2006). Reducing the Dimensionality of Data with Neural Networks.
    """

    def __init__(self, config: StackedAEConfig) -> None:
        super().__init__(config)
        c = config
        dims = [math.prod(c.data_shape), *c.layer_dims]
        self.dims = dims
        self.encoders = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(dims))
        if c.tied_weights:
            self.decoder_biases = nn.ParameterList(nn.Parameter(torch.zeros(a)) for a in dims[:-1])
            self.decoders = None
        else:
            self.decoders = nn.ModuleList(nn.Linear(b, a) for a, b in itertools.pairwise(dims))
        self.act = make_activation(c.activation)
        self.stage: int | None = None  # None: the whole stack; i: pretraining layer i
        self.register_buffer("code_mean", torch.zeros(dims[-1]))
        self.register_buffer("code_std", torch.ones(dims[-1]))

    @property
    def output_range(self) -> tuple[float, float] | None:  # type: ignore[override]
        return (0.0, 1.0) if self.config.loss == "bce" else None

    @property
    def n_layers(self) -> int:
        return len(self.encoders)

    # --- layers -----------------------------------------------------------------------------------
    def encode_layer(self, i: int, h: torch.Tensor) -> torch.Tensor:
        out = self.encoders[i](h)
        return out if i == self.n_layers - 1 else self.act(out)

    def decode_layer(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Decoder layer ``i`` without its output activation."""
        if self.decoders is None:
            return F.linear(h, self.encoders[i].weight.t(), self.decoder_biases[i])
        return self.decoders[i](h)

    def encode(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """The code ``(B, layer_dims[-1])`` (or the output of layer ``upto - 1``)."""
        h = x.reshape(x.shape[0], -1)
        for i in range(self.n_layers if upto is None else upto):
            h = self.encode_layer(i, h)
        return h

    def decoder_output(self, h: torch.Tensor) -> torch.Tensor:
        """Raw reconstruction ``(B, *data_shape)``: logits (bce) or values (mse)."""
        for i in reversed(range(self.n_layers)):
            h = self.decode_layer(i, h)
            if i > 0:
                h = self.act(h)
        return h.reshape(h.shape[0], *self.config.data_shape)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        out = self.decoder_output(h)
        return torch.sigmoid(out) if self.config.loss == "bce" else out

    @evaluating
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)).reshape(x.shape)

    def reconstruction_loss(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-sample loss ``(B,)`` summed over dimensions, from the raw decoder output."""
        return reconstruction_error(out, x, self.config.loss)

    @evaluating
    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample anomaly score: the reconstruction loss; higher = less typical.

        Eval mode, no gradients; ``reconstruction_loss(decoder_output(encode(x)), x)`` is the differentiable form.
        """
        return self.reconstruction_loss(self.decoder_output(self.encode(x)), x)

    # --- greedy layer-wise training ---------------------------------------------------------------
    @property
    def n_stages(self) -> int:
        """Pretraining stages: one per layer."""
        return self.n_layers

    def set_stage(self, stage: int | None) -> None:
        """Train only layer ``stage`` (on the frozen codes of the layers below), or the whole stack (None)."""
        if stage is not None and not 0 <= stage < self.n_layers:
            raise ConfigError(f"stage must be in 0..{self.n_layers - 1} or None, got {stage}")
        self.stage = stage

    def stage_parameters(self, stage: int | None) -> list[nn.Parameter]:
        if stage is None:
            return list(self.parameters())
        params = list(self.encoders[stage].parameters())
        params += [self.decoder_biases[stage]] if self.decoders is None else list(self.decoders[stage].parameters())
        return params

    def stage_loss(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        """Loss of the one-layer autoencoder at ``stage`` on the frozen codes of the layers below."""
        with torch.no_grad():
            target = self.encode(x, upto=stage)
        out = self.decode_layer(stage, self.encode_layer(stage, target))
        if stage == 0:
            return self.reconstruction_loss(out.reshape(x.shape[0], *self.config.data_shape), x).mean()
        return (self.act(out) - target).square().sum(1).mean()

    # --- sampling ---------------------------------------------------------------------------------
    def on_train_end(self, x: torch.Tensor) -> None:
        if self.stage is None:  # after fine-tuning the whole stack, not after a pretraining stage
            fit_code_gaussian(self, x)

    @evaluating
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode codes from the Gaussian fitted to the training codes, ``(n, *data_shape)``."""
        eps = self.randn((n, self.dims[-1]), generator=generator)
        return self.decode(self.code_mean + eps * self.code_std)

    def diversity_advice(self) -> str:
        return (
            "a stacked autoencoder samples from a Gaussian fitted to its codes, which may miss the data's modes: "
            f"change layer_dims (now {tuple(self.config.layer_dims)}), set pretrain_epochs, or use a VAE"
        )

    # --- training ---------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.stage_parameters(self.stage), lr=self.config.lr, weight_decay=self.config.weight_decay)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        if self.stage is None:
            loss = self.reconstruction_loss(self.decoder_output(self.encode(batch.x)), batch.x).mean()
        else:
            loss = self.stage_loss(batch.x, self.stage)
        self.optimize(loss, optimizers[0])
        return {"loss": loss.detach()}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        if self.stage is None:
            return {"loss": self.score(batch.x).mean()}
        return {"loss": self.stage_loss(batch.x, self.stage)}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        if self.config.loss == "bce":
            require_unit_range(info, "bce loss", "loss='mse'")
