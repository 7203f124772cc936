"""Mode coverage: how many of the data's modes (or classes) a generator's samples reach, and how evenly.

Pure functions of tensors, in two settings:

- toy mixtures with known centres (``ring8``, ``grid25``): :func:`mode_coverage` assigns each sample to
  its nearest centre, calls it *high quality* when it lies within ``n_std`` standard deviations of that
  centre, and counts a mode as covered when at least ``min_count`` high-quality samples reach it
  (Srivastava et al. 2017 use ``min_count=1``; Lin et al. 2018 (PacGAN) count a mode as lost with fewer than
  20 of 2,500 samples). It also gives the KL divergence from the high-quality samples' mode histogram to
  the uniform one (0 when every mode gets the same share).
- labelled data: :func:`class_histogram` of samples under a classifier, and :func:`histogram_kl` against
  the data's class frequencies. :func:`fit_probe` trains a quick softmax-regression classifier for it.

References:
    Srivastava, A. et al. (2017). VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational
    Learning. NeurIPS.
    Lin, Z. et al. (2018). PacGAN: The power of two samples in generative adversarial networks. NeurIPS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from ..errors import DataError


@dataclass(frozen=True)
class ModeCoverage:
    """The result of :func:`mode_coverage`."""

    modes: int  #: modes covered
    n_modes: int  #: modes in the data
    high_quality: float  #: fraction of samples within n_std standard deviations of their nearest mode
    kl: float  #: KL(histogram of high-quality samples over modes || uniform), in nats
    counts: tuple[int, ...]  #: high-quality samples per mode

    def as_dict(self) -> dict[str, float]:
        d = asdict(self)
        d.pop("counts")
        return d


def mode_coverage(
    samples: torch.Tensor, centers: torch.Tensor, std: float, n_std: float = 3.0, min_count: int = 1
) -> ModeCoverage:
    """Modes covered, fraction of high-quality samples and the mode histogram's KL to uniform.

    Args:
        samples: generated points ``(N, d)``.
        centers: the modes' centres ``(K, d)``.
        std: the modes' standard deviation.
        n_std: a sample is high quality within ``n_std * std`` of its nearest centre.
        min_count: high-quality samples a mode needs to count as covered.
    """
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise DataError(
            f"mode coverage needs samples (N, d) and centres (K, d) of one dimension, "
            f"got {tuple(samples.shape)} and {tuple(centers.shape)}"
        )
    if len(samples) == 0 or std <= 0:
        raise DataError("mode coverage needs at least one sample and a positive std")
    samples = samples.detach().double()
    dist = torch.cdist(samples, centers.double())
    nearest_d, nearest = dist.min(1)
    good = torch.isfinite(nearest_d) & (nearest_d <= n_std * std)
    k = len(centers)
    counts = torch.bincount(nearest[good], minlength=k)
    n_good = int(good.sum())
    kl = float("inf")
    if n_good:
        p = counts.double() / n_good
        nz = p > 0
        kl = float((p[nz] * torch.log(p[nz] * k)).sum())
    return ModeCoverage(
        modes=int((counts >= min_count).sum()),
        n_modes=k,
        high_quality=n_good / len(samples),
        kl=kl,
        counts=tuple(int(c) for c in counts),
    )


def class_histogram(predictions: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Relative class frequencies ``(n_classes,)`` of predicted labels ``(N,)`` (or of logits ``(N, K)``)."""
    if predictions.ndim == 2:
        predictions = predictions.argmax(1)
    if len(predictions) == 0:
        raise DataError("a class histogram needs at least one prediction")
    return torch.bincount(predictions.long(), minlength=n_classes).double() / len(predictions)


def histogram_kl(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-10) -> float:
    """``KL(p || q) = sum_k p_k log(p_k / q_k)`` in nats between two histograms (``q`` floored at ``eps``)."""
    p, q = p.double(), q.double().clamp_min(eps)
    nz = p > 0
    return float((p[nz] * torch.log(p[nz] / q[nz])).sum())


def fit_probe(
    x: torch.Tensor, y: torch.Tensor, max_samples: int = 10_000, seed: int = 0, steps: int = 100
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A quick softmax-regression classifier on flattened, standardised inputs (L-BFGS, a few seconds).

    Good enough to see a collapsed class histogram (about 92% on MNIST), not to grade sample quality.

    Returns:
        ``predict(x) -> logits (N, K)``.
    """
    if y is None or len(x) != len(y):
        raise DataError("a probe classifier needs one label per sample")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=g)[:max_samples]
    xs = x[idx].reshape(len(idx), -1).double()
    ys = y[idx].long()
    mean, std = xs.mean(0), xs.std(0).clamp_min(1e-3)
    k = int(y.max()) + 1
    w = torch.zeros(xs.shape[1], k, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    xn = (xs - mean) / std
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(xn @ w + b, ys) + 1e-3 * w.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    w, b = w.detach(), b.detach()

    def predict(v: torch.Tensor) -> torch.Tensor:
        return ((v.reshape(len(v), -1).double() - mean) / std) @ w + b

    return predict


__all__ = ["ModeCoverage", "class_histogram", "fit_probe", "histogram_kl", "mode_coverage"]
