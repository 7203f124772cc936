"""Fidelity of a synthetic table: column shapes, column pair trends and the quality report.

The two properties of SDMetrics' ``QualityReport``: :func:`column_shapes` (KS / TV complement of each
column's marginal), :func:`column_pair_trends` (correlation / contingency similarity of each pair of columns)
and :func:`quality_score`, the mean of both with the per-column and per-pair details.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ...errors import ConfigError
from ._columns import _check_frames, _Col, _encode

KS_DECIMALS = 14
"""Values are rounded to this many decimals before the KS statistic, as SDMetrics' KSComplement does (so that
float noise does not break ties)."""


def _none_if_nan(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _nanmean(values: Sequence[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


def ks_statistic(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic :math:`D = \\sup_t |F_x(t) - F_y(t)|` (NaN if a sample is empty),
    the statistic of ``scipy.stats.ks_2samp``."""
    x, y = np.sort(np.asarray(x, dtype=np.float64)), np.sort(np.asarray(y, dtype=np.float64))
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    grid = np.concatenate([x, y])
    fx = np.searchsorted(x, grid, side="right") / len(x)
    fy = np.searchsorted(y, grid, side="right") / len(y)
    return float(np.max(np.abs(fx - fy)))


def _ks_complement(r: np.ndarray, s: np.ndarray) -> float:
    r, s = r[~np.isnan(r)], s[~np.isnan(s)]
    return 1.0 - ks_statistic(np.round(r, KS_DECIMALS), np.round(s, KS_DECIMALS))


def _tv_complement(r: np.ndarray, s: np.ndarray, levels: int, missing_category: bool) -> float:
    if not missing_category:
        r, s = r[r != levels - 1], s[s != levels - 1]
    if len(r) == 0 or len(s) == 0:
        return float("nan")
    p = np.bincount(r, minlength=levels) / len(r)
    q = np.bincount(s, minlength=levels) / len(s)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def column_shapes(
    real: Any, synthetic: Any, columns: Mapping[str, str] | None = None, *, missing_category: bool = True
) -> dict[str, float]:
    """How well each column's marginal distribution is reproduced, in [0, 1] (1 = identical).

    - numerical / datetime: the KS complement (SDMetrics' ``KSComplement``), on the present values of each
      frame, rounded to :data:`KS_DECIMALS` decimals:

      .. math:: \\mathrm{KSC} = 1 - \\sup_x |F_r(x) - F_s(x)|

      with :math:`F_r, F_s` the empirical CDFs of the real and synthetic column;
    - categorical / boolean: the TV complement (SDMetrics' ``TVComplement``), with :math:`p_k, q_k` the real
      and synthetic frequencies of category :math:`k`:

      .. math:: \\mathrm{TVC} = 1 - \\frac12 \\sum_k |p_k - q_k|

    Args:
        real: the real table.
        synthetic: the synthetic table (extra columns are ignored).
        columns: ``{column: kind}`` of the columns to score; ``None`` infers them from ``real``.
        missing_category: count a missing categorical cell as one more category (the default), so that the
            share of missing cells is scored too. ``False`` drops missing cells first, as SDMetrics'
            TVComplement does.

    Returns:
        ``{column: score}``, NaN for a column with no present value in one of the frames.

    Raises:
        DataError: an empty frame, or ``synthetic`` lacks a column; a column declared numerical holds text.
    """
    kinds = _check_frames({"real": real, "synthetic": synthetic}, columns)
    cols = _encode({"real": real, "synthetic": synthetic}, kinds)
    out = {}
    for name, col in cols.items():
        r, s = col.values
        out[name] = _ks_complement(r, s) if col.continuous else _tv_complement(r, s, col.levels, missing_category)
    return out


@dataclass(frozen=True)
class PairTrend:
    """The trend score of one pair of columns (see :func:`column_pair_trends`)."""

    columns: tuple[str, str]
    metric: Literal["correlation", "contingency"]
    score: float
    real_correlation: float = float("nan")  #: Pearson's rho of the real pair (correlation pairs)
    synthetic_correlation: float = float("nan")
    real_association: float = float("nan")  #: Cramér's V of the real contingency table (contingency pairs)
    contributes: bool = True  #: whether the pair enters the mean (see the thresholds of quality_score)

    @property
    def key(self) -> str:
        return f"{self.columns[0]}|{self.columns[1]}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "metric": self.metric,
            "score": _none_if_nan(self.score),
            "real_correlation": _none_if_nan(self.real_correlation),
            "synthetic_correlation": _none_if_nan(self.synthetic_correlation),
            "real_association": _none_if_nan(self.real_association),
            "contributes": self.contributes,
        }


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 2:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    den = math.sqrt(float(x @ x) * float(y @ y))
    if den == 0.0 or not math.isfinite(den):
        return float("nan")  # a constant column: Pearson's rho is undefined
    return float(np.clip((x @ y) / den, -1.0, 1.0))


