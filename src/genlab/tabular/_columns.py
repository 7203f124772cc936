"""The columns of a :class:`~genlab.tabular.transform.TableTransform`: what is kept of each one (:class:`Column`),
how it is fitted (a Bayesian Gaussian mixture for numbers, the levels of a category), validated when read back
from JSON, and how decoded values get the column's dtype back."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .schema import KINDS, MAX_CATEGORIES, _pandas

MODE_WEIGHT_EPS = 0.005
MAX_DECIMALS = 6
_NS = {"D": 86_400 * 10**9, "h": 3_600 * 10**9, "min": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
"""Datetime resolutions, coarsest first: nanoseconds per unit."""


@dataclass
class Column:
    """One column of a fitted :class:`TableTransform` (JSON: :meth:`to_dict`)."""

    name: str
    kind: str
    dtype: str
    missing: float = 0.0  # share of missing cells in the training table
    categories: list[Any] | None = None  # categorical / boolean levels, in code order (missing excluded)
    ordered: bool = False  # a pandas ordered Categorical
    integer: bool = False
    decimals: int | None = None  # floats: round to this many decimals (None: no rounding)
    resolution: int = 1  # datetimes: nanoseconds per unit they were recorded at
    text_dates: bool = False  # datetimes read from text: written back as ISO text
    bounds: list[float] | None = None  # [min, max] of the values (datetimes in ns)
    constant: Any = None
    weights: list[float] = field(default_factory=list)  # mixture (modes representation)
    means: list[float] = field(default_factory=list)
    stds: list[float] = field(default_factory=list)
    center: float = 0.0  # standardization (columns representation)
    scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    @property
    def has_missing(self) -> bool:
        return self.missing > 0.0

    def tokens(self, representation: str) -> list[str]:
        if self.kind in ("numerical", "datetime"):
            if representation == "modes":
                return ["t", f"m{len(self.weights)}"] + (["n2"] if self.has_missing else [])
            return ["c"] + (["i2"] if self.has_missing else [])
        if self.kind in ("categorical", "boolean"):
            k = len(self.categories or ()) + self.has_missing
            return [f"d{k}" if representation == "modes" else f"i{k}"]
        return []


def _check_column(c: Column, representation: str) -> None:
    if not isinstance(c.name, str) or c.kind not in KINDS or not isinstance(c.dtype, str):
        raise ValueError("name and dtype must be strings and kind one of " + ", ".join(KINDS))
    if not (isinstance(c.missing, (int, float)) and 0.0 <= c.missing <= 1.0):
        raise ValueError(f"missing must be a share in [0, 1], got {c.missing!r}")
    if c.kind in ("categorical", "boolean") and (
        not isinstance(c.categories, list) or not 1 <= len(c.categories) <= MAX_CATEGORIES
    ):
        raise ValueError(f"categories must be a list of 1..{MAX_CATEGORIES} values")
    if c.kind in ("numerical", "datetime"):
        nums = [*c.weights, *c.means, *c.stds, c.center, c.scale, *(c.bounds or [])]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in nums):
            raise ValueError("mixture, scaling and bounds must be finite numbers")
        if representation == "modes" and not (1 <= len(c.weights) == len(c.means) == len(c.stds) <= 100):
            raise ValueError("the mixture needs 1..100 weights, means and stds of one length")
        if any(s <= 0 for s in c.stds) or any(w <= 0 for w in c.weights) or c.scale <= 0:
            raise ValueError("mixture weights, stds and the scale must be positive")
        if not isinstance(c.resolution, int) or c.resolution < 1:
            raise ValueError("resolution must be a positive integer")
        if c.decimals is not None and not (isinstance(c.decimals, int) and 0 <= c.decimals <= MAX_DECIMALS):
            raise ValueError(f"decimals must be null or 0..{MAX_DECIMALS}")


# --- fitting helpers ---------------------------------------------------------------------------------
def _numbers(s: Any, spec: Column) -> np.ndarray:
    """A numerical / datetime column as float64 (datetimes in ns since the epoch), NaN where missing."""
    pd = _pandas()
    if spec.kind == "datetime":
        t = s if pd.api.types.is_datetime64_any_dtype(s.dtype) else pd.to_datetime(s, format="ISO8601")
        if getattr(t.dt, "tz", None) is not None:
            t = t.dt.tz_convert("UTC").dt.tz_localize(None)
        t = t.astype("datetime64[ns]")
        ns = t.to_numpy().astype("datetime64[ns]").astype(np.int64).astype(np.float64)
        ns[t.isna().to_numpy()] = np.nan
        return ns
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _fit_numeric(
    spec: Column,
    s: Any,
    representation: str,
    max_modes: int,
    mixture_rows: int | None,
    rng: np.random.Generator,
    seed: int,
) -> None:
    pd = _pandas()
    v = _numbers(s, spec)
    observed = v[~np.isnan(v)]
    spec.bounds = [float(observed.min()), float(observed.max())]
    if spec.kind == "datetime":
        spec.text_dates = not pd.api.types.is_datetime64_any_dtype(s.dtype)
        ints = observed.astype(np.int64)
        spec.resolution = next((ns for ns in _NS.values() if np.all(ints % ns == 0)), 1)
    else:
        spec.integer = bool(pd.api.types.is_integer_dtype(s.dtype)) or bool(np.all(observed == np.round(observed)))
        if not spec.integer:
            spec.decimals = next(
                (
                    d
                    for d in range(1, MAX_DECIMALS + 1)
                    if np.allclose(observed, np.round(observed, d), rtol=0, atol=1e-9)
                ),
                None,
            )
    spec.center = float(observed.mean())
    spec.scale = float(observed.std()) or 1.0
    if representation != "modes":
        return
    fit_on = observed
    if mixture_rows is not None and len(fit_on) > mixture_rows:
        fit_on = rng.choice(fit_on, size=mixture_rows, replace=False)
    z = (fit_on - spec.center) / spec.scale  # the mixture is fitted on standardized values, then mapped back
    n_unique = len(np.unique(z))
    k = max(1, min(max_modes, n_unique))
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    bgm = BayesianGaussianMixture(
        n_components=k,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        n_init=1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bgm.fit(z.reshape(-1, 1))
    keep = bgm.weights_ > MODE_WEIGHT_EPS
    if not keep.any():
        keep = bgm.weights_ == bgm.weights_.max()
    w = bgm.weights_[keep]
    spec.weights = (w / w.sum()).tolist()
    spec.means = (bgm.means_[keep, 0] * spec.scale + spec.center).tolist()
    floor = 1e-3 * spec.scale  # a component on one repeated value would have std ~ 0
    spec.stds = np.maximum(np.sqrt(bgm.covariances_[keep].reshape(-1)) * spec.scale, floor).tolist()


def _fit_categorical(spec: Column, s: Any) -> None:
    pd = _pandas()
    if isinstance(s.dtype, pd.CategoricalDtype):
        spec.categories = [_json_value(c) for c in s.cat.categories]
        spec.ordered = bool(s.cat.ordered)
        return
    values = [_json_value(v) for v in pd.unique(s.dropna())]
    try:
        spec.categories = sorted(values)
    except TypeError:
        spec.categories = sorted(values, key=str)


def _json_value(v: Any) -> Any:
    """A category / constant as a JSON value (Python bool, int, float or str)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    return str(v)


def _key(v: Any) -> Any:
    return (type(v) is bool, v)


def _is_missing(v: Any) -> bool:
    pd = _pandas()
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _restore(s: Any, spec: Column) -> Any:
    """The decoded values with the column's original dtype (nullable where missing cells appear)."""
    pd = _pandas()
    dtype = spec.dtype
    if dtype == "category":
        return pd.Series(pd.Categorical(s, categories=spec.categories, ordered=spec.ordered))
    try:
        if dtype == "bool" and s.isna().any():
            return s.astype("boolean")
        if dtype.startswith(("int", "uint")) and s.isna().any():
            return s.astype("Int64")
        if dtype.startswith(("int", "uint")) and spec.kind in ("categorical", "boolean"):
            return s.astype(np.int64).astype(dtype)
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s
