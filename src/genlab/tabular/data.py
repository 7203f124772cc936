"""Tables as genlab datasets: named tables, CSV / Parquet files and DataFrames, encoded for the table models.

Named tables:

- ``penguins``, ``diamonds``, ``mpg``, ``txhousing``: real mixed-type tables (``<name>.csv``), looked for in
  ``root=``, then each directory of ``$GENLAB_DATA`` (and its ``tables/`` folder), then genlab's cache;
- ``iris``, ``wine``, ``breast_cancer``, ``diabetes``: scikit-learn's bundled tables, with their target as a
  column (``target``; a categorical of class names for the three classification tables).

A table has no predefined test split: ``split="train"`` (the default) and ``"test"`` are a fixed 80 / 20
partition of the rows (shuffled with ``split_seed``), so that a model trained on ``train`` is evaluated against
rows it never saw (utility and privacy need them); ``split="all"`` is every row.

:func:`load_table` fits the :class:`~genlab.tabular.transform.TableTransform` on the rows it returns and gives a
:class:`~genlab.data.Dataset` of encoded rows whose ``info.table`` is the transform and whose ``extras["frame"]``
is the table itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import DataError, DatasetNotFoundError
from .schema import _pandas, check_table, read_table
from .transform import REPRESENTATIONS, TableTransform

if TYPE_CHECKING:
    from ..data.dataset import Dataset

# genlab.data lists these tables among its sources, so this module imports genlab.data only inside functions

FILE_TABLES = {
    "penguins": "Palmer penguins: 344 x 8, 3 species, missing values",
    "diamonds": "ggplot2 diamonds: 53,940 x 10, price and 3 ordered categories",
    "mpg": "ggplot2 fuel economy: 234 x 11, 6 categorical columns",
    "txhousing": "Texas housing sales: 8,602 x 9, 46 cities, missing values",
}
SKLEARN_TABLES = {
    "iris": "scikit-learn iris: 150 x 5 (target: species)",
    "wine": "scikit-learn wine: 178 x 14 (target: cultivar)",
    "breast_cancer": "scikit-learn breast cancer: 569 x 31 (target: malignant / benign)",
    "diabetes": "scikit-learn diabetes: 442 x 11 (target: disease progression)",
}
TABLE_SPLITS = ("train", "test", "all")
TEST_FRACTION = 0.2


def table_names() -> list[str]:
    return [*FILE_TABLES, *SKLEARN_TABLES]


def is_table_source(name: Any) -> bool:
    """Whether ``name`` is a named table or the path of a table file (``.csv``, ``.tsv``, ``.parquet``)."""
    if isinstance(name, str) and name.strip().lower().replace("-", "_") in table_names():
        return True
    return isinstance(name, (str, os.PathLike)) and Path(name).suffix.lower() in (".csv", ".tsv", ".parquet", ".pq")


def load_frame(name: str, root: str | os.PathLike | None = None) -> Any:
    """The DataFrame of a named table (see the module docstring).

    Raises:
        DatasetNotFoundError: a file table found in none of the searched directories.
    """
    from ..data.download import search_dirs

    pd = _pandas()
    if name in SKLEARN_TABLES:
        import sklearn.datasets as skd

        bunch = getattr(skd, f"load_{name}")(as_frame=True)
        df = bunch.frame.copy()
        if name != "diabetes":
            names = np.asarray(bunch.target_names)
            df["target"] = pd.Categorical(names[bunch.target.to_numpy()], categories=list(names))
        return df
    if name not in FILE_TABLES:
        raise DataError(f"unknown table {name!r}; named tables: {', '.join(table_names())}")
    dirs = search_dirs(root)
    for d in dirs:
        for candidate in (d / f"{name}.csv", d / "tables" / f"{name}.csv"):
            if candidate.is_file():
                return read_table(candidate)
    raise DatasetNotFoundError(
        f"table {name!r} ({name}.csv) was not found in {', '.join(str(d) for d in dirs)}; put the file in one of "
        "them, or point GENLAB_DATA (or root=) at the folder that holds it"
    )


def split_frame(df: Any, split: str, seed: int = 0) -> Any:
    """The ``train`` (80%), ``test`` (20%) or ``all`` rows of ``df``, a fixed partition drawn with ``seed``."""
    if split not in TABLE_SPLITS:
        raise DataError(f"split must be one of {', '.join(TABLE_SPLITS)} for a table, got {split!r}")
    if split == "all":
        return df.reset_index(drop=True)
    n = len(df)
    n_test = round(TEST_FRACTION * n)
    if n_test < 1 or n_test >= n:
        raise DataError(f"a table of {n} rows is too small to split 80/20; load it with split='all'")
    perm = np.random.RandomState(seed).permutation(n)
    index = np.sort(perm[n - n_test :] if split == "test" else perm[: n - n_test])
    return df.iloc[index].reset_index(drop=True)


def table_dataset(
    df: Any,
    *,
    name: str = "table",
    source: str = "",
    representation: str = "modes",
    discrete_columns: list[str] | None = None,
    metadata: dict[str, str] | None = None,
    max_modes: int = 10,
    mixture_rows: int | None = 20_000,
    keep_bounds: bool = True,
    seed: int = 0,
    transform: TableTransform | None = None,
) -> Dataset:
    """A :class:`Dataset` of the rows of ``df`` encoded by a transform fitted on them (or by ``transform``)."""
    from ..data.dataset import Dataset, DatasetInfo

    if transform is None:
        transform = TableTransform.fit(
            df,
            representation=representation,
            columns=metadata,
            discrete_columns=discrete_columns,
            max_modes=max_modes,
            mixture_rows=mixture_rows,
            keep_bounds=keep_bounds,
            seed=seed,
            what=name if name != "table" else "the table",
        )
    x = torch.from_numpy(transform.encode(df, seed=seed))
    finite = x[torch.isfinite(x)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
    info = DatasetInfo(
        name=name,
        sample_shape=(transform.width,),
        value_range=(lo, hi),
        source=source,
        table=transform.to_dict(),
    )
    return Dataset(x=x.contiguous(), info=info, extras={"frame": df, "transform": transform})


def load_table(
    data: Any,
    split: str = "train",
    root: str | os.PathLike | None = None,
    *,
    representation: str = "modes",
    discrete_columns: list[str] | str | None = None,
    metadata: dict[str, str] | None = None,
    max_modes: int = 10,
    mixture_rows: int | None = 20_000,
    keep_bounds: bool = True,
    seed: int = 0,
    split_seed: int = 0,
    file_encoding: str = "utf-8",
    sep: str | None = None,
) -> Dataset:
    """A named table, a CSV / Parquet path or a DataFrame, split and encoded (see the module docstring).

    Args:
        data: a table name, a file path or a DataFrame.
        split: ``"train"``, ``"test"`` or ``"all"``.
        root: searched first for a named table's file.
        representation: ``"modes"`` (ctgan, tvae) or ``"columns"`` (gaussian_copula).
        discrete_columns: columns to model as categorical (a list, or names separated by commas).
        metadata: ``{column: kind}`` overriding the inferred kinds.
        max_modes, mixture_rows, keep_bounds, seed: the transform's (:meth:`TableTransform.fit`).
        split_seed: seeds the train / test partition.
        file_encoding, sep: how a CSV file is read (:func:`~genlab.tabular.schema.read_table`).
    """
    if representation not in REPRESENTATIONS:
        raise DataError(f"representation must be one of {', '.join(REPRESENTATIONS)}, got {representation!r}")
    if isinstance(discrete_columns, str):
        discrete_columns = [c.strip() for c in discrete_columns.split(",") if c.strip()]
    pd = _pandas()
    if isinstance(data, str) and data in table_names():
        df, name, source = load_frame(data, root), data, ("sklearn" if data in SKLEARN_TABLES else "file")
    elif isinstance(data, pd.DataFrame):
        df, name, source = read_table(data), "table", "dataframe"
    else:
        df = read_table(data, file_encoding=file_encoding, sep=sep)
        name, source = Path(data).stem, str(data)
    check_table(df, name if name != "table" else "the table")
    rows = split_frame(df, split, split_seed)
    return table_dataset(
        rows,
        name=name,
        source=source,
        representation=representation,
        discrete_columns=discrete_columns,
        metadata=metadata,
        max_modes=max_modes,
        mixture_rows=mixture_rows,
        keep_bounds=keep_bounds,
        seed=seed,
    )


__all__ = [
    "FILE_TABLES",
    "SKLEARN_TABLES",
    "is_table_source",
    "load_frame",
    "load_table",
    "split_frame",
    "table_dataset",
    "table_names",
]
