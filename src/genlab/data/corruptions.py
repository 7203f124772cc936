"""Corruptions for denoising, imputation and image-to-image tasks: Gaussian noise, salt-and-pepper, random
masking, and the named image corruptions of :func:`corrupt` (``downsample:4``, ``mask:center:14``,
``mask:random:0.5``, ``edges``, ``thicken``, ``thin``, ``noise:0.5``, ``salt_and_pepper:0.2``), which make an
(input, target) pair out of any image dataset.

Every function draws from an explicit ``torch.Generator`` (or an integer seed); ``None`` means a fresh
``torch.Generator().manual_seed(0)``, so a call without a generator is repeatable. Nothing here touches
torch's global random state, and the input tensor is never modified in place. The noise is drawn on the
generator's device and the results are on the input's device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .._device import rand, randn
from ..errors import DataError
from .transforms import _as_float, _finite_pair, resolve_generator


def gaussian_noise(
    x: torch.Tensor,
    std: float,
    generator: torch.Generator | int | None = None,
    clip: tuple[float, float] | None = None,
) -> torch.Tensor:
    """Add independent Gaussian noise ``N(0, std^2)`` to every value.

    Args:
        x: samples, any shape.
        std: noise standard deviation, ``>= 0`` (0 returns a copy of ``x``).
        generator: random source (see module docstring).
        clip: optional ``(low, high)``; the result is clamped into it (e.g. ``(0, 1)`` for images).

    Raises:
        DataError: a negative or non-finite ``std``, or a ``clip`` that is not an ordered pair.
    """
    std = _non_negative(std, "std")
    x = _as_float(x)
    noise = randn(x.shape, generator=resolve_generator(generator), device=x.device, dtype=x.dtype)
    out = x + std * noise
    if clip is not None:
        lo, hi = _finite_pair(clip, "clip")
        if lo > hi:
            raise DataError(f"clip must satisfy low <= high, got {clip!r}")
        out = out.clamp_(lo, hi)
    return out


def salt_and_pepper(
    x: torch.Tensor,
    amount: float,
    generator: torch.Generator | int | None = None,
    low: float = 0.0,
    high: float = 1.0,
) -> torch.Tensor:
    """Replace a random ``amount`` of the values by ``low`` ("pepper") or ``high`` ("salt").

    Each value is corrupted independently with probability ``amount``; a corrupted value is salt or
    pepper with probability 1/2 each. Channels of a pixel are corrupted independently.

    Args:
        x: samples, any shape.
        amount: probability that a value is replaced, in [0, 1].
        generator: random source (see module docstring).
        low: the pepper value.
        high: the salt value.

    Raises:
        DataError: ``amount`` outside [0, 1] or ``low``/``high`` not finite.
    """
    amount = _probability(amount, "amount")
    _finite_pair((low, high), "(low, high)")
    x = _as_float(x)
    u = rand(x.shape, generator=resolve_generator(generator), device=x.device, dtype=x.dtype)
    out = x.clone()
    out[u < amount / 2] = high
    out[(u >= amount / 2) & (u < amount)] = low
    return out


def random_mask(
    x: torch.Tensor,
    fraction: float,
    generator: torch.Generator | int | None = None,
    fill: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hide a random ``fraction`` of the values (missing completely at random).

    Each value is hidden independently with probability ``fraction``.

    Args:
        x: samples, any shape.
        fraction: probability that a value is hidden, in [0, 1].
        generator: random source (see module docstring).
        fill: the value written where data are hidden (``float("nan")`` marks them as missing).

    Returns:
        ``(corrupted, mask)``: ``corrupted`` is ``x`` with hidden values set to ``fill``; ``mask`` is a bool
        tensor of the shape of ``x``, True where the value is kept (observed).

    Raises:
        DataError: ``fraction`` outside [0, 1].
    """
    fraction = _probability(fraction, "fraction")
    if not isinstance(fill, int | float):
        raise DataError(f"fill must be a number (NaN allowed), got {fill!r}")
    x = _as_float(x)
    mask = rand(x.shape, generator=resolve_generator(generator), device=x.device) >= fraction
    corrupted = torch.where(mask, x, torch.full_like(x, float(fill)))
    return corrupted, mask


