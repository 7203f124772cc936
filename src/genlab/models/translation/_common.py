"""What every image-to-image model shares: the data checks, ``translate`` / ``restore``, sampling for given
inputs, the validation metrics and the input | output | target picture of a run."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ..._device import seed_from, seeded_global_rng
from ...data.dataset import DatasetInfo, check_samples
from ...errors import ConfigError, DataError
from ...losses.adversarial import discriminator_loss, generator_loss
from ...nn.translation import PatchGAN
from ..base import Batch, GenerativeModel, eval_mode, evaluating

#: the directions of :meth:`ImageTranslator.translate`
DIRECTIONS = ("AB", "BA")


def auto_patch_layers(size: tuple[int, int], layers: int) -> int:
    """PatchGAN depth: ``layers`` if set, else 3 (the 70 x 70 PatchGAN) for images of at least 64 pixels a
    side, 2 (34 x 34) below, and 1 when the images are too small for 2 (the grid must keep a cell)."""
    if layers:
        return layers
    side = min(size)
    n = 3 if side >= 64 else 2
    while n > 1 and PatchGAN.grid_size(side, n) < 1:
        n -= 1
    return n


def check_patch_layers(size: tuple[int, int], layers: int, who: str) -> None:
    """A :class:`ConfigError` if a PatchGAN of ``layers`` has no output cell left on images of ``size``."""
    side = min(size)
    if layers and PatchGAN.grid_size(side, layers) < 1:
        raise ConfigError(
            f"{who}: a PatchGAN with d_layers={layers} has no output left on {side}-pixel images; "
            f"use fewer layers (or 0 for the default)"
        )


class ImageTranslator(GenerativeModel):
    """Base of the image-to-image models (``pix2pix``, ``srnet``, ``cyclegan``).

    They map inputs (the data's ``source``, shape ``config.source_shape``) to outputs shaped like the targets
    (``config.data_shape``), images in [0, 1]. They are not unconditional generators: :meth:`sample` draws
    outputs for given inputs, ``sample(n, x=inputs)``.
    """

    generative = False
    #: image-to-image: ``translate`` exists, the run pictures inputs | outputs | targets
    translator: ClassVar[bool] = True
    #: the outputs vary with the random source at sampling time (pix2pix's dropout)
    stochastic: ClassVar[bool] = False
    #: "paired" models need input i to belong to target i; "any" also trains on unpaired domains
    pairing: ClassVar[str] = "paired"
    output_range: ClassVar[tuple[float, float] | None] = (0.0, 1.0)
    plot_keys: ClassVar[tuple[str, ...]] = ("loss",)

    @property
    def source_shape(self) -> tuple[int, ...]:
        return tuple(self.config.source_shape)

    # --- data ---------------------------------------------------------------------------------------
    def check_data(self, info: DatasetInfo) -> None:
        name = self.registry_name or type(self).__name__
        if info.source_shape is None:
            raise DataError(
                f"{name} learns from (input, target) images but {info.name!r} has no inputs; load paired data, "
                "e.g. --data mnist --data-opt corruption=downsample:4 (or inputs=FOLDER for two folders)"
            )
        if self.pairing == "paired" and info.pairing == "unpaired":
            raise DataError(
                f"{name} needs pairs (input i belongs to target i) but {info.name!r} holds two unpaired domains; "
                "train cyclegan on unpaired data"
            )
        super().check_data(info)
        if tuple(info.sample_shape) != self.data_shape:
            raise DataError(
                f"{name} makes outputs of shape {self.data_shape} but the targets of {info.name!r} have shape "
                f"{tuple(info.sample_shape)}; build it with data_shape={tuple(info.sample_shape)}"
            )
        if tuple(info.source_shape) != self.source_shape:
            raise DataError(
                f"{name} takes inputs of shape {self.source_shape} but the inputs of {info.name!r} have shape "
                f"{tuple(info.source_shape)}; build it with source_shape={tuple(info.source_shape)}"
            )
        lo, hi = info.value_range
        if lo < 0.0 or hi > 1.0:
            raise DataError(f"{name} needs images in [0, 1] but {info.name!r} spans [{lo:g}, {hi:g}]; use scale='unit'")

    def _inputs(self, x: Any, shape: tuple[int, ...] | None = None, what: str = "inputs") -> torch.Tensor:
        """``x`` as float32 images of ``shape`` (default the source shape); a :class:`DataError` naming the fix."""
        shape = self.source_shape if shape is None else shape
        t = check_samples(x, what=what, min_ndim=3, max_ndim=4)
        if t.ndim == 3 and len(shape) == 3 and shape[0] == 1:  # (N, H, W) grey images
            t = t.unsqueeze(1)
        if tuple(t.shape[1:]) != tuple(shape):
            raise DataError(
                f"the {self.registry_name or type(self).__name__} takes {what} of shape {tuple(shape)} (C, H, W), "
                f"got {tuple(t.shape[1:])}; resize them to {tuple(shape[1:])} with {shape[0]} channel(s)"
            )
        return t.to(self.device)  # user data on any device: the outputs are on the model's

    def _hole_of(self, hole: Any, n: int) -> torch.Tensor:
        h = torch.as_tensor(hole, device=self.device)
        if h.ndim == 3:
            h = h.unsqueeze(1)
        try:
            h = torch.broadcast_to(h.to(torch.bool), (n, *self.data_shape))
        except RuntimeError as exc:
            raise DataError(
                f"hole of shape {tuple(torch.as_tensor(hole).shape)} does not fit {n} images of shape "
                f"{self.data_shape}; pass a bool mask shaped like the images, True where pixels are missing"
            ) from exc
        return h

    # --- the map ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def forward_map(self, x: torch.Tensor, direction: str = "AB", hole: torch.Tensor | None = None) -> torch.Tensor:
        """The differentiable map from inputs to outputs in the caller's mode (the training step uses it;
        :meth:`translate` is its evaluation-mode form)."""

    def _directions(self) -> tuple[str, ...]:
        return ("AB",)

    @evaluating
    def translate(
        self,
        x: Any,
        direction: str = "AB",
        *,
        hole: Any = None,
        batch_size: int = 256,
    ) -> torch.Tensor:
        """The outputs for inputs ``x`` ``(N, C, H, W)`` in [0, 1] (eval mode: no dropout, deterministic).

        Args:
            x: inputs of the model's ``source_shape`` (for ``direction="BA"`` of a CycleGAN, domain B images).
            direction: ``"AB"`` (inputs to targets) or, for two-way models, ``"BA"``.
            hole: for inpainting models, the bool mask of missing pixels (True = missing); needed when the
                model takes the mask as an input; known pixels are pasted back.
            batch_size: images per forward pass.
        """
        if direction not in self._directions():
            raise ConfigError(
                f"{self.registry_name} translates in direction {' or '.join(map(repr, self._directions()))}, "
                f"got {direction!r}"
            )
        shape = self.source_shape if direction == "AB" else self.data_shape
        t = self._inputs(x, shape)
        h = self._hole_of(hole, len(t)) if hole is not None else None
        outs = []
        for start in range(0, len(t), batch_size):
            hb = h[start : start + batch_size] if h is not None else None
            outs.append(self.forward_map(t[start : start + batch_size], direction, hb).clamp(0.0, 1.0))
        return torch.cat(outs) if outs else torch.empty((0, *self.data_shape), device=self.device)

    def restore(self, x: Any, *, hole: Any = None, batch_size: int = 256) -> torch.Tensor:
        """:meth:`translate` under the name restoration tasks use (super-resolve, inpaint, denoise)."""
        return self.translate(x, hole=hole, batch_size=batch_size)

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, *, x: Any = None, hole: Any = None
    ) -> torch.Tensor:
        """``n`` outputs for each input of ``x``: ``(n, B, *data_shape)``. A stochastic model (pix2pix with
        dropout) keeps its dropout on, as pix2pix does at test time, so the draws differ; a deterministic
        one repeats its output."""
        if x is None:
            raise ConfigError(
                f"a {self.registry_name} maps inputs to outputs: pass x=(B, *{self.source_shape}) to sample"
            )
        t = self._inputs(x)
        h = self._hole_of(hole, len(t)) if hole is not None else None
        gen = self.rng(generator)
        draws = []
        # eval mode but for the dropout layers, which stay on (pix2pix's noise); every mode back afterwards
        # dropout draws from torch's global RNG (of the CPU or the model's device): seeded here, restored after
        with eval_mode(self), seeded_global_rng(seed_from(gen), self.device):
            for m in self.modules():
                if isinstance(m, nn.Dropout):
                    m.train()
            for _ in range(n):
                draws.append(self.forward_map(t, "AB", h).clamp(0.0, 1.0))
        return torch.stack(draws)

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        g = self.rng(generator)
        x = self.rand((n, *self.data_shape), generator=g)
        src = self.rand((n, *self.source_shape), generator=g)
        return Batch(x, None, src, None)

    # --- shared training pieces ---------------------------------------------------------------------
    @staticmethod
    def adversarial_d(
        loss: str, d: nn.Module, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Half the discriminator loss of ``d`` on every patch of ``real`` and ``fake`` (pix2pix halves it, to
        slow D down relative to G), and the mean patch probability (or score, for least squares) on each."""
        s_r, s_f = d(real), d(fake.detach())
        d_loss = 0.5 * discriminator_loss(loss, s_r.flatten(), s_f.flatten())
        with torch.no_grad():
            squash = torch.sigmoid if loss in ("minimax", "non_saturating") else torch.clone
            return d_loss, squash(s_r).mean(), squash(s_f).mean()

    @staticmethod
    def adversarial_g(loss: str, d: nn.Module, fake: torch.Tensor) -> torch.Tensor:
        """The generator's adversarial loss on every patch of ``fake`` under ``d`` (whose weights get no grads)."""
        d.requires_grad_(False)
        try:
            return generator_loss(loss, d(fake).flatten())
        finally:
            d.requires_grad_(True)

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        if batch.source is None or self.pairing != "paired":
            return {}
        out = self.forward_map(batch.source, "AB", batch.hole).clamp(0.0, 1.0)
        mse = (out - batch.x).square().flatten(1).mean(1).clamp_min(1e-10)
        return {"l1": float((out - batch.x).abs().mean()), "psnr": float((-10.0 * torch.log10(mse)).mean())}

    # --- pictures -----------------------------------------------------------------------------------
    def translation_rows(
        self, source: torch.Tensor, target: torch.Tensor | None, hole: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Rows of pictures for a run: inputs (upsampled to the output size when smaller), outputs and, when
        paired, targets, ``(rows * B, C, H, W)``; a two-way model adds B -> A below."""
        out = self.translate(source, hole=hole)
        rows = [self.display(source), out]
        if target is not None and self.pairing == "paired":
            rows.append(target)
        return torch.cat(rows)

    def display(self, images: torch.Tensor) -> torch.Tensor:
        """Inputs drawn at the output's size and channels (nearest-neighbour upsampling, grey to colour)."""
        c, h, w = self.data_shape
        if tuple(images.shape[2:]) != (h, w):
            images = F.interpolate(images, size=(h, w), mode="nearest")
        if images.shape[1] != c:
            images = images[:, :1].expand(-1, c, -1, -1) if c > 1 else images.mean(1, keepdim=True)
        return images