def _bin_codes(col: _Col, bins: int, bin_edges: str) -> tuple[list[np.ndarray], int]:
    """Codes of a column for a contingency table: categories as they are, numbers in ``bins`` equal-width bins."""
    if not col.continuous:
        return col.values, col.levels
    real = col.values[0]
    real_edges = np.histogram_bin_edges(real[~np.isnan(real)], bins=bins)
    real_edges[0], real_edges[-1] = -np.inf, np.inf
    codes = []
    for v in col.values:
        # "own": each frame binned on its own range, as SDMetrics 0.32's QualityReport does
        edges = real_edges if bin_edges == "real" else np.histogram_bin_edges(v[~np.isnan(v)], bins=bins)
        codes.append(np.digitize(v, edges).astype(np.int64))  # NaN -> len(edges) = bins + 1
    return codes, bins + 2


def _cramers_v(counts: np.ndarray) -> float:
    from scipy.stats.contingency import association

    table = counts[counts.sum(1) > 0][:, counts.sum(0) > 0]
    if min(table.shape) < 2:
        return float("nan")
    return float(association(table, method="cramer"))


def _contingency(a: tuple[list[np.ndarray], int], b: tuple[list[np.ndarray], int]) -> tuple[float, float]:
    (ca, ka), (cb, kb) = a, b
    tables = [np.bincount(x * kb + y, minlength=ka * kb) for x, y in zip(ca, cb, strict=True)]
    p, q = tables[0] / tables[0].sum(), tables[1] / tables[1].sum()
    return float(1.0 - 0.5 * np.abs(p - q).sum()), _cramers_v(tables[0].reshape(ka, kb))


def _pair_trends(
    real: Any,
    synthetic: Any,
    columns: Mapping[str, str] | None,
    bins: int,
    bin_edges: str,
    correlation_threshold: float,
    association_threshold: float,
) -> list[PairTrend]:
    if bin_edges not in ("real", "own"):
        raise ConfigError(f"bin_edges must be 'real' or 'own', got {bin_edges!r}")
    if not isinstance(bins, int) or bins < 1:
        raise ConfigError(f"bins must be a positive integer, got {bins!r}")
    kinds = _check_frames({"real": real, "synthetic": synthetic}, columns)
    cols = _encode({"real": real, "synthetic": synthetic}, kinds)
    binned = {name: _bin_codes(col, bins, bin_edges) for name, col in cols.items()}
    names = list(cols)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if cols[a].continuous and cols[b].continuous:
                rho_r = _pearson(cols[a].values[0], cols[b].values[0])
                rho_s = _pearson(cols[a].values[1], cols[b].values[1])
                if not (math.isnan(rho_r) or math.isnan(rho_s)):
                    contributes = correlation_threshold <= 0 or abs(rho_r) > correlation_threshold
                    score = 1.0 - abs(rho_r - rho_s) / 2.0
                    out.append(PairTrend((a, b), "correlation", score, rho_r, rho_s, contributes=contributes))
                    continue
            score, v = _contingency(binned[a], binned[b])
            contributes = association_threshold <= 0 or (not math.isnan(v) and v > association_threshold)
            out.append(PairTrend((a, b), "contingency", score, real_association=v, contributes=contributes))
    return out


