r"""CTGAN: a conditional Wasserstein GAN for mixed-type tables (Xu et al. 2019)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ...config import MAX_COPIES, MAX_LAYERS, MAX_STEPS, MAX_WIDTH, param
from ...losses.adversarial import interpolates, penalty_at
from ...nn import adam
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating
from ._common import (
    Activation,
    Dropout,
    TableConfig,
    TableModel,
    impose,
    resolve_conditions,
    sample_meeting,
    spans_of,
)


@dataclass(frozen=True)
class CTGANConfig(TableConfig):
    """Configuration of :class:`CTGAN` (defaults: the paper's and the ``ctgan`` package's)."""

    embedding_dim: int = param(128, ge=1, le=MAX_WIDTH, help="size of the generator's noise z ~ N(0, I)")
    generator_dims: tuple[int, ...] = param(
        (256, 256), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="widths of the generator's residual layers"
    )
    discriminator_dims: tuple[int, ...] = param(
        (256, 256), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="widths of the critic's hidden layers"
    )
    pac: int = param(10, ge=1, le=MAX_COPIES, help="PacGAN: the critic scores groups of this many rows jointly")
    discriminator_steps: int = param(1, ge=1, le=MAX_STEPS, help="critic updates per generator update")
    gp_weight: float = param(10.0, ge=0, help="weight lambda of the WGAN-GP gradient penalty")
    lr_g: float = param(2e-4, gt=0, help="generator learning rate")
    lr_d: float = param(2e-4, gt=0, help="critic learning rate")
    weight_decay: float = param(1e-6, ge=0, help="Adam weight decay of both networks")
    tau: float = param(0.2, gt=0, help="temperature of the Gumbel-softmax of the one-hot parts")
    dropout: float = param(0.5, ge=0, lt=1, help="dropout after each critic layer")
    log_frequency: bool = param(
        True, help="training-by-sampling draws a condition's category with probability ~ log(1 + count)"
    )


def _logsumexp(v: torch.Tensor) -> torch.Tensor:
    """log-sum-exp over the last axis (torch's kernel is several times slower for the short rows here)."""
    top = v.detach().amax(1, keepdim=True)
    return (v - top).exp().sum(1).log() + top.squeeze(1)


class _Residual(nn.Module):
    """``[relu(bn(fc(x))), x]``: the generator layer of CTGAN (its output concatenates its input)."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.fc, self.bn = nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


@register_model("ctgan", config=CTGANConfig, description="CTGAN: conditional WGAN-GP for mixed-type tables (PacGAN)")
class CTGAN(TableModel, GenerativeModel):
    r"""Conditional tabular GAN (Xu et al. 2019).

    Rows are encoded by the table transform's mode-specific normalization (``representation="modes"``). The
    generator :math:`G(z, c)` maps noise :math:`z \sim N(0, I)` and a *conditional vector* :math:`c` (the one-hot
    of one category of one discrete column) to a row: tanh for each scalar within a mode, Gumbel-softmax
    (temperature ``tau``) for each one-hot part. Training by sampling picks the column uniformly, its category
    with probability :math:`\propto \log(1 + \text{count})` (rare categories are seen), and a real row with that
    category. The critic scores ``pac`` rows at once (PacGAN, against mode collapse) with the WGAN-GP objective

    .. math::
        L_D = E[D(\tilde x, c)] - E[D(x, c)] + \lambda E[(\|\nabla_{\hat x} D(\hat x, c)\|_2 - 1)^2],
        \qquad L_G = -E[D(G(z, c), c)] + \text{CE}(G(z, c)_{\text{col}}, c)

    where the cross-entropy makes the generated row carry the asked category. Sampling draws :math:`c` from
    the data's category frequencies; ``conditions={"column": value}`` fixes it instead (the asked category is
    then also written into the row, so every returned row has it).

    The trainer's batch sets how many rows a step uses; the real rows themselves come from the conditional
    sampler over the whole training table (as in the paper), so that they match the sampled conditions.

    References:
        Xu, L., Skoularidou, M., Cuesta-Infante, A. & Veeramachaneni, K. (2019). Modeling Tabular Data using
        Conditional GAN. NeurIPS. Lin, Z. et al. (2018). PacGAN: The power of two samples in generative
        adversarial networks. NeurIPS. Gulrajani, I. et al. (2017). Improved Training of Wasserstein GANs.
    """

    config: CTGANConfig
    train_defaults: ClassVar[dict[str, Any]] = {"batch_size": 500}  # the paper's and the ctgan package's
    plot_keys = ("loss_d", "loss_g")

    def __init__(self, config: CTGANConfig) -> None:
        super().__init__(config)
        self.spans = spans_of(config)
        self.cond_spans = [s for s in self.spans if s.kind == "d"]
        self.activate = Activation(self.spans)
        # follows the config; a buffer (not saved) so that it moves with the model
        self.register_buffer(
            "_cond_starts", torch.tensor([s.start for s in self.cond_spans], dtype=torch.long), persistent=False
        )
        self._max_width = max((s.width for s in self.cond_spans), default=0)
        self.cond_dim = sum(s.width for s in self.cond_spans)
        width = config.data_shape[0]
        layers: list[nn.Module] = []
        d = config.embedding_dim + self.cond_dim
        for h in config.generator_dims:
            layers.append(_Residual(d, h))
            d += h
        layers.append(nn.Linear(d, width))
        self.generator_net = nn.Sequential(*layers)
        crit: list[nn.Module] = []
        d = (width + self.cond_dim) * config.pac
        for h in config.discriminator_dims:
            crit += [nn.Linear(d, h), nn.LeakyReLU(0.2), Dropout(config.dropout)]
            d = h
        crit.append(nn.Linear(d, 1))
        self.critic = nn.Sequential(*crit)
        # the data's category frequencies per discrete column (for unconditional sampling), saved with the model
        freq = torch.cat([torch.full((s.width,), 1.0 / s.width) for s in self.cond_spans]) if self.cond_spans else None
        self.register_buffer("category_freq", freq if freq is not None else torch.zeros(0))
        self._pool: torch.Tensor | None = None  # the training rows, for training by sampling

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        return [
            adam(self.generator_net.parameters(), c.lr_g, betas=(0.5, 0.9), weight_decay=c.weight_decay),
            adam(self.critic.parameters(), c.lr_d, betas=(0.5, 0.9), weight_decay=c.weight_decay),
        ]

    def diversity_advice(self) -> str:
        return (
            "raise pac (the critic sees more rows at once), keep log_frequency on, train longer, or try tvae "
            "(a VAE does not drop modes)"
        )

    # --- training by sampling ------------------------------------------------------------------------
    def on_train_start(self, x: torch.Tensor) -> None:
        self._index(x)
        if self.cond_spans:
            self.category_freq.copy_(torch.cat([x[:, s.start : s.stop].mean(0) for s in self.cond_spans]))

    def _index(self, x: torch.Tensor) -> None:
        """Row lists per (discrete column, category), flattened: rows of category id ``g`` are
        ``_flat[_starts[g] : _starts[g] + _counts[g]]``; all on the model's device."""
        x = x.to(self.device)
        self._pool = x
        flat, counts, self._probs = [], [], []
        for s in self.cond_spans:
            codes = x[:, s.start : s.stop].argmax(1)
            order = torch.argsort(codes, stable=True)
            count = torch.bincount(codes, minlength=s.width)
            flat.append(order)
            counts.append(count)
            p = torch.log1p(count.double()) if self.config.log_frequency else count.double()
            self._probs.append(F.pad(p / p.sum(), (0, self._max_width - s.width)))
        self._probs = torch.stack(self._probs) if self._probs else torch.zeros(0, 0, device=x.device)  # (cols, widest)
        self._flat = torch.cat(flat) if flat else torch.zeros(0, dtype=torch.long, device=x.device)
        self._counts = torch.cat(counts) if counts else torch.zeros(0, dtype=torch.long, device=x.device)
        self._starts = torch.cumsum(self._counts, 0) - self._counts
        self._group_offset = torch.tensor([0] + [s.width for s in self.cond_spans[:-1]], device=x.device).cumsum(0)

    def _condition(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """Conditional vectors ``(n, cond_dim)``, the column picked for each and its category."""
        if not self.cond_spans:
            return None, torch.zeros(0, device=self.device), torch.zeros(0, device=self.device)
        col = self.randint(0, len(self.cond_spans), (n,), generator=gen)
        cat = self.multinomial(self._probs[col], 1, generator=gen).squeeze(1)
        c = torch.zeros(n, self.cond_dim, device=self.device)
        c[torch.arange(n, device=self.device), self._group_offset[col] + cat] = 1.0
        return c, col, cat

    def _real_rows(self, col: torch.Tensor, cat: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """A real row with category ``cat[i]`` in discrete column ``col[i]``, for each ``i``."""
        group = self._group_offset[col] + cat
        counts = self._counts[group]
        pick = (self.rand(len(col), generator=gen, dtype=torch.float64) * counts).long().clamp_max(counts - 1)
        return self._pool[self._flat[self._starts[group] + pick]]

    def _critic(self, rows: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        x = rows if c is None else torch.cat([rows, c], dim=1)
        return self.critic(x.reshape(-1, x.shape[1] * self.config.pac)).squeeze(1)

    def _generate(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return self.generator_net(z if c is None else torch.cat([z, c], dim=1))

    def _cond_loss(self, raw: torch.Tensor, col: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of each row's generated category in its conditioned column against the asked one."""
        if not self.cond_spans:
            return raw.new_zeros(())
        # the logit of the asked category minus the log-sum-exp of its column, for each row's own column
        starts = self._cond_starts[col]
        picked = raw.gather(1, (starts + cat)[:, None]).squeeze(1)
        lse = torch.stack([_logsumexp(raw[:, s.start : s.stop]) for s in self.cond_spans], 1)
        return (lse.gather(1, col[:, None]).squeeze(1) - picked).mean()

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        c, gen = self.config, self.rng()
        opt_g, opt_d = optimizers
        pac = c.pac
        if self._pool is None and self.cond_spans:
            self._index(batch.x)
        n = max(pac, math.ceil(len(batch.x) / pac) * pac)
        for _ in range(c.discriminator_steps):
            z = self.randn(n, c.embedding_dim, generator=gen)
            cond, col, cat = self._condition(n, gen)
            if cond is None:  # no discrete column: real rows straight from the batch (topped up to n)
                real, real_c = batch.x[self.randint(0, len(batch.x), (n,), generator=gen)], None
            else:  # real rows with the sampled categories, paired with a shuffled copy of the conditions
                perm = self.randperm(n, generator=gen)
                real, real_c = self._real_rows(col[perm], cat[perm], gen), cond[perm]
            with torch.no_grad():  # the critic's step needs no graph through the generator
                fake = self.activate(self._generate(z, cond), c.tau, gen)
            width = (real.shape[1] + (0 if cond is None else cond.shape[1])) * pac
            joint_real = (real if real_c is None else torch.cat([real, real_c], 1)).reshape(-1, width)
            joint_fake = (fake if cond is None else torch.cat([fake, cond], 1)).reshape(-1, width)
            m = len(joint_real)
            scores = self.critic(torch.cat([joint_real, joint_fake])).squeeze(1)  # one pass: real packs, fake packs
            loss_d = scores[m:].mean() - scores[:m].mean()
            if c.gp_weight:  # the interpolates get their own pass: the penalty's double backward stays small
                x_hat = interpolates(joint_real, joint_fake, gen)
                gp = penalty_at(self.critic(x_hat).squeeze(1), x_hat)
                total = loss_d + c.gp_weight * gp
            else:
                gp, total = torch.zeros((), device=loss_d.device), loss_d
            self.optimize(total, opt_d)
        z = self.randn(n, c.embedding_dim, generator=gen)
        cond, col, cat = self._condition(n, gen)
        raw = self._generate(z, cond)
        fake = self.activate(raw, c.tau, gen)
        adv = -self._critic(fake, cond).mean()
        ce = self._cond_loss(raw, col, cat)
        self.optimize(adv + ce, opt_g)
        return {
            "loss": float(loss_d.detach()) + float(adv.detach()),
            "loss_d": float(loss_d.detach()),
            "loss_g": float(adv.detach()),
            "gp": float(gp.detach()),
            "cond_ce": float(ce.detach()),
        }

    # --- sampling --------------------------------------------------------------------------------------
    @evaluating
    def sample(
        self, n: int, generator: torch.Generator | None = None, conditions: dict[str, Any] | None = None
    ) -> torch.Tensor:
        """``n`` encoded rows ``(n, D)`` (one-hot parts as one-hots).

        Args:
            n: rows.
            generator: random source.
            conditions: ``{column: category}`` for categorical / boolean columns (needs the model's table
                transform). The first condition goes into the conditional vector; further ones are met by
                keeping the generated rows that have them.
        """
        gen = self.rng(generator)
        fixed = resolve_conditions(self, conditions)
        if not fixed:
            return self._draw(n, gen, None)
        first = fixed[0]
        j = next(i for i, s in enumerate(self.cond_spans) if s.start == first[0].start)

        def draw(m: int) -> torch.Tensor:
            return impose(self._draw(m, gen, (j, first[1])), fixed[:1])

        if len(fixed) == 1:
            return draw(n)
        return sample_meeting(draw, n, fixed, one_hot=True)

    def _draw(self, n: int, gen: torch.Generator, condition: tuple[int, int] | None) -> torch.Tensor:
        c = self.config
        out = []
        for start in range(0, n, 10_000):
            m = min(10_000, n - start)
            z = self.randn(m, c.embedding_dim, generator=gen)
            cond = None
            if self.cond_spans:
                cond = torch.zeros(m, self.cond_dim, device=self.device)
                col = (
                    torch.full((m,), condition[0], device=self.device)
                    if condition is not None
                    else self.randint(0, len(self.cond_spans), (m,), generator=gen)
                )
                offset = 0
                for j, s in enumerate(self.cond_spans):
                    rows = torch.nonzero(col == j).squeeze(1)
                    if len(rows):
                        if condition is not None:
                            k = torch.full((len(rows),), condition[1], device=self.device)
                        else:
                            freq = self.category_freq[offset : offset + s.width].clamp_min(0).double()
                            freq = freq / freq.sum() if float(freq.sum()) > 0 else torch.full_like(freq, 1 / s.width)
                            k = self.multinomial(freq, len(rows), replacement=True, generator=gen)
                        cond[rows, offset + k] = 1.0
                    offset += s.width
            out.append(self.activate(self._generate(z, cond), c.tau, gen, hard=True))
        return torch.cat(out)


__all__ = ["CTGAN", "CTGANConfig"]
