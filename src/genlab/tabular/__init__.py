"""Synthetic tables: a DataFrame in, a DataFrame of the same columns, dtypes and categories out.

- :class:`Synthesizer` (``"ctgan"``, ``"tvae"``, ``"gaussian_copula"``): fit / sample / sample_remaining /
  save / load;
- :class:`~genlab.tabular.transform.TableTransform`: the column transform the table models share (mode-specific
  normalization, one-hot categories, missing-value indicators), written once;
- :func:`read_table`, :func:`infer_columns`: reading CSV / Parquet with pandas and deciding each column's kind;
- :func:`load_table`: a named table (penguins, diamonds, mpg, txhousing, iris, wine, breast_cancer, diabetes) or a
  file as a genlab dataset of encoded rows.

The fidelity, utility and privacy scores are in :mod:`genlab.metrics.tabular`. Imports are lazy: pandas and
scikit-learn load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Synthesizer": ".synthesizer",
    "TableTransform": ".transform",
    "read_table": ".schema",
    "infer_columns": ".schema",
    "load_table": ".data",
    "load_frame": ".data",
    "split_frame": ".data",
    "table_names": ".data",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'genlab.tabular' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = sorted(_LAZY)
