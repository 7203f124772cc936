r"""CycleGAN: unpaired translation between two image domains with cycle-consistency."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch

from ...config import MAX_LAYERS, MAX_WIDTH, BaseConfig, param, shape_param
from ...errors import ConfigError, DataError
from ...nn import adam
from ...nn.translation import ImagePool, PatchGAN, ResnetGenerator, UNet, unet_depth
from ...registry import register_model
from ..base import Batch
from ._common import ImageTranslator, auto_patch_layers, check_patch_layers


@dataclass(frozen=True)
class CycleGANConfig(BaseConfig):
    """Configuration of :class:`CycleGAN`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one domain-B image (C, H, W)")
    source_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one domain-A image (the same as B)")
    generator: Literal["resnet", "unet"] = param("resnet", help="generator architecture: ResNet blocks or U-Net")
    base: int = param(32, ge=1, le=MAX_WIDTH, help="generator channels at full resolution")
    n_blocks: int = param(6, ge=0, le=MAX_LAYERS, help="resnet: residual blocks at the lowest resolution")
    norm: Literal["instance", "batch", "none"] = param("instance", help="normalization in all four networks")
    d_base: int = param(32, ge=1, le=MAX_WIDTH, help="PatchGAN channels at its first layer")
    d_layers: int = param(0, ge=0, le=MAX_LAYERS, help="PatchGAN stride-2 layers (receptive field 16/34/70); 0: auto")
    lambda_cycle: float = param(10.0, ge=0, help="weight of the cycle-consistency L1 terms (0: no cycle loss)")
    lambda_identity: float = param(
        0.5, ge=0, help="weight of the identity terms ||G_AB(b) - b||_1 + ||G_BA(a) - a||_1, times lambda_cycle"
    )
    pool_size: int = param(50, ge=0, le=10_000, help="image history buffer per discriminator (0: none)")
    lr: float = param(2e-4, gt=0, help="Adam learning rate (decayed linearly over the second half of the run)")
    beta1: float = param(0.5, ge=0, lt=1, help="Adam beta1")
    beta2: float = param(0.999, ge=0, lt=1, help="Adam beta2")

    def validate(self) -> None:
        if len(self.data_shape) != 3 or tuple(self.data_shape) != tuple(self.source_shape):
            raise ConfigError(
                f"cyclegan translates between domains of one image shape (C, H, W); got A {self.source_shape} and "
                f"B {self.data_shape}: load both with the same color= and image_size="
            )
        size = tuple(self.data_shape[1:])
        if self.generator == "unet" and unet_depth(size) < 1:
            raise ConfigError(f"a U-Net needs images of at least 4 x 4 pixels, got {size}")
        check_patch_layers(size, self.d_layers, "cyclegan")