#: the named image corruptions and the form of their spec
CORRUPTION_SPECS = {
    "downsample": "downsample:F (average-pool by an integer factor F >= 2; the input is the small image upscaled "
    "back bicubically, or the small image itself with size='small')",
    "mask": "mask:center:S (a centred S x S hole) or mask:random:P (each pixel hidden with probability P)",
    "edges": "edges (the Sobel gradient magnitude, scaled to [0, 1] per image) or edges:T (a binary edge map: "
    "1 where that magnitude exceeds T, 0 < T < 1, like a line drawing)",
    "thicken": "thicken or thicken:K (K 3 x 3 dilations of the strokes)",
    "thin": "thin or thin:K (K 3 x 3 erosions of the strokes)",
    "noise": "noise:S (Gaussian noise of standard deviation S, clipped to [0, 1])",
    "salt_and_pepper": "salt_and_pepper:A (a fraction A of the pixels set to 0 or 1)",
}


@dataclass(frozen=True)
class Corrupted:
    """The result of :func:`corrupt`: the model's ``input`` and, for the masks, ``hole`` (bool, the shape of
    the images, True where pixels were hidden; ``None`` for the other corruptions)."""

    input: torch.Tensor
    hole: torch.Tensor | None = None


def corrupt(
    images: torch.Tensor,
    spec: str,
    generator: torch.Generator | int | None = None,
    size: str = "same",
) -> Corrupted:
    """Apply the named corruption ``spec`` (see :data:`CORRUPTION_SPECS`) to images ``(N, C, H, W)``.

    The targets of an image-to-image task are the images themselves, the inputs are ``corrupt(images, spec).input``.
    The random corruptions (``mask:random``, ``noise``, ``salt_and_pepper``) draw from ``generator`` only, so one
    seed gives one pair set; the others are deterministic. Hidden pixels are set to 0.

    Args:
        images: images with values in [0, 1].
        spec: the corruption, e.g. ``"downsample:4"`` or ``"mask:center:14"``.
        generator: random source (see module docstring).
        size: for ``downsample``: ``"same"`` (the input upscaled back to the image size, bicubic, clamped to
            [0, 1]) or ``"small"`` (the downsampled image, for models that upsample).

    Raises:
        DataError: an unknown or malformed spec (the message lists the forms), images that are not 4-D, a
            factor that does not divide the image size, or a hole larger than the image.
    """
    name, args = _parse_spec(spec)
    x = _as_float(images)
    if x.ndim != 4:
        raise DataError(f"corruption {spec!r} needs images (N, C, H, W), got shape {tuple(x.shape)}")
    h, w = x.shape[-2:]
    if name == "downsample":
        f = _int_arg(spec, args, 0, low=2)
        if h % f or w % f:
            raise DataError(f"{spec!r}: the factor {f} must divide the image size {h} x {w}")
        small = F.avg_pool2d(x, f)
        if size == "small":
            return Corrupted(small)
        if size != "same":
            raise DataError(f"size must be 'same' or 'small', got {size!r}")
        return Corrupted(F.interpolate(small, size=(h, w), mode="bicubic", align_corners=False).clamp_(0.0, 1.0))
    if name == "mask":
        if len(args) != 2 or args[0] not in ("center", "random"):
            raise DataError(f"bad corruption {spec!r}; expected {CORRUPTION_SPECS['mask']}")
        if args[0] == "center":
            side = _int_arg(spec, args, 1, low=1)
            if side > min(h, w):
                raise DataError(f"{spec!r}: a {side} x {side} hole does not fit {h} x {w} images")
            hole = torch.zeros(h, w, dtype=torch.bool, device=x.device)
            top, left = (h - side) // 2, (w - side) // 2
            hole[top : top + side, left : left + side] = True
            hole = hole.expand(x.shape[0], x.shape[1], h, w)
        else:
            p = _probability(_arg(spec, args, 1, float), "the hidden fraction of " + repr(spec))
            per_pixel = rand(x.shape[0], 1, h, w, generator=resolve_generator(generator), device=x.device) < p
            hole = per_pixel.expand(x.shape[0], x.shape[1], h, w)
        return Corrupted(x.masked_fill(hole, 0.0), hole.clone())
    if name == "edges":
        threshold = None
        if args:
            threshold = _arg(spec, args, 0, float) if len(args) == 1 else None
            if threshold is None or not 0.0 < threshold < 1.0:
                raise DataError(f"bad corruption {spec!r}; expected {CORRUPTION_SPECS['edges']}")
        sobel = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]], dtype=x.dtype, device=x.device)
        kernels = torch.stack([sobel, sobel.T]).unsqueeze(1)  # (2, 1, 3, 3): d/dx and d/dy
        flat = F.pad(x.reshape(-1, 1, h, w), (1, 1, 1, 1), mode="replicate")
        grad = F.conv2d(flat, kernels)
        mag = grad.square().sum(1, keepdim=True).sqrt().reshape(x.shape)
        peak = mag.amax(dim=(1, 2, 3), keepdim=True)
        edges = torch.where(peak > 0, mag / peak.clamp_min(1e-12), torch.zeros_like(mag))
        return Corrupted(edges if threshold is None else (edges > threshold).to(x.dtype))
    if name in ("thicken", "thin"):
        k = 1 if not args else _int_arg(spec, args, 0, low=1)
        out = x
        for _ in range(k):  # dilation is a 3 x 3 max; erosion the dilation of the negative
            out = F.max_pool2d(out, 3, stride=1, padding=1) if name == "thicken" else -F.max_pool2d(-out, 3, 1, 1)
        return Corrupted(out)
    if name == "noise":
        return Corrupted(gaussian_noise(x, _arg(spec, args, 0, float), generator, clip=(0.0, 1.0)))
    return Corrupted(salt_and_pepper(x, _arg(spec, args, 0, float), generator))


