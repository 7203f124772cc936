"""Columns of the table metrics: kinds, frame checks and one shared encoding of every frame.

Every score of :mod:`genlab.metrics.tabular` checks its frames with :func:`_check_frames` and encodes them
with :func:`_encode`: continuous columns (numerical, datetime) as float64 with NaN for a missing cell,
datetimes as nanoseconds since 1970; discrete columns (categorical, boolean) as int64 codes shared across the
frames, a missing cell being the last code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ConfigError, DataError

KINDS = ("numerical", "categorical", "datetime", "boolean")
CONTINUOUS_KINDS = ("numerical", "datetime")


def _pd():
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas comes with the table extras
        raise DataError("genlab's table metrics need pandas: pip install pandas") from exc
    return pd


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
