"""Latent-space tools for autoencoders: interpolation, traversal of one code dimension, 2D projection.

They work with every model that has ``encode`` and ``decode`` (``ae``, ``sparse_ae``, ``denoising_ae``,
``stacked_ae``, ``vae``; for ``cvae`` pass ``y``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from ..._device import to_numpy
from ...errors import ConfigError, DataError


def _code_scale(model: Any, latent: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre and spread of the codes: the prior N(0, I) for a VAE, the fitted code Gaussian for an AE."""
    if hasattr(model, "code_mean"):
        return model.code_mean, model.code_std
    return torch.zeros(latent, device=model.device), torch.ones(latent, device=model.device)


def _cond_kwargs(model: Any, y: torch.Tensor | None) -> dict[str, Any]:
    return {"y": y} if getattr(model.config, "n_classes", 0) else {}


@torch.no_grad()
def interpolate(
    model: Any,
    x1: torch.Tensor,
    x2: torch.Tensor,
    steps: int = 8,
    spherical: bool = False,
    y: torch.Tensor | None = None,
) -> torch.Tensor:
    """Decode ``steps`` codes on the path between the codes of two inputs: ``(steps, *data_shape)``.

    Args:
        model: an autoencoder.
        x1, x2: two single inputs, shaped like one sample (or with a leading batch dimension of 1).
        steps: points on the path, the end points included.
        spherical: interpolate along the great circle (slerp), which keeps Gaussian codes at a typical norm.
        y: for a conditional VAE, the label to decode with.
    """
    if steps < 2:
        raise ConfigError(f"interpolation needs steps >= 2, got {steps}")
    kw = _cond_kwargs(model, None if y is None else torch.as_tensor(y, device=model.device).reshape(1))
    z1 = model.encode(x1.reshape(1, *model.data_shape), **kw)[0]
    z2 = model.encode(x2.reshape(1, *model.data_shape), **kw)[0]
    t = torch.linspace(0, 1, steps, device=z1.device).unsqueeze(1)
    if spherical:
        cos = torch.dot(z1, z2) / (z1.norm() * z2.norm()).clamp_min(1e-12)
        omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
        z = (torch.sin((1 - t) * omega) * z1 + torch.sin(t * omega) * z2) / torch.sin(omega)
    else:
        z = (1 - t) * z1 + t * z2
    kw = _cond_kwargs(model, None if y is None else torch.as_tensor(y, device=model.device).reshape(1).expand(steps))
    return model.decode(z, **kw).reshape(steps, *model.data_shape)


@torch.no_grad()
def traverse(
    model: Any,
    x: torch.Tensor,
    dim: int,
    values: torch.Tensor | None = None,
    y: torch.Tensor | None = None,
) -> torch.Tensor:
    """Decode the code of ``x`` with dimension ``dim`` swept over ``values``: ``(len(values), *data_shape)``.

    By default the sweep covers the centre +- 3 spreads of that dimension (the prior N(0, 1) for a VAE, the
    Gaussian fitted to the training codes for an AE) in 9 steps.
    """
    kw1 = _cond_kwargs(model, None if y is None else torch.as_tensor(y, device=model.device).reshape(1))
    z = model.encode(x.reshape(1, *model.data_shape), **kw1)[0]
    if not 0 <= dim < z.numel():
        raise ConfigError(f"dim must be in 0..{z.numel() - 1}, got {dim}")
    if values is None:
        centre, spread = _code_scale(model, z.numel())
        values = centre[dim] + spread[dim] * torch.linspace(-3, 3, 9, device=z.device)
    values = torch.as_tensor(values, device=z.device)
    zs = z.repeat(len(values), 1)
    zs[:, dim] = values
    kw = _cond_kwargs(
        model, None if y is None else torch.as_tensor(y, device=model.device).reshape(1).expand(len(values))
    )
    return model.decode(zs, **kw).reshape(len(values), *model.data_shape)


@torch.no_grad()
def encode_all(model: Any, x: torch.Tensor, batch_size: int = 1024, y: torch.Tensor | None = None) -> torch.Tensor:
    """Codes of all of ``x`` in batches, ``(N, latent_dim)``."""
    out = []
    for i in range(0, len(x), batch_size):
        kw = _cond_kwargs(model, None if y is None else y[i : i + batch_size])
        out.append(model.encode(x[i : i + batch_size], **kw))
    return torch.cat(out)


def project_2d(
    model: Any,
    x: torch.Tensor,
    method: Literal["pca", "tsne"] = "pca",
    seed: int = 0,
    y: torch.Tensor | None = None,
) -> np.ndarray:
    """A 2D picture of the codes of ``x``: the codes themselves if the latent space is 2D, else PCA or t-SNE.

    Returns:
        ``(N, 2)`` float array.
    """
    if len(x) < 3:
        raise DataError("a 2D projection needs at least 3 samples")
    codes = to_numpy(encode_all(model, x, y=y)).astype(np.float64)
    if codes.shape[1] == 2:
        return codes
    if codes.shape[1] == 1:
        return np.concatenate([codes, np.zeros_like(codes)], 1)
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(codes)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(codes) - 1) / 3)
        return TSNE(n_components=2, random_state=seed, perplexity=perplexity, init="pca").fit_transform(codes)
    raise ConfigError(f"method must be 'pca' or 'tsne', got {method!r}")
