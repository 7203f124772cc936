"""Adversarial objectives as pure functions of the discriminator's raw outputs.

``real`` and ``fake`` are the discriminator's (critic's) raw scores ``(B,)`` on data and on generated
samples: logits for the minimax and non-saturating losses, unbounded scores for the others. Every
function returns the mean loss to *minimise* (a scalar).

======================  ===============================================  ===========================================
loss                    discriminator minimises                          generator minimises
======================  ===============================================  ===========================================
``minimax``             ``-E log D(x) - E log(1 - D(G(z)))``             ``E log(1 - D(G(z)))`` (saturates)
``non_saturating``      same as minimax                                  ``-E log D(G(z))``
``least_squares``       ``1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2``         ``1/2 E (D(G(z)) - 1)^2``
``hinge``               ``E relu(1 - D(x)) + E relu(1 + D(G(z)))``       ``-E D(G(z))``
``wasserstein`` (+_gp)  ``E D(G(z)) - E D(x)``                           ``-E D(G(z))``
======================  ===============================================  ===========================================

with ``D = sigmoid(logit)`` for the first two. One-sided label smoothing (Salimans et al. 2016) replaces
the real target 1 by ``1 - smoothing`` in the minimax, non-saturating and least-squares losses.

References:
    Goodfellow, I. et al. (2014). Generative Adversarial Nets. NeurIPS.
    Mao, X. et al. (2017). Least Squares Generative Adversarial Networks. ICCV.
    Lim, J. H. & Ye, J. C. (2017). Geometric GAN (the hinge loss). arXiv:1705.02894.
    Arjovsky, M., Chintala, S. & Bottou, L. (2017). Wasserstein GAN. ICML.
    Gulrajani, I. et al. (2017). Improved Training of Wasserstein GANs. NeurIPS.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .._device import rand
from ..errors import ConfigError

ADVERSARIAL_LOSSES = ("minimax", "non_saturating", "least_squares", "hinge", "wasserstein", "wasserstein_gp")
SMOOTHABLE = ("minimax", "non_saturating", "least_squares")


def _check(loss: str) -> None:
    if loss not in ADVERSARIAL_LOSSES:
        raise ConfigError(f"unknown adversarial loss {loss!r}; choose one of {', '.join(ADVERSARIAL_LOSSES)}")


def discriminator_loss(loss: str, real: torch.Tensor, fake: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """The discriminator's (critic's) loss on raw scores ``real`` and ``fake`` (see the module table).

    Args:
        loss: one of :data:`ADVERSARIAL_LOSSES`.
        real: scores on data ``(B,)``.
        fake: scores on generated samples ``(B',)``.
        smoothing: one-sided label smoothing; the real target becomes ``1 - smoothing``.
    """
    _check(loss)
    if smoothing and loss not in SMOOTHABLE:
        raise ConfigError(f"label smoothing applies to the {', '.join(SMOOTHABLE)} losses, not {loss!r}")
    target = 1.0 - smoothing
    if loss in ("minimax", "non_saturating"):
        # BCE(real, target) + BCE(fake, 0); softplus(-r) = -log sigmoid(r), softplus(f) = -log(1 - sigmoid(f))
        real_term = target * F.softplus(-real) + (1.0 - target) * F.softplus(real) if smoothing else F.softplus(-real)
        return real_term.mean() + F.softplus(fake).mean()
    if loss == "least_squares":
        return 0.5 * (real - target).square().mean() + 0.5 * fake.square().mean()
    if loss == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    return fake.mean() - real.mean()  # wasserstein, wasserstein_gp


def generator_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss on the discriminator's raw scores of generated samples ``fake`` ``(B,)``."""
    _check(loss)
    if loss == "minimax":
        return -F.softplus(fake).mean()  # E log(1 - sigmoid(f)): flat where D confidently rejects
    if loss == "non_saturating":
        return F.softplus(-fake).mean()  # -E log sigmoid(f)
    if loss == "least_squares":
        return 0.5 * (fake - 1.0).square().mean()
    return -fake.mean()  # hinge, wasserstein, wasserstein_gp


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
    target: float = 1.0,
) -> torch.Tensor:
    r"""WGAN-GP's penalty :math:`E_{\hat x}[(\|\nabla_{\hat x} D(\hat x)\|_2 - \text{target})^2]`.

    :math:`\hat x = \epsilon x + (1 - \epsilon) \tilde x` with one :math:`\epsilon \sim U[0, 1]` per sample,
    on the line between a real sample ``x`` and a generated one :math:`\tilde x`. The graph is kept
    (``create_graph``), so the penalty's gradient reaches the critic's weights.

    Args:
        critic: maps samples ``(B, ...)`` to scores ``(B,)`` (a conditional critic closes over the labels).
        real: data ``(B, ...)``.
        fake: generated samples, same shape (detached from the generator).
        generator: random source of the interpolation weights.
        target: the norm the gradient is pulled to (1 for the 1-Lipschitz constraint).
    """
    if real.shape != fake.shape:
        raise ConfigError(
            f"the gradient penalty needs real and fake batches of one shape, got {real.shape} / {fake.shape}"
        )
    x_hat = interpolates(real, fake, generator)
    return penalty_at(critic(x_hat), x_hat, target)


def interpolates(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r""":math:`\hat x = \epsilon x + (1 - \epsilon) \tilde x`, one :math:`\epsilon \sim U[0, 1]` per sample, detached
    from both inputs and requiring gradients (the points :func:`penalty_at` scores)."""
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = rand(shape, generator=generator, device=real.device, dtype=real.dtype)  # drawn on the generator's device
    return (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)


def penalty_at(scores: torch.Tensor, x_hat: torch.Tensor, target: float = 1.0) -> torch.Tensor:
    """The gradient penalty from a critic's ``scores`` ``(B,)`` at the points ``x_hat`` (from :func:`interpolates`).

    Lets a caller score the interpolates in the same forward pass as its real and fake batches (each score must
    depend on its own row only: no batch norm). The graph is kept so the penalty's gradient reaches the weights.
    """
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.reshape(grad.shape[0], -1).norm(dim=1)
    return (norms - target).square().mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    r"""The zero-centred penalty on data, :math:`R_1 = E_{x \sim p_{data}} \|\nabla_x D(x)\|_2^2`.

    Added (times ``gamma / 2``) to the discriminator's loss of any GAN, it damps the discriminator's
    gradients on the data manifold, where an equilibrium with ``p_G = p_data`` needs them to vanish; it
    makes the non-saturating GAN converge locally. The graph is kept so its gradient reaches the weights.

    References:
        Mescheder, L., Geiger, A. & Nowozin, S. (2018). Which Training Methods for GANs do actually
        Converge? ICML.
    """
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad.reshape(grad.shape[0], -1).square().sum(1).mean()


__all__ = [
    "ADVERSARIAL_LOSSES",
    "SMOOTHABLE",
    "discriminator_loss",
    "generator_loss",
    "gradient_penalty",
    "interpolates",
    "penalty_at",
    "r1_penalty",
]
