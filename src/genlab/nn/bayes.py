"""Bayes-by-backprop layers: a factorized Gaussian posterior over the weights, sampled by reparameterization."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._device import randn


class _Bayes(nn.Module):
    r"""Weights :math:`w = \mu + \sigma \odot \epsilon`, :math:`\sigma = \mathrm{softplus}(\rho)`,
    :math:`\epsilon \sim N(0, I)`, with prior :math:`N(0, \sigma_p^2)` and the closed-form

    .. math::
        \mathrm{KL}(q \| p) = \sum \log\frac{\sigma_p}{\sigma} + \frac{\sigma^2 + \mu^2}{2\sigma_p^2} - \frac12 .
    """

    def _init(self, weight_shape: tuple[int, ...], bias: int, fan_in: int, prior_std: float, init_std: float):
        bound = 1 / math.sqrt(fan_in)
        self.weight_mu = nn.Parameter(torch.empty(weight_shape).uniform_(-bound, bound))
        rho = math.log(math.expm1(init_std))  # softplus(rho) = init_std
        self.weight_rho = nn.Parameter(torch.full(weight_shape, rho))
        self.bias_mu = nn.Parameter(torch.empty(bias).uniform_(-bound, bound))
        self.bias_rho = nn.Parameter(torch.full((bias,), rho))
        self.prior_std = prior_std
        self.generator: torch.Generator | None = None  # set by the owning model for reproducible draws
        self.sample_weights = True  # False: use the posterior means (the "MAP" network)

    def _draw(self, mu: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
        if not self.sample_weights:
            return mu
        # drawn on the generator's device, used on the weights'
        eps = randn(mu.shape, generator=self.generator, device=mu.device, dtype=mu.dtype)
        return mu + F.softplus(rho) * eps

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._draw(self.weight_mu, self.weight_rho), self._draw(self.bias_mu, self.bias_rho)

    def kl(self) -> torch.Tensor:
        """``KL(q(w) || p(w))`` in nats, summed over the layer's weights and biases."""
        total = self.weight_mu.new_zeros(())
        for mu, rho in ((self.weight_mu, self.weight_rho), (self.bias_mu, self.bias_rho)):
            std = F.softplus(rho)
            p = self.prior_std
            total = total + (math.log(p) - std.log() + (std.square() + mu.square()) / (2 * p * p) - 0.5).sum()
        return total


class BayesLinear(_Bayes):
    """A linear layer with a Gaussian posterior over its weights (a fresh draw every forward pass)."""

    def __init__(self, in_features: int, out_features: int, prior_std: float = 1.0, init_std: float = 1e-3):
        super().__init__()
        self._init((out_features, in_features), out_features, in_features, prior_std, init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.weights()
        return F.linear(x, w, b)


class BayesConv2d(_Bayes):
    """A 2-D convolution with a Gaussian posterior over its kernels."""

    def __init__(self, c_in: int, c_out: int, kernel: int, padding: int = 0, prior_std: float = 1.0, init_std=1e-3):
        super().__init__()
        self._init((c_out, c_in, kernel, kernel), c_out, c_in * kernel * kernel, prior_std, init_std)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.weights()
        return F.conv2d(x, w, b, padding=self.padding)


__all__ = ["BayesConv2d", "BayesLinear"]
