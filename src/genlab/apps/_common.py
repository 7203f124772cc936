"""Small helpers of the applications: plain Python values for configs, per-feature standardization, quantiles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._device import to_numpy
from ..errors import ConfigError, DataError


def plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into Python numbers and tuples (configs and JSON take those)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | list | tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


@dataclass
class Standardizer:
    r"""Per-feature standardization :math:`z = (x - \mu) / \sigma`, or the identity.

    :math:`\mu` and :math:`\sigma` are the mean and standard deviation of each entry of a sample over the
    training samples, ignoring NaN; an entry with (near) zero spread keeps :math:`\sigma = 1`, as in
    scikit-learn's ``StandardScaler``.

    Attributes:
        mean: ``(*sample_shape)`` means, or ``None`` for the identity.
        scale: ``(*sample_shape)`` standard deviations, or ``None``.
    """

    mean: torch.Tensor | None = None
    scale: torch.Tensor | None = None

    @classmethod
    def fit(cls, x: torch.Tensor) -> Standardizer:
        """Fit to samples ``x`` ``(N, *sample_shape)``; NaN entries are ignored.

        Raises:
            DataError: an entry is NaN in every sample (its mean is undefined).
        """
        observed = ~torch.isnan(x)
        count = observed.sum(0)
        if bool((count == 0).any()):
            where = tuple(int(i) for i in torch.nonzero(count == 0)[0])
            raise DataError(
                f"entry {where} of the samples is missing (NaN) in every training sample; drop it or fill it first"
            )
        x64 = torch.where(observed, x, 0.0).double()
        mean = x64.sum(0) / count
        var = torch.where(observed, x64 - mean, 0.0).square().sum(0) / count
        std = var.sqrt()
        tiny = 10 * torch.finfo(torch.float32).eps * mean.abs().clamp_min(1.0)
        return cls(mean.float(), torch.where(std > tiny, std, 1.0).float())

    @property
    def enabled(self) -> bool:
        return self.mean is not None

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.mean is None else (x - self.mean) / self.scale

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z if self.mean is None else z * self.scale + self.mean

    def to_dict(self) -> dict[str, Any] | None:
        if self.mean is None:
            return None
        return {"mean": tensor_to_json(self.mean), "scale": tensor_to_json(self.scale)}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Standardizer:
        if d is None:
            return cls()
        return cls(tensor_from_json(d["mean"]), tensor_from_json(d["scale"]))


def tensor_to_json(t: torch.Tensor) -> dict[str, Any]:
    """A float tensor as JSON-ready ``{"shape", "dtype", "values"}``; the values come back exactly."""
    dtype = "float64" if t.dtype == torch.float64 else "float32"
    return {"shape": list(t.shape), "dtype": dtype, "values": t.detach().flatten().tolist()}


def tensor_from_json(d: dict[str, Any]) -> torch.Tensor:
    """The tensor :func:`tensor_to_json` wrote."""
    dtype = torch.float64 if d.get("dtype") == "float64" else torch.float32
    return torch.tensor(d["values"], dtype=dtype).reshape(tuple(d["shape"]))


def same_shape(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``v``, after checking that its samples have the shape of the samples of ``x``."""
    if v.shape[1:] != x.shape[1:]:
        raise DataError(
            f"the validation samples have shape {tuple(v.shape[1:])} but the training samples {tuple(x.shape[1:])}"
        )
    return v


def quantile(values: torch.Tensor, q: float) -> float:
    """The ``q``-quantile of ``values`` (linear interpolation, float64), as a Python float."""
    if not 0.0 <= q <= 1.0 or math.isnan(q):
        raise ConfigError(f"a quantile must lie in [0, 1], got {q!r}")
    return float(np.quantile(to_numpy(values.double()), q))


__all__ = ["Standardizer", "plain", "quantile", "same_shape", "tensor_from_json", "tensor_to_json"]
