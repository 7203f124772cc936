"""The table synthesizer: a DataFrame in, a DataFrame of the same columns, dtypes and categories out.

::

    from genlab.tabular import Synthesizer

    synth = Synthesizer("ctgan", epochs=300).fit(df)          # or "tvae", "gaussian_copula"
    fake = synth.sample(1000)                                  # a DataFrame like df
    gentoo = synth.sample(200, conditions={"species": "Gentoo"})
    synth.save("penguins-ctgan")                               # a genlab model directory
    again = Synthesizer.load("penguins-ctgan")

It trains the registry's table models with the one trainer (:func:`genlab.train`) on the rows of a
:class:`~genlab.tabular.transform.TableTransform` fitted to the table, and decodes what they sample.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from .data import table_dataset
from .schema import _pandas, read_table
from .transform import TableTransform

TABLE_MODELS = ("ctgan", "tvae", "gaussian_copula")
DEFAULT_EPOCHS = {"ctgan": 300, "tvae": 300, "gaussian_copula": 1}


class Synthesizer:
    """Fit a table model to a DataFrame and sample DataFrames from it (scikit-learn style).

    Args:
        model: ``"ctgan"``, ``"tvae"`` or ``"gaussian_copula"``.
        epochs: passes over the table (default 300 for the networks, as in the ``ctgan`` package; 1 for the
            copula, which one pass fits exactly).
        batch_size: rows per step (500, as in the ``ctgan`` package).
        seed: seeds the transform, the weights and training; the same seed gives the same model.
        discrete_columns: columns to model as categorical whatever their type (e.g. integer codes).
        metadata: ``{column: kind}`` overriding the inferred kinds (``numerical``, ``categorical``, ``boolean``,
            ``datetime``, ``id``, ``constant``, ``empty``); saved with the model.
        keep_bounds: clip synthetic numbers to each training column's [min, max].
        max_modes: mixture components per numerical column (ctgan, tvae).
        time_budget: stop training after this many seconds.
        progress: show the training progress on standard error.
        device: where to train: ``"auto"`` (a GPU when there is one), ``"cpu"``, ``"cuda[:N]"``, ``"mps"``.
        **config: the model's own options (``genlab models -v ctgan``), e.g. ``pac=10``, ``embedding_dim=64``.
    """

    def __init__(
        self,
        model: str = "ctgan",
        *,
        epochs: int | None = None,
        batch_size: int = 500,
        seed: int = 0,
        discrete_columns: list[str] | None = None,
        metadata: dict[str, str] | None = None,
        keep_bounds: bool = True,
        max_modes: int = 10,
        time_budget: float | None = None,
        progress: bool = False,
        device: str = "auto",
        **config: Any,
    ) -> None:
        if model not in TABLE_MODELS:
            raise DataError(f"Synthesizer models tables with one of {', '.join(TABLE_MODELS)}, not {model!r}")
        self.model_name = model
        self.epochs = DEFAULT_EPOCHS[model] if epochs is None else int(epochs)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.discrete_columns = list(discrete_columns) if discrete_columns else None
        self.metadata = dict(metadata) if metadata else None
        self.keep_bounds = keep_bounds
        self.max_modes = max_modes
        self.time_budget = time_budget
        self.progress = progress
        self.device = device
        self.config = config
        self.model_: Any = None
        self.result_: Any = None

    # --- fitting ---------------------------------------------------------------------------------------
    def fit(
        self, data: Any, *, out: str | os.PathLike | None = None, overwrite: bool = False, callbacks: list | None = None
    ) -> Synthesizer:
        """Fit the transform and train the model on ``data`` (a DataFrame or a CSV / Parquet path).

        Args:
            data: the table.
            out: also write a run directory there (model, metrics.csv, checkpoints; resumable with the CLI).
            overwrite: replace an existing ``out``.
            callbacks: extra :class:`~genlab.training.callbacks.Callback` objects for the trainer.
        """
        from ..registry import get_model
        from ..training.run import train

        df = read_table(data)
        representation = get_model(self.model_name).config_cls.representation
        name = Path(data).stem if isinstance(data, (str, os.PathLike)) else "table"
        dataset = table_dataset(
            df,
            name=name,
            source="dataframe" if name == "table" else str(data),
            representation=representation,
            discrete_columns=self.discrete_columns,
            metadata=self.metadata,
            max_modes=self.max_modes,
            keep_bounds=self.keep_bounds,
            seed=self.seed,
        )
        settings: dict[str, Any] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "device": self.device,
        }
        if self.time_budget:
            settings["time_budget"] = self.time_budget
        if out is None:
            settings["sample_every"] = None
        self.result_ = train(
            self.model_name,
            dataset,
            out=out,
            overwrite=overwrite,
            overrides=dict(self.config) or None,
            progress=self.progress,
            callbacks=callbacks,
            **settings,
        )
        self.model_ = self.result_.model
        return self

    @classmethod
    def from_model(cls, model: Any) -> Synthesizer:
        """A synthesizer around an already trained table model (e.g. ``genlab.load(run)``)."""
        from ..models.tabular._common import model_transform

        model_transform(model)  # raises if it is not a trained table model
        synth = cls(model.registry_name)
        synth.model_ = model
        return synth

    # --- sampling --------------------------------------------------------------------------------------
    @property
    def transform(self) -> TableTransform:
        from ..models.tabular._common import model_transform

        return model_transform(self._fitted())

    @property
    def columns(self) -> dict[str, str]:
        """``{column: kind}`` of the modelled columns (the ``columns=`` to pass to :mod:`genlab.metrics.tabular`;
        constant, empty and ID columns, which are not modelled, are left out)."""
        from .schema import MODELLED_KINDS

        return {c: k for c, k in self.transform.kinds().items() if k in MODELLED_KINDS}

    def _fitted(self) -> Any:
        if self.model_ is None:
            raise DataError("this Synthesizer is not fitted yet: call fit(df) or Synthesizer.load(path) first")
        return self.model_

    def _generator(self, seed: int | None) -> torch.Generator | None:
        return torch.Generator().manual_seed(int(seed)) if seed is not None else None

    def sample(self, n: int, *, conditions: dict[str, Any] | None = None, seed: int | None = None) -> Any:
        """``n`` synthetic rows as a DataFrame with the training table's columns, dtypes and categories.

        Args:
            n: rows.
            conditions: ``{column: category}`` on categorical / boolean columns: every row has them.
            seed: the same seed gives the same rows; ``None`` continues the model's own random stream.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise DataError(f"n must be a positive number of rows, got {n!r}")
        model = self._fitted()
        gen = model.rng(self._generator(seed))
        x = model.sample(int(n), generator=gen, conditions=conditions).cpu()  # the transform decodes on the CPU
        return self.transform.decode(x, seed=int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))

    def sample_remaining(self, partial: Any, *, seed: int | None = None) -> Any:
        """The rows of ``partial`` (a DataFrame with the training columns) with their missing cells filled.

        The known cells are kept exactly; the missing ones are drawn from the model given them. Only the
        ``gaussian_copula`` does this in closed form (its conditional Gaussian); a cell may stay missing when
        the model's missingness indicator draws "missing", as in the real table.

        Raises:
            DataError: a model other than the copula, a missing column, or a category the model never saw.
        """
        model = self._fitted()
        if not hasattr(model, "sample_remaining"):
            raise DataError(
                f"sample_remaining needs a model that conditions in closed form: use gaussian_copula, or "
                f"conditions= in sample() for categorical columns (the {self.model_name} supports those)"
            )
        pd = _pandas()
        partial = read_table(partial)
        transform = self.transform
        missing_cols = [c.name for c in transform.columns if c.name not in partial.columns]
        if missing_cols:
            raise DataError(f"the partial rows lack the column(s) {missing_cols}; add them (empty cells are filled)")
        partial = partial[[c.name for c in transform.columns]].reset_index(drop=True)
        gen = model.rng(self._generator(seed))
        x = torch.from_numpy(
            transform.encode(partial, seed=int(torch.randint(0, 2**31 - 1, (1,), generator=gen)), placeholders=True)
        )
        known = torch.ones_like(x, dtype=torch.bool)
        spans = transform.column_spans()
        for spec in transform.modelled:
            unknown = torch.from_numpy(partial[spec.name].isna().to_numpy().copy())
            for span in spans[spec.name]:
                known[unknown, span.start : span.stop] = False
        dev = model.device
        filled = transform.decode(model.sample_remaining(x.to(dev), known.to(dev), generator=gen).cpu(), seed=seed or 0)
        out = partial.copy()
        for col in out.columns:
            cells = out[col].isna()
            if cells.any():
                out[col] = out[col].where(~cells, filled[col]).astype(filled[col].dtype)
        return pd.DataFrame(out)

    # --- files -----------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the model directory (weights, config, and the transform in ``meta.json``); atomic."""
        return self._fitted().save(path, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Synthesizer:
        """A synthesizer from a saved model directory or a table run directory."""
        from ..io import load

        return cls.from_model(load(path))

    def __repr__(self) -> str:
        state = "fitted" if self.model_ is not None else "not fitted"
        return f"Synthesizer({self.model_name!r}, epochs={self.epochs}, {state})"


__all__ = ["DEFAULT_EPOCHS", "TABLE_MODELS", "Synthesizer"]
