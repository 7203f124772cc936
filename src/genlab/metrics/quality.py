"""Sample-quality metrics on features: Inception-style score, precision / recall, density / coverage, classes.

- :func:`inception_score` (Salimans et al. 2016) with a domain classifier instead of Inception:
  :math:`\\exp(E_x\\, \\mathrm{KL}(p(y|x)\\,\\|\\,p(y)))`, high when each sample is confidently one class and the
  classes are balanced; at most the number of classes.
- :func:`precision_recall` (Kynkäänniemi et al. 2019): the real manifold is the union of balls around each real
  feature with the distance to its k-th nearest real neighbour as radius; precision is the fraction of fake
  samples inside it (quality), recall the fraction of real samples inside the fake manifold (coverage of the
  data's variety).
- :func:`density_coverage` (Naeem et al. 2020): density counts how many real balls contain each fake sample
  (divided by k; about 1 when the distributions match, robust to real outliers), coverage is the fraction of
  real balls holding at least one fake sample.
- :func:`class_distribution`: the classifier's class histogram of the samples and its KL divergence to the
  data's class frequencies (mode dropping among classes).

References:
    Salimans, T. et al. (2016). Improved Techniques for Training GANs. NeurIPS.
    Kynkäänniemi, T. et al. (2019). Improved Precision and Recall Metric for Assessing Generative Models.
    NeurIPS.
    Naeem, M. F. et al. (2020). Reliable Fidelity and Diversity Metrics for Generative Models. ICML.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch

from ..errors import ConfigError, DataError
from .features import Features, extract_features
from .fid import check_same_extractor
from .modes import class_histogram, histogram_kl

_CHUNK = 2048


@dataclass(frozen=True)
class ScoreResult:
    """A mean and standard deviation over splits (Inception-style score)."""

    mean: float
    std: float
    splits: int
    n: int
    extractor: str

    def as_dict(self) -> dict[str, Any]:
        return {"is": self.mean, "is_std": self.std, "splits": self.splits, "n": self.n, "extractor": self.extractor}


def _logits(x: Any, extractor: Any, value_range) -> tuple[torch.Tensor, str]:
    f = extract_features(x, extractor, value_range)
    if f.logits is None:
        raise ConfigError(f"the feature network {f.extractor!r} has no classifier; this metric needs class logits")
    return f.logits.double(), f.extractor


def inception_score(
    fake: Any, extractor: Any = "auto", value_range: tuple[float, float] = (0.0, 1.0), splits: int = 10
) -> ScoreResult:
    """Inception-style score of samples (or :class:`Features` with logits) over ``splits`` consecutive splits."""
    logits, name = _logits(fake, extractor, value_range)
    n = logits.shape[0]
    if splits < 1 or n < splits:
        raise DataError(f"the score needs at least one sample per split: {n} samples, {splits} splits")
    logp = torch.log_softmax(logits, 1)
    scores = []
    for part in torch.tensor_split(logp, splits):
        log_py = torch.logsumexp(part, 0) - math.log(part.shape[0])
        scores.append(math.exp(float((part.exp() * (part - log_py)).sum(1).mean())))
    s = torch.tensor(scores, dtype=torch.float64)
    return ScoreResult(float(s.mean()), float(s.std(unbiased=True)) if splits > 1 else 0.0, splits, n, name)


def _pair_features(real: Any, fake: Any, extractor: Any, value_range) -> tuple[torch.Tensor, torch.Tensor, str]:
    a, b = extract_features(real, extractor, value_range), extract_features(fake, extractor, value_range)
    name = check_same_extractor(a.extractor, b.extractor)
    fa, fb = a.features.double(), b.features.double()
    if fa.shape[1] != fb.shape[1]:
        raise DataError(f"real and fake features have different dimensions ({fa.shape[1]} and {fb.shape[1]})")
    return fa, fb, name


def knn_radii(f: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row of ``f`` to its ``k``-th nearest other row ``(N,)``."""
    if not 1 <= k < f.shape[0]:
        raise DataError(f"k-nearest-neighbour radii need 1 <= k < N, got k={k} with N={f.shape[0]}")
    out = [torch.cdist(f[a : a + _CHUNK], f).kthvalue(k + 1, 1).values for a in range(0, f.shape[0], _CHUNK)]
    return torch.cat(out)  # the (k+1)-th smallest counts the row's zero distance to itself


