"""Tabular data from ``.csv`` and ``.npy`` files: an ``(N, d)`` float32 tensor, optional labels.

CSV files hold numeric columns; a header row is detected (or forced with ``header=True/False``). Empty
cells and ``nan``, ``NA``, ``N/A``, ``null``, ``none`` (any case) are missing values, allowed only with
``allow_missing=True`` (they become NaN). ``label_column=`` (a header name or a column index) moves one
column out of the features into ``y``: integer codes are kept as they are, any other strings are mapped
to their sorted order and become ``info.class_names``.

``.npy`` files hold one 2-D numeric array (loaded with ``allow_pickle=False``).

By default values are returned as they are (``scale=None``) and ``info.value_range`` is their NaN-ignoring
min and max. ``scale="unit"`` / ``"symmetric"`` rescales each column by its own min and max to [0, 1] /
[-1, 1]; constant columns map to the low end.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from . import transforms
from ._common import check_bool, check_choice, did_you_mean
from .dataset import Dataset, DatasetInfo, check_samples

MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none"})
TABLE_SCALES = (None, "unit", "symmetric")


def load_csv(
    path: str | os.PathLike,
    *,
    label_column: str | int | None = None,
    header: bool | None = None,
    delimiter: str = ",",
    allow_missing: bool = False,
    scale: str | None = None,
) -> Dataset:
    """Load a numeric CSV file as ``(N, d)`` samples (see the module docstring).

    Args:
        path: the ``.csv`` file (UTF-8).
        label_column: header name or 0-based index (negative counts from the end) of a label column.
        header: whether the first row holds column names; ``None`` detects it (a first row with a
            non-numeric cell above a numeric one).
        delimiter: the field separator.
        allow_missing: keep missing values as NaN instead of raising.
        scale: ``None`` (as is), ``"unit"`` or ``"symmetric"`` (per-column min-max).

    Raises:
        DataError: unreadable file, ragged rows, no data, a non-numeric feature column (named), infinite
            values, missing values without ``allow_missing``, or a bad ``label_column``.
    """
    path = Path(path)
    check_choice("header", header, (None, True, False))
    check_bool("allow_missing", allow_missing)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DataError(f"delimiter must be a single character, got {delimiter!r}")
    rows, lines = _read_rows(path, delimiter)
    if header is None:
        header = _looks_like_header(rows)
    names = [c.strip() or f"column {j}" for j, c in enumerate(rows[0])] if header else None
    rows, lines = (rows[1:], lines[1:]) if header else (rows, lines)
    if not rows:
        raise DataError(f"{path} has a header but no data rows; add at least one row of numbers")
    cells = np.array(rows, dtype=str)
    names = names or [f"column {j}" for j in range(cells.shape[1])]
    y, class_names = None, None
    if label_column is not None:
        j = _label_index(label_column, names, header, path)
        y, class_names = _parse_labels(cells[:, j], names[j], lines, path)
        cells, names = np.delete(cells, j, axis=1), names[:j] + names[j + 1 :]
    if cells.shape[1] == 0:
        raise DataError(f"{path} has no feature columns besides the label column")
    x = np.stack([_parse_column(cells[:, j], names[j], lines, path) for j in range(cells.shape[1])], axis=1)
    return _table_dataset(x, y, class_names, names, path, allow_missing, scale, lines)


def load_npy(path: str | os.PathLike, *, allow_missing: bool = False, scale: str | None = None) -> Dataset:
    """Load a 2-D numeric ``.npy`` array as ``(N, d)`` samples.

    Args:
        path: the ``.npy`` file.
        allow_missing: keep NaNs instead of raising.
        scale: ``None`` (as is), ``"unit"`` or ``"symmetric"`` (per-column min-max).

    Raises:
        DataError: unreadable file, pickled objects, a non-numeric dtype, not exactly 2 dimensions,
            infinite values, or NaNs without ``allow_missing``.
    """
    path = Path(path)
    check_bool("allow_missing", allow_missing)
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{path} holds Python objects or is malformed ({exc}); save a plain numeric array") from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable .npy file ({exc}); it may be truncated, save it again") from exc
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        dtype = getattr(array, "dtype", type(array).__name__)
        raise DataError(f"{path} holds non-numeric data (dtype {dtype}); save a numeric (int/float) array")
    if array.ndim != 2:
        raise DataError(
            f"{path} holds a {array.ndim}-D array of shape {array.shape}, but a table must be 2-D "
            "(n_samples, n_features); reshape it first, e.g. a.reshape(len(a), -1) or a[:, None]"
        )
    names = [f"column {j}" for j in range(array.shape[1])]
    return _table_dataset(array.astype(np.float64), None, None, names, path, allow_missing, scale, None)


def _read_rows(path: Path, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows and their 1-based line numbers; all rows must have the same number of fields."""
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            for row in reader:
                if row and any(c.strip() for c in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not a UTF-8 text file ({exc}); save it as UTF-8 CSV") from exc
    except csv.Error as exc:
        raise DataError(f"{path} is not valid CSV ({exc})") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not rows:
        raise DataError(f"{path} is empty; a CSV needs at least one row of numbers")
    width = len(rows[0])
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            raise DataError(
                f"{path} line {line} has {len(row)} fields but the first row has {width}; every row needs "
                f"the same number of {delimiter!r}-separated fields (use empty cells for missing values)"
            )
    return rows, lines


def _kind(cell: str) -> str:
    """``"missing"``, ``"number"`` or ``"text"``."""
    s = cell.strip()
    if s.lower() in MISSING_TOKENS:
        return "missing"
    try:
        float(s)
    except ValueError:
        return "text"
    return "number"


def _looks_like_header(rows: list[list[str]]) -> bool:
    first = [_kind(c) for c in rows[0]]
    if all(k == "text" for k in first):
        return True
    if len(rows) < 2:
        return False
    return any(a == "text" and _kind(b) != "text" for a, b in zip(first, rows[1], strict=True))


def _label_index(label_column: str | int, names: list[str], header: bool, path: Path) -> int:
    if isinstance(label_column, bool) or not isinstance(label_column, str | int):
        raise DataError(f"label_column must be a column name or index, got {label_column!r}")
    if isinstance(label_column, int):
        if not -len(names) <= label_column < len(names):
            raise DataError(f"label_column={label_column} is out of range: {path} has {len(names)} columns")
        return label_column % len(names)
    if not header:
        raise DataError(f"label_column={label_column!r} is a name but {path} has no header row; pass the index")
    if label_column not in names:
        raise DataError(
            f"{path} has no column {label_column!r}{did_you_mean(label_column, names)}; columns: {', '.join(names)}"
        )
    return names.index(label_column)


def _parse_labels(column: np.ndarray, name: str, lines: list[int], path: Path) -> tuple[torch.Tensor, tuple[str, ...]]:
    values = [s.strip() for s in column.tolist()]
    missing = [i for i, s in enumerate(values) if s.lower() in MISSING_TOKENS]
    if missing:
        raise DataError(
            f"label column {name!r} of {path} has {len(missing)} missing value(s) (first at line "
            f"{lines[missing[0]]}); every row needs a label, or drop those rows"
        )
    codes = [_as_int(s) for s in values]
    if all(c is not None for c in codes):
        if min(codes) < 0:
            raise DataError(f"label column {name!r} of {path} has negative codes; use labels 0..K-1 or class names")
        return torch.tensor(codes, dtype=torch.int64), tuple(str(k) for k in range(max(codes) + 1))
    classes = sorted(set(values))
    index = {c: k for k, c in enumerate(classes)}
    return torch.tensor([index[s] for s in values], dtype=torch.int64), tuple(classes)


def _as_int(s: str) -> int | None:
    try:
        value = float(s)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _parse_column(column: np.ndarray, name: str, lines: list[int], path: Path) -> np.ndarray:
    stripped = np.char.strip(column)
    missing = np.isin(np.char.lower(stripped), list(MISSING_TOKENS))
    try:
        return np.where(missing, "nan", stripped).astype(np.float64)
    except ValueError:
        pass
    for i, cell in enumerate(stripped.tolist()):
        if not missing[i] and _kind(cell) == "text":
            raise DataError(
                f"column {name!r} of {path} is not numeric (line {lines[i]}: {cell!r}); if it holds labels "
                f"pass label_column={name!r}, otherwise drop it or encode it as numbers"
            )
    raise DataError(f"column {name!r} of {path} could not be read as numbers")  # pragma: no cover


def _table_dataset(
    x: np.ndarray,
    y: torch.Tensor | None,
    class_names: tuple[str, ...] | None,
    names: list[str],
    path: Path,
    allow_missing: bool,
    scale: str | None,
    lines: list[int] | None,
) -> Dataset:
    check_choice("scale", scale, TABLE_SCALES)

    def where(mask: np.ndarray) -> str:
        i, j = np.argwhere(mask)[0]
        return f"column {names[j]!r}, " + (f"line {lines[i]}" if lines is not None else f"row {i}")

    if np.isinf(x).any():
        raise DataError(
            f"{path} has {int(np.isinf(x).sum())} infinite value(s) (first in {where(np.isinf(x))}); "
            "remove or clip them"
        )
    nan = np.isnan(x)
    if nan.any() and not allow_missing:
        raise DataError(
            f"{path} has {int(nan.sum())} missing value(s) (empty cells, NaN or NA; first in {where(nan)}); "
            "pass allow_missing=True to keep them as NaN, or impute them first"
        )
    empty = nan.all(axis=0)
    if x.shape[0] and empty.any():
        raise DataError(f"column {names[int(np.argmax(empty))]!r} of {path} has no values at all; drop it")
    t = check_samples(x, what=str(path), min_ndim=2, max_ndim=2, allow_nan=allow_missing)
    if scale is not None:
        lo = torch.from_numpy(np.nanmin(x, axis=0)).float()
        hi = torch.from_numpy(np.nanmax(x, axis=0)).float()
        t = transforms.scale(t, scale, (lo, hi))
        value_range = transforms.SCALE_TARGETS[scale]
    else:
        value_range = (float(np.nanmin(x)), float(np.nanmax(x)))
    info = DatasetInfo(
        name=path.stem,
        sample_shape=tuple(t.shape[1:]),
        value_range=value_range,
        class_names=class_names,
        source=str(path),
    )
    return Dataset(x=t.contiguous(), y=y, info=info, extras={"columns": list(names)})


__all__ = ["MISSING_TOKENS", "load_csv", "load_npy"]
