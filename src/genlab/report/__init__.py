"""Evaluation reports: :func:`evaluate_run` computes a run's metrics, :func:`write_report` writes them as
``metrics.json`` and a self-contained ``report.html`` (what ``genlab evaluate`` does)."""

from __future__ import annotations

from pathlib import Path

from .. import fileutil
from ..errors import RunExistsError
from .evaluate import ALL_METRICS, Evaluation, evaluate_run
from .html import render_report

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"


def write_report(evaluation: Evaluation, out: str | Path, overwrite: bool = False) -> dict[str, Path]:
    """Write ``out/metrics.json`` and ``out/report.html`` atomically; existing ones only with ``overwrite``."""
    out = Path(out)
    paths = {"metrics": out / METRICS_FILE, "report": out / REPORT_FILE}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise RunExistsError(f"{', '.join(existing)} already exist; pass --overwrite to replace them, or --out DIR")
    out.mkdir(parents=True, exist_ok=True)
    fileutil.write_json(paths["metrics"], evaluation.results)
    fileutil.write_text(paths["report"], render_report(evaluation.results, evaluation.pictures))
    return paths


__all__ = ["ALL_METRICS", "Evaluation", "evaluate_run", "render_report", "write_report"]