def _parse_spec(spec: str) -> tuple[str, list[str]]:
    if not isinstance(spec, str) or not spec.strip():
        raise DataError(f"a corruption must be a spec string, got {spec!r}; the forms: {_forms()}")
    name, *args = spec.strip().split(":")
    if name not in CORRUPTION_SPECS:
        raise DataError(f"unknown corruption {name!r} in {spec!r}; the forms: {_forms()}")
    return name, args


def _forms() -> str:
    return "; ".join(CORRUPTION_SPECS.values())


def _arg(spec: str, args: list[str], i: int, cast: type) -> float:
    """Argument ``i`` of ``spec`` (it must be the last one), read as ``cast`` (int or float)."""
    if len(args) != i + 1:
        raise DataError(f"bad corruption {spec!r}; expected {CORRUPTION_SPECS[spec.strip().split(':')[0]]}")
    try:
        return cast(args[i])
    except ValueError:
        kind = "an integer" if cast is int else "a number"
        raise DataError(f"bad corruption {spec!r}: {args[i]!r} is not {kind}") from None


def _int_arg(spec: str, args: list[str], i: int, low: int) -> int:
    value = _arg(spec, args, i, int)
    if value < low:
        raise DataError(f"bad corruption {spec!r}: {value} must be >= {low}")
    return value


def _probability(value: float, name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise DataError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _non_negative(value: float, name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise DataError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


__all__ = ["CORRUPTION_SPECS", "Corrupted", "corrupt", "gaussian_noise", "random_mask", "salt_and_pepper"]
