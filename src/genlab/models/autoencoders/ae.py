"""Deterministic autoencoders: plain (under- or overcomplete), sparse and denoising, MLP or convolutional.

One class, :class:`AE`, covers the three: sparsity and corruption are config switches, and the registry
names ``sparse_ae`` and ``denoising_ae`` are presets of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch

from ...config import MAX_LAYERS, MAX_WIDTH, BaseConfig, param, shape_param
from ...data.corruptions import gaussian_noise, random_mask, salt_and_pepper
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...losses import reconstruction_error
from ...nn import adam
from ...nn.coders import Decoder, Encoder
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating, require_unit_range
from ._common import fit_code_gaussian


def _identity(h: torch.Tensor) -> torch.Tensor:
    return h


_CODE_ACTIVATIONS = {"none": _identity, "sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}


@dataclass(frozen=True)
class AEConfig(BaseConfig):
    """Configuration of :class:`AE`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one sample")
    architecture: Literal["mlp", "conv"] = param("mlp", help="mlp, or conv (images; hidden_dims are channels)")
    hidden_dims: tuple[int, ...] = param(
        (256,), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="encoder widths or channels (the decoder mirrors)"
    )
    latent_dim: int = param(
        32, ge=1, le=MAX_WIDTH, help="code size: below the input size undercomplete, above overcomplete"
    )
    activation: Literal["relu", "leaky_relu", "elu", "tanh", "softplus", "gelu", "silu", "sigmoid"] = "relu"
    code_activation: Literal["none", "sigmoid", "relu", "tanh"] = param("none", help="activation of the code")
    loss: Literal["mse", "bce"] = param("mse", help="reconstruction loss: mse, or bce for data in [0, 1]")
    sparsity: Literal["none", "l1", "kl"] = param("none", help="l1 on the code, or KL to a target rate rho")
    sparsity_weight: float = param(1e-3, ge=0, help="weight of the sparsity penalty")
    sparsity_target: float = param(0.05, gt=0, lt=1, help="kl sparsity: target mean activation rho")
    corruption: Literal["none", "gaussian", "salt_and_pepper", "mask"] = param(
        "none", help="denoising: corrupt the input, reconstruct the clean one"
    )
    corruption_level: float = param(0.3, ge=0, help="noise std, or the fraction of corrupted / masked entries")
    missing_values: bool = param(
        False, help="data may hold NaN: missing entries enter the encoder as 0 and are left out of the loss"
    )
    missing_indicator: bool = param(
        False, help="missing_values: also tell the encoder which entries are missing (an indicator per entry)"
    )
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    weight_decay: float = param(0.0, ge=0)

    def validate(self) -> None:
        if self.architecture == "conv" and len(self.data_shape) != 3:
            raise ConfigError(f"AEConfig.architecture='conv' needs image data (C, H, W), got {self.data_shape}")
        if self.missing_indicator and not self.missing_values:
            raise ConfigError("missing_indicator=True describes missing values: set missing_values=True too")
        if self.missing_indicator and self.corruption not in ("none", "mask"):
            raise ConfigError("with missing_indicator the only input corruption is the mask (corruption='mask')")
        if self.sparsity == "kl" and self.code_activation != "sigmoid":
            raise ConfigError("the KL sparsity penalty needs codes in (0, 1): set code_activation='sigmoid'")
        if self.corruption in ("salt_and_pepper", "mask") and self.corruption_level > 1:
            raise ConfigError(f"corruption_level is a fraction for {self.corruption}: must be <= 1")


