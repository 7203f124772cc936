r"""A Gaussian copula over a table's columns: the fast, non-neural baseline to start with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ...config import param, shape_param
from ...errors import DataError
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating
from ._common import TableConfig, TableModel, impose, resolve_conditions, sample_meeting, spans_of

_SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class GaussianCopulaConfig(TableConfig):
    """Configuration of :class:`GaussianCopula`."""

    layout: str = param("c c i3", help="parts of an encoded row (set from the table's transform)")
    data_shape: tuple[int, ...] = shape_param((3,), "(D,): columns (set from the table)")
    n_quantiles: int = param(
        1001, ge=2, le=100_001, help="points of each numerical column's empirical quantile function"
    )

    representation = "columns"


def _phi(z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(z / _SQRT2))


def _phi_inv(u: torch.Tensor) -> torch.Tensor:
    return _SQRT2 * torch.erfinv(2.0 * u - 1.0)


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor, right: bool) -> torch.Tensor:
    """Piecewise-linear interpolation of ``(xp, fp)`` at ``x`` (``xp`` ascending); with ties in ``xp``, the
    lowest (``right=False``) or highest position of the tie."""
    i = torch.searchsorted(xp, x.contiguous(), right=right).clamp(1, len(xp) - 1)
    x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    w = torch.where(x1 > x0, (x - x0) / (x1 - x0).clamp_min(1e-300), torch.full_like(x, float(right)))
    return f0 + w.clamp(0.0, 1.0) * (f1 - f0)


@register_model(
    "gaussian_copula",
    config=GaussianCopulaConfig,
    description="Gaussian copula over a table's columns: empirical marginals + one correlation matrix (fast)",
)
class GaussianCopula(TableModel, GenerativeModel):
    r"""A Gaussian copula with empirical marginals (Sklar's theorem; the SDV's ``GaussianCopula`` baseline).

    Each column :math:`j` gets its marginal CDF :math:`F_j`: the empirical quantile function at ``n_quantiles``
    points for a numerical column, the category frequencies for a categorical one (category :math:`k` owns the
    interval :math:`[F(k^-), F(k))` of :math:`[0, 1]`, and a row's value is drawn uniformly inside it). The
    normal scores :math:`z_j = \Phi^{-1}(F_j(x_j))` are modelled as :math:`N(0, R)` with :math:`R` their
    correlation matrix, so the density is

    .. math::
        p(x) = |R|^{-1/2} \exp\big(-\tfrac12 z^\top (R^{-1} - I) z\big) \prod_j p_j(x_j).

    Fitting is one pass: the marginals come from the whole training table (at the first step, or
    :meth:`on_train_start`), and each training step adds its batch's :math:`z z^\top` to the running second
    moment that gives :math:`R`; the loss logged is the copula's negative log-density
    :math:`\tfrac12 (\log|R| + z^\top (R^{-1} - I) z)` under the estimate so far. One epoch fits it exactly.

    Sampling draws :math:`z \sim N(0, R)` and inverts the marginals. ``conditions={"column": value}`` on one
    categorical column is exact: its score is drawn from the standard normal truncated to the category's
    interval and the others from the Gaussian conditional on it; several conditions keep the rows that meet
    them. :meth:`sample_remaining` fills the missing cells of given rows from the conditional Gaussian.

    References:
        Nelsen, R. B. (2006). An Introduction to Copulas. Springer. Patki, N., Wedge, R. & Veeramachaneni, K.
        (2016). The Synthetic Data Vault. IEEE DSAA.
    """

    config: GaussianCopulaConfig
    train_defaults: ClassVar[dict[str, Any]] = {"epochs": 1, "batch_size": 500}

    def __init__(self, config: GaussianCopulaConfig) -> None:
        super().__init__(config)
        self.spans = spans_of(config)
        d = len(self.spans)
        self._numeric = [j for j, s in enumerate(self.spans) if s.kind == "c"]
        self._levels = [int(s.kind == "i") and self._k(j) for j, s in enumerate(self.spans)]
        q = config.n_quantiles
        self.register_buffer(
            "quantiles", torch.linspace(-3.0, 3.0, q, dtype=torch.float64).repeat(len(self._numeric), 1)
        )
        probs = [torch.full((k,), 1.0 / k, dtype=torch.float64) for k in self._levels if k]
        self.register_buffer("category_probs", torch.cat(probs) if probs else torch.zeros(0, dtype=torch.float64))
        self.register_buffer("second_moment", torch.zeros(d, d, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    def _k(self, j: int) -> int:
        return int(self.config.layout.split()[j][1:])

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return []  # fitted in closed form: marginals once, the correlation by accumulating moments

    def diversity_advice(self) -> str:
        return "raise n_quantiles (finer marginals), or try ctgan / tvae for dependencies a copula cannot express"

    # --- fitting ---------------------------------------------------------------------------------------
    def on_train_start(self, x: torch.Tensor) -> None:
        if not bool(self.fitted):
            self._fit_marginals(x)

    @torch.no_grad()
    def _fit_marginals(self, x: torch.Tensor) -> None:
        x = x.double()
        p = torch.linspace(0.0, 1.0, self.config.n_quantiles, dtype=torch.float64, device=x.device)
        for r, j in enumerate(self._numeric):
            col = x[:, j]
            col = torch.sort(col).values
            pos = p * (len(col) - 1)  # quantiles by linear interpolation between order statistics
            lo = pos.floor().long()
            hi = pos.ceil().long()
            self.quantiles[r] = col[lo] + (pos - lo) * (col[hi] - col[lo])
        offset = 0
        for j, k in enumerate(self._levels):
            if k:
                codes = x[:, j].round().long().clamp(0, k - 1)
                counts = torch.bincount(codes, minlength=k).double()
                self.category_probs[offset : offset + k] = counts / counts.sum()
                offset += k
        self.fitted.fill_(True)

    def normal_scores(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """:math:`z = \\Phi^{-1}(F(x))` of encoded rows ``x`` ``(B, D)``; a value on a tie of the empirical CDF (or a
        category) gets a uniform position inside its interval, drawn from ``generator``."""
        gen = self.rng(generator)
        x = x.double()
        u = torch.empty_like(x)
        p = torch.linspace(0.0, 1.0, self.config.n_quantiles, dtype=torch.float64, device=x.device)
        v = self.rand(x.shape, generator=gen, dtype=torch.float64)
        for r, j in enumerate(self._numeric):
            q = self.quantiles[r]
            lo, hi = _interp(x[:, j], q, p, right=False), _interp(x[:, j], q, p, right=True)
            u[:, j] = lo + v[:, j] * (hi - lo)
        for j, (lo, hi) in self._category_bounds(x).items():
            u[:, j] = lo + v[:, j] * (hi - lo)
        eps = 0.5 / max(float(self.count), 1000.0)
        return _phi_inv(u.clamp(eps, 1.0 - eps))

    def _category_bounds(self, x: torch.Tensor) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        out, offset = {}, 0
        for j, k in enumerate(self._levels):
            if k:
                probs = self.category_probs[offset : offset + k]
                cum = torch.cat([probs.new_zeros(1), probs.cumsum(0)])
                codes = x[:, j].round().long().clamp(0, k - 1)
                out[j] = (cum[codes], cum[codes + 1])
                offset += k
        return out

    def correlation(self) -> torch.Tensor:
        """:math:`R`, the correlation of the normal scores seen so far (the identity before any)."""
        d, dev = len(self.spans), self.second_moment.device
        if float(self.count) < 2:
            return torch.eye(d, dtype=torch.float64, device=dev)
        cov = self.second_moment / self.count
        sd = cov.diagonal().clamp_min(1e-12).sqrt()
        r = cov / sd[:, None] / sd[None, :]
        return 0.5 * (r + r.T) + 1e-6 * torch.eye(d, dtype=torch.float64, device=dev)

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        if not bool(self.fitted):
            self._fit_marginals(batch.x)
        z = self.normal_scores(batch.x)
        self.second_moment += z.T @ z
        self.count += len(z)
        r = self.correlation()
        chol = torch.linalg.cholesky(r)
        logdet = 2.0 * chol.diagonal().log().sum()
        solved = torch.cholesky_solve(z.T, chol).T
        nll = 0.5 * (logdet + (z * solved).sum(1) - z.square().sum(1))
        return {"loss": float(nll.mean())}

    # --- sampling --------------------------------------------------------------------------------------
    def _decode_scores(self, z: torch.Tensor) -> torch.Tensor:
        u = _phi(z)
        x = torch.empty_like(z)
        p = torch.linspace(0.0, 1.0, self.config.n_quantiles, dtype=torch.float64, device=z.device)
        for r, j in enumerate(self._numeric):
            x[:, j] = _interp(u[:, j], p, self.quantiles[r], right=False)
        offset = 0
        for j, k in enumerate(self._levels):
            if k:
                cum = self.category_probs[offset : offset + k].cumsum(0)
                x[:, j] = torch.searchsorted(cum, u[:, j].contiguous()).clamp_max(k - 1).double()
                offset += k
        return x.float()

    @evaluating
    def sample(
        self, n: int, generator: torch.Generator | None = None, conditions: dict[str, Any] | None = None
    ) -> torch.Tensor:
        """``n`` encoded rows ``(n, D)`` (numbers standardized, categories as integer codes)."""
        gen = self.rng(generator)
        fixed = resolve_conditions(self, conditions)
        chol = torch.linalg.cholesky(self.correlation())
        d = len(self.spans)

        def draw(m: int) -> torch.Tensor:
            return self._decode_scores(self.randn(m, d, generator=gen, dtype=torch.float64) @ chol.T)

        if not fixed:
            return draw(n)
        if len(fixed) > 1:
            return sample_meeting(draw, n, fixed, one_hot=False)
        span, code = fixed[0]
        j = next(i for i, s in enumerate(self.spans) if s.start == span.start)
        row = torch.zeros(1, d, device=self.device)
        row[0, j] = code
        lo, hi = self._category_bounds(row)[j]
        u = lo + self.rand(n, generator=gen, dtype=torch.float64) * (hi - lo)  # truncated N(0, 1) by inversion
        zj = _phi_inv(u.clamp(1e-12, 1 - 1e-12))
        z = self._conditional(zj[:, None], [j], gen)
        return impose(self._decode_scores(z), fixed, one_hot=False)

    def _conditional(self, known: torch.Tensor, idx: list[int], gen: torch.Generator) -> torch.Tensor:
        """Scores ``(n, D)`` with columns ``idx`` set to ``known`` and the others drawn from N(0, R) given them."""
        r = self.correlation()
        d = len(self.spans)
        rest = [j for j in range(d) if j not in idx]
        z = torch.empty(len(known), d, dtype=torch.float64, device=known.device)
        z[:, idx] = known
        if rest:
            a = r[rest][:, idx]
            b_inv = torch.linalg.inv(r[idx][:, idx])
            mean = known @ (a @ b_inv).T
            cov = r[rest][:, rest] - a @ b_inv @ a.T
            eye = torch.eye(len(rest), dtype=torch.float64, device=cov.device)
            chol = torch.linalg.cholesky(0.5 * (cov + cov.T) + 1e-9 * eye)
            z[:, rest] = mean + self.randn(len(known), len(rest), generator=gen, dtype=torch.float64) @ chol.T
        return z

    @evaluating
    def sample_remaining(
        self, x: torch.Tensor, known: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Encoded rows ``x`` ``(n, D)`` with the entries where ``known`` is False drawn from the copula given the
        known ones (a known category enters with a random score inside its interval)."""
        if x.shape != known.shape or x.shape[1] != len(self.spans):
            raise DataError(f"sample_remaining takes rows and a mask of shape (n, {len(self.spans)})")
        gen = self.rng(generator)
        out = x.clone().float()
        scores = self.normal_scores(torch.nan_to_num(x), gen)
        for pattern in torch.unique(known, dim=0):
            rows = (known == pattern).all(1)
            idx = [j for j in range(len(self.spans)) if bool(pattern[j])]
            if len(idx) == len(self.spans):
                continue
            z = self._conditional(scores[rows][:, idx], idx, gen)
            filled = self._decode_scores(z)
            out[rows] = torch.where(pattern[None], out[rows], filled)
        return out


__all__ = ["GaussianCopula", "GaussianCopulaConfig"]
