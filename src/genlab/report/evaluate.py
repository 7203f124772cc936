"""Evaluate a trained run: draw samples, compute the metrics that apply, and gather the report's pictures.

What applies is decided from the model and the data:

- images with a shipped feature network (28x28 or 8x8 grey): ``fid``, ``kid``, ``is``, ``pr`` (precision /
  recall), ``dc`` (density / coverage), ``classes`` (class histogram and its KL to the data's);
- 2-D toy mixtures: ``modes`` (mode coverage, high-quality fraction), and ``fid``, ``kid``, ``pr``, ``dc`` on
  the raw coordinates;
- autoencoders: ``recon`` (MSE, BCE, PSNR on the reference set);
- density models: ``ll`` (exact, IWAE or AIS, on a fixed binarization of the test set when the model is a
  binary one or was trained on dynamically binarized data).

The reference set is the data's test split (the train split where there is none). FID and KID come with the
floors of :func:`genlab.metrics.metric_floors` for named data sets.
"""

from __future__ import annotations

import csv
import datetime as _dt
import inspect
import json
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import plotting
from .._version import __version__
from ..data import load as load_data
from ..data.dataset import Dataset
from ..errors import ConfigError, DataError
from ..io import load as load_model
from ..io import resolve_model_dir
from ..metrics import (
    DomainFeatures,
    class_distribution,
    dataset_features,
    density_coverage,
    expected_calibration_error,
    extract_features,
    feature_extractor,
    fid,
    inception_score,
    kid,
    log_likelihood,
    metric_floors,
    mode_coverage,
    precision_recall,
    reconstruction_metrics,
)
from ..metrics.likelihood import base_bias_from_data
from ..models.autoencoders.latent import project_2d
from ..progress import Progress, format_seconds, note

ALL_METRICS = ("fid", "kid", "is", "pr", "dc", "classes", "modes", "recon", "ll", "predictive")
"""Metrics of image, toy and density models (table models have their own: genlab.report.tabular.TABLE_METRICS)."""
RUN_FILE = "run.json"


@dataclass
class Evaluation:
    """What :func:`evaluate_run` computed: the ``metrics.json`` content and the report's PNG pictures."""

    results: dict[str, Any]
    pictures: dict[str, bytes] = field(default_factory=dict)


def _read_run(path: Path) -> dict[str, Any] | None:
    f = path / RUN_FILE
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{f} is corrupt ({exc.msg}); pass --data to evaluate the model alone") from exc


def _reference(name: str, options: dict[str, Any]) -> tuple[Dataset, Dataset, str]:
    """The training data and the reference set (the test split, or the training data without one)."""
    opts = {k: v for k, v in options.items() if k not in ("split", "n_labels", "label_seed")}
    train = load_data(name, split="train", **opts)
    try:
        return train, load_data(name, split="test", **opts), "test"
    except DataError:
        return train, train, "train"


def _default_metrics(model, train: Dataset, extractor) -> list[str]:
    if not model.generative:  # predictive models: accuracy, calibration, likelihood of the targets
        return ["predictive"]
    names: list[str] = []
    if extractor is not None:
        names += ["fid", "kid", "pr", "dc"]
        if getattr(extractor, "name", "") not in ("identity", "custom"):
            names[2:2] = ["is"]
            names.append("classes")
    if train.centers is not None:
        names.append("modes")
    if hasattr(model, "reconstruct"):
        names.append("recon")
    if getattr(model, "likelihood_method", None):
        names.append("ll")
    return names


def _sample(model, n: int, seed: int, chunk: int = 1000, progress: bool = False) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    parts = []
    with torch.no_grad(), Progress(n, f"sampling ({model.registry_name})", unit="sample", enabled=progress) as p:
        for a in range(0, n, chunk):
            parts.append(model.sample(min(chunk, n - a), generator=gen).float())
            p.update(parts[-1].shape[0])
    return torch.cat(parts)


def _binary_model(model, run: dict[str, Any] | None) -> bool:
    if run and (run.get("settings") or {}).get("batch_transform") == "dynamic_binarize":
        return True
    return getattr(model, "likelihood_method", None) == "ais" or type(model).__name__ == "BoltzmannMachine"


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return v


