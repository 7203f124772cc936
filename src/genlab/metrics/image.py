r"""Image restoration metrics: PSNR, SSIM and the error on a masked region (pure functions).

For a reference image :math:`x` and an estimate :math:`\hat x` (a restored, translated or inpainted image) with
values in a range of width :math:`R` (``data_range``: 1 for images in [0, 1]):

- :func:`psnr`: :math:`10 \log_{10}(R^2 / \mathrm{MSE})` in decibels;
- :func:`ssim`: the structural similarity of Wang et al. (2004), local means, variances and covariance in a
  sliding window,

  .. math:: \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
      {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}, \qquad C_1 = (0.01R)^2,\ C_2 = (0.03R)^2,

  averaged over the positions where the window lies inside the image and over channels. ``window="gaussian"``
  is the paper's (an 11 x 11 Gaussian of sigma 1.5, population statistics), ``window="uniform"`` a 7 x 7 box
  with sample (n - 1) statistics; they equal scikit-image's ``structural_similarity`` with
  ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False`` and with its defaults respectively;
- :func:`masked_error`: L1, MSE and PSNR over the masked values only (the hole of an inpainting task).

All take ``(N, ...)`` batches (images ``(N, C, H, W)`` or ``(N, H, W)`` for SSIM) and compute in float64.

References:
    Wang, Z., Bovik, A. C., Sheikh, H. R. & Simoncelli, E. P. (2004). Image Quality Assessment: From Error
    Visibility to Structural Similarity. IEEE Transactions on Image Processing 13(4).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F

from ..data.dataset import check_samples
from ..errors import DataError


def psnr(clean: Any, estimate: Any, data_range: float = 1.0, per_sample: bool = False) -> float | torch.Tensor:
    r"""Peak signal-to-noise ratio in decibels,

    .. math:: \mathrm{PSNR} = 10 \log_{10} \frac{R^2}{\mathrm{MSE}}, \qquad
        \mathrm{MSE} = \frac{1}{n} \sum_i (x_i - \hat x_i)^2,

    with :math:`R` the data range (1 for images in [0, 1], 255 for bytes). Identical inputs give ``inf``.

    Args:
        clean: the reference samples, any shape.
        estimate: the estimate, same shape.
        data_range: :math:`R`, the peak-to-peak range of the data (> 0).
        per_sample: return one PSNR per sample ``(N,)`` (MSE over each sample) instead of one over all values.

    Raises:
        DataError: shapes differ, non-finite values, or ``data_range <= 0``.
    """
    x, y = _pair(clean, estimate, data_range, min_ndim=1)
    err = (x - y).square()
    if per_sample:
        return _decibels(err.reshape(err.shape[0], -1).mean(1), data_range)
    mse = float(err.mean())
    return math.inf if mse == 0.0 else 10.0 * math.log10(data_range**2 / mse)


def ssim(
    clean: Any,
    estimate: Any,
    data_range: float = 1.0,
    window: Literal["gaussian", "uniform"] = "gaussian",
    win_size: int | None = None,
    per_sample: bool = False,
) -> float | torch.Tensor:
    """Structural similarity (module docstring) of image batches, in [-1, 1] (1: identical).

    Args:
        clean: the reference images, ``(N, C, H, W)`` or ``(N, H, W)``.
        estimate: the estimates, same shape.
        data_range: the peak-to-peak range of the data (> 0).
        window: ``"gaussian"`` (sigma 1.5, 11 x 11, population statistics; Wang et al.) or ``"uniform"`` (a box,
            7 x 7 by default, sample statistics).
        win_size: the window's side for ``"uniform"`` (odd, >= 3); the Gaussian window is always 11.
        per_sample: return one SSIM per image ``(N,)`` instead of their mean.

    Raises:
        DataError: shapes differ, fewer than 3 dimensions, images smaller than the window, or bad settings.
    """
    x, y = _pair(clean, estimate, data_range, min_ndim=3)
    if x.ndim == 3:
        x, y = x.unsqueeze(1), y.unsqueeze(1)
    if x.ndim != 4:
        raise DataError(f"ssim needs images (N, C, H, W) or (N, H, W), got shape {tuple(x.shape)}")
    kernel, sample_cov = _window(window, win_size)
    side = kernel.numel()
    if min(x.shape[-2:]) < side:
        raise DataError(
            f"ssim's {window} window is {side} x {side} but the images are {x.shape[-2]} x {x.shape[-1]}; "
            f"use window='uniform' with a smaller odd win_size (>= 3)"
        )
    n, c = x.shape[:2]

    def blur(t: torch.Tensor) -> torch.Tensor:  # separable filter over the valid positions only
        t = t.reshape(n * c, 1, *t.shape[-2:])
        t = F.conv2d(t, kernel.view(1, 1, 1, side))
        return F.conv2d(t, kernel.view(1, 1, side, 1))

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    if sample_cov:
        scale = side * side / (side * side - 1)
        vx, vy, cxy = vx * scale, vy * scale, cxy * scale
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    per_image = s.reshape(n, c, -1).mean(2).mean(1)
    return per_image if per_sample else float(per_image.mean())


def masked_error(clean: Any, estimate: Any, mask: Any, data_range: float = 1.0) -> dict[str, float]:
    """L1, MSE and PSNR over the values where ``mask`` is True (the hole), per sample, then averaged.

    Args:
        clean: the reference samples ``(N, ...)``.
        estimate: the estimates, same shape.
        mask: a bool (or 0/1) tensor broadcastable to that shape, True on the values to score; every sample must
            have at least one.
        data_range: the peak-to-peak range of the data, for the PSNR.

    Returns:
        ``{"l1", "mse", "psnr"}``: means over samples of each sample's hole error (PSNR from each sample's MSE;
        a perfect hole counts as 100 dB).
    """
    x, y = _pair(clean, estimate, data_range, min_ndim=1)
    m = torch.as_tensor(mask)
    try:
        m = torch.broadcast_to(m.to(torch.bool) if m.dtype != torch.bool else m, x.shape)
    except RuntimeError as exc:
        raise DataError(f"mask of shape {tuple(m.shape)} does not fit data of shape {tuple(x.shape)}") from exc
    m = m.reshape(x.shape[0], -1).double()
    count = m.sum(1)
    if bool((count == 0).any()):
        raise DataError("masked_error: some samples have no masked value; every sample needs a hole to score")
    diff = (x - y).reshape(x.shape[0], -1)
    l1 = (diff.abs() * m).sum(1) / count
    mse = (diff.square() * m).sum(1) / count
    psnr_i = _decibels(mse, data_range).clamp(max=100.0)
    return {"l1": float(l1.mean()), "mse": float(mse.mean()), "psnr": float(psnr_i.mean())}


def _decibels(mse: torch.Tensor, data_range: float) -> torch.Tensor:
    """``10 log10(R^2 / MSE)`` per entry (``inf`` where the MSE is 0)."""
    return 10.0 * torch.log10(data_range**2 / mse)


def _pair(clean: Any, estimate: Any, data_range: float, min_ndim: int) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(data_range, bool) or not isinstance(data_range, int | float) or not data_range > 0:
        raise DataError(f"data_range must be a positive number, got {data_range!r}")
    x = check_samples(clean, what="clean data", min_ndim=min_ndim, dtype=torch.float64)
    y = check_samples(estimate, what="estimate", min_ndim=min_ndim, dtype=torch.float64)
    if x.shape != y.shape:
        raise DataError(f"clean data has shape {tuple(x.shape)} but the estimate {tuple(y.shape)}; they must match")
    return x, y


def _window(window: str, win_size: int | None) -> tuple[torch.Tensor, bool]:
    if window == "gaussian":
        if win_size not in (None, 11):
            raise DataError("ssim's Gaussian window is 11 x 11 (sigma 1.5); win_size applies to window='uniform'")
        r = torch.arange(-5, 6, dtype=torch.float64)
        k = torch.exp(-0.5 * (r / 1.5) ** 2)
        return k / k.sum(), False
    if window == "uniform":
        side = 7 if win_size is None else win_size
        if isinstance(side, bool) or not isinstance(side, int) or side < 3 or side % 2 == 0:
            raise DataError(f"win_size must be an odd integer >= 3, got {win_size!r}")
        return torch.full((side,), 1.0 / side, dtype=torch.float64), True
    raise DataError(f"window must be 'gaussian' or 'uniform', got {window!r}")


__all__ = ["masked_error", "psnr", "ssim"]