def _ball_counts(query: torch.Tensor, centers: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """For each query row, how many balls ``(centers, radii)`` contain it ``(M,)``."""
    out = [(torch.cdist(query[a : a + _CHUNK], centers) <= radii).sum(1) for a in range(0, query.shape[0], _CHUNK)]
    return torch.cat(out)


@dataclass(frozen=True)
class PrecisionRecall:
    """Improved precision and recall (fractions in [0, 1]) with the k and the sample sizes used."""

    precision: float
    recall: float
    k: int
    n_real: int
    n_fake: int
    extractor: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def precision_recall(
    *, real: Any, fake: Any, extractor: Any = "auto", value_range: tuple[float, float] = (0.0, 1.0), k: int = 3
) -> PrecisionRecall:
    """Improved precision and recall with ``k``-NN manifolds (``k = 3`` as in Kynkäänniemi et al. 2019)."""
    fa, fb, name = _pair_features(real, fake, extractor, value_range)
    precision = float((_ball_counts(fb, fa, knn_radii(fa, k)) > 0).double().mean())
    recall = float((_ball_counts(fa, fb, knn_radii(fb, k)) > 0).double().mean())
    return PrecisionRecall(precision, recall, k, len(fa), len(fb), name)


@dataclass(frozen=True)
class DensityCoverage:
    """Density (about 1 when the distributions match) and coverage (a fraction) with k and the sizes."""

    density: float
    coverage: float
    k: int
    n_real: int
    n_fake: int
    extractor: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def density_coverage(
    *, real: Any, fake: Any, extractor: Any = "auto", value_range: tuple[float, float] = (0.0, 1.0), k: int = 5
) -> DensityCoverage:
    """Density and coverage with ``k``-NN balls around the real samples (``k = 5`` as in Naeem et al. 2020)."""
    fa, fb, name = _pair_features(real, fake, extractor, value_range)
    radii = knn_radii(fa, k)
    density = float(_ball_counts(fb, fa, radii).double().sum()) / (k * len(fb))
    nearest_fake = torch.cat([torch.cdist(fa[a : a + _CHUNK], fb).min(1).values for a in range(0, len(fa), _CHUNK)])
    coverage = float((nearest_fake <= radii).double().mean())
    return DensityCoverage(density, coverage, k, len(fa), len(fb), name)


@dataclass(frozen=True)
class ClassDistribution:
    """The classifier's class histogram of the samples, the data's, their KL and the classes reached."""

    histogram: tuple[float, ...]
    reference: tuple[float, ...]
    kl: float
    classes_covered: int
    n: int
    extractor: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "class_kl": self.kl,
            "classes_covered": self.classes_covered,
            "n_classes": len(self.histogram),
            "histogram": list(self.histogram),
            "reference": list(self.reference),
            "n": self.n,
            "extractor": self.extractor,
        }


def class_preservation(
    outputs: Any, labels: Any, extractor: Any = "auto", value_range: tuple[float, float] = (0.0, 1.0)
) -> float:
    """The fraction of ``outputs`` that the feature network's classifier gives the label of their input.

    For image-to-image models (a super-resolved, inpainted or translated digit should still be that digit):
    ``labels`` are the inputs' classes ``(N,)``, ``outputs`` the model's images (or :class:`Features` with
    logits) under ``extractor`` (``"auto"``: the shipped digits-cnn / mnist-cnn for 8 x 8 / 28 x 28 images).

    Raises:
        DataError: ``labels`` are not one integer per output.
    """
    logits, _ = _logits(outputs, extractor, value_range)
    y = torch.as_tensor(labels)
    if y.ndim != 1 or y.is_floating_point() or len(y) != logits.shape[0]:
        raise DataError(
            f"labels must be one integer class per output: {logits.shape[0]} outputs, labels of shape "
            f"{tuple(y.shape)} and dtype {y.dtype}"
        )
    return float((logits.argmax(1) == y.to(torch.long)).double().mean())


def class_distribution(
    fake: Any,
    reference: torch.Tensor | Any,
    extractor: Any = "auto",
    value_range: tuple[float, float] = (0.0, 1.0),
    min_share: float = 0.01,
) -> ClassDistribution:
    """Class histogram of ``fake`` under the feature network's classifier and ``KL(fake || reference)``.

    ``reference`` is the data's integer labels ``(N,)`` or real samples / :class:`Features` (then their
    predicted classes). A class counts as covered when it gets at least ``min_share`` of the samples.
    """
    logits, name = _logits(fake, extractor, value_range)
    k = logits.shape[1]
    ref = torch.as_tensor(reference) if not isinstance(reference, Features) else None
    if ref is not None and ref.ndim == 1 and not ref.is_floating_point():
        ref_hist = class_histogram(ref, k)
    else:
        ref_logits, ref_name = _logits(reference, extractor, value_range)
        check_same_extractor(name, ref_name)
        ref_hist = class_histogram(ref_logits, k)
    hist = class_histogram(logits, k)
    return ClassDistribution(
        tuple(float(v) for v in hist),
        tuple(float(v) for v in ref_hist),
        histogram_kl(hist, ref_hist),
        int((hist >= min_share).sum()),
        logits.shape[0],
        name,
    )


__all__ = [
    "ClassDistribution",
    "DensityCoverage",
    "PrecisionRecall",
    "ScoreResult",
    "class_distribution",
    "class_preservation",
    "density_coverage",
    "inception_score",
    "knn_radii",
    "precision_recall",
]