def stage_notes(total: int, enabled: bool) -> Callable[[str], None]:
    """``stage(what)`` says ``evaluate [i/total] what`` on standard error, counting the stages."""
    done = 0

    def stage(what: str) -> None:
        nonlocal done
        done += 1
        note(f"evaluate [{done}/{total}] {what}", enabled=enabled)

    return stage


def evaluate_run(
    run: str | Path,
    *,
    metrics: list[str] | None = None,
    n: int | None = None,
    data: str | None = None,
    data_options: dict[str, Any] | None = None,
    extractor: Any = "auto",
    seed: int = 0,
    floors: bool = True,
    ll_samples: int = 2000,
    ll_k: int = 500,
    ll_betas: int = 5000,
    pictures: bool = True,
    progress: bool = True,
    target: str | None = None,
) -> Evaluation:
    """Compute the metrics of the model in ``run`` (a run directory, or a model directory with ``data``).

    Args:
        run: the run directory (its ``run.json`` names the data) or a saved model directory.
        metrics: names from :data:`ALL_METRICS`; default every one that applies.
        n: generated samples (default the reference set's size, at most 10,000).
        data, data_options: the data set, when the directory has no ``run.json`` (or to override it).
        extractor: feature network for the sample metrics (``"auto"``, a name, ``"inception"``...).
        seed: seeds the samples and every stochastic estimate.
        floors: also compute the FID / KID floors of the data set (named data sets only).
        ll_samples, ll_k, ll_betas: the likelihood: reference samples evaluated, IWAE draws, AIS temperatures.
        pictures: gather the report's pictures (PNG bytes).
        progress: say on standard error which stage runs (sampling, features, each metric, floors, pictures),
            with the progress of the long ones (see :mod:`genlab.progress`).
        target: table models: the column the utility score predicts (default: the named table's usual target).

    Table models (ctgan, tvae, gaussian_copula) get the table metrics instead (:mod:`genlab.report.tabular`):
    ``quality``, ``detection``, ``utility``, ``privacy``; image-to-image models (pix2pix, inpaint, srnet,
    cyclegan) the ``translation`` scores of their outputs beside a baseline (:mod:`genlab.report.translation`).
    """
    t0 = time.perf_counter()
    path = Path(run)
    model_dir = resolve_model_dir(path)
    model = load_model(model_dir)
    model.eval()
    info = _read_run(path)
    name = data or (info or {}).get("data", {}).get("name")
    options = dict(data_options if data_options is not None else (info or {}).get("data", {}).get("options", {}))
    if not name:
        raise ConfigError(f"{path} has no {RUN_FILE} saying what it was trained on; pass the data (--data NAME)")
    if getattr(model, "translator", False):
        from .translation import evaluate_translation

        return evaluate_translation(
            model, path, info, name, options, metrics=metrics, n=n, seed=seed, pictures=pictures,
            progress=progress, t0=t0,
        )  # fmt: skip
    if getattr(model.data_info, "table", None) is not None:
        from .tabular import evaluate_table

        return evaluate_table(
            model, path, info, name, options, metrics=metrics, n=n, seed=seed, target=target,
            pictures=pictures, progress=progress, t0=t0,
        )  # fmt: skip
    train, ref, ref_split = _reference(name, options)
    shape = tuple(ref.info.sample_shape)
    if tuple(model.data_shape) != shape:
        raise DataError(f"the model makes samples of shape {tuple(model.data_shape)} but {name!r} has {shape}")
    vr = tuple(ref.info.value_range)
    tokens = bool(getattr(model.config, "vocab", ""))  # character sequences: no feature space to compare in
    try:
        ext = None if tokens and extractor == "auto" else feature_extractor(extractor, shape)
    except ConfigError:
        if extractor != "auto":
            raise
        ext = None  # no feature network for these samples: the feature metrics do not apply
    available = _default_metrics(model, train, ext)
    chosen = list(metrics) if metrics else available
    unknown = [m for m in chosen if m not in ALL_METRICS]
    if unknown:
        raise ConfigError(f"unknown metric(s) {unknown}; choose from {', '.join(ALL_METRICS)}")
    missing = [m for m in chosen if m not in available]
    if missing:
        raise ConfigError(
            f"metric(s) {missing} do not apply to this {model.registry_name} on {name!r}; "
            f"these do: {', '.join(available) or 'none'}"
        )
    n = int(n or min(len(ref), 10_000))
    if n < 2:
        raise ConfigError(f"-n must be at least 2, got {n}")
    if not model.generative:
        note(f"evaluate: predictive metrics of the {model.registry_name} on {name}", enabled=progress)
        return _evaluate_predictive(model, path, info, name, options, ref, ref_split, n, seed, t0, pictures)
    feature_metrics = {"fid", "kid", "is", "pr", "dc", "classes"} & set(chosen)
    floors_due = bool(floors and ({"fid", "kid"} & set(chosen)) and isinstance(ext, DomainFeatures))
    stage = stage_notes(1 + bool(feature_metrics) + len(chosen) + floors_due + bool(pictures), progress)

    note(
        f"evaluate: the {model.registry_name} in {path} on {name} ({ref_split} split, {len(ref)} references): "
        f"{', '.join(chosen)}",
        enabled=progress,
    )
    stage(f"sampling {n} samples")
    fake = _sample(model, n, seed, progress=progress)
    if not torch.isfinite(fake).all():
        raise DataError(f"the {model.registry_name} drew NaN or Inf samples; it cannot be evaluated")
    clipped = 0.0
    if ext is not None and getattr(ext, "name", "") != "identity":
        # a decoder with a linear output (MSE autoencoders, Gaussian RBMs) strays a little outside the data's
        # range: the samples are clipped to it for the feature network, and the clipped share is reported
        clipped = float(((fake < vr[0]) | (fake > vr[1])).double().mean())
        fake = fake.clamp(vr[0], vr[1])
    out: dict[str, Any] = {}
    if feature_metrics:
        stage(f"features ({getattr(ext, 'name', 'custom')}) of the {len(ref)} references and the {n} samples")
        real_f = dataset_features(ref.x, ext, label=f"{name}-{ref_split}", value_range=vr, progress=progress)
        fake_f = extract_features(fake, ext, vr, progress=progress)
        if "fid" in chosen:
            stage("fid")
            out["fid"] = fid(real=real_f, fake=fake_f).as_dict()
        if "kid" in chosen:
            stage("kid")
            out["kid"] = kid(real=real_f, fake=fake_f, seed=seed).as_dict()
        if "is" in chosen:
            stage("is (inception score)")
            out["is"] = inception_score(fake_f).as_dict()
            out["is"]["data"] = inception_score(real_f).mean
        if "pr" in chosen:
            stage("pr (precision / recall)")
            out["pr"] = precision_recall(real=real_f, fake=fake_f).as_dict()
        if "dc" in chosen:
            stage("dc (density / coverage)")
            out["dc"] = density_coverage(real=real_f, fake=fake_f).as_dict()
        if "classes" in chosen:
            stage("classes (class histogram)")
            labels_ok = ref.y is not None and bool((ref.y >= 0).all())
            out["classes"] = class_distribution(fake_f, ref.y if labels_ok else real_f).as_dict()
    if "modes" in chosen:
        stage("modes (mode coverage)")
        out["modes"] = mode_coverage(fake, train.centers, float(train.extras["std"])).as_dict()
    if "recon" in chosen:
        stage("recon (reconstruction errors)")
        x = ref.x[:n]
        rec = _reconstruct(model, x, ref.y[:n] if ref.y is not None else None)
        out["recon"] = {**reconstruction_metrics(x, rec, vr), "n": len(x)}
    binarized = False
    if "ll" in chosen:
        stage("ll (log-likelihood)")
        x = ref.x[:ll_samples]
        binarized = _binary_model(model, info) and vr == (0.0, 1.0)
        if binarized:
            x = torch.bernoulli(x, generator=torch.Generator().manual_seed(0))
        base = torch.bernoulli(train.x[:10_000], generator=torch.Generator().manual_seed(1)) if binarized else train.x
        path_options = {}
        if getattr(model, "likelihood_method", None) == "ais":
            path_options["base_bias"] = (
                model.base_biases(base) if hasattr(model, "base_biases") else _energy_base(model, base)
            )
        cond = getattr(model.config, "n_classes", 0) and "y" in inspect.signature(model.log_prob).parameters
        labels = ref.y[: len(x)] if cond and ref.y is not None else None
        try:
            ll = log_likelihood(
                model,
                x,
                k=ll_k,
                betas=ll_betas,
                labels=labels,
                generator=torch.Generator().manual_seed(seed),
                progress=progress,
                **path_options,
            )
            out["ll"] = {**ll.as_dict(), "binarized": binarized}
        except ConfigError as exc:
            if metrics:  # asked for by name: the user learns why it cannot be computed
                raise
            out["ll"] = {"unavailable": str(exc)}
    results: dict[str, Any] = {
        "run": str(path),
        "model": model.registry_name,
        "data": {"name": name, "options": options, "reference": ref_split, "n_reference": len(ref)},
        "n_samples": n,
        "clipped_fraction": clipped,
        "seed": seed,
        "extractor": _extractor_info(ext) if feature_metrics else None,
        "metrics": out,
        "floors": None,
        "training": _training_summary(info),
        "genlab_version": __version__,
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
    }
    # floors with genlab's own networks (seconds); with Inception-v3 they would featurize the whole data set at
    # 299x299 on the CPU, so they are left to metric_floors(..., extractor="inception") on request
    if floors_due:
        stage(f"floors: fid / kid of the {name} train split against its test split (cached after the first time)")
        try:
            results["floors"] = metric_floors(
                name,
                ext,
                data_options={k: v for k, v in options.items() if k not in ("split", "n_labels", "label_seed")},
                progress=progress,
            )
        except DataError:
            results["floors"] = None  # a data set without a test split has no train-vs-test floor
    if pictures:
        stage("pictures")
    pics = _pictures(model, path, train, ref, fake, vr, seed) if pictures else {}
    results["seconds"] = round(time.perf_counter() - t0, 2)
    note(f"evaluate: done in {format_seconds(results['seconds'])}", enabled=progress)
    return Evaluation(_finite(results), pics)


