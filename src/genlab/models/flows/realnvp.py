"""RealNVP: a normalizing flow of affine coupling layers, for flat data (tabular, 2-D toys) and images."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ...config import MAX_LAYERS, MAX_WIDTH, BaseConfig, param, shape_param
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...nn import adam
from ...nn.flows import ActNorm, AffineCoupling, Squeeze, checkerboard, flat_mask
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating, require_unit_range

_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class RealNVPConfig(BaseConfig):
    """Configuration of :class:`RealNVP`."""

    data_shape: tuple[int, ...] = shape_param((2,), "(d,) for flat data or (C, H, W) images (H, W even)")
    n_couplings: int = param(
        8, ge=1, le=MAX_LAYERS, help="flat: coupling layers; images: couplings per stage (3 stages)"
    )
    hidden_dims: tuple[int, ...] = param(
        (128, 128), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="flat: widths of the scale/shift MLPs"
    )
    channels: int = param(64, ge=1, le=MAX_WIDTH, help="images: width of the scale/shift convolution nets")
    res_blocks: int = param(2, ge=0, le=MAX_LAYERS, help="images: residual blocks per scale/shift net")
    actnorm: bool = param(True, help="an activation norm (data-initialised affine map) before each coupling")
    standardize: bool = param(True, help="flat data: model (x - mean) / std of the training data")
    dequantize: bool = param(True, help="images: add uniform noise to the 256 intensity levels (discrete data)")
    logit_alpha: float = param(0.05, ge=0, lt=0.5, help="images: the flow sees logit(alpha + (1 - 2 alpha) x)")
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    weight_decay: float = param(1e-5, ge=0)

    @property
    def image(self) -> bool:
        return len(self.data_shape) == 3

    def validate(self) -> None:
        if self.image and (self.data_shape[1] % 2 or self.data_shape[2] % 2):
            raise ConfigError(f"image flows squeeze 2x2 patches: H and W must be even, got {self.data_shape}")
        if len(self.data_shape) not in (1, 3):
            raise ConfigError(f"RealNVP takes flat (d,) or image (C, H, W) data, got {self.data_shape}")
        if not self.image and self.data_shape[0] < 2:
            raise ConfigError("a coupling flow needs at least 2 dimensions")


@register_model(
    "realnvp",
    config=RealNVPConfig,
    description="RealNVP normalizing flow (affine couplings; exact log-likelihood; flat data or images)",
    presets={"realnvp_mnist": {"data_shape": (1, 28, 28), "n_couplings": 3, "channels": 32, "res_blocks": 1}},
)
class RealNVP(GenerativeModel):
    r"""Real NVP (Dinh, Sohl-Dickstein & Bengio 2017): an invertible map :math:`z = f(x)` built from affine
    coupling layers onto a standard normal base, with the exact likelihood

    .. math::
        \log p(x) = \log \mathcal{N}(f(x); 0, I) + \log \left|\det \frac{\partial f}{\partial x}\right|.

    Flat data: couplings with alternating masks (even/odd features, then first/second half), MLP scale and
    shift nets, the data standardized inside (the Jacobian of the standardization is part of the density,
    so likelihoods are in data units). Images: checkerboard couplings, a 2x2 squeeze, couplings over
    halves of the channels, checkerboard couplings again; intensities in [0, 1] from 256 levels are
    dequantized, :math:`y = (255 x + u) / 256` with :math:`u \sim U[0, 1)`, and the flow models
    :math:`\mathrm{logit}(\alpha + (1 - 2\alpha) y)`. Then :math:`\log p(y) - D \log 256` is a lower bound on
    the discrete log-likelihood of :math:`x`, reported in bits per dimension.

    References:
        Dinh, L., Sohl-Dickstein, J. & Bengio, S. (2017). Density estimation using Real NVP. ICLR.
        Kingma, D. P. & Dhariwal, P. (2018). Glow: Generative Flow with Invertible 1x1 Convolutions. NeurIPS.
        Theis, L., van den Oord, A. & Bethge, M. (2016). A note on the evaluation of generative models. ICLR.
    """

    likelihood_method = "exact"

    def __init__(self, config: RealNVPConfig) -> None:
        super().__init__(config)
        c = config
        self.dim = math.prod(c.data_shape)
        layers: list[nn.Module] = []
        if c.image:
            ch, h, w = c.data_shape
            stages = [("checker", ch, h, w), ("channel", 4 * ch, h // 2, w // 2), ("checker", 4 * ch, h // 2, w // 2)]
            for stage, (kind, sc, sh, sw) in enumerate(stages):
                if stage == 1:
                    layers.append(Squeeze())
                for i in range(c.n_couplings):
                    if c.actnorm:
                        layers.append(ActNorm((1, sc, 1, 1)))
                    if kind == "checker":
                        mask = checkerboard(sh, sw, i % 2).expand(1, sc, sh, sw).clone()
                    else:
                        mask = torch.zeros(1, sc, sh, sw)
                        half = slice(0, sc // 2) if i % 2 == 0 else slice(sc // 2, sc)
                        mask[:, half] = 1.0
                    layers.append(AffineCoupling(mask, (c.channels, c.res_blocks)))
        else:
            for i in range(c.n_couplings):
                if c.actnorm:
                    layers.append(ActNorm((1, self.dim)))
                layers.append(AffineCoupling(flat_mask(self.dim, i), tuple(c.hidden_dims)))
        self.layers = nn.ModuleList(layers)
        self.register_buffer("data_mean", torch.zeros(self.dim))
        self.register_buffer("data_std", torch.ones(self.dim))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    @property
    def output_range(self) -> tuple[float, float] | None:  # type: ignore[override]
        return (0.0, 1.0) if self.config.image else None

    # --- the bijection --------------------------------------------------------------------------------
    def _shape(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.config.data_shape).to(self.data_mean.dtype)

    def _preprocess(self, x: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Data -> the flow's input, and the log-Jacobian of that map ``(B,)``."""
        c = self.config
        x = self._shape(x)
        if not c.image:
            v = (x - self.data_mean) / self.data_std if c.standardize else x
            logdet = -self.data_std.log().sum().expand(x.shape[0]) if c.standardize else x.new_zeros(x.shape[0])
            return v, logdet
        y = x
        if c.dequantize:
            u = self.rand(x.shape, generator=generator, dtype=x.dtype)
            y = (x * 255.0 + u) / 256.0
        a = c.logit_alpha
        p = a + (1 - 2 * a) * y
        v = torch.log(p) - torch.log1p(-p)
        logdet = (math.log(1 - 2 * a) - torch.log(p) - torch.log1p(-p)).reshape(x.shape[0], -1).sum(1)
        return v, logdet

    def _postprocess(self, v: torch.Tensor) -> torch.Tensor:
        c = self.config
        if not c.image:
            return v * self.data_std + self.data_mean if c.standardize else v
        a = c.logit_alpha
        return ((torch.sigmoid(v) - a) / (1 - 2 * a)).clamp(0.0, 1.0)

    def flow(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The coupling stack on the preprocessed input: ``(z, log|det|)``, ``z`` shaped like the last layer."""
        logdet = v.new_zeros(v.shape[0])
        for layer in self.layers:
            v, ld = layer(v)
            logdet = logdet + ld
        return v, logdet

    def flow_inverse(self, z: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def transform(self, x: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Data -> base: ``(z (B, D), log|det dz/dx| (B,))``, the preprocessing included."""
        v, pre = self._preprocess(x, generator)
        z, ld = self.flow(v)
        return z.reshape(z.shape[0], -1), pre + ld

    encode = transform

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Base -> data: ``x`` ``(B, *data_shape)`` for base points ``z`` ``(B, D)``."""
        c = self.config
        if c.image:
            ch, h, w = c.data_shape
            shape = (4 * ch, h // 2, w // 2)
        else:
            shape = c.data_shape
        return self._postprocess(self.flow_inverse(z.reshape(z.shape[0], *shape))).reshape(z.shape[0], *c.data_shape)

    # --- the density ----------------------------------------------------------------------------------
    def _log_prob(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        z, logdet = self.transform(x, generator)
        base = -0.5 * (z.square() + _LOG_2PI).sum(1)
        out = base + logdet
        if self.config.image and self.config.dequantize:
            out = out - self.dim * math.log(256.0)  # density of y -> probability of x's bin (a lower bound)
        return out

    @evaluating
    def log_prob(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """``log p(x)`` in nats ``(B,)``: exact for flat data (in data units); for dequantized images the
        variational lower bound on the discrete log-likelihood with one uniform draw per image.

        Eval mode (activation norms are not initialised from ``x``), no gradients; training differentiates
        ``_log_prob``."""
        return self._log_prob(x, generator).double()

    @evaluating
    def bits_per_dim(self, x: torch.Tensor, generator: torch.Generator | None = None) -> float:
        """Mean ``-log2 p(x) / D`` over ``x`` (images: the dequantized bound)."""
        return float(-self.log_prob(x, generator).mean() / (self.dim * math.log(2.0)))

    @evaluating
    def sample(self, n: int, generator: torch.Generator | None = None, *, temperature: float = 1.0) -> torch.Tensor:
        """``n`` samples ``(n, *data_shape)``: ``z ~ N(0, temperature^2 I)`` through the inverse flow."""
        if not temperature > 0:
            raise ConfigError(f"temperature must be > 0, got {temperature}")
        z = self.randn((n, self.dim), generator=generator) * temperature
        return self.inverse(z).float()

    def diversity_advice(self) -> str:
        return (
            "a flow's samples missing modes: sample with temperature=1.0 (lower concentrates on the main modes), "
            f"add n_couplings (now {self.config.n_couplings}), widen hidden_dims / channels, or lower lr"
        )

    # --- training -------------------------------------------------------------------------------------
    @torch.no_grad()
    def on_train_start(self, x: torch.Tensor) -> None:
        """Once per model: the standardization of flat data, then each activation norm from the first 2,000
        samples as they reach it (a data-dependent initialisation that does not depend on the batch order)."""
        if bool(self.initialized):
            return
        if not self.config.image and self.config.standardize:
            v = x.reshape(x.shape[0], -1).to(self.data_mean.dtype)
            self.data_mean.copy_(v.mean(0))
            self.data_std.copy_(v.std(0).clamp_min(1e-6) if len(v) > 1 else torch.ones_like(self.data_std))
        was = self.training
        self.train()
        self.flow(self._preprocess(x[:2000], torch.Generator().manual_seed(0))[0])  # activation norms initialise
        self.train(was)
        self.initialized.fill_(True)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        nll = -self._log_prob(batch.x).mean()
        self.optimize(nll, optimizers[0])
        out = {"loss": nll.detach()}
        if self.config.image:
            out["bits_per_dim"] = nll.detach() / (self.dim * math.log(2.0))
        return out

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        nll = -self._log_prob(batch.x, torch.Generator().manual_seed(0)).mean()
        out = {"loss": nll}
        if self.config.image:
            out["bits_per_dim"] = nll / (self.dim * math.log(2.0))
        return out

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        if self.config.image:
            require_unit_range(info, "an image flow", "scale the images to [0, 1] (scale='unit')")
        elif len(info.sample_shape) != 1:
            raise DataError(f"a flat flow takes (N, d) data, got samples of shape {tuple(info.sample_shape)}")

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        g = self.rng(generator)
        if self.config.image:
            return Batch(self.randint(0, 256, (n, *self.data_shape), generator=g).float() / 255, None)
        return Batch(self.randn((n, *self.data_shape), generator=g), None)


__all__ = ["RealNVP", "RealNVPConfig"]
