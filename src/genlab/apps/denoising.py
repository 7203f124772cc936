r"""Denoising with a denoising autoencoder, and the PSNR to measure it.

A denoising autoencoder (Vincent et al. 2008) is trained on clean samples :math:`x` to undo a corruption
:math:`\tilde x \sim C(\tilde x \mid x)`:

.. math:: \min_{f, g}\; E_{x}\, E_{\tilde x \sim C(\cdot|x)}\, \ell\big(x, g(f(\tilde x))\big),

with :math:`C` additive Gaussian noise :math:`\tilde x = x + \sigma\epsilon` (``corruption="gaussian"``,
``corruption_level`` :math:`= \sigma`), salt-and-pepper (a fraction of the values set to 0 or 1) or masking
(a fraction set to 0). :meth:`Denoiser.transform` then maps noisy samples to :math:`g(f(\tilde x))`.
For a squared error loss the optimum is the posterior mean :math:`E[x \mid \tilde x]`.

Units: images (``(N, C, H, W)``) are used as they are, so ``corruption_level`` is in data units (e.g. pixel
intensities in [0, 1]). Tabular data ``(N, d)`` are standardized first (``standardize="auto"``), so there
``corruption_level`` is in units of each feature's standard deviation; pass ``standardize=False`` to keep data units.

Quality is measured by the peak signal-to-noise ratio (:func:`psnr`).

References:
    Vincent, P., Larochelle, H., Bengio, Y. & Manzagol, P.-A. (2008). Extracting and Composing Robust
    Features with Denoising Autoencoders. ICML.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch

from ..errors import ConfigError
from ..metrics.image import psnr
from ._base import AutoencoderApp

CORRUPTIONS = ("gaussian", "salt_and_pepper", "mask")


class Denoiser(AutoencoderApp):
    """A denoising autoencoder fitted on clean data: ``transform(noisy)`` returns the cleaned samples.

    Args:
        model: an autoencoder with an input corruption in its config (``"ae"``, ``"denoising_ae"``,
            ``"sparse_ae"``).
        corruption: the training corruption: ``"gaussian"``, ``"salt_and_pepper"`` or ``"mask"``; match it to
            the noise you expect.
        corruption_level: noise standard deviation (gaussian) or the fraction of corrupted values (the others).
        clip: clamp the cleaned samples into the value range of the training data (e.g. [0, 1] images).
        **kwargs: the settings of :class:`~genlab.apps._base.AutoencoderApp`.

    Attributes:
        value_range: ``(low, high)`` of the training data (in data units).
    """

    _reserved = ("corruption", "corruption_level")

    def __init__(
        self,
        model: str = "ae",
        *,
        corruption: Literal["gaussian", "salt_and_pepper", "mask"] = "gaussian",
        corruption_level: float = 0.2,
        clip: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(model, **kwargs)
        if corruption not in CORRUPTIONS:
            raise ConfigError(f"corruption must be one of {', '.join(CORRUPTIONS)}, got {corruption!r}")
        level = corruption_level
        if isinstance(level, bool) or not isinstance(level, int | float) or not math.isfinite(level) or level < 0:
            raise ConfigError(f"corruption_level must be a finite number >= 0, got {level!r}")
        if corruption != "gaussian" and level > 1:
            raise ConfigError(f"corruption_level is a fraction for {corruption}: it must be <= 1, got {level!r}")
        if not isinstance(clip, bool):
            raise ConfigError(f"clip must be True or False, got {clip!r}")
        if corruption == "salt_and_pepper" and self.standardize is True:
            raise ConfigError("salt-and-pepper writes 0 and 1, which needs data in [0, 1]: use standardize=False")
        self.corruption = corruption
        self.corruption_level = float(level)
        self.clip = clip
        self.value_range: tuple[float, float] | None = None

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "corruption": self.corruption,
            "corruption_level": self.corruption_level,
            "clip": self.clip,
        }

    def _app_config(self) -> dict[str, Any]:
        return {"corruption": self.corruption, "corruption_level": self.corruption_level}

    def _use_standardizer(self, x: torch.Tensor, model: Any) -> bool:
        if self.corruption == "salt_and_pepper" and self.standardize == "auto":
            return False  # salt and pepper are the values 0 and 1: keep data units
        return super()._use_standardizer(x, model)

    def fit(self, x: Any, val_data: Any = None) -> Denoiser:
        """Train on clean samples ``x`` ``(N, *sample_shape)``, corrupted afresh at every step."""
        t = self._samples(x, "training data")
        super().fit(t, val_data)
        self.value_range = (float(t.min()), float(t.max()))
        return self

    def transform(self, x: Any) -> torch.Tensor:
        """Cleaned samples, shaped like ``x`` (float32, data units)."""
        out = self.reconstruct(x)
        if self.clip and self.value_range is not None:
            out = out.clamp(*self.value_range)
        return out

    def state(self) -> dict[str, Any]:
        return {"value_range": list(self.value_range) if self.value_range is not None else None}

    def set_state(self, state: dict[str, Any]) -> None:
        vr = state.get("value_range")
        self.value_range = (float(vr[0]), float(vr[1])) if vr is not None else None


__all__ = ["CORRUPTIONS", "Denoiser", "psnr"]
