"""genlab's table fidelity metrics beside SDMetrics 0.32.0's, on real tables and deterministic synthetic copies.

For each pair (real table, synthetic table):

- ``penguins`` (344 x 8, missing values) vs a bootstrap resample with Gaussian noise on the numbers;
- ``diamonds`` (53,940 x 10) vs a bootstrap resample with noise, 5% of ``cut`` relabelled and ``price`` x 1.03;
- ``txhousing`` (8,602 x 9, missing values) with its year/month as a ``datetime`` column, vs a perturbed copy,

it computes per column SDMetrics' KSComplement / TVComplement beside :func:`genlab.metrics.tabular.column_shapes`
(TVComplement drops missing cells: genlab's ``missing_category=False``), per pair CorrelationSimilarity /
ContingencySimilarity (numerical columns given as ``continuous_column_names``) beside
:func:`~genlab.metrics.tabular.column_pair_trends`, and SDMetrics' single-table QualityReport score beside
:func:`~genlab.metrics.tabular.quality_score` with the report's settings (``missing_category=False,
bin_edges="own", correlation_threshold=0.5, association_threshold=0.3``) and with genlab's defaults.
The report's random 50,000-row subsample of contingency pairs is switched off (``num_rows_subsample = None``)
so that its score is deterministic.

Run in the SDMetrics environment: benchmarks/.venv-ctgan/bin/python benchmarks/tabular_metrics_check.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sdmetrics
from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
from sdmetrics.reports.single_table import QualityReport
from sdmetrics.single_column import KSComplement, TVComplement
from sdmetrics.single_table import LogisticDetection
from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result
from genlab.metrics import tabular as T

TABLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "tables"
COMPAT = {"missing_category": False, "bin_edges": "own", "correlation_threshold": 0.5, "association_threshold": 0.3}


def _noisy_resample(real: pd.DataFrame, kinds: dict[str, str], seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    syn = real.iloc[rng.integers(0, len(real), len(real))].reset_index(drop=True)
    for c, k in kinds.items():
        if k == "numerical":
            std = float(real[c].std())
            syn[c] = syn[c] + rng.normal(0.0, noise * std, len(syn))
    return syn


def pairs() -> dict[str, tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]]:
    out = {}
    pen = pd.read_csv(TABLES / "penguins.csv", na_values=["NA"], keep_default_na=True)
    kinds = T.column_kinds(pen)
    kinds["year"] = "categorical"
    syn = _noisy_resample(pen, kinds, 0, 0.1)
    syn.loc[[5, 17], "island"] = "Atlantis"  # a category the real table lacks (TVComplement's 1e-6 smoothing)
    out["penguins"] = (pen, syn, kinds)

    dia = pd.read_csv(TABLES / "diamonds.csv")
    kinds = T.column_kinds(dia)
    syn = _noisy_resample(dia, kinds, 1, 0.05)
    rng = np.random.default_rng(2)
    flip = rng.random(len(syn)) < 0.05
    syn.loc[flip, "cut"] = rng.choice(sorted(dia["cut"].unique()), int(flip.sum()))
    syn["price"] = syn["price"] * 1.03
    out["diamonds"] = (dia, syn, kinds)

    tx = pd.read_csv(TABLES / "txhousing.csv", na_values=["NA"])
    tx["date"] = pd.to_datetime({"year": tx["year"], "month": tx["month"], "day": 1})
    tx = tx.drop(columns=["year", "month"])
    kinds = T.column_kinds(tx)
    syn = _noisy_resample(tx, kinds, 3, 0.1)
    syn["date"] = syn["date"] + pd.to_timedelta(np.random.default_rng(4).integers(-40, 40, len(syn)), unit="D")
    out["txhousing"] = (tx, syn, kinds)
    return out


def _metadata(kinds):
    metadata = {"columns": {c: {"sdtype": k} for c, k in kinds.items()}}
    for c, k in kinds.items():
        if k == "datetime":
            metadata["columns"][c]["datetime_format"] = "%Y-%m-%d"
    return metadata


def sdmetrics_report(real, syn, kinds):
    metadata = _metadata(kinds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = QualityReport()
        report.num_rows_subsample = None
        report.generate(real[list(kinds)], syn[list(kinds)], metadata, verbose=False)
    return report


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s) if pd.api.types.is_datetime64_any_dtype(s) else s


def compare(name, real, syn, kinds) -> dict:
    rows = []
    g_shapes = T.column_shapes(real, syn, kinds, missing_category=False)
    g_shapes_default = T.column_shapes(real, syn, kinds)
    for c, k in kinds.items():
        metric = KSComplement if k in T.CONTINUOUS_KINDS else TVComplement
        ref = float(metric.compute(real[c], syn[c]))
        rows.append((name, metric.__name__, c, ref, g_shapes[c], g_shapes_default[c]))
    g_pairs = T.column_pair_trends(real, syn, kinds)
    names = list(kinds)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            cont = [c for c in (a, b) if kinds[c] in T.CONTINUOUS_KINDS]
            r2 = real[[a, b]].apply(_numeric)
            s2 = syn[[a, b]].apply(_numeric)
            if len(cont) == 2:
                ref = float(CorrelationSimilarity.compute(r2, s2))
                metric = "CorrelationSimilarity"
            else:
                ref = float(ContingencySimilarity.compute(r2, s2, continuous_column_names=cont or None))
                metric = "ContingencySimilarity"
            rows.append((name, metric, f"{a}|{b}", ref, g_pairs[f"{a}|{b}"], g_pairs[f"{a}|{b}"]))
    t0 = time.perf_counter()
    report = sdmetrics_report(real, syn, kinds)
    t_sdm = time.perf_counter() - t0
    t0 = time.perf_counter()
    g_compat = T.quality_score(real, syn, kinds, **COMPAT)
    t_gen = time.perf_counter() - t0
    g_default = T.quality_score(real, syn, kinds)
    props = report.get_properties().set_index("Property")["Score"]
    rows.append(
        (
            name,
            "QualityReport: Column Shapes",
            "",
            float(props["Column Shapes"]),
            g_compat.column_shapes,
            g_default.column_shapes,
        )
    )
    rows.append(
        (
            name,
            "QualityReport: Column Pair Trends",
            "",
            float(props["Column Pair Trends"]),
            g_compat.column_pair_trends,
            g_default.column_pair_trends,
        )
    )
    rows.append((name, "QualityReport: score", "", float(report.get_score()), g_compat.score, g_default.score))
    details = report.get_details("Column Pair Trends")
    sdm_pairs = {f"{r['Column 1']}|{r['Column 2']}": float(r["Score"]) for _, r in details.iterrows()}
    pair_diff = max(abs(sdm_pairs[p.key] - p.score) for p in g_compat.pairs if not np.isnan(sdm_pairs[p.key]))
    effects = {"genlab defaults": g_default.score}
    for key, value in COMPAT.items():
        effects[f"only {key}={value}"] = T.quality_score(real, syn, kinds, **{key: value}).score
    effects["all four (= sdmetrics)"] = g_compat.score
    return {
        "rows": rows,
        "settings_effect": effects,
        "report_pair_max_abs_diff": pair_diff,
        "seconds": {"sdmetrics_report": round(t_sdm, 3), "genlab_quality_score": round(t_gen, 3)},
        "n_rows": len(real),
    }


def dcr_check(real, kinds, seed=5) -> dict:
    """genlab's DCR distances beside SDMetrics' calculate_dcr: train / holdout halves, synthetic = noisy train."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(real))
    train, holdout = real.iloc[idx[: len(real) // 2]].reset_index(drop=True), real.iloc[idx[len(real) // 2 :]]
    holdout = holdout.reset_index(drop=True)
    syn = _noisy_resample(train, kinds, seed, 0.05)
    metadata = _metadata(kinds)
    ours = T.privacy(train, syn, holdout, kinds, seed=seed)
    ref_syn = calculate_dcr(dataset=syn, reference_dataset=train, metadata=metadata).to_numpy()
    ref_hold = calculate_dcr(dataset=holdout, reference_dataset=train, metadata=metadata).to_numpy()
    lo, hi = train.min(numeric_only=True), train.max(numeric_only=True)
    num = [c for c in kinds if kinds[c] == "numerical"]
    outside = ((syn[num] < lo[num]) | (syn[num] > hi[num])).any(axis=1)
    return {
        "synthetic_median": (float(np.median(ref_syn)), ours["dcr_synthetic_median"]),
        "synthetic_p05": (float(np.percentile(ref_syn, 5)), ours["dcr_synthetic_p05"]),
        "holdout_median": (float(np.median(ref_hold)), ours["dcr_holdout_median"]),
        "holdout_p05": (float(np.percentile(ref_hold, 5)), ours["dcr_holdout_p05"]),
        "synthetic_rows_outside_train_range": int(outside.sum()),
        "n_synthetic": len(syn),
    }


def detection_check(real, syn, kinds) -> dict:
    """SDMetrics' LogisticDetection (unseeded 3-fold CV, robust scaler) beside genlab's detection_score."""
    ours = T.detection_score(real, syn, kinds).score
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = float(LogisticDetection.compute(real[list(kinds)], syn[list(kinds)], _metadata(kinds)))
        except ValueError as exc:  # its one-hot encoder rejects a category the real table lacks
            return {"sdmetrics": None, "sdmetrics_error": str(exc).splitlines()[-1], "genlab": ours}
    return {"sdmetrics": ref, "genlab": ours}


def main() -> None:
    tables = pairs()
    results = {name: compare(name, *p) for name, p in tables.items()}
    t0 = time.perf_counter()
    dcr = {name: dcr_check(tables[name][0], tables[name][2]) for name in ("penguins", "txhousing")}
    t1 = time.perf_counter()
    detection = {name: detection_check(*p) for name, p in tables.items()}
    print(f"(DCR checks {t1 - t0:.1f} s, detection checks {time.perf_counter() - t1:.1f} s)")
    header = (
        f"{'table':10} {'metric':34} {'column(s)':36} {'sdmetrics':>10} {'genlab':>10} {'|diff|':>9} {'default':>10}"
    )
    print(header)
    print("-" * len(header))
    by_metric: dict[str, float] = {}
    for res in results.values():
        for table, metric, cols, ref, ours, default in res["rows"]:
            diff = abs(ref - ours)
            by_metric[metric] = max(by_metric.get(metric, 0.0), diff)
            print(f"{table:10} {metric:34} {cols[:36]:36} {ref:10.6f} {ours:10.6f} {diff:9.2e} {default:10.6f}")
    print()
    print("genlab = the settings matching SDMetrics (TVComplement drops missing cells; the report's binning and")
    print("thresholds); default = genlab's defaults (missing is a category; real-range bins; every pair).")
    for name, res in results.items():
        print(
            f"{name}: report pair scores max |diff| {res['report_pair_max_abs_diff']:.2e}; seconds "
            f"sdmetrics QualityReport {res['seconds']['sdmetrics_report']}, genlab quality_score "
            f"{res['seconds']['genlab_quality_score']}"
        )
    print("max |diff| per metric:", {k: f"{v:.2e}" for k, v in by_metric.items()})
    print()
    print("quality_score, each SDMetrics setting alone (from genlab's defaults):")
    for name, res in results.items():
        print(f"  {name:10}", "  ".join(f"{k}: {v:.6f}" for k, v in res["settings_effect"].items()))
    print()
    print("DCR (mean per-column distance to the closest train row): sdmetrics calculate_dcr vs genlab privacy()")
    for name, res in dcr.items():
        cells = "  ".join(f"{k} {v[0]:.6f} / {v[1]:.6f}" for k, v in res.items() if isinstance(v, tuple))
        print(
            f"  {name:10} {cells}  ({res['synthetic_rows_outside_train_range']} of {res['n_synthetic']} "
            "synthetic rows have a value outside the train range)"
        )
    print()
    print("detection score (1 - (2 max(AUC, 0.5) - 1)): sdmetrics LogisticDetection (unseeded) vs genlab")
    for name, res in detection.items():
        ref = f"{res['sdmetrics']:.4f}" if res["sdmetrics"] is not None else f"fails ({res['sdmetrics_error']})"
        print(f"  {name:10} sdmetrics {ref}  genlab {res['genlab']:.4f}")
    quality = max(abs(r[3] - r[4]) for res in results.values() for r in res["rows"] if r[1] == "QualityReport: score")
    path = write_result(
        "tabular_metrics_vs_sdmetrics",
        value=quality,
        unit="max |genlab quality_score - sdmetrics QualityReport score| over 3 tables",
        anchor="sdmetrics 0.32.0 QualityReport",
        anchor_value={
            n: next(r[3] for r in res["rows"] if r[1] == "QualityReport: score") for n, res in results.items()
        },
        details={
            "sdmetrics_version": sdmetrics.__version__,
            "genlab_settings": COMPAT,
            "max_abs_diff_per_metric": by_metric,
            "settings_effect": {name: res["settings_effect"] for name, res in results.items()},
            "dcr_sdmetrics_vs_genlab": dcr,
            "detection_sdmetrics_vs_genlab": detection,
            "tables": {
                name: {
                    "n_rows": res["n_rows"],
                    "seconds": res["seconds"],
                    "report_pair_max_abs_diff": res["report_pair_max_abs_diff"],
                    "rows": [
                        {"metric": m, "columns": c, "sdmetrics": ref, "genlab": ours, "genlab_default": d}
                        for _, m, c, ref, ours, d in res["rows"]
                    ],
                }
                for name, res in results.items()
            },
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
