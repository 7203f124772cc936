"""Likelihood estimators behind one interface, :func:`log_likelihood`, and annealed importance sampling.

:func:`log_likelihood` picks the estimator a model supports (its ``likelihood_method``):

- ``"exact"``: ``log p(x)`` in closed form (Boltzmann machines and RBMs small enough to enumerate, flows and
  autoregressive models);
- ``"iwae"``: the importance-weighted bound ``L_k`` of a VAE (Burda et al. 2016), a lower bound that tightens
  with ``k``;
- ``"ais"``: energy-based models whose ``log Z`` is intractable (RBMs, DBNs, DBMs): ``log Z`` by annealed
  importance sampling. A model gives an *annealing path* (base model -> target), :func:`ais` runs it and
  returns the estimate with a +-3 standard error interval.

References:
    Neal, R. M. (2001). Annealed Importance Sampling. Statistics and Computing 11.
    Salakhutdinov, R. & Murray, I. (2008). On the Quantitative Analysis of Deep Belief Networks. ICML.
    Burda, Y., Grosse, R. & Salakhutdinov, R. (2016). Importance Weighted Autoencoders. ICLR.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from ..errors import ConfigError, DataError
from ..progress import Progress, note

#: AIS reports its progress every this many inverse temperatures (a step costs ~0.1-1 ms: no visible overhead)
PROGRESS_STRIDE = 250
#: inverse temperatures of Salakhutdinov & Murray (2008): 500 in [0, 0.5), 4,000 in [0.5, 0.9), 10,000 in [0.9, 1]
DEFAULT_SCHEDULE = ((0.5, 500), (0.9, 4_000), (1.0, 10_000))


class AnnealingPath(Protocol):
    def log_base_partition(self) -> float: ...

    def sample_base(self, n: int, generator: torch.Generator) -> torch.Tensor: ...

    def step(
        self, x: torch.Tensor, beta_prev: float, beta: float, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


def default_betas(n: int = 14_500) -> torch.Tensor:
    """``n + 1`` inverse temperatures from 0 to 1 spaced like Salakhutdinov & Murray (2008) (``n=14,500`` is theirs).

    Smaller ``n`` keeps the proportions (1/29 of the steps up to 0.5, 8/29 up to 0.9, the rest up to 1).
    """
    if n < 3:
        raise ConfigError(f"AIS needs at least 3 intermediate distributions, got {n}")
    total = sum(k for _, k in DEFAULT_SCHEDULE)
    counts = [max(1, round(n * k / total)) for _, k in DEFAULT_SCHEDULE]
    counts[-1] = n - sum(counts[:-1])
    parts, lo = [], 0.0
    for (hi, _), k in zip(DEFAULT_SCHEDULE, counts, strict=True):
        parts.append(torch.linspace(lo, hi, k + 1, dtype=torch.float64, device="cpu")[:-1])
        lo = hi
    return torch.cat([*parts, torch.ones(1, dtype=torch.float64, device="cpu")])  # read as Python floats


@dataclass(frozen=True)
class AISResult:
    """An AIS estimate of ``log Z``.

    Attributes:
        log_z: the estimate, ``log Z_base + log mean(w)`` (unbiased in ``Z``, so a stochastic lower bound
            on ``log Z`` in expectation).
        lower, upper: ``log(mean(w) -+ 3 std(w) / sqrt(n_runs))`` + ``log Z_base`` (``lower`` is ``-inf`` when
            the interval reaches 0).
        log_weights: the ``n_runs`` log importance weights.
        log_z_base: ``log Z`` of the base model.
        n_betas: number of intermediate distributions.
    """

    log_z: float
    lower: float
    upper: float
    log_weights: torch.Tensor
    log_z_base: float
    n_betas: int

    @property
    def n_runs(self) -> int:
        return int(self.log_weights.numel())

    @property
    def effective_sample_size(self) -> float:
        """``(sum w)^2 / sum w^2``: how many of the runs carry the estimate."""
        w = torch.softmax(self.log_weights, 0)
        return float(1.0 / w.square().sum())

    def as_dict(self) -> dict[str, Any]:
        return {
            "log_z": self.log_z,
            "lower": self.lower,
            "upper": self.upper,
            "n_runs": self.n_runs,
            "n_betas": self.n_betas,
            "ess": self.effective_sample_size,
        }


@torch.no_grad()
def ais(
    path: AnnealingPath,
    n_runs: int = 100,
    betas: int | Sequence[float] | torch.Tensor = 14_500,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> AISResult:
    """Annealed importance sampling (Neal 2001) along ``path`` with ``n_runs`` independent runs.

    Args:
        path: an annealing path, e.g. ``rbm.annealing_path()``.
        n_runs: independent runs (samples of the importance weight).
        betas: the number of intermediate distributions (spaced by :func:`default_betas`) or the inverse
            temperatures themselves, increasing from 0 to 1.
        generator: the random source (default seeded 0).
        progress: show the temperatures done, the rate, the ETA and the running estimate of
            ``log Z_beta`` on standard error (updated every :data:`PROGRESS_STRIDE` temperatures).
    """
    if n_runs < 1:
        raise ConfigError(f"n_runs must be >= 1, got {n_runs}")
    b = (
        default_betas(int(betas))
        if isinstance(betas, int)
        else torch.as_tensor(betas, dtype=torch.float64, device="cpu")
    )
    if b.ndim != 1 or b.numel() < 2 or b[0] != 0 or b[-1] != 1 or bool((b[1:] < b[:-1]).any()):
        raise ConfigError("betas must increase from 0 to 1 (e.g. genlab.metrics.default_betas(1000))")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    bl = b.tolist()
    x = path.sample_base(n_runs, gen)
    device = (x[0] if isinstance(x, list | tuple) else x).device  # the model's: the runs stay there
    log_w = torch.zeros(n_runs, dtype=torch.float64, device=device)
    base = float(path.log_base_partition())
    n_betas = len(bl) - 1
    stride = PROGRESS_STRIDE
    with Progress(n_betas, f"AIS ({n_runs} runs)", unit="beta", enabled=progress) as p:
        beta = 0.0
        # log Z_beta of the distribution reached so far: base + log mean(w), computed only when a line is due
        p.set_postfix(
            lambda: f"beta {beta:.4f}  log Z_beta {base + float(torch.logsumexp(log_w, 0)) - math.log(n_runs):.4f}"
        )
        for i, (prev, beta) in enumerate(itertools.pairwise(bl), 1):  # beta is read by the postfix
            delta, x = path.step(x, prev, beta, gen)
            log_w += delta
            if i % stride == 0:
                p.update(stride)
        p.update(n_betas % stride)
    return _result(log_w.cpu(), base, n_betas)


def _result(log_w: torch.Tensor, base: float, n_betas: int) -> AISResult:
    n = log_w.numel()
    m = float(log_w.max())
    w = (log_w - m).exp()
    mean = float(w.mean())
    se = float(w.std(unbiased=True)) / math.sqrt(n) if n > 1 else float("inf")
    log_z = base + m + math.log(mean)
    upper = base + m + math.log(mean + 3 * se) if math.isfinite(se) else math.inf
    lower = base + m + math.log(mean - 3 * se) if mean > 3 * se else -math.inf
    return AISResult(log_z, lower, upper, log_w, base, n_betas)


def log_partition(
    model: Any,
    n_runs: int = 100,
    betas: int | Sequence[float] | torch.Tensor = 14_500,
    generator: torch.Generator | None = None,
    progress: bool = False,
    **path_options: Any,
) -> AISResult:
    """AIS estimate of ``model``'s ``log Z`` (RBMs, and the models built on them), with a +-3 sigma interval.

    ``path_options`` go to ``model.annealing_path`` (for an RBM ``base_bias``: the base model's visible biases).
    ``progress`` shows the annealing on standard error.
    """
    if not hasattr(model, "annealing_path"):
        raise ConfigError(f"{type(model).__name__} has no annealing path: AIS applies to RBMs, DBNs and DBMs")
    return ais(model.annealing_path(**path_options), n_runs=n_runs, betas=betas, generator=generator, progress=progress)


@dataclass(frozen=True)
class LogLikelihood:
    """Mean log-likelihood (nats per sample) of a data set under a model.

    Attributes:
        mean: the mean of ``log p(x)`` (or of its bound, see ``method``).
        lower, upper: a +-3 sigma interval. For ``"ais"`` it comes from the interval of ``log Z`` (a larger
            ``log Z`` gives a smaller likelihood); otherwise from the standard error over the samples.
        method: ``"exact"``, ``"iwae"`` (a lower bound) or ``"ais"`` (for DBNs and DBMs a lower bound too).
        n: samples evaluated.
        stderr: standard error of the mean over the samples.
        log_z: the AIS estimate of ``log Z`` (``"ais"`` only).
        options: the estimator's settings (``k`` of IWAE, runs and temperatures of AIS).
    """

    mean: float
    lower: float
    upper: float
    log_z: AISResult | None = None
    method: str = "ais"
    n: int = 0
    stderr: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "mean": self.mean,
            "lower": self.lower,
            "upper": self.upper,
            "method": self.method,
            "n": self.n,
            "stderr": self.stderr,
            **self.options,
        }
        if self.log_z is not None:
            out["log_z"] = self.log_z.as_dict()
        return out


def base_bias_from_data(x: torch.Tensor, smoothing: float = 0.05) -> torch.Tensor:
    """Log-odds of the smoothed pixel means of binary data ``x``: the base-rate model of AIS."""
    p = x.reshape(x.shape[0], -1).double().mean(0)
    n = x.shape[0]
    p = (p * n + smoothing) / (n + 2 * smoothing)
    return torch.log(p / (1 - p)).float()


METHODS = ("auto", "exact", "iwae", "ais")


@torch.no_grad()
def log_likelihood(
    model: Any,
    x: torch.Tensor,
    *,
    method: str = "auto",
    n_runs: int = 100,
    betas: int | Sequence[float] | torch.Tensor = 14_500,
    k: int = 1000,
    generator: torch.Generator | None = None,
    batch_size: int = 10_000,
    labels: torch.Tensor | None = None,
    progress: bool = False,
    **path_options: Any,
) -> LogLikelihood:
    """Mean ``log p(x)`` of the samples ``x`` under ``model`` by the estimator it supports.

    Args:
        model: a genlab model with ``log_prob`` (see its ``likelihood_method``).
        x: the samples (e.g. the binarized test set).
        method: ``"auto"`` (exact where it is tractable, else the model's own method), ``"exact"``,
            ``"iwae"`` or ``"ais"``.
        n_runs, betas: AIS runs and inverse temperatures (``"ais"``).
        k: importance samples per data point (``"iwae"``; Burda et al. use 5000).
        generator: the random source (default seeded 0).
        batch_size: samples per ``log_prob`` call.
        labels: the classes of ``x`` for a conditional model (then the value is ``log p(x | y)``).
        progress: say which estimator runs and show its progress (AIS temperatures, samples evaluated) on
            standard error.
        **path_options: for ``"ais"``, options of the model's annealing path (``base_bias``, ``anneal``).
    """
    if method not in METHODS:
        raise ConfigError(f"unknown likelihood method {method!r}; choose one of {', '.join(METHODS)}")
    native = getattr(model, "likelihood_method", None)
    name = type(model).__name__
    if native is None:
        raise ConfigError(f"{name} defines no likelihood (it is not a density model); use sample-based metrics")
    if x.shape[0] == 0:
        raise DataError("log_likelihood needs at least one sample")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    log_z: float | None = None
    if method == "auto":
        method = native
        if native == "ais" and hasattr(model, "exact_log_partition"):
            with contextlib.suppress(ConfigError):  # small energy models: exact
                log_z, method = model.exact_log_partition(), "exact"
    elif method == "exact" and native != "exact":
        if not hasattr(model, "exact_log_partition"):
            raise ConfigError(f"{name} has no exact likelihood; use method={native!r}")
        log_z = model.exact_log_partition()  # raises (with the fix) when the model is too large
    elif method != native:
        raise ConfigError(f"{name} supports method={native!r} (or 'auto'), not {method!r}")
    est = None
    options: dict[str, Any] = {}
    note(
        f"log-likelihood of {x.shape[0]} samples under the {name}: {method}"
        + (" (log Z by annealed importance sampling first)" if method == "ais" else ""),
        enabled=progress,
    )
    if method == "ais":
        est = log_partition(model, n_runs=n_runs, betas=betas, generator=gen, progress=progress, **path_options)
        log_z = 0.0
        options = {"n_runs": n_runs, "n_betas": est.n_betas}

    def chunk(xb: torch.Tensor, yb: torch.Tensor | None) -> torch.Tensor:
        if method == "iwae":
            return model.log_prob(xb, k=k, generator=gen, **({"y": yb} if yb is not None else {}))
        if "generator" in inspect.signature(model.log_prob).parameters:  # stochastic bounds (DBN)
            return model.log_prob(xb, log_z=log_z, generator=gen) if log_z is not None else model.log_prob(xb)
        return model.log_prob(xb, log_z=log_z) if log_z is not None else model.log_prob(xb)

    if labels is not None and len(labels) != len(x):
        raise DataError(f"{len(x)} samples but {len(labels)} labels; pass one label per sample")
    device = getattr(model, "device", None)  # the batches go where the model is

    def to_model(t: Any) -> Any:
        return t.to(device) if isinstance(t, torch.Tensor) and device is not None else t

    parts = []
    what = f"log-likelihood ({method}{f', k={k}' if method == 'iwae' else ''})"
    with Progress(x.shape[0], what, unit="sample", enabled=progress) as p:
        for a in range(0, x.shape[0], batch_size):
            xb = x[a : a + batch_size]
            yb = None if labels is None else labels[a : a + batch_size]
            parts.append(chunk(to_model(xb), to_model(yb)).double().reshape(-1))
            p.update(xb.shape[0])
    values = torch.cat(parts)
    n = values.numel()
    mean = float(values.mean())
    stderr = float(values.std(unbiased=True)) / math.sqrt(n) if n > 1 else 0.0
    if method == "iwae":
        options = {"k": k}
    if labels is not None:
        options["conditional"] = True
    if est is not None:
        return LogLikelihood(mean - est.log_z, mean - est.upper, mean - est.lower, est, "ais", n, stderr, options)
    return LogLikelihood(mean, mean - 3 * stderr, mean + 3 * stderr, None, method, n, stderr, options)
