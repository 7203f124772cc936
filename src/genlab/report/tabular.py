"""Evaluate a table run: fidelity, utility and privacy of its synthetic rows, and the report's pictures.

The model's own transform decodes its samples to a DataFrame with the training table's columns. They are
compared with the run's training rows (fidelity: column shapes, pair trends, the overall quality score;
detection) and with the rows it never saw, the table's ``test`` split (utility: train on synthetic, test on
real, against train on real; privacy: distances to the closest training record, exact copies, membership
inference), all with :mod:`genlab.metrics.tabular`.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import plotting
from .._version import __version__
from ..errors import ConfigError, DataError
from ..progress import format_seconds, note

TABLE_METRICS = ("quality", "detection", "utility", "privacy")
DEFAULT_TARGETS = {
    "penguins": "species",
    "diamonds": "price",
    "mpg": "hwy",
    "txhousing": "median",
    "iris": "target",
    "wine": "target",
    "breast_cancer": "target",
    "diabetes": "target",
}


def _plain(v: Any) -> Any:
    return v.as_dict() if hasattr(v, "as_dict") else v


def reference_frames(name: str, options: dict[str, Any]) -> tuple[Any, Any | None, str]:
    """The training rows of a table run and its held-out rows (``None`` when it trained on every row)."""
    from ..tabular.data import load_frame, split_frame, table_names
    from ..tabular.schema import read_table

    split = options.get("split", "train")
    seed = int(options.get("split_seed", 0))
    if name in table_names():
        df = load_frame(name, options.get("root"))
    else:
        df = read_table(name, file_encoding=options.get("file_encoding", "utf-8"), sep=options.get("sep"))
    if split == "all":
        return split_frame(df, "all"), None, "all"
    other = "test" if split == "train" else "train"
    return split_frame(df, split, seed), split_frame(df, other, seed), other


def evaluate_table(
    model: Any,
    path: Path,
    info: dict[str, Any] | None,
    name: str,
    options: dict[str, Any],
    *,
    metrics: list[str] | None,
    n: int | None,
    seed: int,
    target: str | None,
    pictures: bool,
    progress: bool,
    t0: float,
) -> Any:
    """The :class:`~genlab.report.evaluate.Evaluation` of a table model (see the module docstring)."""
    from ..metrics import tabular as mt
    from ..tabular import Synthesizer
    from .evaluate import Evaluation, _finite, _read_history, _training_summary, stage_notes

    synth = Synthesizer.from_model(model)
    kinds = synth.columns
    train, holdout, held = reference_frames(name, options)
    missing = [c for c in kinds if c not in train.columns]
    if missing:
        raise DataError(f"{name!r} lacks the column(s) {missing} that the model was trained on")
    available = ["quality", "detection"] + (["utility", "privacy"] if holdout is not None else [])
    chosen = list(metrics) if metrics else available
    unknown = [m for m in chosen if m not in TABLE_METRICS]
    if unknown:
        raise ConfigError(f"unknown table metric(s) {unknown}; choose from {', '.join(TABLE_METRICS)}")
    absent = [m for m in chosen if m not in available]
    if absent:
        raise ConfigError(
            f"metric(s) {absent} need rows the model never saw, but this run trained on every row (split=all); "
            f"these apply: {', '.join(available)}"
        )
    if target is None and "utility" in chosen:
        target = DEFAULT_TARGETS.get(name)
        if target is None and metrics and "utility" in metrics:
            raise ConfigError("utility (train on synthetic, test on real) needs a target column: pass --target COLUMN")
        if target is None:
            chosen.remove("utility")
    if target is not None and target not in kinds:
        raise ConfigError(f"--target {target!r} is not a column of the table; columns: {', '.join(kinds)}")
    n = int(n or len(train))
    if n < 2:
        raise ConfigError(f"-n must be at least 2, got {n}")
    note(
        f"evaluate: the {model.registry_name} in {path} on {name} ({len(train)} training rows"
        + (f", {len(holdout)} held-out {held} rows" if holdout is not None else "")
        + f"): {', '.join(chosen)}",
        enabled=progress,
    )
    stage = stage_notes(1 + len(chosen) + bool(pictures), progress)

    stage(f"sampling {n} rows")
    fake = synth.sample(n, seed=seed)
    out: dict[str, Any] = {}
    quality = None
    if "quality" in chosen:
        stage("quality (column shapes and pair trends against the training rows)")
        quality = _plain(mt.quality_score(train, fake, kinds))
        out["quality"] = quality
    if "detection" in chosen:
        stage("detection (a classifier telling real rows from synthetic ones)")
        out["detection"] = _plain(mt.detection_score(holdout if holdout is not None else train, fake, kinds, seed=seed))
    if "utility" in chosen:
        stage(f"utility (train on synthetic, test on the real {held} rows; target {target})")
        out["utility"] = _plain(mt.tstr(train, fake, holdout, target, kinds, seed=seed))
    if "privacy" in chosen:
        stage("privacy (distance to the closest training record, copies, membership inference)")
        out["privacy"] = _plain(mt.privacy(train, fake, holdout, kinds, seed=seed))
    results: dict[str, Any] = {
        "run": str(path),
        "model": model.registry_name,
        "data": {
            "name": name,
            "options": options,
            "reference": held if holdout is not None else "train",
            "n_reference": len(holdout) if holdout is not None else len(train),
            "n_train": len(train),
            "columns": kinds,
        },
        "kind": "table",
        "n_samples": n,
        "seed": seed,
        "target": target,
        "extractor": None,
        "metrics": out,
        "floors": None,
        "training": _training_summary(info),
        "genlab_version": __version__,
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
    }
    pics: dict[str, bytes] = {}
    if pictures:
        stage("pictures")
        pics = table_pictures(train, fake, kinds, quality, f"{model.registry_name} on {name}", _read_history(path))
    results["seconds"] = round(time.perf_counter() - t0, 2)
    note(f"evaluate: done in {format_seconds(results['seconds'])}", enabled=progress)
    return Evaluation(_finite(results), pics)


def table_pictures(
    real: Any, fake: Any, kinds: dict[str, str], quality: dict[str, Any] | None, title: str, history: list
) -> dict[str, bytes]:
    """PNG bytes of the marginals (real vs synthetic per column), the pair-trend heat map and the loss curve."""
    import numpy as np

    pics: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        f = plotting.save_table_marginals(real, fake, kinds, Path(tmp) / "m.png", title=f"{title}: columns")
        pics["marginals"] = f.read_bytes()
        pairs = (quality or {}).get("pairs") or []
        if pairs:
            names = [c for c in kinds if any(c in p["columns"] for p in pairs)]
            index = {c: i for i, c in enumerate(names)}
            grid = np.full((len(names), len(names)), np.nan)
            for p in pairs:
                a, b = p["columns"]
                if a in index and b in index and p.get("score") is not None:
                    grid[index[a], index[b]] = grid[index[b], index[a]] = float(p["score"])
            np.fill_diagonal(grid, np.nan)
            f = plotting.save_heatmap(grid, names, Path(tmp) / "p.png", title="pair trends (1 = as in the real table)")
            pics["pair_trends"] = f.read_bytes()
        if history and any("epoch" in r for r in history):
            f = plotting.save_loss_curve(history, Path(tmp) / "l.png", title=title)
            pics["loss_curve"] = f.read_bytes()
    return pics


__all__ = ["DEFAULT_TARGETS", "TABLE_METRICS", "evaluate_table", "reference_frames", "table_pictures"]
