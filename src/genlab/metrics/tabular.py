"""Scores of a synthetic table against a real one: fidelity, utility and privacy.

Pure functions of pandas DataFrames (``real``, ``synthetic`` and, for privacy, a ``holdout`` of real rows the
generator never saw). ``columns`` maps each column to score to its kind, one of ``"numerical"``,
``"categorical"``, ``"datetime"``, ``"boolean"``; ``None`` infers the kinds from ``real``'s dtypes
(:func:`column_kinds`) and scores every column of ``real``. Datetimes are scored as numbers (nanoseconds since
1970 as floats), booleans as categories. Missing cells (NaN, None, NaT, ``pd.NA``) are never an error: a
numerical column's distribution is compared on its present values, and a missing categorical cell is one more
category.

Fidelity (the two properties of SDMetrics' ``QualityReport``):

- :func:`column_shapes`: per column, KS complement :math:`1 - \\sup_x |F_r(x) - F_s(x)|` (numerical, datetime)
  or TV complement :math:`1 - \\frac12 \\sum_k |p_k - q_k|` (categorical, boolean);
- :func:`column_pair_trends`: per pair of columns, correlation similarity
  :math:`1 - |\\rho_r - \\rho_s| / 2` (two numerical columns, Pearson's :math:`\\rho`) or contingency similarity
  :math:`1 - \\frac12 \\sum_{j,k} |p_{jk} - q_{jk}|` (any other pair, numerical columns binned);
- :func:`quality_score`: the mean of both, with the per-column and per-pair details.

Utility: :func:`detection_score` (can a classifier tell synthetic rows from real ones?) and :func:`tstr`
(train on synthetic, test on real, beside train on real). Privacy: :func:`privacy` (distance to the closest
record, exact copies and a distance-based membership-inference attack).

Every score is a plain float (NaN where it is undefined, ``None`` in the ``as_dict()`` / dict results, so that
they are JSON-serialisable).

References:
    Patki, N., Wedge, R. & Veeramachaneni, K. (2016). The Synthetic Data Vault. IEEE DSAA.
    SDMetrics 0.32.0 (DataCebo): KSComplement, TVComplement, CorrelationSimilarity, ContingencySimilarity,
    QualityReport, LogisticDetection, DCROverfittingProtection. https://docs.sdv.dev/sdmetrics
    Esteban, C., Hyland, S. L. & Rätsch, G. (2017). Real-valued (Medical) Time Series Generation with
    Recurrent Conditional GANs (train on synthetic, test on real). arXiv:1706.02633.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import ConfigError, DataError

KINDS = ("numerical", "categorical", "datetime", "boolean")
CONTINUOUS_KINDS = ("numerical", "datetime")
KS_DECIMALS = 14
"""Values are rounded to this many decimals before the KS statistic, as SDMetrics' KSComplement does (so that
float noise does not break ties)."""


def _pd():
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas comes with the table extras
        raise DataError("genlab's table metrics need pandas: pip install pandas") from exc
    return pd


def _none_if_nan(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _nanmean(values: Sequence[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


# ----------------------------------------------------------------------------------------------------------
# Columns: kinds, validation and one shared encoding of every frame
# ----------------------------------------------------------------------------------------------------------


def column_kinds(frame: Any, columns: Mapping[str, str] | None = None) -> dict[str, str]:
    """The kind of each column: ``columns`` checked, or inferred from ``frame``'s dtypes.

    Inference: ``bool`` dtypes -> ``"boolean"``; ``datetime64`` -> ``"datetime"``; other numeric dtypes (and
    ``timedelta64``) -> ``"numerical"``; everything else (text, pandas categories, objects) -> ``"categorical"``.

    Raises:
        ConfigError: a kind outside :data:`KINDS`.
        DataError: ``columns`` is empty or not a mapping.
    """
    pd = _pd()
    if columns is not None:
        if not isinstance(columns, Mapping) or not columns:
            raise DataError(
                "columns must be a non-empty dict {column name: kind}, or None to score every column of real"
            )
        bad = {c: k for c, k in columns.items() if k not in KINDS}
        if bad:
            raise ConfigError(f"unknown column kinds {bad}; each kind must be one of {', '.join(KINDS)}")
        return dict(columns)
    kinds = {}
    for name in frame.columns:
        s = frame[name]
        if pd.api.types.is_bool_dtype(s.dtype):
            kinds[name] = "boolean"
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            kinds[name] = "datetime"
        elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(s.dtype):
            kinds[name] = "numerical"
        else:
            kinds[name] = "categorical"
    return kinds


def _check_frames(frames: Mapping[str, Any], columns: Mapping[str, str] | None) -> dict[str, str]:
    pd = _pd()
    for label, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"{label} must be a pandas DataFrame, got {type(frame).__name__}")
        if len(frame) == 0 or frame.shape[1] == 0:
            raise DataError(f"{label} is empty ({frame.shape[0]} rows x {frame.shape[1]} columns); pass a table")
    first_label, first = next(iter(frames.items()))
    kinds = column_kinds(first, columns)
    for label, frame in frames.items():
        missing = [c for c in kinds if c not in frame.columns]
        if missing:
            source = "columns=" if columns is not None else first_label
            raise DataError(
                f"{label} lacks the columns {missing} named by {source}; add them to {label}, or pass "
                f"columns={{name: kind}} naming only the columns to score"
            )
    return kinds


def _datetime_ns(s: Any) -> np.ndarray:
    pd = _pd()
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((s - pd.Timestamp(0)) / pd.Timedelta(1, "ns")).to_numpy(dtype=np.float64, na_value=np.nan)


def _to_float(s: Any, kind: str, label: str, name: str) -> np.ndarray:
    """A column as float64 (NaN = missing): numbers as they are, datetimes as nanoseconds since 1970."""
    pd = _pd()
    dtype = s.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _datetime_ns(s)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return (s / pd.Timedelta(1, "ns")).to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if kind == "datetime":
        conv = pd.to_datetime(s, errors="coerce", utc=True)
        out = _datetime_ns(conv)
    else:
        out = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(out) & s.notna().to_numpy()
    if bad.any():
        example = s[bad].iloc[0]
        what = "dates" if kind == "datetime" else "numbers"
        raise DataError(
            f"column {name!r} of {label} is declared {kind} but holds values that are not {what}, such as "
            f"{example!r}; convert the column, or declare it 'categorical' in columns="
        )
    return out


@dataclass
class _Col:
    kind: str
    values: list[np.ndarray]  # per frame: float64 (continuous) or int64 codes (discrete)
    levels: int = 0  # discrete: number of codes; code levels - 1 is "missing"
    lo: float = 0.0  # continuous, privacy only: the train column's minimum and range
    span: float = 0.0

    @property
    def continuous(self) -> bool:
        return self.kind in CONTINUOUS_KINDS


def _encode(frames: Mapping[str, Any], kinds: Mapping[str, str]) -> dict[str, _Col]:
    """Each column of every frame in one shared encoding: floats, or category codes shared across frames."""
    pd = _pd()
    out = {}
    labels = list(frames)
    for name, kind in kinds.items():
        if kind in CONTINUOUS_KINDS:
            out[name] = _Col(kind, [_to_float(frames[lb][name], kind, lb, name) for lb in labels])
            continue
        series = [frames[lb][name] for lb in labels]
        if any(isinstance(s.dtype, pd.CategoricalDtype) for s in series):
            series = [s.astype(object) for s in series]
        codes, uniques = pd.factorize(pd.concat(series, ignore_index=True), use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        n = len(uniques)
        codes[codes < 0] = n  # missing is its own category, the last code
        splits = np.cumsum([len(s) for s in series])[:-1]
        out[name] = _Col(kind, list(np.split(codes, splits)), levels=n + 1)
    return out


def _subsample(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= k else np.sort(rng.choice(n, size=k, replace=False))


# ----------------------------------------------------------------------------------------------------------
# Fidelity: column shapes, column pair trends, quality
# ----------------------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------------------
# Utility: detection and train-on-synthetic-test-on-real
# ----------------------------------------------------------------------------------------------------------


def _matrix(cols: Mapping[str, _Col], names: Sequence[str], frame: int, rows: np.ndarray | None = None) -> np.ndarray:
    x = np.column_stack([cols[n].values[frame].astype(np.float64) for n in names])
    return x if rows is None else x[rows]


def _preprocessor(cols: Mapping[str, _Col], names: Sequence[str]) -> Any:
    """Standardized numbers with a missing indicator (missing filled by the median), one-hot categories (a
    category unseen when fitting is all zeros); fitted on the training rows only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = [i for i, n in enumerate(names) if cols[n].continuous]
    cat = [i for i, n in enumerate(names) if not cols[n].continuous]
    parts = []
    if num:
        imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
        parts.append(("num", make_pipeline(imputer, StandardScaler()), num))
    if cat:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat))
    return ColumnTransformer(parts)


