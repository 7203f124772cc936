"""Privacy of a synthetic table: distance to the closest record, exact copies and membership inference.

(Named ``disclosure`` rather than ``privacy`` so that the module does not shadow the function
:func:`genlab.metrics.tabular.privacy`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import ConfigError
from ._columns import _check_frames, _Col, _encode, _pd, _subsample


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