def column_pair_trends(
    real: Any,
    synthetic: Any,
    columns: Mapping[str, str] | None = None,
    *,
    bins: int = 10,
    bin_edges: Literal["real", "own"] = "real",
) -> dict[str, float]:
    """How well the dependence between each pair of columns is reproduced, in [0, 1] (1 = identical).

    - two numerical / datetime columns: correlation similarity (SDMetrics' ``CorrelationSimilarity``), with
      Pearson's :math:`\\rho` of each frame on the rows where both cells are present:

      .. math:: 1 - |\\rho_r - \\rho_s| / 2

      A column that is constant (or has fewer than two complete rows) in either frame has no correlation;
      such a pair is scored by contingency similarity instead (SDMetrics gives it no score);
    - any other pair: contingency similarity (SDMetrics' ``ContingencySimilarity``), the TV complement of the
      joint frequency tables :math:`p_{jk}, q_{jk}`:

      .. math:: 1 - \\frac12 \\sum_{j,k} |p_{jk} - q_{jk}|

      A missing cell is a category of its own. A numerical column is cut into ``bins`` equal-width bins
      (``numpy.histogram_bin_edges``) on the present values of the *real* column, the outer bins open-ended
      (so synthetic values beyond the real range land in the outer bins) and missing cells in one more bin,
      exactly as ``ContingencySimilarity(continuous_column_names=...)`` discretizes.
      ``bin_edges="own"`` bins each frame on its own range instead, the way SDMetrics 0.32's QualityReport
      does (its largest value then shares the missing cells' bin); that choice does not see a synthetic
      column shifted as a whole, so it is not the default.

    Args:
        real: the real table.
        synthetic: the synthetic table.
        columns: ``{column: kind}`` of the columns to score; ``None`` infers them from ``real``.
        bins: the number of equal-width bins of a numerical column.
        bin_edges: ``"real"`` or ``"own"`` (above).

    Returns:
        ``{"a|b": score}`` for each pair ``(a, b)`` of columns in the order of ``columns`` (or ``real``), ``a``
        before ``b``, joined by ``"|"``. :func:`quality_score` keeps the metric and correlations of each pair.

    Raises:
        DataError: an empty frame, or ``synthetic`` lacks a column.
    """
    trends = _pair_trends(real, synthetic, columns, bins, bin_edges, 0.0, 0.0)
    return {t.key: t.score for t in trends}


@dataclass(frozen=True)
class QualityReport:
    """The result of :func:`quality_score`: overall score, the two property scores and their details."""

    score: float
    column_shapes: float
    column_pair_trends: float
    shapes: dict[str, float] = field(default_factory=dict)
    pairs: tuple[PairTrend, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": _none_if_nan(self.score),
            "column_shapes": _none_if_nan(self.column_shapes),
            "column_pair_trends": _none_if_nan(self.column_pair_trends),
            "shapes": {k: _none_if_nan(v) for k, v in self.shapes.items()},
            "pairs": [p.as_dict() for p in self.pairs],
        }


def quality_score(
    real: Any,
    synthetic: Any,
    columns: Mapping[str, str] | None = None,
    *,
    missing_category: bool = True,
    bins: int = 10,
    bin_edges: Literal["real", "own"] = "real",
    correlation_threshold: float = 0.0,
    association_threshold: float = 0.0,
) -> QualityReport:
    """Overall fidelity, as SDMetrics' ``QualityReport`` computes it.

    .. math:: \\mathrm{score} = \\tfrac12 (\\overline{\\mathrm{shapes}} + \\overline{\\mathrm{pair\\ trends}})

    with each mean over the columns (:func:`column_shapes`) or pairs (:func:`column_pair_trends`) that have a
    score (NaN ones are left out; with no pair, the score is the shapes' mean).

    SDMetrics 0.32.0's QualityReport averages only the pairs whose real dependence is strong, drops missing
    categorical cells in the column shapes and bins each frame on its own range;
    ``quality_score(real, synthetic, columns, missing_category=False, bin_edges="own",
    correlation_threshold=0.5, association_threshold=0.3)`` reproduces it (benchmarked to 1e-6 in
    ``benchmarks/tabular_metrics_check.py``, except for constant columns, which it leaves out of the pairs).

    Args:
        real: the real table.
        synthetic: the synthetic table.
        columns: ``{column: kind}`` of the columns to score; ``None`` infers them from ``real``.
        missing_category: see :func:`column_shapes`.
        bins: see :func:`column_pair_trends`.
        bin_edges: see :func:`column_pair_trends`.
        correlation_threshold: a correlation pair enters the mean only if :math:`|\\rho_r|` exceeds it (0: all).
        association_threshold: a contingency pair enters the mean only if the real table's Cramér's V
            (uncorrected) exceeds it (0: all).

    Raises:
        DataError: an empty frame, or ``synthetic`` lacks a column.
    """
    shapes = column_shapes(real, synthetic, columns, missing_category=missing_category)
    pairs = _pair_trends(real, synthetic, columns, bins, bin_edges, correlation_threshold, association_threshold)
    shape_mean = _nanmean(list(shapes.values()))
    pair_mean = _nanmean([p.score for p in pairs if p.contributes])
    return QualityReport(_nanmean([shape_mean, pair_mean]), shape_mean, pair_mean, shapes, tuple(pairs))