@dataclass(frozen=True)
class DetectionResult:
    """The result of :func:`detection_score`."""

    auc: float  #: mean cross-validated ROC AUC of the real-vs-synthetic classifier
    score: float  #: 1 - mean_k(max(AUC_k, 0.5) * 2 - 1): 1 = indistinguishable, 0 = perfectly separable
    fold_aucs: tuple[float, ...]
    model: str
    n_per_class: int  #: rows of each frame used

    def as_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "score": self.score,
            "fold_aucs": list(self.fold_aucs),
            "model": self.model,
            "n_per_class": self.n_per_class,
        }


def _classifier(model: str, seed: int) -> Any:
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)
    if model == "gbm":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed)
    raise ConfigError(f"model must be 'logistic' or 'gbm', got {model!r}")


def detection_score(
    real: Any,
    synthetic: Any,
    columns: Mapping[str, str] | None = None,
    *,
    model: Literal["logistic", "gbm"] = "logistic",
    seed: int = 0,
    folds: int = 3,
    max_rows: int = 20_000,
) -> DetectionResult:
    """How hard it is to tell synthetic rows from real ones (SDMetrics' ``LogisticDetection`` convention).

    The bigger frame is subsampled (with ``seed``) to the smaller one's size, both to at most ``max_rows``
    rows, so the classes are balanced. A classifier (``"logistic"``: logistic regression; ``"gbm"``:
    histogram gradient boosting) on standardized numbers (missing cells filled by the median, plus a missing
    indicator) and one-hot categories learns real = 1 vs synthetic = 0; stratified ``folds``-fold
    cross-validation (preprocessing fitted on each training fold) gives ROC AUCs :math:`A_k` and

    .. math:: \\mathrm{score} = 1 - \\frac1K \\sum_k (2 \\max(A_k, \\tfrac12) - 1)

    An AUC near 0.5 (score near 1) means the classifier cannot tell them apart. ``max_rows=20_000`` keeps
    diamonds (54k rows) to about 1.5 s on two cores. SDMetrics uses a robust scaler, mean imputation, no class
    balancing and no fixed seed, so its numbers differ by sampling noise (and it fails on a synthetic
    category the real table lacks).

    Raises:
        DataError: an empty frame, a missing column, or fewer rows than ``folds``.
        ConfigError: an unknown ``model``, ``folds < 2`` or ``max_rows < folds``.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    if not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"folds must be an integer >= 2, got {folds!r}")
    if max_rows < folds:
        raise ConfigError(f"max_rows must be at least folds ({folds}), got {max_rows}")
    _classifier(model, seed)  # validate early
    frames = {"real": real, "synthetic": synthetic}
    kinds = _check_frames(frames, columns)
    cols = _encode(frames, kinds)
    n = min(len(real), len(synthetic), max_rows)
    if n < folds:
        raise DataError(f"detection needs at least {folds} rows in each frame (one per fold), got {n}")
    rng = np.random.default_rng(seed)
    names = list(cols)
    x = np.vstack(
        [
            _matrix(cols, names, 0, _subsample(len(real), n, rng)),
            _matrix(cols, names, 1, _subsample(len(synthetic), n, rng)),
        ]
    )
    y = np.r_[np.ones(n), np.zeros(n)]
    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        pipe = make_pipeline(_preprocessor(cols, names), _classifier(model, seed))
        pipe.fit(x[train], y[train])
        aucs.append(float(roc_auc_score(y[test], pipe.predict_proba(x[test])[:, 1])))
    score = 1.0 - float(np.mean([max(a, 0.5) * 2.0 - 1.0 for a in aucs]))
    return DetectionResult(float(np.mean(aucs)), score, tuple(aucs), model, n)


def tstr(
    real_train: Any,
    synthetic: Any,
    real_test: Any,
    target: str,
    columns: Mapping[str, str] | None = None,
    *,
    seed: int = 0,
    max_rows: int = 5_000,
) -> dict[str, Any]:
    """Train on synthetic, test on real (TSTR), beside train on real, test on real (TRTR).

    Each model is trained once on ``real_train`` and once on ``synthetic`` (each subsampled to ``max_rows``
    rows with ``seed``) to predict ``target`` from the other columns, and tested on ``real_test``; features
    go through the preprocessing of :func:`detection_score`, fitted on the training source (a category absent
    from it is all zeros). Rows whose target is missing are dropped from all three frames; ``real_test`` is
    not subsampled. ``max_rows=5_000`` keeps a 5-class diamonds target near 3 s on two cores; raise it for
    tighter numbers.

    - categorical / boolean target: classification with histogram gradient boosting (``"gbm"``) and
      logistic regression (``"linear"``); accuracy and macro F1 (primary). A training source with a single
      class gives a model that predicts that class (``"constant": true``), not an error;
    - numerical / datetime target: regression with histogram gradient boosting and ridge regression
      (:math:`\\alpha = 1`); :math:`R^2` (primary) and mean absolute error.

    Returns:
        ``{"task": "classification" | "regression", "target", "primary": "f1_macro" | "r2",
        "n_train": {"real", "synthetic"}, "n_test", "models": {"gbm": {"real": {metric: value, ...},
        "synthetic": {...}}, "linear": {...}}, "best_real", "best_synthetic", "gap"}`` where ``gap`` = best
        real primary score minus best synthetic one (near 0: the synthetic table is as useful as the real one).

    Raises:
        DataError: an empty frame, a missing column, ``target`` not among the columns, no rows with a target.
    """
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score
    from sklearn.pipeline import make_pipeline

    frames = {"real_train": real_train, "synthetic": synthetic, "real_test": real_test}
    kinds = _check_frames(frames, columns)
    if target not in kinds:
        raise DataError(f"target {target!r} is not among the columns {list(kinds)}; name one of them")
    features = [c for c in kinds if c != target]
    if not features:
        raise DataError(f"tstr needs at least one feature column besides the target {target!r}")
    cols = _encode(frames, kinds)
    tcol = cols[target]
    classification = not tcol.continuous
    rng = np.random.default_rng(seed)
    data = []
    for i, label in enumerate(frames):
        y = tcol.values[i]
        keep = np.flatnonzero(y != tcol.levels - 1 if classification else ~np.isnan(y))
        if len(keep) == 0:
            raise DataError(f"every row of {label} lacks the target {target!r}; tstr needs rows with a target")
        if i < 2:
            keep = keep[_subsample(len(keep), max_rows, rng)]
        data.append((_matrix(cols, features, i, keep), y[keep]))
    (x_test, y_test) = data[2]
    models: dict[str, dict[str, Any]] = {"gbm": {}, "linear": {}}
    for source, (x, y) in zip(("real", "synthetic"), data[:2], strict=True):
        for name in models:
            if classification:
                constant = len(np.unique(y)) < 2
                if constant:
                    est = DummyClassifier(strategy="most_frequent")
                elif name == "gbm":
                    est = HistGradientBoostingClassifier(random_state=seed)
                else:
                    est = LogisticRegression(max_iter=1000)
            else:
                est = HistGradientBoostingRegressor(random_state=seed) if name == "gbm" else Ridge(alpha=1.0)
            pipe = make_pipeline(_preprocessor(cols, features), est).fit(x, y)
            pred = pipe.predict(x_test)
            if classification:
                models[name][source] = {
                    "accuracy": float(accuracy_score(y_test, pred)),
                    "f1_macro": float(f1_score(y_test, pred, average="macro", zero_division=0)),
                    "constant": bool(constant),
                }
            else:
                models[name][source] = {
                    "r2": float(r2_score(y_test, pred)),
                    "mae": float(mean_absolute_error(y_test, pred)),
                }
    primary = "f1_macro" if classification else "r2"
    best_real = max(m["real"][primary] for m in models.values())
    best_syn = max(m["synthetic"][primary] for m in models.values())
    return {
        "task": "classification" if classification else "regression",
        "target": target,
        "primary": primary,
        "n_train": {"real": len(data[0][1]), "synthetic": len(data[1][1])},
        "n_test": len(y_test),
        "models": models,
        "best_real": best_real,
        "best_synthetic": best_syn,
        "gap": best_real - best_syn,
    }


# ----------------------------------------------------------------------------------------------------------
# Privacy: distance to closest record, exact copies, membership inference
# ----------------------------------------------------------------------------------------------------------


def _row_embedding(cols: Mapping[str, _Col], frame: int, rows: np.ndarray) -> Any:
    """Rows as vectors whose L1 distance, divided by the number of columns, is SDMetrics' DCR distance for
    values within the train range.

    A numerical value :math:`u = (x - \\min)/(\\max - \\min)` (train range, clipped to [0, 1]) becomes
    :math:`(u/2, (1-u)/2, 0)` and a missing one :math:`(0, 0, 1/2)`, so two present values differ by
    :math:`|u - u'|`, a present and a missing one by 1 and two missing ones by 0; a category is one-hot / 2 so
    that a mismatch counts 1 (missing is a category).
    """
    from scipy import sparse

    blocks = []
    for col in cols.values():
        v = col.values[frame][rows]
        if col.continuous:
            lo, span = col.lo, col.span
            u = np.clip((v - lo) / span, 0.0, 1.0) if span > 0 else (v != lo).astype(np.float64)
            miss = np.isnan(v)
            u = np.where(miss, 0.0, u)
            blocks.append(sparse.csr_matrix(np.column_stack([u / 2, np.where(miss, 0.0, (1 - u) / 2), miss / 2])))
        else:
            blocks.append(sparse.csr_matrix((np.full(len(v), 0.5), (np.arange(len(v)), v)), shape=(len(v), col.levels)))
    x = sparse.hstack(blocks, format="csr")
    return x.toarray() if x.shape[1] <= 512 else x


def _nearest(ref: Any, query: Any, n_cols: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=1, metric="manhattan", algorithm="brute").fit(ref)
    return nn.kneighbors(query, return_distance=True)[0][:, 0] / n_cols


def _row_hashes(cols: Mapping[str, _Col], frame: int) -> np.ndarray:
    """A hash of each row's values (numbers rounded to 1e-9 of the train range, missing as missing)."""
    pd = _pd()
    parts = {}
    for name, col in cols.items():
        v = col.values[frame]
        if col.continuous:
            v = np.round((v - col.lo) / (col.span if col.span > 0 else 1.0), 9) + 0.0  # + 0.0: -0.0 -> 0.0
        parts[name] = v
    return pd.util.hash_pandas_object(pd.DataFrame(parts), index=False).to_numpy()


