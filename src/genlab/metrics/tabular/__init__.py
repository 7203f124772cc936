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

from ._columns import CONTINUOUS_KINDS, KINDS, column_kinds
from .disclosure import privacy
from .fidelity import KS_DECIMALS as KS_DECIMALS  # public, though not in __all__ (as before the split)
from .fidelity import (
    PairTrend,
    QualityReport,
    column_pair_trends,
    column_shapes,
    ks_statistic,
    quality_score,
)
from .utility import DetectionResult, detection_score, tstr

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
