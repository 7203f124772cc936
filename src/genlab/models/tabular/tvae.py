r"""TVAE: a variational autoencoder over the same encoded rows as CTGAN (Xu et al. 2019)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ...config import MAX_LAYERS, MAX_WIDTH, param
from ...nn import adam, mlp
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating
from ._common import (
    SOFTMAX_KINDS,
    TableConfig,
    TableModel,
    resolve_conditions,
    sample_meeting,
    spans_of,
)


@dataclass(frozen=True)
class TVAEConfig(TableConfig):
    """Configuration of :class:`TVAE` (defaults: the ``ctgan`` package's TVAE)."""

    embedding_dim: int = param(128, ge=1, le=MAX_WIDTH, help="size of the latent code z")
    compress_dims: tuple[int, ...] = param(
        (128, 128), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="widths of the encoder's hidden layers"
    )
    decompress_dims: tuple[int, ...] = param(
        (128, 128), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="widths of the decoder's hidden layers"
    )
    loss_factor: float = param(2.0, gt=0, help="weight of the reconstruction term against the KL term")
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    weight_decay: float = param(1e-5, ge=0, help="Adam weight decay (the package's l2scale)")
    sigma_min: float = param(0.01, gt=0, help="the output standard deviations are kept in [sigma_min, 1]")


@register_model("tvae", config=TVAEConfig, description="TVAE: variational autoencoder for mixed-type tables")
class TVAE(TableModel, GenerativeModel):
    r"""Tabular VAE (Xu et al. 2019) on the table transform's mode-specific rows.

    An encoder :math:`q(z \mid x) = N(\mu(x), \mathrm{diag}\,\sigma^2(x))`, a prior :math:`N(0, I)` and a decoder
    whose outputs are, for each scalar within a mode, the mean of a Gaussian with a learned standard deviation
    :math:`\sigma_j` (one per output, in ``[sigma_min, 1]``) on :math:`\tanh` of the output, and logits of a
    categorical distribution for each one-hot part. The loss per row is

    .. math::
        \text{loss\_factor} \Big[\sum_{j \in \text{scalars}} \frac{(x_j - \tanh \hat x_j)^2}{2\sigma_j^2}
        + \log \sigma_j + \sum_{\text{one-hot parts}} \text{CE}(\hat x_{\text{part}}, x_{\text{part}})\Big]
        + \mathrm{KL}(q(z \mid x) \,\|\, N(0, I)).

    Sampling decodes :math:`z \sim N(0, I)`, adds :math:`\sigma_j` noise to each scalar and draws each one-hot
    part from its softmax. ``conditions={"column": value}`` keeps the drawn rows that have the asked categories.

    References:
        Xu, L., Skoularidou, M., Cuesta-Infante, A. & Veeramachaneni, K. (2019). Modeling Tabular Data using
        Conditional GAN. NeurIPS.
    """

    config: TVAEConfig
    train_defaults: ClassVar[dict[str, Any]] = {"batch_size": 500}  # the paper's and the ctgan package's
    plot_keys = ("loss", "reconstruction", "kl")

    def __init__(self, config: TVAEConfig) -> None:
        super().__init__(config)
        self.spans = spans_of(config)
        width = config.data_shape[0]
        self.encoder = mlp(width, config.compress_dims, 2 * config.embedding_dim)
        self.decoder = mlp(config.embedding_dim, config.decompress_dims, width)
        self.sigma = nn.Parameter(torch.full((width,), 0.1))

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), self.config.lr, weight_decay=self.config.weight_decay)]

    def diversity_advice(self) -> str:
        return "lower loss_factor (a stronger KL term), raise embedding_dim, or train longer"

    def loss_terms(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The reconstruction and KL terms per row of the loss above (differentiable)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        eps = self.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        out = self.decoder(z)
        rec = x.new_zeros(())
        sig = self.sigma
        for s in self.spans:
            if s.kind == "t":
                j = s.start
                rec = (
                    rec
                    + ((x[:, j] - torch.tanh(out[:, j])) ** 2 / (2 * sig[j] ** 2)).sum()
                    + torch.log(sig[j]) * len(x)
                )
            else:
                target = x[:, s.start : s.stop].argmax(1)
                rec = rec + F.cross_entropy(out[:, s.start : s.stop], target, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.square() - logvar.exp())
        return {"reconstruction": rec / len(x), "kl": kl / len(x)}

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        terms = self.loss_terms(batch.x)
        loss = self.config.loss_factor * terms["reconstruction"] + terms["kl"]
        self.optimize(loss, optimizers[0])
        with torch.no_grad():
            self.sigma.clamp_(self.config.sigma_min, 1.0)
        return {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in terms.items()}}

    @evaluating
    def sample(
        self, n: int, generator: torch.Generator | None = None, conditions: dict[str, Any] | None = None
    ) -> torch.Tensor:
        """``n`` encoded rows ``(n, D)``; ``conditions={column: category}`` keeps the rows that have them."""
        gen = self.rng(generator)
        fixed = resolve_conditions(self, conditions)
        if not fixed:
            return self._draw(n, gen)
        return sample_meeting(lambda m: self._draw(m, gen), n, fixed, one_hot=True)

    def _draw(self, n: int, gen: torch.Generator) -> torch.Tensor:
        z = self.randn(n, self.config.embedding_dim, generator=gen)
        out = self.decoder(z)
        x = torch.empty_like(out)
        for s in self.spans:
            piece = out[:, s.start : s.stop]
            if s.kind == "t":
                noise = self.randn(piece.shape, generator=gen) * self.sigma[s.start]
                x[:, s.start : s.stop] = (torch.tanh(piece) + noise).clamp(-1.0, 1.0)
            elif s.kind in SOFTMAX_KINDS:
                k = self.multinomial(F.softmax(piece, dim=1), 1, generator=gen).squeeze(1)
                x[:, s.start : s.stop] = F.one_hot(k, s.width).to(x.dtype)
        return x


__all__ = ["TVAE", "TVAEConfig"]
