"""Writing tables: CSV or Parquet, atomically (a temporary file renamed into place), never half-written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import fileutil
from ..errors import DataError


def write_table(df: Any, path: str | os.PathLike) -> Path:
    """Write ``df`` to ``path`` (``.csv``: UTF-8 with a header, no index; ``.parquet``: keeps every dtype).

    Raises:
        DataError: another suffix, or Parquet without an engine (pip install pyarrow).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataError(f"tables are written to .csv or .parquet files, not {path.name!r}")
    with fileutil.atomic_path(path, suffix=suffix) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False, encoding="utf-8")
        else:
            try:
                df.to_parquet(tmp, index=False)
            except ImportError as exc:
                raise DataError(
                    f"writing {path} needs a Parquet engine: pip install pyarrow (or write a .csv)"
                ) from exc
    return path


__all__ = ["write_table"]
