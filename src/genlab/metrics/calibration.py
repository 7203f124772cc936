"""Predictive uncertainty: calibration (ECE, reliability), and out-of-distribution detection (AUROC).

- :func:`expected_calibration_error` (Naeini et al. 2015; Guo et al. 2017): the predictions are binned by
  confidence (the top class probability) into ``n_bins`` equal-width bins, and
  :math:`\\mathrm{ECE} = \\sum_b \\frac{|B_b|}{N} |\\mathrm{acc}(B_b) - \\mathrm{conf}(B_b)|`.
- :func:`auroc`: the area under the ROC curve of a score meant to be higher on the "positive" set (e.g. the
  predictive entropy of out-of-distribution inputs), computed exactly as the Mann-Whitney statistic
  :math:`P(s_+ > s_-) + \\frac12 P(s_+ = s_-)`.

References:
    Naeini, M. P., Cooper, G. F. & Hauskrecht, M. (2015). Obtaining Well Calibrated Probabilities Using
    Bayesian Binning. AAAI.
    Guo, C., Pleiss, G., Sun, Y. & Weinberger, K. Q. (2017). On Calibration of Modern Neural Networks. ICML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..errors import DataError


@dataclass(frozen=True)
class Calibration:
    """ECE with the reliability diagram's bins (confidence, accuracy and count per bin)."""

    ece: float
    accuracy: float
    confidence: tuple[float, ...]
    bin_accuracy: tuple[float, ...]
    counts: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"ece": self.ece, "accuracy": self.accuracy, "n_bins": len(self.counts)}


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> Calibration:
    """ECE of class probabilities ``(N, K)`` against integer labels ``(N,)``."""
    probs, labels = torch.as_tensor(probs).double(), torch.as_tensor(labels).long()
    if probs.ndim != 2 or labels.shape != (probs.shape[0],) or probs.shape[0] == 0:
        raise DataError(
            f"ECE needs probabilities (N, K) and labels (N,), got {tuple(probs.shape)}, {tuple(labels.shape)}"
        )
    if n_bins < 1:
        raise DataError(f"n_bins must be >= 1, got {n_bins}")
    conf, pred = probs.max(1)
    correct = (pred == labels).double()
    which = (torch.ceil(conf * n_bins).long() - 1).clamp(0, n_bins - 1)  # bins (b/n, (b+1)/n] (Guo et al.)
    counts = torch.bincount(which, minlength=n_bins)
    conf_sum = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, which, conf)
    acc_sum = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, which, correct)
    n = probs.shape[0]
    ece = float((acc_sum - conf_sum).abs().sum() / n)
    safe = counts.clamp_min(1).double()
    return Calibration(
        ece,
        float(correct.mean()),
        tuple(float(v) for v in conf_sum / safe),
        tuple(float(v) for v in acc_sum / safe),
        tuple(int(v) for v in counts),
    )


def auroc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Area under the ROC curve of scores meant to be higher on ``positive`` than on ``negative`` (ties: 1/2)."""
    pos, neg = torch.as_tensor(positive).double().reshape(-1), torch.as_tensor(negative).double().reshape(-1)
    if pos.numel() == 0 or neg.numel() == 0:
        raise DataError("AUROC needs at least one positive and one negative score")
    scores = torch.cat([pos, neg])
    order = torch.argsort(scores)
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.float64)
    # average ranks over ties
    uniq, inverse = torch.unique(scores, return_inverse=True)
    rank_sum = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inverse, ranks)
    count = torch.bincount(inverse, minlength=len(uniq)).double()
    ranks = (rank_sum / count)[inverse]
    n_pos, n_neg = pos.numel(), neg.numel()
    u = ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


__all__ = ["Calibration", "auroc", "expected_calibration_error"]
