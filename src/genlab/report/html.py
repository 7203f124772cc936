"""A self-contained HTML page of an evaluation: the metric table with its floors and the pictures, inlined.

The page has no external resources (pictures are ``data:`` URIs, the style is inline), so it can be mailed,
archived or opened offline.
"""

from __future__ import annotations

import base64
import html
from typing import Any

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #1d2327; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.95em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35em 0.8em; text-align: left; vertical-align: top; }
th { background: #f3f5f7; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
.pics { display: flex; flex-wrap: wrap; gap: 1.5em; }
figure { margin: 0; } figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }
img { max-width: 100%; image-rendering: pixelated; border: 1px solid #eee; }
.note { color: #555; font-size: 0.9em; max-width: 60em; }
"""

_CAPTIONS = {
    "samples": "Samples drawn from the model",
    "reconstructions": "Reference images (top) and their reconstructions (bottom)",
    "loss_curve": "Training curves (per epoch)",
    "codes": "Codes of the reference set (first two principal components), by class",
    "gibbs_chain": "Gibbs chains, left to right (E[v|h] every few steps)",
    "filters": "Filters: first-layer weights of 100 hidden units",
    "attention": "Attention of each head (columns) of each layer (rows) when predicting a middle pixel",
    "reliability": "Reliability diagram: accuracy against confidence per bin (the diagonal is calibrated)",
    "marginals": "Each column: real (grey) against synthetic (blue)",
    "pair_trends": "Pair trends: how well each pair of columns keeps its association (1 = as in the real table)",
    "translations": "Inputs, outputs and targets, one row each (two-way models: A -> B above B -> A)",
}


def _f(v: Any, digits: int = 4) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1e5 else f"{v:.4e}"
    return str(v)


def _floor(floors: dict | None, pair: str, key: str) -> str:
    if not floors:
        return "–"
    entry = floors.get(pair) or {}
    if key not in entry:
        return "–"
    n = entry.get("n") or []
    return f"{_f(entry[key])} (n={'/'.join(str(x) for x in n)})"


def metric_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """``(metric, model value, floor train vs test, floor test halves, details)`` per metric, as plain text."""
    m, floors = results.get("metrics", {}), results.get("floors")
    rows = []
    if "fid" in m:
        r = m["fid"]
        rows.append(
            (
                "FID ↓",
                _f(r["fid"]),
                _floor(floors, "train_vs_test", "fid"),
                _floor(floors, "test_halves", "fid"),
                f"{r['n_real']} real, {r['n_fake']} generated",
            )
        )
    if "kid" in m:
        r = m["kid"]
        spread = f" ± {_f(r['kid_std'], 2)}" if r.get("kid_std") is not None else ""
        how = (
            f"{r['subsets']} subsets of {r['subset_size']}"
            if r["subsets"] > 1
            else f"both sets whole ({r['subset_size']})"
        )
        rows.append(
            (
                "KID ↓",
                f"{_f(r['kid'])}{spread}",
                _floor(floors, "train_vs_test", "kid"),
                _floor(floors, "test_halves", "kid"),
                how,
            )
        )
    if "is" in m:
        r = m["is"]
        rows.append(
            (
                "Inception-style score ↑",
                f"{_f(r['is'])} ± {_f(r['is_std'], 2)}",
                "–",
                "–",
                f"the data's own: {_f(r.get('data'))}; {r['splits']} splits, domain classifier",
            )
        )
    if "pr" in m:
        r = m["pr"]
        rows.append(
            (
                "Precision / recall ↑",
                f"{_f(r['precision'], 3)} / {_f(r['recall'], 3)}",
                "–",
                "–",
                f"k = {r['k']} nearest neighbours",
            )
        )
    if "dc" in m:
        r = m["dc"]
        rows.append(
            (
                "Density / coverage ↑",
                f"{_f(r['density'], 3)} / {_f(r['coverage'], 3)}",
                "–",
                "–",
                f"k = {r['k']}; density about 1 when the distributions match",
            )
        )
    if "classes" in m:
        r = m["classes"]
        rows.append(
            (
                "Classes: KL to the data ↓",
                _f(r["class_kl"]),
                "–",
                "–",
                f"{r['classes_covered']} of {r['n_classes']} classes get at least 1% of the samples",
            )
        )
    if "modes" in m:
        r = m["modes"]
        rows.append(
            (
                "Modes covered ↑",
                f"{r['modes']} / {r['n_modes']}",
                "–",
                "–",
                f"{100 * r['high_quality']:.1f}% high quality; KL to uniform {_f(r['kl'], 3)}",
            )
        )
    if "recon" in m:
        r = m["recon"]
        bce = f", BCE {_f(r['bce'])} nats" if "bce" in r else ""
        rows.append(
            (
                "Reconstruction MSE ↓",
                _f(r["mse"]),
                "–",
                "–",
                f"PSNR {_f(r['psnr'], 3)} dB{bce}; {r['n']} reference samples",
            )
        )
    if "ll" in m and "unavailable" in m["ll"]:
        rows.append(("Log-likelihood (nats) ↑", "not available", "–", "–", m["ll"]["unavailable"]))
    elif "ll" in m:
        r = m["ll"]
        how = {
            "exact": "exact",
            "iwae": f"IWAE bound, k = {r.get('k')}",
            "ais": f"AIS, {r.get('n_runs')} runs x {r.get('n_betas')} temperatures",
        }.get(r["method"], r["method"])
        binar = "; test set binarized once (seed 0)" if r.get("binarized") else ""
        binar += "; log p(x | y), given the classes" if r.get("conditional") else ""
        rows.append(
            (
                "Log-likelihood (nats) ↑",
                f"{_f(r['mean'])} [{_f(r['lower'])}, {_f(r['upper'])}]",
                "–",
                "–",
                f"{how}; {r['n']} samples{binar}",
            )
        )
    if "predictive" in m:
        r = m["predictive"]
        how = f"{r.get('method')}, {r.get('n_draws')} draws; {r.get('n')} reference samples"
        if "accuracy" in r:
            rows.append(("Accuracy ↑", _f(r["accuracy"], 4), "–", "–", how))
            rows.append(("Expected calibration error ↓", _f(r["ece"], 3), "–", "–", "15 confidence bins"))
            rows.append(("NLL of the labels (nats) ↓", _f(r["nll"]), "–", "–", f"mean entropy {_f(r['entropy'], 3)}"))
        else:
            rows.append(("RMSE ↓", _f(r["rmse"]), "–", "–", how))
            rows.append(("NLL of the targets (nats) ↓", _f(r["nll"]), "–", "–", "Gaussian predictive"))
    rows.extend(_table_rows(m))
    rows.extend(_translation_rows(m))
    return rows  # fmt: skip


_TRANSLATION_SCORES = (
    ("psnr", "PSNR (dB) ↑"),
    ("ssim", "SSIM ↑"),
    ("l1", "L1 ↓"),
    ("hole_psnr", "Hole PSNR (dB) ↑"),
    ("hole_l1", "Hole L1 ↓"),
    ("class_preservation", "Class preservation ↑"),
    ("fid", "FID of the outputs ↓"),
    ("kid", "KID of the outputs ↓"),
)


def _translation_rows(m: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Image-to-image scores, each beside the baseline's (and B -> A for two-way models)."""
    if "translation" not in m:
        return []
    r = m["translation"]
    rows = []
    for direction, base_key, base_name in (("AB", "baseline", r.get("baseline_name")), ("BA", "BA_inputs", "inputs")):
        scores, base = r.get(direction) or {}, r.get(base_key) or {}
        prefix = "B -> A: " if direction == "BA" else ("A -> B: " if "BA" in r else "")
        for key, label in _TRANSLATION_SCORES:
            if key in scores:
                detail = f"{base_name}: {_f(base.get(key))}" if key in base else ""
                rows.append((prefix + label, _f(scores[key]), "–", "–", detail))
    return rows


def _table_rows(m: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """The rows of the table metrics (quality, detection, utility, privacy)."""
    rows = []
    if "quality" in m:
        r = m["quality"]
        rows.append(("Quality score ↑", _f(r.get("score")), "–", "–", "mean of column shapes and pair trends (0..1)"))
        rows.append(("Column shapes ↑", _f(r.get("column_shapes")), "–", "–", "1 - KS / 1 - TV distance"))
        rows.append(("Pair trends ↑", _f(r.get("column_pair_trends")), "–", "–", "correlation / contingency"))
    if "detection" in m:
        r = m["detection"]
        rows.append(
            ("Detection AUC ↓", _f(r.get("auc")), "–", "–", f"real vs synthetic classifier; score {_f(r.get('score'))}")
        )
    if "utility" in m:
        r = m["utility"]
        for model_name, res in (r.get("models") or {}).items():
            metric = "accuracy" if r.get("task") == "classification" else "r2"
            real, syn = (res.get("real") or {}).get(metric), (res.get("synthetic") or {}).get(metric)
            rows.append(
                (
                    f"TSTR {metric} ({model_name}) ↑",
                    _f(syn),
                    "–",
                    "–",
                    f"train on real: {_f(real)}; target {r.get('target')}",
                )
            )
    if "privacy" in m:
        r = m["privacy"]
        rows.append(
            (
                "DCR ratio (synthetic / holdout) ↑",
                _f(r.get("dcr_ratio")),
                "–",
                "–",
                "median distance to the closest training row",
            )
        )
        rows.append(
            (
                "Exact copies of training rows ↓",
                _f(r.get("exact_copy_rate")),
                "–",
                "–",
                f"holdout rows: {_f(r.get('holdout_copy_rate'))}",
            )
        )
        rows.append(("Membership inference AUC ↓", _f(r.get("mia_auc")), "–", "–", "0.5: members not told apart"))
    return rows


def _img(name: str, png: bytes) -> str:
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    cap = html.escape(_CAPTIONS.get(name, name.replace("_", " ")))
    return f"<figure><img src='{src}' alt='{html.escape(name)}'><figcaption>{cap}</figcaption></figure>"


def render_report(results: dict[str, Any], pictures: dict[str, bytes]) -> str:
    """The HTML page of ``results`` (the ``metrics.json`` content) with ``pictures`` (``name -> PNG bytes``)."""
    data = results.get("data", {})
    title = f"{results.get('model', '?')} on {data.get('name', '?')}"
    ext = results.get("extractor") or {}
    ext_line = ""
    if ext:
        acc = f", test accuracy {ext['test_accuracy']}%" if ext.get("test_accuracy") else ""
        ext_line = f" Features: <b>{html.escape(str(ext.get('name')))}</b>{acc}."
    unit = "rows" if results.get("kind") == "table" else "images"
    body = [
        f"<h1>genlab evaluation: {html.escape(title)}</h1>",
        f"<p class='sub'>{results.get('n_samples')} samples against the {html.escape(str(data.get('reference')))} "
        f"split ({data.get('n_reference')} {unit}); seed {results.get('seed')}.{ext_line} "
        f"genlab {html.escape(str(results.get('genlab_version')))}, {html.escape(str(results.get('date')))}."
        + (
            f" {100 * results['clipped_fraction']:.2f}% of the sample values lay outside the data's range and were "
            "clipped to it for the feature network."
            if results.get("clipped_fraction")
            else ""
        )
        + "</p>",
        "<h2>Metrics</h2>",
        "<table id='metrics'><tr><th>metric</th><th>model</th><th>floor: train vs test</th>"
        "<th>floor: test halves</th><th>details</th></tr>",
    ]
    for label, value, f1, f2, detail in metric_rows(results):
        body.append(
            f"<tr><td>{html.escape(label)}</td><td class='num'>{html.escape(value)}</td>"
            f"<td class='num'>{html.escape(f1)}</td><td class='num'>{html.escape(f2)}</td>"
            f"<td>{html.escape(detail)}</td></tr>"
        )
    body.append("</table>")
    if results.get("floors"):
        body.append(
            "<p class='note'>The floors are what the same metric reads between two samples of the real data: the "
            "training and the test split, and two halves of the test split. A model is judged against them, not "
            "against 0; FID also grows as the sample size shrinks, so compare FIDs only at equal sizes.</p>"
        )
    training = results.get("training") or {}
    if training:
        body.append("<h2>Training</h2><table>")
        for key in ("status", "steps", "epochs_done", "train_seconds", "stop_reason"):
            if training.get(key) not in (None, ""):
                label = html.escape(key.replace("_", " "))
                body.append(f"<tr><th>{label}</th><td>{html.escape(_f(training[key]))}</td></tr>")
        body.append("</table>")
    if pictures:
        body.append("<h2>Pictures</h2><div class='pics'>")
        order = [k for k in _CAPTIONS if k in pictures] + [k for k in pictures if k not in _CAPTIONS]
        body.extend(_img(k, pictures[k]) for k in order)
        body.append("</div>")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>genlab: {html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


__all__ = ["metric_rows", "render_report"]
