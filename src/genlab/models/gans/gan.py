"""Generative adversarial networks: one model, every loss and stabiliser a config switch."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

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
from ...losses.adversarial import SMOOTHABLE, discriminator_loss, generator_loss, gradient_penalty, r1_penalty
from ...nn import adam
from ...nn.gan import Discriminator, Generator, dcgan_init, one_hot
from ...registry import register_model
from ..base import Batch, GenerativeModel, checked_labels, evaluating


@dataclass(frozen=True)
class GANConfig(BaseConfig):
    """Configuration of :class:`GAN` (the ``gan``, ``dcgan``, ``wgan``, ``wgan_gp``, ``lsgan``, ``cgan`` presets)."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one sample, e.g. (1, 28, 28) or (2,)")
    architecture: Literal["auto", "mlp", "conv"] = param(
        "auto", help="auto: DCGAN conv nets for images of at least 8x8, an MLP otherwise"
    )
    hidden_dims: tuple[int, ...] = param(
        (),
        ge=1,
        le=MAX_WIDTH,
        max_len=MAX_LAYERS,
        help="widths (mlp) or channels (conv, image side first); empty: chosen from the data shape",
    )
    latent_dim: int = param(100, ge=1, le=MAX_WIDTH, help="size of the generator's input noise z ~ N(0, I)")
    loss: Literal["minimax", "non_saturating", "least_squares", "hinge", "wasserstein", "wasserstein_gp"] = param(
        "non_saturating", help="adversarial loss (see genlab.losses.adversarial)"
    )
    output: Literal["auto", "tanh", "linear"] = param(
        "auto", help="generator output: tanh (data rescaled to [-1, 1] inside), linear; auto: tanh for images"
    )
    g_norm: Literal["auto", "batch", "layer", "none"] = param(
        "auto", help="generator normalization; auto: batch for conv, none for mlp"
    )
    d_norm: Literal["auto", "batch", "layer", "none"] = param(
        "auto", help="discriminator normalization; auto: batch (layer for wasserstein_gp), mlp none"
    )
    n_critic: int = param(1, ge=1, le=MAX_STEPS, help="discriminator updates per generator update")
    clip_value: float = param(0.01, gt=0, help="wasserstein: the critic's weights are clipped to [-c, c]")
    gp_weight: float = param(10.0, ge=0, help="wasserstein_gp: weight lambda of the gradient penalty")
    r1_weight: float = param(
        0.0, ge=0, help="gamma of the zero-centred R1 penalty gamma/2 E||grad D(x)||^2 on real data (any loss)"
    )
    label_smoothing: float = param(0.0, ge=0, lt=1, help="one-sided: the real target becomes 1 - s")
    instance_noise: float = param(0.0, ge=0, help="std of Gaussian noise added to every discriminator input")
    instance_noise_steps: int = param(0, ge=0, help="anneal the instance noise linearly to 0 over these steps")
    feature_matching: float = param(
        0.0, ge=0, help="weight of the feature-matching term ||E f(x) - E f(G(z))||^2 in the generator loss"
    )
    pack: int = param(
        1, ge=1, le=MAX_COPIES, help="PacGAN: the discriminator scores groups of this many samples jointly"
    )
    minibatch_std: bool = param(False, help="append the minibatch standard deviation to the critic's features")
    spectral_norm: bool = param(False, help="spectral normalization of every discriminator layer")
    n_classes: int = param(0, ge=0, le=MAX_WIDTH, help="> 0: class-conditional (cGAN) on labels 0..n_classes-1")
    aux_weight: float = param(0.0, ge=0, help="conditional: weight of an auxiliary classifier loss (AC-GAN)")
    optimizer: Literal["adam", "rmsprop"] = param("adam", help="adam, or rmsprop (the original WGAN)")
    lr_g: float = param(2e-4, gt=0, help="generator learning rate (TTUR: set it apart from lr_d)")
    lr_d: float = param(2e-4, gt=0, help="discriminator learning rate")
    beta1: float = param(0.5, ge=0, lt=1, help="Adam beta1")
    beta2: float = param(0.999, ge=0, lt=1, help="Adam beta2")
    ema_decay: float = param(0.0, ge=0, lt=1, help="> 0: sample from an exponential moving average of G")
    init: Literal["auto", "dcgan", "default"] = param(
        "auto", help="dcgan: weights ~ N(0, 0.02); default: torch's; auto: dcgan for conv nets, torch's for MLPs"
    )

    def validate(self) -> None:
        if not self.data_shape:
            raise ConfigError("GANConfig.data_shape must have at least one dimension")
        if self.architecture == "conv" and len(self.data_shape) != 3:
            raise ConfigError(f"GANConfig.architecture='conv' needs image data (C, H, W), got {self.data_shape}")
        if self.label_smoothing and self.loss not in SMOOTHABLE:
            raise ConfigError(
                f"label_smoothing applies to the {', '.join(SMOOTHABLE)} losses, not {self.loss!r}; set it to 0"
            )
        if self.loss == "wasserstein_gp" and self.d_norm == "batch":
            raise ConfigError(
                "the gradient penalty is per sample, so the critic must not use batch norm: "
                "set d_norm='layer' or 'none' (or leave it 'auto')"
            )
        if self.pack > 1 and self.n_classes:
            raise ConfigError("packing (pack > 1) scores several samples at once: it cannot condition on labels")
        if self.pack > 1 and (self.loss == "wasserstein_gp" or self.r1_weight):
            raise ConfigError("gradient penalties are defined per sample: do not combine them with pack > 1")
        if self.aux_weight and not self.n_classes:
            raise ConfigError("aux_weight (AC-GAN) needs a conditional GAN: set n_classes")


