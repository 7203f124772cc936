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
       benchmarks/.venv-ctgan/bin/python benchmarks/tabular_vs_ctgan.py --timing [--rounds 3] [--tables diamonds]

What is compared. Each table is split 80 / 20 with genlab's fixed partition (genlab.tabular.split_frame, seed
0); both libraries train on the same 80% with the same epochs and batch size (500) and their default networks
(the package's defaults, which genlab's configs copy), and each draws as many rows as the training split has. The
discrete columns given to the package are the ones genlab infers (text, categories, booleans). The package refuses
missing values in continuous columns (penguins and txhousing have some): it gets each such column with its
missing cells filled with the mean and a 0/1 indicator column beside it (SDV's preprocessing for it), and its
samples get the cells whose indicator is 1 blanked again; genlab models missingness itself. Epochs per table
(scaled by --epochs-scale): penguins 300, mpg 300, txhousing 100, diamonds 30, so that the whole benchmark fits
in about an hour on 2 cores. Fidelity is measured against the training rows; utility (TSTR with a gradient-boosting
and a linear model) and privacy against the held-out 20%.

Speed (``--timing``, run it on an otherwise idle machine): seconds per training epoch = (T(E) - T(1)) / (E - 1),
where T(e) is the wall time of a whole fit with e epochs (E = 4) from a fresh model; the transform fit, the
encoding and every other per-fit cost are in both fits and cancel. The package's DataTransformer is fitted once
per table and reused by its fits (genlab's fits each fit their own transform; it cancels the same way). Rounds
interleave the two libraries and alternate which goes first; the median over rounds is reported. Both run on
torch's default threads in the same process.
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
# genlab.metrics.tabular.quality_score with SDMetrics' QualityReport conventions (see tabular_metrics_check.py)
SDMETRICS_SETTINGS = {
    "missing_category": False,
    "bin_edges": "own",
    "correlation_threshold": 0.5,
    "association_threshold": 0.3,
}
PARTIAL = RESULTS / "tabular_vs_ctgan.partial.json"


NULL = "__is_null"


def with_null_indicators(df: pd.DataFrame, discrete: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The package refuses missing values in continuous columns: each such column gets a 0/1 indicator column
    (a discrete one) and its missing cells the column's mean, as SDV's preprocessing (RDT) does for it."""
    out, extra = df.copy(), []
    for c in df.columns:
        if c not in discrete and df[c].isna().any():
            out[c + NULL] = df[c].isna().astype(int)
            out[c] = df[c].fillna(df[c].mean())
            extra.append(c + NULL)
    return out, discrete + extra


def without_null_indicators(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in [c for c in df.columns if c.endswith(NULL)]:
        base = c[: -len(NULL)]
        out[base] = out[base].where(out[c].astype(float) < 0.5)
        out = out.drop(columns=c)
    return out


def package_fit(model: str, train: pd.DataFrame, discrete: list[str], epochs: int, seed: int):
    import ctgan

    torch.manual_seed(seed)
    np.random.seed(seed)
    cls = ctgan.CTGAN if model == "ctgan" else ctgan.TVAE
    kw = {"enable_gpu": False} if model == "ctgan" else {"cuda": False}
    m = cls(epochs=epochs, batch_size=500, **kw)
    data, columns = with_null_indicators(train, discrete)
    m.fit(data, discrete_columns=columns)
    return m


def genlab_fit(model: str, train: pd.DataFrame, epochs: int, seed: int) -> Synthesizer:
    return Synthesizer(model, epochs=epochs, batch_size=500, seed=seed).fit(train)


def sample(lib: str, fitted, n: int, seed: int, columns: list[str]) -> pd.DataFrame:
    if lib == "genlab":
        return fitted.sample(n, seed=seed)
    torch.manual_seed(seed + 1000)
    np.random.seed(seed + 1000)
    return without_null_indicators(fitted.sample(n))[columns]


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
    ap.add_argument("--timing", action="store_true", help="time a training epoch of each library instead")
    ap.add_argument("--rounds", type=int, default=3, help="--timing: interleaved rounds (median reported)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import ctgan

    if args.timing:
        return timing(args, ctgan.__version__)

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
                    sd = mt.quality_score(train, fake, kinds, **SDMETRICS_SETTINGS)
                    row["quality_sdmetrics_settings"] = sd.score
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
    cols = ["quality", "quality_sdmetrics_settings", "sdmetrics_quality", "tstr", "trtr", "dcr_ratio"]
    cols += ["exact_copy_rate", "holdout_copy_rate", "mia_auc"]
    agg = frame.groupby(["table", "model", "lib"])[cols].agg(lambda v: float(np.nanmean(np.asarray(v, float))))
    print(agg.round(4).to_string())
    summary: dict = {}
    margins, quality_wins, tstr_ok = [], [], []
    for (table, model), g in agg.groupby(level=[0, 1]):
        if set(g.index.get_level_values(2)) != {"genlab", "package"}:
            continue
        gl, pk = g.xs("genlab", level=2).iloc[0], g.xs("package", level=2).iloc[0]
        summary[f"{table}/{model}"] = {
            "genlab": {k: float(gl[k]) for k in cols},
            "package": {k: float(pk[k]) for k in cols},
            "quality_genlab_minus_package": float(gl["quality"] - pk["quality"]),
            "tstr_genlab_minus_package": float(gl["tstr"] - pk["tstr"]),
        }
        margins.append(float(gl["quality"] - pk["quality"]))
        quality_wins.append(bool(gl["quality"] >= pk["quality"]))
        tstr_ok.append(bool(gl["tstr"] >= pk["tstr"] - 0.02))
    write_result(
        "tabular_vs_ctgan",
        value=round(min(margins), 4) if margins else None,
        unit="quality score, genlab minus the ctgan package (worst table/model, mean over seeds)",
        anchor=f"ctgan {version} CTGAN / TVAE, same epochs and batch size 500",
        anchor_value=0.0,
        quality_at_least_package=f"{sum(quality_wins)}/{len(quality_wins)}",
        tstr_within_0_02=f"{sum(tstr_ok)}/{len(tstr_ok)}",
        summary=summary,
        seeds=args.seeds,
        epochs=EPOCHS,
        epochs_scale=args.epochs_scale,
        runs=rows,
        machine=machine(),
    )


def timing(args, version: str) -> None:
    import ctgan.data_transformer as dt
    import ctgan.synthesizers.ctgan as pc
    import ctgan.synthesizers.tvae as pt

    e_long = 4
    out: dict = {}
    for table in args.tables.split(","):
        df = split_frame(load_frame(table), "train")
        kinds = {c: k for c, k in infer_columns(df).items() if k in MODELLED_KINDS}
        discrete = [c for c, k in kinds.items() if k in ("categorical", "boolean")]
        fitted = dt.DataTransformer()
        fitted.fit(*with_null_indicators(df, discrete))

        class Reused:  # the package's transformer, fitted once for the table
            inner = fitted

            def __init__(self, *a, **k) -> None:
                pass

            def fit(self, *a, **k) -> None:
                pass

            def __getattr__(self, name):
                return getattr(type(self).inner, name)

        pc.DataTransformer = pt.DataTransformer = Reused
        for model in args.models.split(","):
            per = {"genlab": [], "package": []}
            for r in range(args.rounds):
                for lib in ("genlab", "package") if r % 2 == 0 else ("package", "genlab"):
                    secs = []
                    for e in (1, e_long):
                        t = time.perf_counter()
                        genlab_fit(model, df, e, 0) if lib == "genlab" else package_fit(model, df, discrete, e, 0)
                        secs.append(time.perf_counter() - t)
                    per[lib].append((secs[1] - secs[0]) / (e_long - 1))
                print(table, model, {k: [round(v, 3) for v in vs] for k, vs in per.items()}, flush=True)
            g, p = float(np.median(per["genlab"])), float(np.median(per["package"]))
            steps = -(-len(df) // 500)
            out[f"{table}/{model}"] = {
                "genlab_s_per_epoch": round(g, 4),
                "package_s_per_epoch": round(p, 4),
                "speedup": round(p / g, 3),
                "rows": len(df),
                "steps_per_epoch": steps,
                "genlab_rows_per_s": round(len(df) / g),
                "rounds": per,
            }
            print(table, model, out[f"{table}/{model}"], flush=True)
    worst = min(v["speedup"] for v in out.values())
    write_result(
        "tabular_epoch_speed",
        value=worst,
        unit="x faster training epoch than the ctgan package (worst table/model; median of rounds)",
        anchor=f"ctgan {version} CTGAN / TVAE, batch 500, same training rows",
        anchor_value=1.0,
        cases=out,
        rounds=args.rounds,
        machine=machine(),
    )


if __name__ == "__main__":
    main()