def _evaluate_predictive(model, path, info, name, options, ref, ref_split, n, seed, t0, pictures) -> Evaluation:
    """Accuracy, NLL, ECE and entropy (classification) or RMSE and NLL (regression) on the reference set."""
    if ref.y is None:
        raise DataError(f"{name!r} has no targets to evaluate a {model.registry_name} on")
    x, y = ref.x[:n], ref.y[:n]
    pred = model.predictive(x, generator=torch.Generator().manual_seed(seed))
    pics: dict[str, bytes] = {}
    if model.classification:
        cal = expected_calibration_error(pred.mean, y)
        nll = float(-pred.mean.clamp_min(1e-30).log().gather(1, y.long()[:, None]).mean())
        metric = {
            "accuracy": cal.accuracy,
            "nll": nll,
            "ece": cal.ece,
            "entropy": float(pred.entropy.mean()),
            "mutual_information": float(pred.epistemic.mean()),
            "n": len(x),
        }
        if pictures:
            with tempfile.TemporaryDirectory() as tmp:
                f = plotting.save_reliability(cal.confidence, cal.bin_accuracy, cal.counts, Path(tmp) / "r.png")
                pics["reliability"] = f.read_bytes()
    else:
        t = y.reshape(pred.mean.shape).double()
        nll = 0.5 * (torch.log(2 * math.pi * pred.variance) + (t - pred.mean).square() / pred.variance)
        metric = {"rmse": float((t - pred.mean).square().mean().sqrt()), "nll": float(nll.sum(-1).mean()), "n": len(x)}
    metrics = {"predictive": {**metric, "method": model.config.method, "n_draws": model.config.n_samples}}
    results = featureless_results(model, path, info, name, options, ref, ref_split, n, seed, metrics, t0)
    if pictures:
        rows = _read_history(path)
        if rows and any("epoch" in r for r in rows):
            with tempfile.TemporaryDirectory() as tmp:
                f = plotting.save_loss_curve(rows, Path(tmp) / "l.png", title=f"{model.registry_name} on {name}")
                pics["loss_curve"] = f.read_bytes()
    return Evaluation(_finite(results), pics)


