"""Reading a table and deciding what each column is.

:func:`read_table` reads a CSV or Parquet file with pandas (or takes a DataFrame as it is) and turns broken
input into a :class:`~genlab.errors.DataError` naming the file, the column and the fix. :func:`infer_columns`
gives every column one *kind*:

- ``numerical``: numbers (floats or integers; integer-valued columns come back as integers);
- ``datetime``: timestamps (``datetime64`` columns, or text columns in ISO 8601 form such as ``2024-01-31``);
- ``categorical``: text, pandas categories, and numeric columns named in ``discrete_columns``;
- ``boolean``: ``bool`` columns (modelled like a two-level categorical);
- ``constant``: one value in every row (plus, maybe, missing cells): not modelled, copied to every synthetic
  row (with the column's share of missing cells);
- ``empty``: no values at all: not modelled, all missing in the synthetic table;
- ``id``: text with (nearly) one value per row, such as a customer ID: not modelled (there is nothing to learn
  from it, and copying it would leak rows); synthetic rows get fresh unique identifiers.

Each decision other than the first four is announced with a :class:`~genlab.errors.TableWarning` naming the
column. ``metadata={"column": "kind"}`` (or ``discrete_columns=[...]``) overrides the inference.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, TableWarning

KINDS = ("numerical", "categorical", "boolean", "datetime", "constant", "empty", "id")
MODELLED_KINDS = ("numerical", "categorical", "boolean", "datetime")
MAX_CATEGORIES = 10_000
"""The most levels a categorical column may have (an ID-like column above it is excluded with a warning)."""
ID_MIN_LEVELS = 50
"""A text column is an ID column when it has at least this many levels and more levels than half the rows."""
MISSING_STRINGS = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none", "n/a", "#N/A", "-nan")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def _pandas():
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is a dependency
        raise DataError("genlab's tables need pandas: pip install pandas") from exc
    return pd


def read_table(data: Any, *, file_encoding: str = "utf-8", sep: str | None = None) -> Any:
    """A pandas DataFrame from a DataFrame (copied), or the path of a ``.csv`` / ``.tsv`` / ``.parquet`` file.

    CSV cells ``NA``, ``N/A``, ``NaN``, ``null``, ``None`` and empty cells are missing values. Text columns keep
    their text; pandas' own number parsing applies to the others.

    Args:
        data: a DataFrame or a file path.
        file_encoding: the CSV file's text encoding (``"latin-1"``, ``"cp1252"``... for files not in UTF-8).
        sep: the CSV field separator; ``None`` detects ``,`` / ``;`` / tab from the first line.

    Raises:
        DataError: not a table, a missing or unreadable file, text that is not in ``file_encoding``, malformed
            CSV, an unsupported file type.
    """
    pd = _pandas()
    if isinstance(data, pd.DataFrame):
        return data.copy()
    if isinstance(data, Mapping):
        return pd.DataFrame(dict(data))
    if not isinstance(data, (str, os.PathLike)):
        raise DataError(
            f"a table is a pandas DataFrame or the path of a .csv or .parquet file, got {type(data).__name__}"
        )
    path = Path(data)
    if not path.is_file():
        raise DataError(f"table file {path} does not exist" + (" (it is a directory)" if path.is_dir() else ""))
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise DataError(f"reading {path} needs a Parquet engine: pip install pyarrow") from exc
        except Exception as exc:  # pyarrow raises its own error types for corrupt files
            raise DataError(f"{path} is not a readable Parquet file ({type(exc).__name__}: {exc})") from exc
    if suffix not in (".csv", ".tsv", ".txt"):
        raise DataError(f"cannot read {path} as a table: use a .csv, .tsv or .parquet file")
    if sep is None:
        sep = "\t" if suffix == ".tsv" else _sniff_separator(path, file_encoding)
    try:
        return pd.read_csv(
            path, sep=sep, encoding=file_encoding, na_values=list(MISSING_STRINGS), keep_default_na=False
        )
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not {file_encoding} text (byte {exc.start}: {exc.reason}); save it as UTF-8, or pass its "
            "encoding, e.g. file_encoding='latin-1' (CLI: --data-opt file_encoding=latin-1)"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty: a table needs a header row and at least one row of data") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{path} is not valid CSV ({str(exc).strip()}); every row needs the same fields") from exc
    except LookupError as exc:
        raise DataError(f"unknown text encoding {file_encoding!r}: {exc}") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _sniff_separator(path: Path, file_encoding: str) -> str:
    try:
        with open(path, encoding=file_encoding, errors="replace") as fh:
            first = fh.readline()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    counts = {s: first.count(s) for s in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def check_table(df: Any, what: str = "the table") -> None:
    """Raise :class:`DataError` for a table genlab cannot model at all: no rows, no columns, duplicate or
    non-string column names."""
    if df.shape[1] == 0:
        raise DataError(f"{what} has no columns; a table needs at least one")
    if df.shape[0] == 0:
        raise DataError(f"{what} has no rows (columns: {', '.join(map(str, df.columns[:8]))}); it needs data")
    names = [str(c) for c in df.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"{what} has duplicate column names {dupes}; rename them so that each is unique")


def infer_columns(
    df: Any,
    *,
    discrete_columns: Iterable[str] | None = None,
    metadata: Mapping[str, str] | None = None,
    what: str = "the table",
) -> dict[str, str]:
    """The kind of every column of ``df`` (see the module docstring), in column order.

    Args:
        df: the table.
        discrete_columns: columns to model as categorical whatever their type (e.g. integer codes).
        metadata: ``{column: kind}`` for any columns, taking precedence over everything else.
        what: how messages name the table.

    Raises:
        DataError: an unknown column or kind in ``metadata`` / ``discrete_columns``; a column mixing types
            (e.g. numbers and text in one object column); a declared kind that does not fit the values.
    """
    check_table(df, what)
    names = [str(c) for c in df.columns]
    declared: dict[str, str] = {}
    for col in discrete_columns or ():
        declared[str(col)] = "categorical"
    for col, kind in (metadata or {}).items():
        if kind not in KINDS:
            raise DataError(f"metadata gives column {col!r} the kind {kind!r}; kinds are {', '.join(KINDS)}")
        declared[str(col)] = kind
    unknown = [c for c in declared if c not in names]
    if unknown:
        raise DataError(f"{what} has no column(s) {unknown} (named in discrete_columns / metadata); columns: {names}")
    out = {}
    for name, col in zip(names, df.columns, strict=True):
        out[name] = _kind(df[col], name, declared.get(name), what)
    return out


def _kind(s: Any, name: str, declared: str | None, what: str) -> str:
    pd = _pandas()
    values = s.dropna()
    if declared in ("constant", "empty", "id"):
        return declared
    if len(values) == 0:
        warnings.warn(
            f"column {name!r} of {what} has no values (all missing): it is not modelled and stays empty in the "
            "synthetic table",
            TableWarning,
            stacklevel=4,
        )
        return "empty"
    if s.dtype == object:
        _check_one_type(values, name, what)
    n_unique = int(values.nunique())
    if n_unique == 1 and declared is None:
        warnings.warn(
            f"column {name!r} of {what} holds one value ({values.iloc[0]!r}) in every row: it is not modelled, the "
            "synthetic rows copy it" + (" (with the same share of missing cells)" if s.isna().any() else ""),
            TableWarning,
            stacklevel=4,
        )
        return "constant"
    if declared is not None:
        if declared in ("numerical", "datetime"):
            _check_convertible(s, values, name, declared, what)
        if declared == "boolean" and n_unique > 2:
            raise DataError(f"column {name!r} is declared boolean but holds {n_unique} distinct values")
        if declared == "categorical" and n_unique > MAX_CATEGORIES:
            raise DataError(
                f"column {name!r} is declared categorical but has {n_unique} levels (at most {MAX_CATEGORIES}); "
                "bin it, or declare it 'id' to leave it out"
            )
        return declared
    if pd.api.types.is_bool_dtype(s.dtype) or (s.dtype == object and all(isinstance(v, bool) for v in values)):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        if not np.isfinite(values.to_numpy(dtype=np.float64)).all():
            raise DataError(f"column {name!r} of {what} holds infinite values; remove or clip them")
        return "numerical"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    text = values.astype(str)
    if text.str.match(_ISO_DATE).all():
        try:
            pd.to_datetime(text, format="ISO8601")
            return "datetime"
        except (ValueError, TypeError):
            pass
    if n_unique > MAX_CATEGORIES or (n_unique >= ID_MIN_LEVELS and n_unique > len(values) / 2):
        warnings.warn(
            f"column {name!r} of {what} looks like an identifier ({n_unique} distinct values in {len(values)} "
            "rows): it is not modelled and synthetic rows get new unique IDs; declare it "
            "(metadata={'%s': 'categorical'}) to model it" % name,
            TableWarning,
            stacklevel=4,
        )
        return "id"
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().mean() >= 0.9:
        bad = text[numeric.isna()]
        warnings.warn(
            f"column {name!r} of {what} is mostly numbers but holds text such as {bad.iloc[0]!r} "
            f"(row {bad.index[0]}): it is modelled as categorical; clean the text or mark it missing to model "
            "it as numbers",
            TableWarning,
            stacklevel=4,
        )
    return "categorical"


def _check_one_type(values: Any, name: str, what: str) -> None:
    """An object column must hold one kind of value: text, numbers or booleans (not a mixture)."""
    kinds: dict[str, Any] = {}
    for i, v in values.items():
        k = (
            "bool"
            if isinstance(v, (bool, np.bool_))
            else "number"
            if isinstance(v, (int, float, np.number))
            else ("text" if isinstance(v, str) else type(v).__name__)
        )
        kinds.setdefault(k, (i, v))
        if len(kinds) > 1:
            (ka, (ia, va)), (kb, (ib, vb)) = list(kinds.items())[:2]
            raise DataError(
                f"column {name!r} of {what} mixes {ka} and {kb} values ({va!r} in row {ia}, {vb!r} in row {ib}); "
                f"convert it to one type, e.g. df[{name!r}] = df[{name!r}].astype(str)"
            )


def _check_convertible(s: Any, values: Any, name: str, kind: str, what: str) -> None:
    pd = _pandas()
    if kind == "numerical":
        conv = pd.to_numeric(values, errors="coerce")
        what_it = "numbers"
    else:
        conv = (
            pd.to_datetime(values, errors="coerce", format="ISO8601")
            if not pd.api.types.is_datetime64_any_dtype(s.dtype)
            else values
        )
        what_it = "dates"
    bad = values[pd.isna(conv)]
    if len(bad):
        raise DataError(
            f"column {name!r} of {what} is declared {kind} but {bad.iloc[0]!r} (row {bad.index[0]}) is not one of "
            f"the {what_it} it needs; fix the value or declare the column categorical"
        )


__all__ = ["KINDS", "MAX_CATEGORIES", "MODELLED_KINDS", "check_table", "infer_columns", "read_table"]