@register_model(
    "cyclegan",
    config=CycleGANConfig,
    description="unpaired image-to-image translation A <-> B: two generators, two PatchGANs, cycle + identity",
)
class CycleGAN(ImageTranslator):
    r"""CycleGAN (Zhu et al. 2017): generators :math:`G: A \to B` and :math:`F: B \to A` and PatchGAN
    discriminators :math:`D_A, D_B`, trained without pairs on the least-squares GAN losses plus

    .. math:: \lambda_{cyc}\big(E\|F(G(a)) - a\|_1 + E\|G(F(b)) - b\|_1\big)
        + \lambda_{cyc}\lambda_{id}\big(E\|G(b) - b\|_1 + E\|F(a) - a\|_1\big).

    The cycle terms make the two maps near inverses, so a translation must keep what identifies the input (which
    digit it is) although no pair ever says so; without them (``lambda_cycle=0``) G is free to map every input to
    any realistic B image, and labels flip. The identity terms keep the colours / intensities of images already
    in the target domain. Each discriminator sees generated images from a history buffer of ``pool_size``
    (:class:`~genlab.nn.translation.ImagePool`), and the learning rate is held for the first half of the run and
    then decayed linearly to 0 (the ``linear_decay`` schedule, the default of this family).

    ``translate(x, direction="AB")`` applies G, ``direction="BA"`` applies F. Batches carry domain A as
    ``source`` and domain B as ``x`` (``genlab.data.unpaired``; ``--data digits-to-mnist``); paired data also
    trains it, the pairing ignored. Logs ``loss`` (the generators' total), ``g_adv``, ``cycle``, ``identity``,
    ``d_loss`` (both discriminators, halved).

    References:
        Zhu, J.-Y., Park, T., Isola, P. & Efros, A. A. (2017). Unpaired Image-to-Image Translation using
        Cycle-Consistent Adversarial Networks. ICCV.
        Shrivastava, A. et al. (2017). Learning from Simulated and Unsupervised Images through Adversarial
        Training (the image history buffer). CVPR.
        Johnson, J., Alahi, A. & Fei-Fei, L. (2016). Perceptual Losses for Real-Time Style Transfer and
        Super-Resolution (the ResNet generator). ECCV.
    """

    pairing = "any"
    plot_keys = ("loss", "g_adv", "cycle", "identity", "d_loss")
    train_defaults: ClassVar[dict[str, Any]] = {"lr_schedule": "linear_decay"}

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__(config)
        c = config
        ch, h, w = c.data_shape
        self.netG_AB = self._generator(ch, (h, w))
        self.netG_BA = self._generator(ch, (h, w))
        layers = auto_patch_layers((h, w), c.d_layers)
        self.netD_A = PatchGAN(ch, base=c.d_base, n_layers=layers, norm=c.norm)
        self.netD_B = PatchGAN(ch, base=c.d_base, n_layers=layers, norm=c.norm)
        self.pool_A = ImagePool(c.pool_size, tuple(c.data_shape))
        self.pool_B = ImagePool(c.pool_size, tuple(c.data_shape))

    def _generator(self, ch: int, size: tuple[int, int]):
        c = self.config
        if c.generator == "unet":
            return UNet(ch, ch, size, base=c.base, dropout=0.0, norm=c.norm)
        return ResnetGenerator(ch, ch, size, base=c.base, n_blocks=c.n_blocks, norm=c.norm)

    def _directions(self) -> tuple[str, ...]:
        return ("AB", "BA")

    def forward_map(self, x: torch.Tensor, direction: str = "AB", hole: torch.Tensor | None = None) -> torch.Tensor:
        return (self.netG_AB if direction == "AB" else self.netG_BA)(x)

    def cycle_loss(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        r""":math:`E\|F(G(a)) - a\|_1 + E\|G(F(b)) - b\|_1` under the current generators (differentiable)."""
        return (self.netG_BA(self.netG_AB(a)) - a).abs().mean() + (self.netG_AB(self.netG_BA(b)) - b).abs().mean()

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        betas = (c.beta1, c.beta2)
        g = itertools.chain(self.netG_AB.parameters(), self.netG_BA.parameters())
        d = itertools.chain(self.netD_A.parameters(), self.netD_B.parameters())
        return [adam(g, c.lr, betas=betas), adam(d, c.lr, betas=betas)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        c = self.config
        opt_g, opt_d = optimizers
        if batch.source is None:
            raise DataError("cyclegan trains on two domains: the batch has no domain-A images (Batch.source)")
        a, b = batch.source, batch.x
        fake_b, fake_a = self.netG_AB(a), self.netG_BA(b)
        g_adv = self.adversarial_g("least_squares", self.netD_B, fake_b) + self.adversarial_g(
            "least_squares", self.netD_A, fake_a
        )
        total = g_adv
        out: dict[str, Any] = {}
        if c.lambda_cycle > 0:
            cycle = (self.netG_BA(fake_b) - a).abs().mean() + (self.netG_AB(fake_a) - b).abs().mean()
            total = total + c.lambda_cycle * cycle
            out["cycle"] = cycle.detach()
            if c.lambda_identity > 0:
                identity = (self.netG_AB(b) - b).abs().mean() + (self.netG_BA(a) - a).abs().mean()
                total = total + c.lambda_cycle * c.lambda_identity * identity
                out["identity"] = identity.detach()
        self.optimize(total, opt_g)

        gen = self.rng()
        loss_a, real_a, seen_a = self.adversarial_d("least_squares", self.netD_A, a, self.pool_A.query(fake_a, gen))
        loss_b, real_b, seen_b = self.adversarial_d("least_squares", self.netD_B, b, self.pool_B.query(fake_b, gen))
        d_loss = loss_a + loss_b
        self.optimize(d_loss, opt_d)
        out.update(
            loss=total.detach(),
            g_adv=g_adv.detach(),
            d_loss=d_loss.detach(),
            d_real=0.5 * (real_a + real_b),
            d_fake=0.5 * (seen_a + seen_b),
        )
        return out

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        if batch.source is None:
            return {}
        out = {"cycle": float(self.cycle_loss(batch.source, batch.x))}
        if self.data_info is not None and self.data_info.pairing == "paired":
            out["l1"] = float((self.netG_AB(batch.source) - batch.x).abs().mean())
        return out

    def translation_rows(
        self, source: torch.Tensor, target: torch.Tensor | None, hole: torch.Tensor | None = None
    ) -> torch.Tensor:
        """A -> B (inputs, outputs) above B -> A (inputs, outputs)."""
        rows = [source, self.translate(source, "AB")]
        if target is not None:
            rows += [target, self.translate(target, "BA")]
        return torch.cat(rows)

    def diversity_advice(self) -> str:
        return "cyclegan outputs that ignore their input: raise lambda_cycle, or lambda_identity"
