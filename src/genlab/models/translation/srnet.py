r"""Super-resolution: residual blocks and sub-pixel convolution over the bicubic upscaling, trained with L1, a
feature loss from genlab's shipped networks, and optionally a PatchGAN adversarial term (SRGAN-style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ...config import MAX_LAYERS, MAX_WIDTH, BaseConfig, param, shape_param
from ...errors import ConfigError, DataError
from ...nn import adam
from ...nn.feature_nets import feature_layers
from ...nn.translation import PatchGAN, SRResNet, upscale_steps
from ...registry import register_model
from ..base import Batch
from ._common import ImageTranslator, auto_patch_layers, check_patch_layers


def bicubic(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic interpolation of images ``(N, C, h, w)`` to ``size`` (H, W), clamped to [0, 1]: the reference
    baseline of super-resolution."""
    return F.interpolate(x, size=tuple(size), mode="bicubic", align_corners=False).clamp(0.0, 1.0)


@dataclass(frozen=True)
class SRNetConfig(BaseConfig):
    """Configuration of :class:`SRNet`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one high-resolution output (C, H, W)")
    source_shape: tuple[int, ...] = shape_param((1, 7, 7), "shape of one low-resolution input (C, H/r, W/r)")
    channels: int = param(64, ge=1, le=MAX_WIDTH, help="width of the residual blocks")
    n_blocks: int = param(8, ge=0, le=MAX_LAYERS, help="residual blocks")
    loss: Literal["l1", "mse", "feature"] = param(
        "l1", help="pixel loss (l1, mse), or feature: L1 plus feature_weight x the distance of shipped-CNN features"
    )
    feature_weight: float = param(0.1, ge=0, help="loss='feature': weight of the feature distance")
    lambda_adv: float = param(0.0, ge=0, help="> 0: SRGAN-style PatchGAN adversarial term of this weight")
    d_base: int = param(32, ge=1, le=MAX_WIDTH, help="PatchGAN channels at its first layer")
    d_layers: int = param(0, ge=0, le=MAX_LAYERS, help="PatchGAN stride-2 layers; 0: auto")
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    beta1: float = param(0.9, ge=0, lt=1, help="Adam beta1")
    beta2: float = param(0.999, ge=0, lt=1, help="Adam beta2")

    def validate(self) -> None:
        for name in ("data_shape", "source_shape"):
            if len(getattr(self, name)) != 3:
                raise ConfigError(f"SRNetConfig.{name} must be (C, H, W), got {getattr(self, name)}")
        (_, h, w), (_, h_in, w_in) = self.data_shape, self.source_shape
        if h % h_in or w % w_in or h // h_in != w // w_in:
            raise ConfigError(
                f"srnet upscales by one integer factor: inputs {h_in}x{w_in} do not divide outputs {h}x{w} evenly"
            )
        upscale_steps(h // h_in)
        check_patch_layers((h, w), self.d_layers, "srnet")

    @property
    def factor(self) -> int:
        return self.data_shape[1] // self.source_shape[1]


@register_model(
    "srnet",
    config=SRNetConfig,
    description="super-resolution x2/x3/x4/x8: residual blocks + pixel shuffle over bicubic (optional SRGAN term)",
)
class SRNet(ImageTranslator):
    r"""Super-resolution network: the output is the bicubic upscaling of the low-resolution input plus a learned
    residual, :math:`\hat y = \mathrm{bicubic}(x) + f(x)`, with :math:`f` a stack of residual blocks followed by
    sub-pixel convolutions (:class:`~genlab.nn.translation.SRResNet`; Shi et al. 2016, Lim et al. 2017). The loss
    is the pixel distance :math:`\|y - \hat y\|_1` (or squared), or with ``loss="feature"`` that plus
    ``feature_weight`` times the squared distance of the shipped CNN's convolutional features (a perceptual loss,
    Johnson et al. 2016, with genlab's mnist-cnn / digits-cnn in place of VGG), and with ``lambda_adv > 0`` an
    adversarial term from a PatchGAN on the outputs (SRGAN, Ledig et al. 2017). The bicubic upscaling
    (:func:`bicubic`) is the reference every benchmark compares against.

    Logs ``loss``, ``pixel`` and, when used, ``feature``, ``g_adv`` and ``d_loss``.

    References:
        Shi, W. et al. (2016). Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
        Convolutional Neural Network. CVPR.
        Lim, B. et al. (2017). Enhanced Deep Residual Networks for Single Image Super-Resolution (EDSR). CVPRW.
        Ledig, C. et al. (2017). Photo-Realistic Single Image Super-Resolution Using a GAN (SRGAN). CVPR.
        Johnson, J., Alahi, A. & Fei-Fei, L. (2016). Perceptual Losses for Real-Time Style Transfer and
        Super-Resolution. ECCV.
    """

    plot_keys = ("loss", "pixel", "feature", "g_adv")

    def __init__(self, config: SRNetConfig) -> None:
        super().__init__(config)
        c = config
        c_out, h, w = c.data_shape
        self.netG = SRResNet(c.source_shape[0], c_out, c.factor, channels=c.channels, n_blocks=c.n_blocks)
        self.netD = PatchGAN(c_out, base=c.d_base, n_layers=auto_patch_layers((h, w), c.d_layers), norm="batch")
        if c.loss == "feature":
            self._feature_layers  # noqa: B018  (fail at build time when no shipped network fits)

    @property
    def _feature_layers(self) -> nn.Module:
        """The shipped CNN's convolutional blocks for the output shape (frozen, not part of the model's state)."""
        try:
            return feature_layers(self.data_shape)
        except ConfigError as exc:
            raise ConfigError(f"loss='feature' uses a shipped CNN: {exc}; use loss='l1'") from exc

    def forward_map(self, x: torch.Tensor, direction: str = "AB", hole: torch.Tensor | None = None) -> torch.Tensor:
        return bicubic(x, self.data_shape[1:]) + self.netG(x)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        betas = (c.beta1, c.beta2)
        return [adam(self.netG.parameters(), c.lr, betas=betas), adam(self.netD.parameters(), c.lr, betas=betas)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        c = self.config
        opt_g, opt_d = optimizers
        if batch.source is None:
            raise DataError("srnet trains on (low-resolution, high-resolution) pairs: the batch has no inputs")
        fake = self.forward_map(batch.source)
        target = batch.x
        out: dict[str, Any] = {}
        pixel = (fake - target).abs().mean() if c.loss != "mse" else (fake - target).square().mean()
        total = pixel
        if c.loss == "feature":
            layers = self._feature_layers
            feature = (layers(fake) - layers(target)).square().mean()
            total = total + c.feature_weight * feature
            out["feature"] = feature.detach()
        if c.lambda_adv > 0:
            d_loss, d_real, d_fake = self.adversarial_d("non_saturating", self.netD, target, fake)
            self.optimize(d_loss, opt_d)
            g_adv = self.adversarial_g("non_saturating", self.netD, fake)
            total = total + c.lambda_adv * g_adv
            out.update(d_loss=d_loss.detach(), d_real=d_real, d_fake=d_fake, g_adv=g_adv.detach())
        self.optimize(total, opt_g)
        out.update(loss=total.detach(), pixel=pixel.detach())
        return out

    def diversity_advice(self) -> str:
        return "srnet: raise feature_weight or lambda_adv for sharper (less averaged) strokes"