def _auto_hidden(arch: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    if arch == "mlp":
        return (256, 256)
    size, chans = min(shape[1:]), []
    while size // 2 >= 4 or not chans:  # halve while the feature map stays at least 4x4 (at least one stage)
        chans.append(min(64 * 2 ** len(chans), 512))
        size //= 2
    return tuple(chans)


@register_model(
    "gan",
    config=GANConfig,
    description="GAN: minimax / non-saturating / least-squares / hinge / Wasserstein (clip, GP); MLP or DCGAN",
    presets={
        "dcgan": {"architecture": "conv"},
        "wgan": {"loss": "wasserstein", "n_critic": 5, "optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5},
        "wgan_gp": {"loss": "wasserstein_gp", "n_critic": 5, "lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.0, "beta2": 0.9},
        "lsgan": {"loss": "least_squares"},
        "cgan": {"n_classes": 10, "aux_weight": 1.0},
    },
)
class GAN(GenerativeModel):
    r"""Generative adversarial network (Goodfellow et al. 2014) and its standard variants.

    A generator :math:`G(z)`, :math:`z \sim N(0, I)`, and a discriminator :math:`D(x)` play

    .. math::
        \min_G \max_D\; V(D, G) = E_{x \sim p_{data}}[\log D(x)] + E_z[\log(1 - D(G(z)))].

    ``loss`` picks the game: the original ``minimax`` generator loss :math:`E\log(1 - D(G(z)))` (whose
    gradient vanishes when D rejects the samples confidently), the ``non_saturating``
    :math:`-E \log D(G(z))`, ``least_squares`` (LSGAN), ``hinge``, or the Wasserstein critic
    :math:`\max_{\|f\|_L \le 1} E f(x) - E f(G(z))` enforced by weight clipping (``wasserstein``) or by
    the gradient penalty :math:`\lambda E(\|\nabla f(\hat x)\|_2 - 1)^2` (``wasserstein_gp``). Each
    training step updates D once and, every ``n_critic`` steps, G once (re-using that step's generated
    batch, as the reference DCGAN does). Stabilisers are switches: spectral norm, one-sided label
    smoothing, instance noise, feature matching, minibatch standard deviation, packing (PacGAN), separate
    learning rates (TTUR) and an EMA of the generator's weights.

    With ``n_classes > 0`` it is a conditional GAN: G sees a one-hot label, D scores ``(x, y)`` by
    projection, ``aux_weight > 0`` adds an auxiliary classifier (AC-GAN), and ``sample(n, labels=)``
    draws the requested classes. Images are rescaled from the data's range to [-1, 1] for the tanh
    generator, and samples are mapped back.

    Every step logs ``d_loss`` (also ``loss``), ``g_loss``, ``d_real`` / ``d_fake`` (mean D(x), D(G(z)):
    probabilities for the minimax and non-saturating losses, raw scores otherwise), the gradient norms
    ``grad_norm_d`` / ``grad_norm_g`` and, for Wasserstein critics, ``w_distance`` (and ``gp``).

    References:
        Goodfellow, I. et al. (2014). Generative Adversarial Nets. NeurIPS.
        Radford, A., Metz, L. & Chintala, S. (2016). Unsupervised Representation Learning with Deep
        Convolutional GANs (DCGAN). ICLR.
        Arjovsky, M., Chintala, S. & Bottou, L. (2017). Wasserstein GAN. ICML.
        Gulrajani, I. et al. (2017). Improved Training of Wasserstein GANs. NeurIPS.
        Mao, X. et al. (2017). Least Squares Generative Adversarial Networks. ICCV.
        Mirza, M. & Osindero, S. (2014). Conditional Generative Adversarial Nets. arXiv:1411.1784.
        Odena, A., Olah, C. & Shlens, J. (2017). Conditional Image Synthesis with Auxiliary Classifier GANs. ICML.
        Miyato, T. et al. (2018). Spectral Normalization for GANs. ICLR. Miyato, T. & Koyama, M. (2018).
        cGANs with Projection Discriminator. ICLR.
        Salimans, T. et al. (2016). Improved Techniques for Training GANs. NeurIPS.
        Heusel, M. et al. (2017). GANs Trained by a Two Time-Scale Update Rule (TTUR). NeurIPS.
        Karras, T. et al. (2018). Progressive Growing of GANs (minibatch std). ICLR.
        Lin, Z. et al. (2018). PacGAN: The power of two samples in generative adversarial networks. NeurIPS.
    """

    #: ``genlab.train`` watches the samples' modes / classes and warns on collapse (ModeCollapseMonitor)
    monitor_modes = True
    #: what the run's loss_curve.png shows
    plot_keys = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(
        self, config: GANConfig, generator_net: nn.Module | None = None, discriminator_net: nn.Module | None = None
    ) -> None:
        super().__init__(config)
        c = config
        shape = tuple(c.data_shape)
        images = len(shape) == 3 and min(shape[1:]) >= 8
        self.architecture = c.architecture if c.architecture != "auto" else ("conv" if images else "mlp")
        hidden = c.hidden_dims or _auto_hidden(self.architecture, shape)
        conv = self.architecture == "conv"
        self.bounded = c.output == "tanh" or (c.output == "auto" and len(shape) == 3)
        g_norm = c.g_norm if c.g_norm != "auto" else ("batch" if conv else "none")
        d_norm = c.d_norm
        if d_norm == "auto":
            d_norm = "none" if not conv else ("layer" if c.loss == "wasserstein_gp" else "batch")
        self.netG = generator_net or Generator(
            c.latent_dim,
            shape,
            self.architecture,
            hidden,
            "relu",
            g_norm,
            "tanh" if self.bounded else None,
            c.n_classes,
        )
        self.netD = discriminator_net or Discriminator(
            shape,
            self.architecture,
            hidden,
            "leaky_relu",
            d_norm,
            spectral_norm=c.spectral_norm,
            minibatch_std=c.minibatch_std,
            n_classes=c.n_classes,
            aux_classes=c.n_classes if c.aux_weight else 0,
            pack=c.pack,
        )
        if c.init == "dcgan" or (c.init == "auto" and conv):
            for net, given in ((self.netG, generator_net), (self.netD, discriminator_net)):
                if given is None:
                    dcgan_init(net)
        self.netG_ema = copy.deepcopy(self.netG).requires_grad_(False) if c.ema_decay else None
        self.register_buffer("g_updates", torch.zeros((), dtype=torch.long))
        # the last generator update's (g_loss, grad_norm_g), reported on D-only steps; a buffer, so it is checkpointed
        self.register_buffer("last_g", torch.zeros(2))

    # --- data space <-> network space ------------------------------------------------------------
    @property
    def _range(self) -> tuple[float, float]:
        return self.data_info.value_range if self.data_info is not None else (-1.0, 1.0)

    @property
    def output_range(self) -> tuple[float, float] | None:  # type: ignore[override]
        return self._range if self.bounded else None

    def _to_net(self, x: torch.Tensor) -> torch.Tensor:
        if not self.bounded:
            return x
        lo, hi = self._range
        return x if (lo, hi) == (-1.0, 1.0) else (x - lo) * (2.0 / (hi - lo)) - 1.0

    def _from_net(self, x: torch.Tensor) -> torch.Tensor:
        if not self.bounded:
            return x
        lo, hi = self._range
        return x if (lo, hi) == (-1.0, 1.0) else ((x + 1.0) * (0.5 * (hi - lo)) + lo).clamp(lo, hi)

    # --- conditioning -----------------------------------------------------------------------------
    def _labels(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        return checked_labels(y, n, self.config.n_classes, "GAN")

    def _cond(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        return one_hot(labels, self.config.n_classes) if labels is not None else None

    # --- public API ---------------------------------------------------------------------------------
    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` codes ``z ~ N(0, I)``, ``(n, latent_dim)``."""
        return self.randn(n, self.config.latent_dim, generator=generator)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None, ema: bool = True) -> torch.Tensor:
        """Samples ``G(z[, y])`` in the data's space, ``(B, *data_shape)``; uses the EMA generator if there is one."""
        net = self.netG_ema if (ema and self.netG_ema is not None) else self.netG
        return self._from_net(net(z, self._cond(self._labels(labels, z.shape[0]))))

    @evaluating
    def sample(
        self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``n`` samples in the data's space; a conditional GAN draws ``labels`` (default 0, 1, ..., K-1, 0, ...).

        Eval mode, no gradients; :meth:`generate` is the differentiable map the training step uses."""
        if self.config.n_classes and labels is None:
            labels = torch.arange(n, device=self.device) % self.config.n_classes
        return self.generate(self.noise(n, generator), labels)

    @evaluating
    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The discriminator's raw scores ``(B,)`` on data-space samples ``x`` (eval mode, no gradients)."""
        return self.netD(self._to_net(x), self._labels(labels, x.shape[0]))

    def diversity_advice(self) -> str:
        c = self.config
        tips = [f"loss={name!r}" for name in ("non_saturating", "wasserstein_gp") if name != c.loss]
        tips += [f"{flag}=True" for flag in ("minibatch_std", "spectral_norm") if not getattr(c, flag)]
        if c.pack == 1:
            tips.append("pack=2 (PacGAN)")
        return f"a GAN dropping modes: try {', '.join(tips)}, or lower learning rates (lr_g, lr_d)"

    # --- training ---------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        if c.optimizer == "rmsprop":
            return [
                torch.optim.RMSprop(self.netG.parameters(), lr=c.lr_g),
                torch.optim.RMSprop(self.netD.parameters(), lr=c.lr_d),
            ]
        betas = (c.beta1, c.beta2)
        return [adam(self.netG.parameters(), c.lr_g, betas=betas), adam(self.netD.parameters(), c.lr_d, betas=betas)]

    def noise_std(self, step: int) -> float:
        """The instance-noise standard deviation at ``step`` (linear decay to 0 over ``instance_noise_steps``)."""
        c = self.config
        if not c.instance_noise_steps:
            return c.instance_noise
        return c.instance_noise * max(0.0, 1.0 - step / c.instance_noise_steps)

    def _d_input(self, x: torch.Tensor, std: float, gen: torch.Generator) -> torch.Tensor:
        return x + std * self.randn(x.shape, generator=gen) if std > 0 else x

    def _mean_out(self, scores: torch.Tensor) -> float:
        return float(
            torch.sigmoid(scores).mean() if self.config.loss in ("minimax", "non_saturating") else scores.mean()
        )

    @staticmethod
    def grad_norm(grads: list[torch.Tensor]) -> float:
        """The Euclidean norm of a list of gradient tensors taken together (0 for an empty list)."""
        return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))) if grads else 0.0

    def _update(self, loss: torch.Tensor, params: list[torch.Tensor], optimizer: torch.optim.Optimizer) -> float:
        """``zero_grad -> backward -> step``; returns the gradient norm before the step (of the loss as scaled
        under 16-mixed precision, of this process's shard under data-parallel training)."""
        optimizer.zero_grad(set_to_none=True)
        self.backward(loss)
        norm = GAN.grad_norm([p.grad for p in params if p.grad is not None])
        self.step(optimizer)
        return norm

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        c = self.config
        opt_g, opt_d = optimizers
        gen = self.rng()
        x = self._to_net(batch.x)
        b = x.shape[0]
        labels = self._labels(batch.y, b)
        g_step = (step + 1) % c.n_critic == 0
        std = self.noise_std(step)
        z = self.noise(b, gen)
        with torch.set_grad_enabled(g_step):  # the generated batch serves the D update and the G update
            fake = self.netG(z, self._cond(labels))

        # discriminator (critic)
        d_params = list(self.netD.parameters())
        h_r, f_r = self.netD.features(self._d_input(x, std, gen))
        s_r = self.netD.score(h_r, f_r, labels)
        h_f, f_f = self.netD.features(self._d_input(fake.detach(), std, gen))
        s_f = self.netD.score(h_f, f_f, labels)
        d_loss = discriminator_loss(c.loss, s_r, s_f, c.label_smoothing)
        out: dict[str, Any] = {}
        total = d_loss

        def critic(v: torch.Tensor) -> torch.Tensor:
            return self.netD(self._d_input(v, std, gen), labels)

        if c.loss == "wasserstein_gp" and c.gp_weight:
            gp = gradient_penalty(critic, x, fake.detach(), gen)
            total = total + c.gp_weight * gp
            out["gp"] = gp.detach()
        if c.r1_weight:
            r1 = r1_penalty(critic, x)
            total = total + 0.5 * c.r1_weight * r1
            out["r1"] = r1.detach()
        if c.aux_weight:
            aux = F.cross_entropy(self.netD.classify(f_r), labels) + F.cross_entropy(self.netD.classify(f_f), labels)
            total = total + c.aux_weight * aux
            out["aux_d"] = aux.detach()
        grad_d = self._update(total, d_params, opt_d)
        if c.loss == "wasserstein":
            with torch.no_grad():
                torch._foreach_clamp_min_(d_params, -c.clip_value)
                torch._foreach_clamp_max_(d_params, c.clip_value)
        out.update(loss=d_loss.detach(), d_loss=d_loss.detach(), d_real=self._mean_out(s_r.detach()))
        out.update(d_fake=self._mean_out(s_f.detach()), grad_norm_d=grad_d)
        if c.loss in ("wasserstein", "wasserstein_gp"):
            out["w_distance"] = (s_r.mean() - s_f.mean()).detach()

        if g_step:
            self.netD.requires_grad_(False)  # D's weight gradients are not needed for G's update
            try:
                h, flat = self.netD.features(self._d_input(fake, std, gen))
                s_g = self.netD.score(h, flat, labels)
                g_loss = generator_loss(c.loss, s_g)
                total_g = g_loss
                if c.feature_matching:
                    total_g = total_g + c.feature_matching * (f_r.detach().mean(0) - flat.mean(0)).square().sum()
                if c.aux_weight:
                    total_g = total_g + c.aux_weight * F.cross_entropy(self.netD.classify(flat), labels)
                grad_g = self._update(total_g, list(self.netG.parameters()), opt_g)
            finally:
                self.netD.requires_grad_(True)
            self.g_updates += 1
            self._update_ema()
            self.last_g.copy_(torch.tensor([float(g_loss.detach()), grad_g], device=self.last_g.device))
        out["g_loss"], out["grad_norm_g"] = self.last_g.tolist()  # 0, 0 before the first G update
        return out

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.netG_ema is None:
            return
        n = int(self.g_updates)
        decay = min(self.config.ema_decay, (1.0 + n) / (10.0 + n))  # short warm-up: early averages are not stale
        ema_p, p = list(self.netG_ema.parameters()), list(self.netG.parameters())
        torch._foreach_lerp_(ema_p, p, 1.0 - decay)
        for eb, b in zip(self.netG_ema.buffers(), self.netG.buffers(), strict=True):
            eb.copy_(b)

    # --- data checks ---------------------------------------------------------------------------------
    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        k = self.config.n_classes
        if k and info.class_names and len(info.class_names) != k:
            raise DataError(
                f"this conditional GAN has n_classes={k} but {info.name!r} has {len(info.class_names)} classes; "
                f"build it with n_classes={len(info.class_names)}"
            )

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        g = self.rng(generator)
        lo, hi = self._range if self.bounded else (-1.0, 1.0)
        x = lo + (hi - lo) * self.rand((n, *self.data_shape), generator=g)
        y = self.randint(0, self.config.n_classes, (n,), generator=g) if self.config.n_classes else None
        return Batch(x, y)
