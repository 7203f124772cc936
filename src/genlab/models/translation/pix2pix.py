r"""pix2pix: paired image-to-image translation with a U-Net generator and a PatchGAN discriminator; with the
hole mask as an extra input and the loss on the hole, context-encoder style inpainting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from ...config import MAX_LAYERS, MAX_WIDTH, BaseConfig, param, shape_param
from ...errors import ConfigError, DataError
from ...nn import adam
from ...nn.translation import PatchGAN, UNet, unet_depth
from ...registry import register_model
from ..base import Batch
from ._common import ImageTranslator, auto_patch_layers, check_patch_layers


@dataclass(frozen=True)
class Pix2PixConfig(BaseConfig):
    """Configuration of :class:`Pix2Pix` (the ``pix2pix`` and ``inpaint`` presets)."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one output (target) image (C, H, W)")
    source_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one input image (C, H, W): same H, W")
    base: int = param(32, ge=1, le=MAX_WIDTH, help="U-Net channels at the first level (doubled per level, max 8x)")
    depth: int = param(0, ge=0, le=MAX_LAYERS, help="U-Net levels; 0: as many as the image size allows")
    dropout: float = param(0.5, ge=0, lt=1, help="dropout in the innermost decoder layers: the generator's noise")
    norm: Literal["batch", "instance", "none"] = param("batch", help="normalization in both networks")
    skips: bool = param(True, help="U-Net skip connections (False: a plain conv encoder-decoder)")
    d_base: int = param(32, ge=1, le=MAX_WIDTH, help="PatchGAN channels at its first layer")
    d_layers: int = param(0, ge=0, le=MAX_LAYERS, help="PatchGAN stride-2 layers (receptive field 16/34/70); 0: auto")
    gan_loss: Literal["non_saturating", "least_squares"] = param(
        "non_saturating", help="adversarial loss on the patches: non-saturating (pix2pix) or least squares"
    )
    lambda_adv: float = param(1.0, ge=0, help="weight of the adversarial term; 0 trains the L1-only U-Net baseline")
    lambda_l1: float = param(100.0, ge=0, help="weight of the L1 distance to the target")
    hole_input: bool = param(False, help="inpainting: the hole mask is an extra input channel of G and D")
    loss_region: Literal["all", "hole"] = param(
        "all", help="where the L1 term is taken: every pixel, or only the hole (context encoder); hole needs masks"
    )
    paste_back: bool = param(True, help="with a hole: outputs keep the known pixels of the input")
    lr: float = param(2e-4, gt=0, help="Adam learning rate of both networks")
    beta1: float = param(0.5, ge=0, lt=1, help="Adam beta1")
    beta2: float = param(0.999, ge=0, lt=1, help="Adam beta2")

    def validate(self) -> None:
        for name in ("data_shape", "source_shape"):
            if len(getattr(self, name)) != 3:
                raise ConfigError(f"Pix2PixConfig.{name} must be (C, H, W), got {getattr(self, name)}")
        if tuple(self.data_shape[1:]) != tuple(self.source_shape[1:]):
            raise ConfigError(
                f"pix2pix maps images to images of the same size, but the inputs are {self.source_shape[1:]} and "
                f"the targets {self.data_shape[1:]}; use srnet to upscale, or corruption_size='same'"
            )
        size = tuple(self.data_shape[1:])
        most = unet_depth(size)
        if most < 1:
            raise ConfigError(f"a U-Net needs images of at least 4 x 4 pixels, got {size}")
        if self.depth > most:
            raise ConfigError(f"a U-Net on {size} images has at most {most} levels, got depth={self.depth}")
        check_patch_layers(size, self.d_layers, "pix2pix")
        if self.lambda_adv == 0 and self.lambda_l1 == 0:
            raise ConfigError("pix2pix with lambda_adv=0 and lambda_l1=0 has no loss; set one of them above 0")
        if self.loss_region == "hole" and not self.hole_input:
            raise ConfigError("loss_region='hole' is for inpainting: set hole_input=True as well (the inpaint preset)")


