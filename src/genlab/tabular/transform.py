r"""The table transform: a DataFrame <-> the float matrix the table models learn from, written once.

Two representations of the same columns (``representation=``):

``"modes"`` (CTGAN's mode-specific normalization, used by ``ctgan`` and ``tvae``)
    A numerical (or datetime) column gets a variational Gaussian mixture (scikit-learn's
    ``BayesianGaussianMixture`` with a Dirichlet-process prior, at most ``max_modes`` components; modes with
    weight below 0.005 are dropped). A value :math:`v` becomes a one-hot *mode* :math:`\beta` (the mode drawn from
    its posterior :math:`p(k \mid v) \propto w_k N(v; \mu_k, \sigma_k)`) and a scalar within the mode,
    :math:`\alpha = (v - \mu_k) / (4 \sigma_k)` clipped to :math:`[-0.99, 0.99]`: layout tokens ``t`` (the scalar,
    a tanh output) and ``m<K>`` (the mode, a softmax over K). A categorical or boolean column is a one-hot ``d<K>``.
``"columns"`` (one value per column, used by ``gaussian_copula``)
    A numerical column is its standardized value (token ``c``), a categorical one its integer code (``i<K>``).

Missing values are modelled, not imputed away: a numerical column with missing cells gets a two-way indicator
(``n2`` / ``i2``; its value slot holds a random observed value in those rows), and a categorical column gets a
"missing" level after its categories. So synthetic data has the real table's missingness.

Decoding undoes all of it: the mode's mixture component, the arg-max of every one-hot part, then the column's
bounds (``keep_bounds``: min / max of the training column), its rounding (integer columns come back as integers,
floats with the number of decimals the data had, datetimes at their resolution) and its dtype (``int64``,
``float64``, ``Int64``, ``bool``, pandas ``category`` with the same categories and order, ``str``,
``datetime64``...). Columns that are not modelled (``constant``, ``empty``, ``id``; see
:mod:`genlab.tabular.schema`) are re-created. The transform is plain JSON (:meth:`TableTransform.to_dict`), saved
in the model directory's ``meta.json`` with the data's description, so a model loads with its own transform.

References:
    Xu, L., Skoularidou, M., Cuesta-Infante, A. & Veeramachaneni, K. (2019). Modeling Tabular Data using
    Conditional GAN. NeurIPS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._device import to_numpy
from ..config import MAX_SAMPLE_SIZE, MAX_WIDTH
from ..errors import DataError
from ._columns import (
    _NS,
    Column,
    _check_column,
    _fit_categorical,
    _fit_numeric,
    _is_missing,
    _json_value,
    _key,
    _numbers,
    _restore,
)
from .schema import _pandas, check_table, infer_columns

REPRESENTATIONS = ("modes", "columns")
_TOKEN = re.compile(r"^(t|c|[mdni][1-9][0-9]*)$")


@dataclass(frozen=True)
class Span:
    """A part of an encoded row: ``kind`` (``t``, ``c``, ``m``, ``d``, ``n``, ``i``), where it starts, its width."""

    kind: str
    start: int
    width: int

    @property
    def stop(self) -> int:
        return self.start + self.width


def parse_layout(layout: str) -> list[Span]:
    """The spans of a layout string such as ``"t m3 d4"`` (widths: ``t``/``c``/``i<K>`` 1, the others K).

    Raises:
        DataError: a token that is not one of ``t``, ``c``, ``m<K>``, ``d<K>``, ``n<K>``, ``i<K>``.
    """
    spans, start = [], 0
    for tok in layout.split():
        if not _TOKEN.match(tok):
            raise DataError(f"bad layout token {tok!r} in {layout!r}: use t, c, m<K>, d<K>, n<K> or i<K>")
        kind = tok[0]
        k = int(tok[1:]) if len(tok) > 1 else 1
        if k > MAX_WIDTH:
            raise DataError(f"layout token {tok!r} has more than {MAX_WIDTH} levels")
        width = 1 if kind in "tci" else k
        spans.append(Span(kind, start, width))
        start += width
    return spans


def layout_width(layout: str) -> int:
    return sum(s.width for s in parse_layout(layout))


class TableTransform:
    """A fitted DataFrame <-> matrix transform (see the module docstring).

    Build one with :meth:`fit`; :meth:`encode` gives the ``(N, D)`` float32 matrix, :meth:`decode` the table back;
    :meth:`to_dict` / :meth:`from_dict` round-trip it through JSON.

    Attributes:
        columns: every column of the table, in order (modelled or not).
        representation: ``"modes"`` or ``"columns"``.
        keep_bounds: decoded numbers are clipped to the training column's [min, max].
    """

    def __init__(self, columns: list[Column], representation: str, keep_bounds: bool = True) -> None:
        self.columns = columns
        self.representation = representation
        self.keep_bounds = keep_bounds

    # --- fitting -----------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        df: Any,
        *,
        representation: str = "modes",
        columns: dict[str, str] | None = None,
        discrete_columns: list[str] | None = None,
        max_modes: int = 10,
        mixture_rows: int | None = 20_000,
        keep_bounds: bool = True,
        seed: int = 0,
        what: str = "the table",
    ) -> TableTransform:
        """Fit the transform to the table ``df``.

        Args:
            df: a pandas DataFrame.
            representation: ``"modes"`` (mixtures; ctgan, tvae) or ``"columns"`` (gaussian_copula).
            columns: ``{name: kind}`` overriding the inferred kinds (:func:`~genlab.tabular.schema.infer_columns`).
            discrete_columns: columns to model as categorical.
            max_modes: mixture components per numerical column (modes representation).
            mixture_rows: each mixture is fitted on at most this many rows (drawn with ``seed``); ``None``: all.
            keep_bounds: clip decoded numbers to the training column's range.
            seed: seeds the mixtures' initialisation and the row subsample.
            what: how messages name the table.

        Raises:
            DataError: a table with no rows or columns, nothing left to model, a column mixing types; see
                :func:`~genlab.tabular.schema.infer_columns`.
        """
        if representation not in REPRESENTATIONS:
            raise DataError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
        if not 1 <= int(max_modes) <= 100:
            raise DataError(f"max_modes must be in 1..100, got {max_modes}")
        check_table(df, what)
        kinds = infer_columns(df, discrete_columns=discrete_columns, metadata=columns, what=what)
        if not any(k in ("numerical", "categorical", "boolean", "datetime") for k in kinds.values()):
            raise DataError(
                f"{what} has no column to model: every column is constant, empty or an ID ({kinds}); "
                "nothing is left to learn"
            )
        rng = np.random.default_rng(seed)
        out = []
        for (name, kind), col in zip(kinds.items(), df.columns, strict=True):
            s = df[col]
            spec = Column(name=name, kind=kind, dtype=str(s.dtype), missing=float(s.isna().mean()))
            if kind in ("numerical", "datetime"):
                _fit_numeric(spec, s, representation, max_modes, mixture_rows, rng, seed)
            elif kind in ("categorical", "boolean"):
                _fit_categorical(spec, s)
            elif kind == "constant":
                spec.constant = _json_value(s.dropna().iloc[0])
            elif kind == "id" and _pandas().api.types.is_numeric_dtype(s.dtype):
                spec.bounds = [float(s.min()), float(s.max())]
            out.append(spec)
        t = cls(out, representation, keep_bounds)
        width = t.width
        if width > MAX_SAMPLE_SIZE:
            raise DataError(f"{what} encodes to {width} values per row, above genlab's {MAX_SAMPLE_SIZE}")
        return t

    # --- layout ------------------------------------------------------------------------------------
    @property
    def layout(self) -> str:
        """The encoded row's parts, e.g. ``"t m3 d4"`` (see :func:`parse_layout`)."""
        return " ".join(tok for c in self.columns for tok in c.tokens(self.representation))

    @property
    def width(self) -> int:
        return layout_width(self.layout)

    @property
    def modelled(self) -> list[Column]:
        return [c for c in self.columns if c.tokens(self.representation)]

    def column_spans(self) -> dict[str, list[Span]]:
        """Each modelled column's spans in the encoded row."""
        spans = iter(parse_layout(self.layout))
        return {c.name: [next(spans) for _ in c.tokens(self.representation)] for c in self.modelled}

    def kinds(self) -> dict[str, str]:
        """``{column: kind}`` for every column (the metadata a metrics call takes)."""
        return {c.name: c.kind for c in self.columns}

    def discrete_code(self, column: str, value: Any) -> tuple[Span, int]:
        """The span of a categorical / boolean column and the code of ``value`` in it (for conditions).

        Raises:
            DataError: not a modelled discrete column, or a value it never had (the message lists its levels).
        """
        spec = {c.name: c for c in self.columns}.get(column)
        if spec is None:
            raise DataError(f"no column {column!r}; columns: {[c.name for c in self.columns]}")
        if spec.kind not in ("categorical", "boolean"):
            raise DataError(
                f"conditions apply to categorical or boolean columns; {column!r} is {spec.kind}"
                + (" (sample freely and filter on it)" if spec.kind == "numerical" else "")
            )
        span = self.column_spans()[column][0]
        cats = spec.categories or []
        if _is_missing(value):
            if not spec.has_missing:
                raise DataError(f"column {column!r} had no missing values to condition on")
            return span, len(cats)
        value = _json_value(value)
        for code, cat in enumerate(cats):
            if cat == value or str(cat) == str(value):
                return span, code
        shown = ", ".join(map(repr, cats[:20])) + (" ..." if len(cats) > 20 else "")
        raise DataError(f"column {column!r} has no category {value!r}; its categories: {shown}")

    # --- encode / decode ---------------------------------------------------------------------------
    def encode(self, df: Any, seed: int = 0, dtype: Any = np.float32, placeholders: bool = False) -> np.ndarray:
        """The ``(N, D)`` matrix of ``df`` (its columns as at :meth:`fit`; modes are drawn with ``seed``).

        float32 (the models' precision) keeps about 7 significant digits of a value relative to its mode's
        spread; ``dtype=np.float64`` round-trips exactly (but for values beyond 3.96 standard deviations of
        their mode, whose scalar is clipped to 0.99, as in CTGAN). ``placeholders=True`` accepts missing cells
        anywhere (cells to be filled by a model, as in ``sample_remaining``) and encodes them with placeholder
        values.

        Raises:
            DataError: a column is missing, or holds a category the transform was not fitted on.
        """
        names = [c.name for c in self.columns]
        absent = [n for n in names if n not in [str(c) for c in df.columns]]
        if absent:
            raise DataError(f"the table lacks the column(s) {absent} this transform was fitted on")
        rng = np.random.default_rng(seed)
        parts = []
        for spec in self.modelled:
            s = df[spec.name] if spec.name in df.columns else df[next(c for c in df.columns if str(c) == spec.name)]
            if spec.kind in ("numerical", "datetime"):
                parts.extend(self._encode_numeric(spec, s, rng, placeholders))
            else:
                parts.append(self._encode_categorical(spec, s, placeholders))
        return np.concatenate(parts, axis=1).astype(dtype) if parts else np.zeros((len(df), 0), dtype)

    def _encode_numeric(
        self, spec: Column, s: Any, rng: np.random.Generator, placeholders: bool = False
    ) -> list[np.ndarray]:
        v = _numbers(s, spec)
        miss = np.isnan(v)
        if miss.any():
            observed = v[~miss]
            if not len(observed) and not placeholders:
                raise DataError(f"column {spec.name!r} has no values to encode")
            v = v.copy()
            v[miss] = rng.choice(observed, size=int(miss.sum())) if len(observed) else spec.center
        out = []
        if self.representation == "modes":
            w, mu, sd = (np.asarray(a, np.float64) for a in (spec.weights, spec.means, spec.stds))
            logp = np.log(w)[None] - np.log(sd)[None] - 0.5 * ((v[:, None] - mu[None]) / sd[None]) ** 2
            gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=logp.shape)))
            k = np.argmax(logp + gumbel, axis=1)
            alpha = np.clip((v - mu[k]) / (4 * sd[k]), -0.99, 0.99)
            out += [alpha[:, None], np.eye(len(w), dtype=np.float64)[k]]
        else:
            out.append(((v - spec.center) / spec.scale)[:, None])
        if spec.has_missing:
            ind = miss.astype(np.int64)
            out.append(np.eye(2)[ind] if self.representation == "modes" else ind[:, None].astype(np.float64))
        return out

    def _encode_categorical(self, spec: Column, s: Any, placeholders: bool = False) -> np.ndarray:
        cats = spec.categories or []
        index = {_key(c): i for i, c in enumerate(cats)}
        miss = s.isna().to_numpy()
        codes = np.empty(len(s), dtype=np.int64)
        values = s.to_numpy(dtype=object)
        for i, (v, m) in enumerate(zip(values, miss, strict=True)):
            if m and placeholders:
                codes[i] = 0
            elif m:
                if not spec.has_missing:
                    raise DataError(f"column {spec.name!r} has missing values, which the transform never saw")
                codes[i] = len(cats)
            else:
                code = index.get(_key(_json_value(v)))
                if code is None:
                    raise DataError(f"column {spec.name!r} holds {v!r}, a category the transform was not fitted on")
                codes[i] = code
        k = len(cats) + spec.has_missing
        if self.representation == "modes":
            return np.eye(k, dtype=np.float64)[codes]
        return codes[:, None].astype(np.float64)

    def decode(self, x: Any, seed: int = 0) -> Any:
        """The table of encoded rows ``x`` ``(N, D)`` (model outputs: one-hot parts may be soft; arg-max is taken).

        ``seed`` draws the missing cells of constant columns and nothing else.
        """
        pd = _pandas()
        x = np.asarray(to_numpy(x) if hasattr(x, "detach") else x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.width:
            raise DataError(f"decode takes rows of {self.width} values (layout {self.layout!r}), got {x.shape}")
        n = len(x)
        rng = np.random.default_rng(seed)
        spans = self.column_spans()
        data = {}
        for spec in self.columns:
            if spec.name in spans:
                sp = spans[spec.name]
                if spec.kind in ("numerical", "datetime"):
                    data[spec.name] = self._decode_numeric(spec, x, sp)
                else:
                    data[spec.name] = self._decode_categorical(spec, x, sp[0])
            elif spec.kind == "constant":
                values = np.array([spec.constant] * n, dtype=object)
                if spec.has_missing:
                    values[rng.random(n) < spec.missing] = None
                data[spec.name] = _restore(pd.Series(values), spec)
            elif spec.kind == "empty":
                data[spec.name] = _restore(pd.Series([None] * n, dtype=object), spec)
            else:  # id: fresh identifiers that never collide with the training table's numeric ones
                if spec.bounds is not None:
                    ids = pd.Series(np.arange(n, dtype=np.int64) + int(spec.bounds[1]) + 1)
                else:
                    ids = pd.Series([f"synthetic-{i:0{max(6, len(str(n)))}d}" for i in range(n)], dtype=object)
                data[spec.name] = _restore(ids, spec)
        return pd.DataFrame(data, columns=[c.name for c in self.columns])

    def _decode_numeric(self, spec: Column, x: np.ndarray, spans: list[Span]) -> Any:
        pd = _pandas()
        if self.representation == "modes":
            alpha = np.clip(x[:, spans[0].start], -1.0, 1.0)
            k = np.argmax(x[:, spans[1].start : spans[1].stop], axis=1)
            v = alpha * 4 * np.asarray(spec.stds)[k] + np.asarray(spec.means)[k]
        else:
            v = x[:, spans[0].start] * spec.scale + spec.center
        if self.keep_bounds and spec.bounds is not None:
            v = np.clip(v, spec.bounds[0], spec.bounds[1])
        if spec.kind == "datetime":
            v = np.round(v / spec.resolution) * spec.resolution
        elif spec.integer:
            v = np.round(v)
        elif spec.decimals is not None:
            v = np.round(v, spec.decimals)
        if spec.has_missing:
            ind = spans[-1]
            miss = (
                np.argmax(x[:, ind.start : ind.stop], axis=1) == 1
                if self.representation == "modes"
                else np.round(x[:, ind.start]) >= 1
            )
            v = np.where(miss, np.nan, v)
        if spec.kind == "datetime":
            nat = np.isnan(v)
            t = pd.to_datetime(pd.Series(np.where(nat, 0, v).astype(np.int64)), unit="ns")
            t[nat] = pd.NaT
            if spec.text_dates:
                fmt = "%Y-%m-%d" if spec.resolution % _NS["D"] == 0 else "%Y-%m-%dT%H:%M:%S"
                return _restore(t.dt.strftime(fmt).where(~nat, None), spec)
            return _restore(t, spec)
        return _restore(pd.Series(v), spec)

    def _decode_categorical(self, spec: Column, x: np.ndarray, span: Span) -> Any:
        pd = _pandas()
        cats = list(spec.categories or [])
        k = len(cats) + spec.has_missing
        if self.representation == "modes":
            codes = np.argmax(x[:, span.start : span.stop], axis=1)
        else:
            codes = np.clip(np.round(x[:, span.start]), 0, k - 1).astype(np.int64)
        table = np.array([*cats, None] if spec.has_missing else cats, dtype=object)
        return _restore(pd.Series(table[codes], dtype=object), spec)

    # --- JSON --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "representation": self.representation,
            "keep_bounds": self.keep_bounds,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "table") -> TableTransform:
        """Rebuild a transform from :meth:`to_dict`'s form, checked strictly.

        Raises:
            DataError: naming ``where`` and the bad entry.
        """

        def bad(msg: str) -> DataError:
            return DataError(f"{where}: {msg}")

        if not isinstance(d, dict) or set(d) != {"representation", "keep_bounds", "columns"}:
            raise bad("must be an object with representation, keep_bounds and columns")
        if d["representation"] not in REPRESENTATIONS or not isinstance(d["keep_bounds"], bool):
            raise bad(f"bad representation {d['representation']!r} or keep_bounds {d['keep_bounds']!r}")
        cols = d["columns"]
        if not isinstance(cols, list) or not 1 <= len(cols) <= MAX_WIDTH:
            raise bad(f"columns must be a list of 1..{MAX_WIDTH} column objects")
        fields = Column.__dataclass_fields__
        out = []
        for i, c in enumerate(cols):
            if not isinstance(c, dict) or set(c) - set(fields) or not {"name", "kind", "dtype"} <= set(c):
                raise bad(f"column {i} must be an object with name, kind, dtype and the known entries")
            try:
                spec = Column(**c)
                _check_column(spec, d["representation"])
            except (TypeError, ValueError) as exc:
                raise bad(f"column {i} ({c.get('name')!r}) is invalid: {exc}") from exc
            out.append(spec)
        return cls(out, d["representation"], d["keep_bounds"])

    def __repr__(self) -> str:
        kinds = ", ".join(f"{c.name}: {c.kind}" for c in self.columns)
        return f"TableTransform({self.representation}, width {self.width}; {kinds})"


__all__ = ["REPRESENTATIONS", "Column", "Span", "TableTransform", "layout_width", "parse_layout"]