@register_model(
    "ae",
    config=AEConfig,
    description="autoencoder (MLP or conv; MSE or BCE; optional sparsity and input corruption)",
    presets={
        "sparse_ae": {"sparsity": "kl", "code_activation": "sigmoid", "latent_dim": 256, "sparsity_weight": 0.1},
        "denoising_ae": {"corruption": "gaussian", "corruption_level": 0.3},
    },
)
class AE(GenerativeModel):
    r"""Autoencoder: an encoder :math:`h = f(x)`, a decoder :math:`\hat x = g(h)`, trained to minimise

    .. math::
        L(x) = \ell(x, g(f(\tilde x))) + \lambda\,\Omega(h)

    where :math:`\ell` is the squared error or the binary cross-entropy summed over the dimensions,
    :math:`\tilde x = x` (plain) or a corrupted copy of :math:`x` (denoising: Gaussian noise,
    salt-and-pepper or masking; Vincent et al. 2008), and :math:`\Omega` a sparsity penalty on the code:
    :math:`\|h\|_1` or :math:`\sum_j KL(\rho \,\|\, \hat\rho_j)` with :math:`\hat\rho_j` the mean activation
    of unit j over the batch (Ng 2011). A code smaller than the input (undercomplete) forces compression;
    a larger one (overcomplete) needs the sparsity or the corruption to learn anything but the identity.

    ``sample`` decodes codes drawn from a Gaussian fitted to the training codes (an autoencoder has no
    prior of its own; the trainer calls :meth:`fit_code_distribution` on the training data at the end of a fit).

    References:
        Hinton, G. E. & Salakhutdinov, R. R. (2006). Reducing the Dimensionality of Data with Neural Networks.
        Vincent, P., Larochelle, H., Bengio, Y. & Manzagol, P.-A. (2008). Extracting and Composing Robust
        Features with Denoising Autoencoders. ICML.
        Ng, A. (2011). Sparse autoencoder. CS294A lecture notes.
    """

    def __init__(self, config: AEConfig) -> None:
        super().__init__(config)
        c = config
        # with missing indicators the encoder sees (values with missing entries at 0, indicators): twice the channels
        enc_shape = (2 * c.data_shape[0], *c.data_shape[1:]) if c.missing_indicator else c.data_shape
        self.encoder = Encoder(enc_shape, c.architecture, c.hidden_dims, c.latent_dim, c.activation)
        self.decoder = Decoder(c.latent_dim, c.architecture, c.hidden_dims, c.data_shape, c.activation)
        self._code_act = _CODE_ACTIVATIONS[c.code_activation]
        # a Gaussian over the codes, so that the autoencoder can be sampled from (set from data)
        self.register_buffer("code_mean", torch.zeros(c.latent_dim))
        self.register_buffer("code_std", torch.ones(c.latent_dim))

    @property
    def output_range(self) -> tuple[float, float] | None:  # type: ignore[override]
        return (0.0, 1.0) if self.config.loss == "bce" else None

    # --- the map ----------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code ``h = f(x)``, ``(B, latent_dim)``.

        With ``missing_indicator`` the NaN entries of ``x`` are missing: the encoder sees them as 0 together
        with an indicator (1 = missing) per entry, stacked on the channel (or feature) axis.
        """
        if self.config.missing_indicator:
            missing = torch.isnan(x)
            x = torch.cat([torch.where(missing, 0.0, x), missing.to(x.dtype)], 1)
        return self._code_act(self.encoder(x))

    def decoder_output(self, h: torch.Tensor) -> torch.Tensor:
        """Raw decoder output ``(B, *data_shape)``: logits (bce) or values (mse)."""
        return self.decoder(h)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """``g(h)`` in data space (a sigmoid for the bce loss)."""
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
        """Per-sample anomaly score: the reconstruction loss of the clean input; higher = less typical.

        Eval mode, no gradients; ``reconstruction_loss(decoder_output(encode(x)), x)`` is the differentiable form.
        """
        return self.reconstruction_loss(self.decoder_output(self.encode(x)), x)

    def sparsity_penalty(self, h: torch.Tensor) -> torch.Tensor:
        """``mean_b ||h_b||_1`` or ``sum_j KL(rho || mean_b h_bj)`` (a scalar)."""
        c = self.config
        if c.sparsity == "l1":
            return h.abs().sum(1).mean()
        if c.sparsity == "kl":
            rho = c.sparsity_target
            rho_hat = h.mean(0).clamp(1e-6, 1 - 1e-6)
            return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
        return h.new_zeros(())

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The denoising corruption of ``x`` (identity when ``corruption='none'``)."""
        c, g = self.config, self.rng(generator)
        if c.corruption == "gaussian":
            return gaussian_noise(x, c.corruption_level, g)
        if c.corruption == "salt_and_pepper":
            return salt_and_pepper(x, c.corruption_level, g)
        if c.corruption == "mask":  # with missing indicators the hidden entries become missing (NaN), flagged
            return random_mask(x, c.corruption_level, g, float("nan") if c.missing_indicator else 0.0)[0]
        return x

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self._terms(x, generator)[0]

    @property
    def accepts_missing(self) -> bool:
        """Whether training data may contain NaN (missing entries); see ``missing_values``."""
        return self.config.missing_values

    def _terms(self, x: torch.Tensor, generator: torch.Generator | None = None):
        if self.config.missing_values:  # NaN = missing: 0 in, no loss (the mask corruption hides more)
            observed = ~torch.isnan(x)
            x_in = torch.where(observed, x, 0.0)
            # with indicators the encoder takes the NaN entries as they are and flags them
            h = self.encode(self.corrupt(x if self.config.missing_indicator else x_in, generator))
            rec = reconstruction_error(self.decoder_output(h), x_in, self.config.loss, observed).mean()
            penalty = self.sparsity_penalty(h)
            return rec + self.config.sparsity_weight * penalty, rec, penalty, h
        h = self.encode(self.corrupt(x, generator))
        rec = self.reconstruction_loss(self.decoder_output(h), x).mean()
        penalty = self.sparsity_penalty(h)
        return rec + self.config.sparsity_weight * penalty, rec, penalty, h

    # --- sampling ---------------------------------------------------------------------------------
    @torch.no_grad()
    def fit_code_distribution(self, x: torch.Tensor, batch_size: int = 1024) -> None:
        """Fit the diagonal Gaussian that :meth:`sample` draws codes from to the codes of ``x``."""
        fit_code_gaussian(self, x, batch_size)

    @evaluating
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``n`` codes drawn from the Gaussian fitted to the training codes, ``(n, *data_shape)``."""
        eps = self.randn((n, self.config.latent_dim), generator=generator)
        return self.decode(self.code_mean + eps * self.code_std)

    def diversity_advice(self) -> str:
        c = self.config
        noise = (
            "add corruption='gaussian' (denoising)"
            if c.corruption == "none"
            else f"change corruption_level (now {c.corruption_level:g})"
        )
        return (
            "an autoencoder samples from a Gaussian fitted to its codes, which may miss the data's modes: change "
            f"latent_dim (now {c.latent_dim}), {noise}, or use a VAE"
        )

    # --- training ---------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        loss, rec, penalty, h = self._terms(batch.x)
        self.optimize(loss, optimizers[0])
        out = {"loss": loss.detach(), "recon": rec.detach()}
        if self.config.sparsity != "none":
            out["sparsity"] = penalty.detach()
            out["code_mean"] = h.detach().mean()
        return out

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        return {"loss": self.loss(batch.x), "recon": self.score(batch.x).mean()}

    def on_train_end(self, x: torch.Tensor) -> None:
        """Called by the trainer with the training samples: fit the code distribution for sampling."""
        self.fit_code_distribution(x)

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        if self.config.loss == "bce":
            require_unit_range(info, "bce loss", "loss='mse'")
        if math.prod(info.sample_shape) and self.config.architecture == "conv" and len(info.sample_shape) != 3:
            raise DataError(f"the conv architecture needs images (C, H, W); {info.name!r} has {info.sample_shape}")