@register_model(
    "pix2pix",
    config=Pix2PixConfig,
    description="paired image-to-image translation: U-Net generator + PatchGAN (lambda_adv=0: L1-only U-Net)",
    presets={"inpaint": {"hole_input": True, "loss_region": "hole"}},
)
class Pix2Pix(ImageTranslator):
    r"""pix2pix (Isola et al. 2017): a conditional GAN whose generator :math:`G` maps an input image :math:`x`
    to an output :math:`G(x)` and whose discriminator :math:`D` scores (input, image) pairs patch by patch:

    .. math:: \min_G \max_D \; \lambda_{adv} \big(E\log D(x, y) + E\log(1 - D(x, G(x)))\big)
        + \lambda_{L1}\, E\|y - G(x)\|_1 .

    The L1 term gets the low frequencies right (alone it gives the blurry mean of the plausible outputs); the
    PatchGAN, which only sees patches of its receptive field, penalises unrealistic local texture, so the
    outputs are sharp. G is a U-Net (:class:`~genlab.nn.translation.UNet`) whose dropout is its only noise,
    kept on at sampling time (``sample``); ``translate`` is deterministic. ``lambda_adv=0`` trains the U-Net
    with L1 alone (no discriminator update), the baseline the adversarial term is measured against.

    Inpainting (the ``inpaint`` preset, after Pathak et al. 2016): the hole mask is an extra input
    channel of G and D, the L1 term is taken on the hole only and the known pixels are pasted back
    into the output. Batches carry the mask (``Batch.hole``, from a ``mask:...`` corruption).

    Logs ``loss`` (G's total), ``l1``, ``g_adv``, ``d_loss``, ``d_real`` / ``d_fake`` (mean D probability or
    score on the patches).

    References:
        Isola, P., Zhu, J.-Y., Zhou, T. & Efros, A. A. (2017). Image-to-Image Translation with Conditional
        Adversarial Networks. CVPR.
        Pathak, D. et al. (2016). Context Encoders: Feature Learning by Inpainting. CVPR.
        Mao, X. et al. (2017). Least Squares Generative Adversarial Networks. ICCV.
    """

    stochastic = True
    plot_keys = ("loss", "l1", "g_adv", "d_loss")

    def __init__(self, config: Pix2PixConfig) -> None:
        super().__init__(config)
        c = config
        c_out, h, w = c.data_shape
        c_in = c.source_shape[0] + (1 if c.hole_input else 0)
        self.netG = UNet(
            c_in, c_out, (h, w), base=c.base, depth=c.depth or None, dropout=c.dropout, norm=c.norm, skips=c.skips
        )
        self.d_layers = auto_patch_layers((h, w), c.d_layers)
        self.netD = PatchGAN(c_in + c_out, base=c.d_base, n_layers=self.d_layers, norm=c.norm)

    @property
    def receptive_field(self) -> int:
        return self.netD.receptive_field

    def _g_input(self, x: torch.Tensor, hole: torch.Tensor | None) -> torch.Tensor:
        if not self.config.hole_input:
            return x
        if hole is None:
            raise DataError(
                "this inpainting model takes the hole mask as an input: pass hole= (True where pixels are missing), "
                "or train on a mask:... corruption"
            )
        return torch.cat([x, hole[:, :1].to(x.dtype)], dim=1)

    def forward_map(self, x: torch.Tensor, direction: str = "AB", hole: torch.Tensor | None = None) -> torch.Tensor:
        out = self.netG(self._g_input(x, hole))
        if hole is not None and self.config.paste_back and x.shape == out.shape:
            out = torch.where(hole, out, x)
        return out

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        betas = (c.beta1, c.beta2)
        return [adam(self.netG.parameters(), c.lr, betas=betas), adam(self.netD.parameters(), c.lr, betas=betas)]

    def _l1(self, fake: torch.Tensor, target: torch.Tensor, hole: torch.Tensor | None) -> torch.Tensor:
        err = (fake - target).abs()
        if self.config.loss_region == "hole":
            if hole is None:
                raise DataError("loss_region='hole' needs batches with a hole mask: train on a mask:... corruption")
            m = hole.to(err.dtype)
            return (err * m).sum() / m.sum().clamp_min(1.0)
        return err.mean()

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        c = self.config
        opt_g, opt_d = optimizers
        if batch.source is None:
            raise DataError("pix2pix trains on (input, target) pairs: the batch has no inputs (Batch.source)")
        inp = self._g_input(batch.source, batch.hole)
        target = batch.x
        fake = self.netG(inp)
        out: dict[str, Any] = {}
        if c.lambda_adv > 0:
            real_pair, fake_pair = torch.cat([inp, target], 1), torch.cat([inp, fake], 1)
            d_loss, d_real, d_fake = self.adversarial_d(c.gan_loss, self.netD, real_pair, fake_pair)
            self.optimize(d_loss, opt_d)
            out.update(d_loss=d_loss.detach(), d_real=d_real, d_fake=d_fake)
            g_adv = self.adversarial_g(c.gan_loss, self.netD, fake_pair)
        else:
            g_adv = fake.new_zeros(())
        l1 = self._l1(fake, target, batch.hole)
        total = c.lambda_adv * g_adv + c.lambda_l1 * l1
        self.optimize(total, opt_g)
        out.update(loss=total.detach(), l1=l1.detach(), g_adv=g_adv.detach())
        return out

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        b = super().example_batch(n, generator)
        if not self.config.hole_input:
            return b
        c, h, w = self.data_shape
        hole = torch.zeros((n, c, h, w), dtype=torch.bool, device=b.x.device)
        hole[:, :, h // 4 : h - h // 4, w // 4 : w - w // 4] = True
        return Batch(b.x, None, torch.where(hole, torch.zeros_like(b.source), b.source), hole)

    def diversity_advice(self) -> str:
        return "pix2pix outputs that look alike whatever the input: lower lambda_adv or raise lambda_l1"
