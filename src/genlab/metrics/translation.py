"""All the scores of an image-to-image model's outputs in one call: what ``genlab evaluate`` reports for
``pix2pix`` / ``inpaint`` / ``srnet`` / ``cyclegan`` runs and what the image-to-image benchmarks measure."""

from __future__ import annotations

from typing import Any

import torch

from ..errors import ConfigError
from .features import Features, extract_features, feature_extractor
from .fid import fid
from .image import masked_error, psnr, ssim
from .kid import kid
from .quality import class_preservation


def translation_scores(
    outputs: Any,
    *,
    targets: Any = None,
    labels: Any = None,
    hole: Any = None,
    reference: Any = None,
    extractor: Any = "auto",
    seed: int = 0,
) -> dict[str, float]:
    """Scores of ``outputs`` (images ``(N, C, H, W)`` in [0, 1]).

    Args:
        outputs: the model's outputs.
        targets: the true targets, row by row (paired data): PSNR, SSIM (Gaussian window), L1 and MSE.
        labels: the classes of the inputs ``(N,)``: the class preservation under the feature network.
        hole: the bool mask of the hidden pixels (inpainting): ``hole_l1``, ``hole_mse``, ``hole_psnr``.
        reference: real images of the target domain (e.g. the test split), or their :class:`Features`:
            FID and KID of the outputs against them.
        extractor: the feature network (``"auto"``: the shipped one for the image size; without one the
            feature scores are left out).
        seed: KID's subset draws.

    Returns:
        A flat dict of the scores that apply (``psnr``, ``ssim``, ``l1``, ``mse``, ``hole_*``,
        ``class_preservation``, ``fid``, ``kid``).
    """
    out_t = torch.as_tensor(outputs, dtype=torch.float32)
    scores: dict[str, float] = {}
    if targets is not None:
        tgt = torch.as_tensor(targets, dtype=torch.float32)
        scores["psnr"] = float(psnr(tgt, out_t))
        scores["ssim"] = float(ssim(tgt, out_t)) if min(out_t.shape[-2:]) >= 11 else float("nan")
        scores["l1"] = float((tgt - out_t).abs().mean())
        scores["mse"] = float((tgt - out_t).square().mean())
        if hole is not None:
            scores.update({f"hole_{k}": v for k, v in masked_error(tgt, out_t, hole).items()})
    if labels is None and reference is None:
        return scores
    try:
        ext = feature_extractor(extractor, tuple(out_t.shape[1:]))
    except ConfigError:
        if extractor != "auto":
            raise
        return scores  # no shipped network for these images: no feature scores
    feats = extract_features(out_t, ext)
    if labels is not None:
        scores["class_preservation"] = class_preservation(feats, labels)
    if reference is not None:
        ref = reference if isinstance(reference, Features) else extract_features(torch.as_tensor(reference), ext)
        scores["fid"] = float(fid(real=ref, fake=feats).value)
        scores["kid"] = float(kid(real=ref, fake=feats, subset_size=min(1000, len(feats), len(ref)), seed=seed).mean)
    return scores


__all__ = ["translation_scores"]
