"""Encoders and decoders for autoencoders: MLP or convolutional, chosen by config, for any image size.

Both are stacks of ``blocks`` (a layer and its activation; the last block is the bare output layer), so
applications can freeze, unfreeze or re-use them layer by layer (semi-supervised fine-tuning, features).
An optional condition (e.g. a one-hot label, for conditional models) is concatenated to the input of
the first fully connected layer.

Convolutional stacks use 4x4 kernels with stride 2 and padding 1 (DCGAN-style): each stage halves the
image (rounding down) and the decoder's transposed convolutions restore the exact size with
``output_padding``, so 8x8, 28x28, 32x32 and 64x64 images (or any other) work without a file per size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..errors import ConfigError
from .mlp import activation


def conv_sizes(size: tuple[int, int], stages: int) -> list[tuple[int, int]]:
    """Spatial sizes after 0..stages stride-2 stages (k=4, p=1): each halves, rounding down."""
    sizes = [size]
    for _ in range(stages):
        h, w = sizes[-1]
        if h < 2 or w < 2:
            raise ConfigError(
                f"{stages} convolutional stages are too many for {size[0]}x{size[1]} images; use fewer hidden_dims"
            )
        sizes.append((h // 2, w // 2))
    return sizes


class Encoder(nn.Module):
    """``(B, *data_shape) [+ condition (B, c)] -> (B, out_dim)``.

    Args:
        data_shape: ``(d,)`` or ``(C, H, W)``.
        architecture: ``"mlp"`` (widths ``hidden``) or ``"conv"`` (channels ``hidden``, images only).
        hidden: hidden widths or channels.
        out_dim: output features (the code, or 2x for a Gaussian posterior).
        act: activation name.
        cond_dim: size of the optional condition.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        architecture: str,
        hidden: Sequence[int],
        out_dim: int,
        act: str = "relu",
        cond_dim: int = 0,
    ) -> None:
        super().__init__()
        self.cond_dim = cond_dim
        blocks: list[nn.Module] = []
        if architecture == "mlp":
            d = math.prod(data_shape) + cond_dim
            for h in hidden:
                blocks.append(nn.Sequential(nn.Linear(d, h), activation(act)))
                d = h
            self.fc_start = 0
        elif architecture == "conv":
            if len(data_shape) != 3:
                raise ConfigError(f"the conv architecture needs image data (C, H, W), got shape {tuple(data_shape)}")
            c, h, w = data_shape
            sizes = conv_sizes((h, w), len(hidden))
            for ch in hidden:
                blocks.append(nn.Sequential(nn.Conv2d(c, ch, 4, 2, 1), activation(act)))
                c = ch
            blocks.append(nn.Flatten())
            d = c * sizes[-1][0] * sizes[-1][1] + cond_dim
            self.fc_start = len(blocks)
        else:
            raise ConfigError(f"unknown architecture {architecture!r}; choose 'mlp' or 'conv'")
        blocks.append(nn.Linear(d, out_dim))
        self.blocks = nn.ModuleList(blocks)
        self.flat_input = architecture == "mlp"

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = x.reshape(x.shape[0], -1) if self.flat_input else x
        for i, block in enumerate(self.blocks):
            if i == self.fc_start and self.cond_dim:
                h = torch.cat([h, cond], 1)
            h = block(h)
        return h


class Decoder(nn.Module):
    """``(B, in_dim) [+ condition (B, c)] -> (B, *data_shape)`` raw outputs (logits or means).

    The MLP decoder mirrors ``hidden`` (reversed); the conv decoder maps the code to the encoder's last
    feature map and mirrors its channels with transposed convolutions back to the exact image size.
    """

    def __init__(
        self,
        in_dim: int,
        architecture: str,
        hidden: Sequence[int],
        data_shape: Sequence[int],
        act: str = "relu",
        cond_dim: int = 0,
    ) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)
        self.cond_dim = cond_dim
        blocks: list[nn.Module] = []
        d = in_dim + cond_dim
        if architecture == "mlp":
            for h in reversed(hidden):
                blocks.append(nn.Sequential(nn.Linear(d, h), activation(act)))
                d = h
            blocks.append(nn.Linear(d, math.prod(data_shape)))
        elif architecture == "conv":
            if len(data_shape) != 3:
                raise ConfigError(f"the conv architecture needs image data (C, H, W), got shape {tuple(data_shape)}")
            c_out, h, w = data_shape
            sizes = conv_sizes((h, w), len(hidden))
            chans = list(reversed(hidden))
            sh, sw = sizes[-1]
            blocks.append(
                nn.Sequential(nn.Linear(d, chans[0] * sh * sw), activation(act), nn.Unflatten(1, (chans[0], sh, sw)))
            )
            targets = list(reversed(sizes[:-1]))  # the sizes to grow back to, smallest first
            for i, (th, tw) in enumerate(targets):
                ih, iw = (sh, sw) if i == 0 else targets[i - 1]
                pad = (th - 2 * ih, tw - 2 * iw)
                nxt = chans[i + 1] if i + 1 < len(chans) else c_out
                layer = nn.ConvTranspose2d(chans[i], nxt, 4, 2, 1, output_padding=pad)
                blocks.append(nn.Sequential(layer, activation(act)) if i + 1 < len(chans) else layer)
        else:
            raise ConfigError(f"unknown architecture {architecture!r}; choose 'mlp' or 'conv'")
        self.blocks = nn.ModuleList(blocks)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = torch.cat([z, cond], 1) if self.cond_dim else z
        for block in self.blocks:
            h = block(h)
        return h.reshape(z.shape[0], *self.data_shape)
