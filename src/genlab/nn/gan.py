"""Generators and discriminators: MLP (tabular data, 2-D toys) or DCGAN-style convolutional, any image size.

The convolutional nets follow Radford et al. (2016): the generator maps the code with a linear layer to
the smallest feature map, then grows it with 4x4 stride-2 transposed convolutions (batch norm, ReLU)
to the image (tanh); the discriminator mirrors it with 4x4 stride-2 convolutions (LeakyReLU 0.2; batch
norm on every layer but the first) and a linear score. Spatial sizes come from
:func:`~genlab.nn.coders.conv_sizes`, so 8x8, 28x28, 32x32, 64x64 (or any other size) need no file of
their own: ``hidden`` lists the channels from the image side, e.g. ``(64, 128)`` gives
28x28 -> 14x14x64 -> 7x7x128 in the discriminator and the reverse in the generator.

The discriminator exposes its penultimate features (feature matching), and optionally conditions on a
class by projection (Miyato & Koyama 2018), carries an auxiliary classifier head (AC-GAN, Odena et al.
2017), appends a minibatch standard-deviation feature (Karras et al. 2018) and wraps every linear and
convolutional layer in spectral normalization (Miyato et al. 2018).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .coders import conv_sizes
from .mlp import activation

NORMS = ("batch", "layer", "none")


def _norm(kind: str, channels: int, conv: bool) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels) if conv else nn.BatchNorm1d(channels)
    if kind == "layer":  # GroupNorm with one group normalises over (C, H, W), per sample
        return nn.GroupNorm(1, channels) if conv else nn.LayerNorm(channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"unknown normalization {kind!r}; choose one of {', '.join(NORMS)}")


def _check_images(architecture: str, data_shape: Sequence[int]) -> None:
    if architecture not in ("mlp", "conv"):
        raise ConfigError(f"unknown architecture {architecture!r}; choose 'mlp' or 'conv'")
    if architecture == "conv" and len(data_shape) != 3:
        raise ConfigError(f"the conv architecture needs image data (C, H, W), got shape {tuple(data_shape)}")


class Generator(nn.Module):
    """``z (B, latent_dim) [+ condition (B, c)] -> (B, *data_shape)``.

    Args:
        latent_dim: size of the code.
        data_shape: ``(d,)`` or ``(C, H, W)``.
        architecture: ``"mlp"`` (widths ``hidden``) or ``"conv"`` (channels ``hidden``, image side first).
        hidden: widths or channels.
        act: hidden activation.
        norm: ``"batch"`` (DCGAN), ``"layer"`` or ``"none"`` after every hidden layer.
        out_act: output activation name (``"tanh"`` for data scaled to [-1, 1]) or ``None`` (linear).
        cond_dim: size of a condition (a one-hot label) concatenated to the code.
    """

    def __init__(
        self,
        latent_dim: int,
        data_shape: Sequence[int],
        architecture: str,
        hidden: Sequence[int],
        act: str = "relu",
        norm: str = "batch",
        out_act: str | None = "tanh",
        cond_dim: int = 0,
    ) -> None:
        super().__init__()
        _check_images(architecture, data_shape)
        self.data_shape = tuple(data_shape)
        self.cond_dim = cond_dim
        d = latent_dim + cond_dim
        layers: list[nn.Module] = []
        if architecture == "mlp":
            for h in hidden:
                layers += [nn.Linear(d, h), _norm(norm, h, conv=False), activation(act)]
                d = h
            layers.append(nn.Linear(d, math.prod(data_shape)))
        else:
            c_out, height, width = data_shape
            sizes = conv_sizes((height, width), len(hidden))
            chans = list(reversed(hidden))
            sh, sw = sizes[-1]
            layers += [
                nn.Linear(d, chans[0] * sh * sw),
                nn.Unflatten(1, (chans[0], sh, sw)),
                _norm(norm, chans[0], conv=True),
                activation(act),
            ]
            targets = list(reversed(sizes[:-1]))  # sizes to grow back to, smallest first
            for i, (th, tw) in enumerate(targets):
                ih, iw = (sh, sw) if i == 0 else targets[i - 1]
                last = i + 1 == len(chans)
                nxt = c_out if last else chans[i + 1]
                layers.append(nn.ConvTranspose2d(chans[i], nxt, 4, 2, 1, output_padding=(th - 2 * ih, tw - 2 * iw)))
                if not last:
                    layers += [_norm(norm, nxt, conv=True), activation(act)]
        if out_act is not None:
            layers.append(activation(out_act))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = torch.cat([z, cond], 1) if self.cond_dim else z
        return self.net(h).reshape(z.shape[0], *self.data_shape)


class MinibatchStd(nn.Module):
    """Appends the mean standard deviation over a group of samples as one extra feature (or channel).

    A generator that collapses to a few outputs has a small spread across the batch; this feature lets
    the discriminator see it (Karras et al. 2018). Groups are ``group_size`` samples (the whole batch
    when the batch size is not a multiple of it).
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b = h.shape[0]
        g = min(self.group_size, b)
        if b % g:
            g = b
        grouped = h.reshape(g, b // g, *h.shape[1:])  # sample i is in group i mod (b // g)
        std = (grouped.var(0, unbiased=False) + 1e-8).sqrt()
        s = std.reshape(b // g, -1).mean(1).repeat(g)  # (b,)
        extra = s.reshape(b, *([1] * (h.ndim - 1))).expand(b, 1, *h.shape[2:])
        return torch.cat([h, extra], 1)


class Discriminator(nn.Module):
    """``x (B, *data_shape) [, labels (B,)] -> scores (B,)`` (raw: logits or critic values).

    Args:
        data_shape: ``(d,)`` or ``(C, H, W)``.
        architecture: ``"mlp"`` or ``"conv"``.
        hidden: widths or channels, image side first.
        act: hidden activation (LeakyReLU 0.2 in DCGAN).
        norm: normalization of every hidden layer but the first (``"none"`` or ``"layer"`` for WGAN-GP,
            whose penalty is per sample and so must not mix the samples of a batch).
        spectral_norm: wrap every linear and convolutional layer in spectral normalization.
        minibatch_std: append the minibatch standard-deviation feature before the score.
        n_classes: > 0 conditions the score on a class by projection: ``score += <embed(y), features>``.
        aux_classes: > 0 adds an auxiliary classifier head on the features (AC-GAN).
        pack: PacGAN (Lin et al. 2018): score groups of ``pack`` samples jointly (concatenated features or
            channels), so a batch of ``B`` gives ``B / pack`` scores and a collapsed generator is easy to spot.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        architecture: str,
        hidden: Sequence[int],
        act: str = "leaky_relu",
        norm: str = "batch",
        spectral_norm: bool = False,
        minibatch_std: bool = False,
        n_classes: int = 0,
        aux_classes: int = 0,
        pack: int = 1,
    ) -> None:
        super().__init__()
        _check_images(architecture, data_shape)
        if pack > 1 and (n_classes or aux_classes):
            raise ConfigError("packing (pack > 1) scores several samples at once, so it cannot condition on labels")
        self.flat_input = architecture == "mlp"
        self.pack = pack
        layers: list[nn.Module] = []
        if self.flat_input:
            d = math.prod(data_shape) * pack
            for i, h in enumerate(hidden):
                layers += [nn.Linear(d, h), _norm(norm if i else "none", h, conv=False), activation(act)]
                d = h
            feat, extra = d, 1
        else:
            c, height, width = data_shape
            c *= pack
            sizes = conv_sizes((height, width), len(hidden))
            for i, ch in enumerate(hidden):
                layers += [nn.Conv2d(c, ch, 4, 2, 1), _norm(norm if i else "none", ch, conv=True), activation(act)]
                c = ch
            feat = c * sizes[-1][0] * sizes[-1][1]
            extra = sizes[-1][0] * sizes[-1][1]  # the minibatch-std channel
        self.body = nn.Sequential(*layers)
        self.mbstd = MinibatchStd() if minibatch_std else None
        self.head = nn.Linear(feat + (extra if minibatch_std else 0), 1)
        self.embed = nn.Embedding(n_classes, feat) if n_classes else None
        if self.embed is not None:  # N(0, 1) embeddings would swamp the score of a wide feature vector
            nn.init.xavier_uniform_(self.embed.weight)
        self.aux = nn.Linear(feat, aux_classes) if aux_classes else None
        if spectral_norm:
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Conv2d)):
                    nn.utils.parametrizations.spectral_norm(module)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(hidden, flat)``: the last hidden activations (``(B, C, h, w)`` or ``(B, d)``) and them flattened.

        With packing, the batch dimension is ``B / pack``.
        """
        if self.pack > 1:
            if x.shape[0] % self.pack:
                raise ConfigError(f"packing {self.pack} samples needs a batch size divisible by {self.pack}")
            x = x.reshape(x.shape[0] // self.pack, self.pack * x.shape[1], *x.shape[2:])
        h = self.body(x.reshape(x.shape[0], -1) if self.flat_input else x)
        return h, h.reshape(h.shape[0], -1)

    def score(self, h: torch.Tensor, flat: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The score ``(B,)`` from the features of :meth:`features`."""
        top = self.mbstd(h).reshape(h.shape[0], -1) if self.mbstd is not None else flat
        out = self.head(top).squeeze(1)
        if self.embed is not None:
            if labels is None:
                raise ConfigError("this discriminator is class-conditional: pass the labels")
            out = out + (self.embed(labels) * flat).sum(1)
        return out

    def classify(self, flat: torch.Tensor) -> torch.Tensor:
        """Auxiliary-classifier logits ``(B, aux_classes)`` from the flat features."""
        if self.aux is None:
            raise ConfigError("this discriminator has no auxiliary classifier (aux_classes=0)")
        return self.aux(flat)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h, flat = self.features(x)
        return self.score(h, flat, labels)


@torch.no_grad()
def dcgan_init(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """Radford et al.'s initialisation: weights of (transposed) convolutions, linear layers and embeddings
    ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            weight.normal_(0.0, 0.02, generator=generator)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.Embedding):
            m.weight.normal_(0.0, 0.02, generator=generator)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.weight.normal_(1.0, 0.02, generator=generator)
            m.bias.zero_()


def one_hot(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Float one-hot codes ``(B, n_classes)``."""
    return F.one_hot(labels, n_classes).float()


__all__ = ["NORMS", "Discriminator", "Generator", "MinibatchStd", "dcgan_init", "one_hot"]
