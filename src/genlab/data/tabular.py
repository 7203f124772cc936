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

import io
import os
import re
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
    cells, numbers, text, lines = _read_cells(path, delimiter)
    if header is None:  # all text, or a text cell above a number (or a missing value)
        header = bool(text[0].all() or (len(text) > 1 and (text[0] & ~text[1]).any()))
    names = [c or f"column {j}" for j, c in enumerate(cells[0])] if header else None
    if header:
        cells, numbers, text, lines = cells[1:], numbers[1:], text[1:], lines[1:]
    if not len(cells):
        raise DataError(f"{path} has a header but no data rows; add at least one row of numbers")
    names = names or [f"column {j}" for j in range(cells.shape[1])]
    y, class_names, keep = None, None, list(range(len(names)))
    if label_column is not None:
        j = _label_index(label_column, names, header, path)
        y, class_names = _parse_labels(cells[:, j], numbers[:, j], text[:, j], names[j], lines, path)
        keep.remove(j)
    if not keep:
        raise DataError(f"{path} has no feature columns besides the label column")
    if text[:, keep].any():
        j, i = (int(k) for k in np.argwhere(text[:, keep].T)[0])
        name, hint = names[keep[j]], repr(names[keep[j]]) if header else keep[j]
        raise DataError(
            f"column {name!r} of {path} is not numeric (line {lines[i]}: {cells[i, keep[j]]!r}); if it holds "
            f"labels pass label_column={hint}, otherwise drop it or encode it as numbers; for a mixed-type "
            f"table use a table model (genlab train ctgan / tvae / gaussian_copula --data {path})"
        )
    x, names = numbers[:, keep], [names[j] for j in keep]
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


def _read_cells(path: Path, delimiter: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The non-blank rows: stripped cells, their numbers (NaN if none), a text mask and 1-based line numbers."""
    import pandas as pd

    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not a UTF-8 text file ({exc}); save it as UTF-8 CSV") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    skip = content[: len(content) - len(content.lstrip())].count("\n")  # pandas takes the width from row 1

    def read(nrows: int | None = None) -> pd.DataFrame:  # the python engine marks short rows with NaN
        options = {"header": None, "dtype": str, "keep_default_na": False, "skip_blank_lines": False}
        return pd.read_csv(io.StringIO(content), sep=delimiter, skiprows=skip, nrows=nrows, engine="python", **options)

    def breaks(frame: pd.DataFrame) -> np.ndarray:  # line breaks inside quoted cells, per row
        return frame.apply(lambda c: c.str.count("\n")).sum(axis=1).to_numpy(dtype=np.int64)

    try:
        frame = read()
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; a CSV needs at least one row of numbers") from None
    except pd.errors.ParserError as exc:  # a row longer than the first
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found is None:
            raise DataError(f"{path} is not valid CSV ({exc})") from exc
        width, line, n = map(int, found.groups())  # pandas counts rows: add the breaks in the rows above
        line += int(breaks(read(line - 1 - skip)).sum()) if '"' in content else 0
        raise DataError(_ragged(path, line, n, width, delimiter)) from None
    lines = np.arange(skip + 1, skip + 1 + len(frame))
    if '"' in content:  # the line each row ends on
        lines = lines + np.cumsum(breaks(frame))
    frame = frame.apply(lambda c: c.str.strip())
    blank = (frame.isna() | frame.eq("")).all(axis=1).to_numpy()
    frame, lines = frame[~blank], lines[~blank]
    if frame.empty:
        raise DataError(f"{path} is empty; a CSV needs at least one row of numbers")
    short = frame.isna().any(axis=1).to_numpy()
    if short.any():
        i = int(np.argmax(short))
        raise DataError(_ragged(path, int(lines[i]), int(frame.iloc[i].notna().sum()), frame.shape[1], delimiter))
    numbers = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    missing = frame.apply(lambda c: c.str.lower().isin(MISSING_TOKENS)).to_numpy(dtype=bool)
    return frame.to_numpy(dtype=object), numbers, np.isnan(numbers) & ~missing, lines


def _ragged(path: Path, line: int, n: int, width: int, delimiter: str) -> str:
    return (
        f"{path} line {line} has {n} fields but the first row has {width}; every row needs the same number "
        f"of {delimiter!r}-separated fields (use empty cells for missing values)"
    )


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


def _parse_labels(
    values: np.ndarray, numbers: np.ndarray, text: np.ndarray, name: str, lines: np.ndarray, path: Path
) -> tuple[torch.Tensor, tuple[str, ...]]:
    missing = np.flatnonzero(np.isnan(numbers) & ~text)
    if len(missing):
        raise DataError(
            f"label column {name!r} of {path} has {len(missing)} missing value(s) (first at line "
            f"{lines[missing[0]]}); every row needs a label, or drop those rows"
        )
    if np.isfinite(numbers).all() and (numbers == np.round(numbers)).all():
        if numbers.min() < 0:
            raise DataError(f"label column {name!r} of {path} has negative codes; use labels 0..K-1 or class names")
        codes = numbers.astype(np.int64)
        return torch.from_numpy(codes), tuple(str(k) for k in range(int(codes.max()) + 1))
    classes, codes = np.unique(values.astype(str), return_inverse=True)
    return torch.from_numpy(codes.astype(np.int64)), tuple(classes.tolist())


def _table_dataset(
    x: np.ndarray,
    y: torch.Tensor | None,
    class_names: tuple[str, ...] | None,
    names: list[str],
    path: Path,
    allow_missing: bool,
    scale: str | None,
    lines: np.ndarray | None,
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