def featureless_results(
    model, path, info, name, options, ref, ref_split, n, seed, metrics: dict[str, Any], t0: float
) -> dict[str, Any]:
    """The ``metrics.json`` content of a report without feature-network metrics or floors (predictive and
    image-to-image models)."""
    return {
        "run": str(path),
        "model": model.registry_name,
        "data": {"name": name, "options": options, "reference": ref_split, "n_reference": len(ref)},
        "n_samples": n,
        "seed": seed,
        "extractor": None,
        "metrics": metrics,
        "floors": None,
        "training": _training_summary(info),
        "genlab_version": __version__,
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def _energy_base(model, x: torch.Tensor) -> torch.Tensor:
    """The base-rate model's visible biases: of the data, or (DBN) of the codes below the top RBM."""
    if hasattr(model, "up") and getattr(model, "n_layers", 1) > 1:
        x = model.up(x, model.n_layers - 1, sample=True, generator=torch.Generator().manual_seed(2))
    return base_bias_from_data(x)


def _extractor_info(ext) -> dict[str, Any]:
    return {
        "name": ext.name,
        "digest": getattr(ext, "digest", ""),
        "test_accuracy": getattr(ext, "test_accuracy", None),
    }


def _training_summary(info: dict[str, Any] | None) -> dict[str, Any] | None:
    if not info:
        return None
    keys = ("status", "steps", "epochs_done", "train_seconds", "stop_reason", "final_metrics")
    return {"config": info.get("model", {}).get("config"), **{k: info.get(k) for k in keys}}


def _read_history(path: Path) -> list[dict[str, float]]:
    f = path / "metrics.csv"
    if not f.is_file():
        return []
    rows = []
    with open(f, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            parsed = {}
            for k, v in row.items():
                try:
                    parsed[k] = float(v)
                except (TypeError, ValueError):
                    continue
            rows.append(parsed)
    return rows


@torch.no_grad()
def _reconstruct(model, x: torch.Tensor, y: torch.Tensor | None, chunk: int = 1000) -> torch.Tensor:
    """Reconstructions of ``x`` (conditional models get the labels), shaped like ``x``."""
    takes_labels = "y" in inspect.signature(model.reconstruct).parameters and getattr(model.config, "n_classes", 0)
    parts = []
    for a in range(0, len(x), chunk):
        kw = {"y": y[a : a + chunk]} if takes_labels and y is not None else {}
        xb = x[a : a + chunk]
        parts.append(model.reconstruct(xb, **kw).reshape(xb.shape))
    return torch.cat(parts)


def _codes(model, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor | None:
    """2-D codes of ``x`` for autoencoders (PCA of the encodings when the code is wider than 2)."""
    if not (hasattr(model, "encode") and hasattr(model, "decode")):
        return None
    return torch.from_numpy(project_2d(model, x, method="pca", y=y)).float()


def _pictures(model, run: Path, train: Dataset, ref: Dataset, fake: torch.Tensor, vr, seed: int) -> dict[str, bytes]:
    out: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        title = f"{model.registry_name} on {train.info.name}"
        if tuple(fake.shape[1:]) == (2,):  # 2-D toys: the samples over the data, the modes marked
            p = plotting.save_scatter(
                fake[:2000], d / "samples.png", reference=train.x[:2000], centers=train.centers, title=title
            )
        else:
            p = plotting.save_samples(fake[:64], d / "samples.png", value_range=vr)
        if p is not None:
            out["samples"] = p
        x = ref.x[:16]
        if hasattr(model, "reconstruct") and x.ndim == 4:
            rec = _reconstruct(model, x, ref.y[:16] if ref.y is not None else None)
            out["reconstructions"] = plotting.save_image_grid(
                torch.cat([x, rec]), d / "reconstructions.png", nrow=16, value_range=vr
            )
        rows = _read_history(run)
        if rows and any("epoch" in r for r in rows):
            out["loss_curve"] = plotting.save_loss_curve(
                rows, d / "loss_curve.png", keys=getattr(model, "plot_keys", None), title=title
            )
        labels = ref.y[:2000] if ref.y is not None else None
        codes = _codes(model, ref.x[:2000], labels)
        if codes is not None:
            out["codes"] = plotting.save_codes(codes, labels, d / "codes.png")
        if hasattr(model, "pictures"):
            with torch.no_grad():
                extra = model.pictures(generator=torch.Generator().manual_seed(seed))
            for key, (images, nrow) in extra.items():
                out[key] = plotting.save_image_grid(images, d / f"{key}.png", nrow=nrow, value_range=(0.0, 1.0))
        return {k: v.read_bytes() for k, v in out.items()}


__all__ = ["ALL_METRICS", "Evaluation", "evaluate_run"]
