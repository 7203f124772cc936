"""Variational autoencoder with an MLP encoder and decoder."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from ...config import BaseConfig, param
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...losses import bernoulli_log_likelihood, gaussian_log_likelihood, kl_normal_std_normal
from ...nn import adam, mlp
from ...registry import register_model
from ..base import Batch, GenerativeModel


@dataclass(frozen=True)
class VAEConfig(BaseConfig):
    """Configuration of :class:`VAE`."""

    data_shape: tuple[int, ...] = param((1, 28, 28), ge=1, help="shape of one sample, e.g. (1, 28, 28)")
    hidden_dims: tuple[int, ...] = param((200, 200), ge=1, help="encoder widths (the decoder mirrors them)")
    latent_dim: int = param(50, ge=1, help="size of the latent code z")
    activation: Literal["relu", "leaky_relu", "elu", "tanh", "softplus", "gelu", "silu"] = "relu"
    likelihood: Literal["bernoulli", "gaussian"] = param(
        "bernoulli", help="p(x|z): bernoulli for data in [0, 1], gaussian for real values"
    )
    obs_std: float = param(0.1, gt=0, help="gaussian likelihood: initial / fixed standard deviation")
    learn_obs_std: bool = param(False, help="gaussian likelihood: learn one std per dimension")
    beta: float = param(1.0, ge=0, help="weight of the KL term (beta-VAE); 1 gives the ELBO")
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    weight_decay: float = param(0.0, ge=0)

    def validate(self) -> None:
        if not self.data_shape:
            raise ConfigError("VAEConfig.data_shape must have at least one dimension")


@register_model("vae", config=VAEConfig, description="variational autoencoder (MLP, Bernoulli or Gaussian p(x|z))")
class VAE(GenerativeModel):
    r"""Variational autoencoder (Kingma & Welling 2014).

    An encoder gives a diagonal Gaussian posterior
    :math:`q_\phi(z|x) = N(\mu_\phi(x), \mathrm{diag}\,\sigma^2_\phi(x))`, a decoder a likelihood
    :math:`p_\theta(x|z)` (Bernoulli or Gaussian), and the prior is :math:`N(0, I)`.
    Training maximises the evidence lower bound, with the reparameterisation
    :math:`z = \mu + \sigma \odot \epsilon`, :math:`\epsilon \sim N(0, I)`:

    .. math::
        \log p(x) \ge \mathrm{ELBO}(x) = E_{q(z|x)}[\log p_\theta(x|z)] - \beta\,KL(q_\phi(z|x)\,\|\,p(z))

    (:math:`\beta = 1` gives the true bound; other values give the beta-VAE of Higgins et al. 2017).

    References:
        Kingma, D. P. & Welling, M. (2014). Auto-Encoding Variational Bayes. ICLR.
        Rezende, D. J., Mohamed, S. & Wierstra, D. (2014). Stochastic Backpropagation and Approximate
        Inference in Deep Generative Models. ICML.
    """

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        c = config
        d = math.prod(c.data_shape)
        self.encoder = mlp(d, c.hidden_dims, 2 * c.latent_dim, act=c.activation)
        self.decoder = mlp(c.latent_dim, tuple(reversed(c.hidden_dims)), d, act=c.activation)
        if c.likelihood == "gaussian":
            log_std = torch.full((d,), math.log(c.obs_std))
            if c.learn_obs_std:
                self.log_obs_std = nn.Parameter(log_std)
            else:
                self.register_buffer("log_obs_std", log_std)
        else:
            self.log_obs_std = None

    @property
    def output_range(self) -> tuple[float, float] | None:  # type: ignore[override]
        return (0.0, 1.0) if self.config.likelihood == "bernoulli" else None

    # --- the probabilistic model -----------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters ``(mean, logvar)``, each ``(B, latent_dim)``, for ``x`` ``(B, *data_shape)``."""
        h = self.encoder(x.reshape(x.shape[0], -1))
        mean, logvar = h.chunk(2, dim=1)
        return mean, logvar

    def decoder_output(self, z: torch.Tensor) -> torch.Tensor:
        """Raw decoder output ``(B, D)``: logits (Bernoulli) or means (Gaussian)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean of ``p(x|z)``, shaped like the data: probabilities (Bernoulli) or means (Gaussian)."""
        out = self.decoder_output(z)
        if self.config.likelihood == "bernoulli":
            out = torch.sigmoid(out)
        return out.reshape(z.shape[0], *self.data_shape)

    def log_likelihood(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``log p(x|z)`` per sample ``(B,)`` from the decoder output for ``z``."""
        x = x.reshape(x.shape[0], -1)
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_likelihood(out, x)
        return gaussian_log_likelihood(out, x, self.log_obs_std)

    def reparameterize(
        self, mean: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        eps = torch.randn(mean.shape, generator=self.rng(generator), dtype=mean.dtype)
        return mean + eps * torch.exp(0.5 * logvar)

    def elbo_terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Single-sample estimates of ``(E_q[log p(x|z)], KL(q(z|x) || p(z)))`` per sample, each ``(B,)``."""
        mean, logvar = self.encode(x)
        z = self.reparameterize(mean, logvar, generator)
        rec = self.log_likelihood(self.decoder_output(z), x)
        kl = kl_normal_std_normal(mean, logvar)
        return rec, kl

    def elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A one-sample Monte-Carlo estimate of the ELBO in nats per sample, ``(B,)`` (beta not applied)."""
        rec, kl = self.elbo_terms(x, generator)
        return rec - kl

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The training objective: the mean over the batch of ``-(E_q[log p(x|z)] - beta * KL)``."""
        rec, kl = self.elbo_terms(x, generator)
        return -(rec - self.config.beta * kl).mean()

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``decode(mean of q(z|x))``: a deterministic reconstruction shaped like ``x``."""
        mean, _ = self.encode(x)
        return self.decode(mean)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws ``z ~ N(0, I)`` decoded to the mean of ``p(x|z)``, ``(n, *data_shape)``."""
        z = torch.randn((n, self.config.latent_dim), generator=self.rng(generator))
        return self.decode(z)

    # --- training ---------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        rec, kl = self.elbo_terms(batch.x)
        loss = -(rec - self.config.beta * kl).mean()
        self.optimize(loss, optimizers[0])
        return {"loss": loss.detach(), "recon": -rec.detach().mean(), "kl": kl.detach().mean()}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        rec, kl = self.elbo_terms(batch.x)
        return {"loss": -(rec - self.config.beta * kl).mean(), "elbo": (rec - kl).mean()}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        lo, hi = info.value_range
        if self.config.likelihood == "bernoulli" and (lo < 0.0 or hi > 1.0):
            raise DataError(
                f"the Bernoulli likelihood needs data in [0, 1] but {info.name!r} spans [{lo:g}, {hi:g}]; "
                "rescale it (scale='unit') or use likelihood='gaussian'"
            )
