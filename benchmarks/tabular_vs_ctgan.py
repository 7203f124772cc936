"""Synthetic tables: genlab's ctgan / tvae against the ``ctgan`` package's CTGAN / TVAE, side by side.

Targets (genlab issue 17), on the four shared tables (penguins, mpg, txhousing, diamonds):

- quality score (genlab.metrics.tabular.quality_score, checked against SDMetrics' QualityReport in
  benchmarks/tabular_metrics_check.py) of genlab >= the package's on every table, and TSTR within 0.02 of it
  or better; mean over the seeds;
- genlab's training epoch >= 3x faster than the package's on this CPU;
- the best genlab model's TSTR within 5 points of train-on-real on penguins (accuracy, species) and diamonds
  (R^2, price); no exact copies beyond the holdout's own rate; the DCR ratio of every table.

Environment (the package and genlab in one interpreter, on the same torch; see requirements-ctgan.txt):

    python3 -m venv benchmarks/.venv-ctgan
    benchmarks/.venv-ctgan/bin/pip install torch==2.13.0
    benchmarks/.venv-ctgan/bin/pip install -r benchmarks/requirements-ctgan.txt
    benchmarks/.venv-ctgan/bin/pip install -e . --no-deps

Usage: GENLAB_DATA=../shared/data benchmarks/.venv-ctgan/bin/python benchmarks/tabular_vs_ctgan.py
       [--tables penguins,mpg,txhousing,diamonds] [--models ctgan,tvae] [--seeds 0,1,2] [--epochs-scale 1.0]

What is compared. Each table is split 80 / 20 with genlab's fixed partition (genlab.tabular.split_frame, seed
0); both libraries train on the same 80% with the same epochs and batch size (500) and their default networks
(the package's defaults, which genlab's configs copy), and each draws as many rows as the training split has. The
discrete columns given to the package are the ones genlab infers (text, categories, booleans). Epochs per table
(scaled by --epochs-scale): penguins 300, mpg 300, txhousing 100, diamonds 30, so that the whole benchmark fits
in about an hour on 2 cores. Fidelity is measured against the training rows; utility (TSTR with a gradient-boosting
and a linear model) and privacy against the held-out 20%.

Speed: seconds per training epoch = (T(E) - T(1)) / (E - 1), where T(e) is the wall time of a whole fit with e
epochs from a fresh model (transform fit included in both, so it cancels); measured on seed 0 with the runs of the
two libraries interleaved. Both run on torch's default threads in the same process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, write_result
from genlab.metrics import tabular as mt
from genlab.report.tabular import DEFAULT_TARGETS
from genlab.tabular import Synthesizer, infer_columns, load_frame, split_frame
from genlab.tabular.schema import MODELLED_KINDS

EPOCHS = {"penguins": 300, "mpg": 300, "txhousing": 100, "diamonds": 30}
PARTIAL = RESULTS / "tabular_vs_ctgan.partial.json"


def package_fit(model: str, train: pd.DataFrame, discrete: list[str], epochs: int, seed: int):
    import ctgan

    torch.manual_seed(seed)
    np.random.seed(seed)
    cls = ctgan.CTGAN if model == "ctgan" else ctgan.TVAE
    kw = {"enable_gpu": False} if model == "ctgan" else {"cuda": False}
    m = cls(epochs=epochs, batch_size=500, **kw)
    m.fit(train, discrete_columns=discrete)
    return m


def genlab_fit(model: str, train: pd.DataFrame, epochs: int, seed: int) -> Synthesizer:
    return Synthesizer(model, epochs=epochs, batch_size=500, seed=seed).fit(train)


def sample(lib: str, fitted, n: int, seed: int, columns: list[str]) -> pd.DataFrame:
    if lib == "genlab":
        return fitted.sample(n, seed=seed)
    torch.manual_seed(seed + 1000)
    np.random.seed(seed + 1000)
    return fitted.sample(n)[columns]


def score(train, test, fake, kinds, target, seed) -> dict:
    q = mt.quality_score(train, fake, kinds).as_dict()
    u = mt.tstr(train, fake, test, target, kinds, seed=seed)
    p = mt.privacy(train, fake, test, kinds, seed=seed)
    metric = "accuracy" if u["task"] == "classification" else "r2"
    best_syn = max(r["synthetic"][metric] for r in u["models"].values())
    best_real = max(r["real"][metric] for r in u["models"].values())
    return {
        "quality": q["score"],
        "column_shapes": q["column_shapes"],
        "pair_trends": q["column_pair_trends"],
        "tstr_metric": metric,
        "tstr": best_syn,
        "trtr": best_real,
        "tstr_models": u["models"],
        "dcr_ratio": p["dcr_ratio"],
        "exact_copy_rate": p["exact_copy_rate"],
        "holdout_copy_rate": p["holdout_copy_rate"],
        "mia_auc": p["mia_auc"],
    }


def sdmetrics_quality(train, fake, kinds) -> float | None:
    try:
        from sdmetrics.reports.single_table import QualityReport
    except ImportError:
        return None
    meta = {
        "columns": {
            c: {"sdtype": {"numerical": "numerical", "datetime": "datetime"}.get(k, "categorical")}
            for c, k in kinds.items()
            if k in ("numerical", "categorical", "boolean", "datetime")
        }
    }
    rep = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep.generate(train[list(meta["columns"])], fake[list(meta["columns"])], meta, verbose=False)
    return float(rep.get_score())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tables", default="penguins,mpg,txhousing,diamonds")
    ap.add_argument("--models", default="ctgan,tvae")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs-scale", type=float, default=1.0)
    ap.add_argument("--no-timing", action="store_true", help="skip the 1-epoch fits that time an epoch")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import ctgan

    done = json.loads(PARTIAL.read_text()) if PARTIAL.exists() else {}
    seeds = [int(s) for s in args.seeds.split(",")]
    for table in args.tables.split(","):
        df = load_frame(table)
        train, test = split_frame(df, "train"), split_frame(df, "test")
        kinds = {c: k for c, k in infer_columns(train).items() if k in MODELLED_KINDS}
        discrete = [c for c, k in kinds.items() if k in ("categorical", "boolean")]
        target = DEFAULT_TARGETS[table]
        epochs = max(2, round(EPOCHS[table] * args.epochs_scale))
        for model in args.models.split(","):
            for seed in seeds:
                for lib in ("genlab", "package") if seed % 2 == 0 else ("package", "genlab"):
                    key = f"{table}/{model}/{lib}/{seed}/{epochs}"
                    if key in done:
                        continue
                    t = time.perf_counter()
                    fitted = (
                        genlab_fit(model, train, epochs, seed)
                        if lib == "genlab"
                        else package_fit(model, train, discrete, epochs, seed)
                    )
                    fit_s = time.perf_counter() - t
                    fake = sample(lib, fitted, len(train), seed, list(train.columns))
                    row = {"fit_seconds": round(fit_s, 2), **score(train, test, fake, kinds, target, seed)}
                    row["sdmetrics_quality"] = sdmetrics_quality(train, fake, kinds)
                    if seed == seeds[0] and not args.no_timing:
                        t = time.perf_counter()
                        genlab_fit(model, train, 1, seed) if lib == "genlab" else package_fit(
                            model, train, discrete, 1, seed
                        )
                        one = time.perf_counter() - t
                        row["epoch_seconds"] = round((fit_s - one) / (epochs - 1), 4)
                    done[key] = row
                    PARTIAL.parent.mkdir(parents=True, exist_ok=True)
                    PARTIAL.write_text(json.dumps(done, indent=1))
                    print(key, {k: v for k, v in row.items() if k != "tstr_models"}, flush=True)
    summarize(done, args, ctgan.__version__)


def summarize(done: dict, args, version: str) -> None:
    rows = []
    for key, r in done.items():
        table, model, lib, seed, epochs = key.split("/")
        rows.append({"table": table, "model": model, "lib": lib, "seed": int(seed), "epochs": int(epochs), **r})
    frame = pd.DataFrame(rows)
    cols = ["quality", "tstr", "trtr", "dcr_ratio", "exact_copy_rate", "holdout_copy_rate", "mia_auc"]
    agg = frame.groupby(["table", "model", "lib"])[[*cols, "epoch_seconds", "sdmetrics_quality"]].mean()
    print(agg.round(4).to_string())
    summary: dict = {}
    speedups, quality_wins, tstr_ok = [], [], []
    for (table, model), g in agg.groupby(level=[0, 1]):
        gl, pk = g.xs("genlab", level=2).iloc[0], g.xs("package", level=2).iloc[0]
        speed = float(pk["epoch_seconds"] / gl["epoch_seconds"]) if gl["epoch_seconds"] else None
        summary[f"{table}/{model}"] = {
            "genlab": {k: float(gl[k]) for k in [*cols, "epoch_seconds"]},
            "package": {k: float(pk[k]) for k in [*cols, "epoch_seconds"]},
            "speedup": speed,
            "quality_genlab_minus_package": float(gl["quality"] - pk["quality"]),
            "tstr_genlab_minus_package": float(gl["tstr"] - pk["tstr"]),
        }
        if speed:
            speedups.append(speed)
        quality_wins.append(bool(gl["quality"] >= pk["quality"]))
        tstr_ok.append(bool(gl["tstr"] >= pk["tstr"] - 0.02))
    write_result(
        "tabular_vs_ctgan",
        value=round(min(speedups), 2) if speedups else None,
        unit="x faster training epoch than the ctgan package (worst table/model)",
        anchor=f"ctgan {version} CTGAN / TVAE, same epochs and batch size 500",
        anchor_value=1.0,
        quality_at_least_package=f"{sum(quality_wins)}/{len(quality_wins)}",
        tstr_within_0_02=f"{sum(tstr_ok)}/{len(tstr_ok)}",
        summary=summary,
        seeds=args.seeds,
        epochs=EPOCHS,
        epochs_scale=args.epochs_scale,
        runs=rows,
        machine=machine(),
    )


if __name__ == "__main__":
    main()