def privacy(
    train: Any,
    synthetic: Any,
    holdout: Any,
    columns: Mapping[str, str] | None = None,
    *,
    seed: int = 0,
    max_rows: int = 5000,
) -> dict[str, Any]:
    """How close synthetic rows are to the rows the generator was trained on, against a real holdout baseline.

    Distance between rows (SDMetrics' DCR distance): the mean over columns of a per-column difference in
    [0, 1], for a numerical / datetime column :math:`|u - u'|` with values min-max scaled by the *train*
    column's range and clipped to [0, 1] (1 if one cell is missing, 0 if both are), for a categorical /
    boolean column 0 if equal and 1 otherwise (missing is a category). It is an L1 distance on an embedding
    of the rows, searched with scikit-learn's brute-force ``NearestNeighbors``. SDMetrics' ``calculate_dcr``
    caps :math:`|x - x'| / \\mathrm{range}` at 1 instead of clipping the values, so for a value outside the
    train range the distance here is smaller (a lower bound: it errs towards "too close"); the two agree
    wherever both values lie within the range.

    - DCR: the distance of each synthetic row, and of each holdout row, to its closest train row; their
      medians and 5th percentiles, and ``dcr_ratio`` = median(synthetic -> train) / median(holdout -> train).
      Near 1: synthetic rows are no closer to the training rows than unseen real rows are; near 0: copies.
    - ``exact_copy_rate``: the fraction of synthetic rows equal to some train row (every value equal, numbers
      to 1e-9 of the train range), over all rows; ``holdout_copy_rate`` is the same for holdout rows, the
      rate to expect by chance (tables of few discrete values have duplicates).
    - ``mia_auc``: a membership-inference attack that scores a row by minus its distance to the closest
      synthetic row; the ROC AUC of telling train rows (members) from as many holdout rows (non-members).
      0.5: no leak that this attack sees; 1: the synthetic table gives the training rows away.

    Train, synthetic and holdout rows are each subsampled (with ``seed``) to ``max_rows`` rows for the
    distances, which makes a DCR larger than against every train row; ratios compare like with like. These
    are empirical checks against simple attacks, not a privacy guarantee, and not differential privacy: a
    ratio near 1 does not prove that no individual can be recovered.

    Returns:
        ``{"dcr_synthetic_median", "dcr_synthetic_p05", "dcr_holdout_median", "dcr_holdout_p05", "dcr_ratio",
        "exact_copy_rate", "holdout_copy_rate", "mia_auc", "n_train", "n_synthetic", "n_holdout"}`` (the
        ``n_`` counts are the rows used for the distances; ``dcr_ratio`` is None when the holdout median is 0).

    Raises:
        DataError: an empty frame or a missing column.
    """
    from sklearn.metrics import roc_auc_score

    if max_rows < 1:
        raise ConfigError(f"max_rows must be >= 1, got {max_rows}")
    frames = {"train": train, "synthetic": synthetic, "holdout": holdout}
    kinds = _check_frames(frames, columns)
    cols = _encode(frames, kinds)
    for col in cols.values():
        if col.continuous:
            t = col.values[0][~np.isnan(col.values[0])]
            if len(t):
                col.lo, col.span = float(t.min()), float(t.max() - t.min())
    train_hash = _row_hashes(cols, 0)
    copy_rate = float(np.isin(_row_hashes(cols, 1), train_hash).mean())
    holdout_copy_rate = float(np.isin(_row_hashes(cols, 2), train_hash).mean())

    rng = np.random.default_rng(seed)
    rows = [_subsample(len(f), max_rows, rng) for f in (train, synthetic, holdout)]
    emb = [_row_embedding(cols, i, r) for i, r in enumerate(rows)]
    k = len(cols)
    d_syn = _nearest(emb[0], emb[1], k)
    d_hold = _nearest(emb[0], emb[2], k)
    m = min(len(rows[0]), len(rows[2]))
    members = emb[0][_subsample(len(rows[0]), m, rng)]
    non_members = emb[2][_subsample(len(rows[2]), m, rng)]
    to_syn = _nearest(emb[1], members, k), _nearest(emb[1], non_members, k)
    mia = float(roc_auc_score(np.r_[np.ones(m), np.zeros(m)], -np.concatenate(to_syn)))
    med_syn, med_hold = float(np.median(d_syn)), float(np.median(d_hold))
    return {
        "dcr_synthetic_median": med_syn,
        "dcr_synthetic_p05": float(np.percentile(d_syn, 5)),
        "dcr_holdout_median": med_hold,
        "dcr_holdout_p05": float(np.percentile(d_hold, 5)),
        "dcr_ratio": med_syn / med_hold if med_hold > 0 else None,
        "exact_copy_rate": copy_rate,
        "holdout_copy_rate": holdout_copy_rate,
        "mia_auc": mia,
        "n_train": len(rows[0]),
        "n_synthetic": len(rows[1]),
        "n_holdout": len(rows[2]),
    }


__all__ = [
    "CONTINUOUS_KINDS",
    "KINDS",
    "DetectionResult",
    "PairTrend",
    "QualityReport",
    "column_kinds",
    "column_pair_trends",
    "column_shapes",
    "detection_score",
    "ks_statistic",
    "privacy",
    "quality_score",
    "tstr",
]
