"""Evaluate an image-to-image run (``pix2pix``, ``inpaint``, ``srnet``, ``cyclegan``) on its data's test split.

The model translates the test inputs; :func:`genlab.metrics.translation_scores` scores the outputs against
the true targets (PSNR, SSIM, L1 / MSE, the hole's errors for inpainting), against the input's label (class
preservation under the shipped classifier) and against the real target images (FID, KID). The same scores of
a baseline that needs no training stand beside them: bicubic interpolation for super-resolution, the inputs
themselves otherwise (for inpainting: the hole filled with the training images' mean). A two-way model
(CycleGAN) is scored in both directions.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from .. import plotting
from ..data.paired import hole_of
from ..errors import ConfigError, DataError
from ..metrics import dataset_features, translation_scores
from ..progress import note

TRANSLATION_METRICS = ("translation",)


def _baseline(model: Any, train: Any, inputs: torch.Tensor, hole: torch.Tensor | None):
    """The no-training baseline's name and outputs for ``inputs`` (``None`` when there is none)."""
    if tuple(inputs.shape[1:]) == tuple(model.data_shape):
        if hole is not None:
            return "mean fill (the training mean in the hole)", torch.where(hole, train.x.mean(0, keepdim=True), inputs)
        return "the inputs", inputs
    if inputs.shape[1] == model.data_shape[0]:
        from ..models.translation import bicubic

        return "bicubic interpolation", bicubic(inputs, model.data_shape[1:])
    return "none", None


def _reference_features(images: torch.Tensor, label: str) -> Any:
    """The shipped network's features of real ``images`` (cached on disk), computed once for every score that
    compares with them; ``None`` when no shipped network takes images of this shape (no FID / KID then)."""
    try:
        return dataset_features(images, "auto", label=label)
    except ConfigError:
        return None


def evaluate_translation(
    model: Any,
    path: Path,
    info: dict[str, Any] | None,
    name: str,
    options: dict[str, Any],
    *,
    metrics: list[str] | None,
    n: int | None,
    seed: int,
    pictures: bool,
    progress: bool,
    t0: float,
):
    """:class:`~genlab.report.evaluate.Evaluation` of an image-to-image model (module docstring)."""
    from .evaluate import Evaluation, _finite, _read_history, _reference, featureless_results

    unknown = [m for m in metrics or [] if m not in TRANSLATION_METRICS]
    if unknown:
        raise ConfigError(
            f"metric(s) {unknown} do not apply to a {model.registry_name}; it is scored with: translation"
        )
    train, ref, ref_split = _reference(name, options)
    if ref.source is None:
        raise DataError(f"{name!r} with options {options} has no inputs; evaluate the run with the data it trained on")
    paired = not ref.unpaired
    n = int(n or min(len(ref.source), 10_000))
    if n < 2:
        raise ConfigError(f"-n must be at least 2, got {n}")
    inputs = ref.source[:n]
    labels = ref.y if paired else ref.extras.get("source_y")  # the inputs' classes
    labels = labels[:n] if labels is not None and not bool((labels[:n] < 0).any()) else None
    hole = hole_of(ref)
    hole = hole[:n] if hole is not None else None
    targets = ref.x[:n] if paired else None
    note(
        f"evaluate: the {model.registry_name} in {path} on {name} ({ref_split} split): translating {n} inputs",
        enabled=progress,
    )
    outputs = model.translate(inputs, "AB", hole=hole)
    reference = _reference_features(ref.x[:10_000], f"{name}-{ref_split}-targets")
    scores: dict[str, Any] = {
        "AB": translation_scores(outputs, targets=targets, labels=labels, hole=hole, reference=reference, seed=seed)
    }
    base_name, base = _baseline(model, train, inputs, hole)
    if base is not None:
        scores["baseline"] = translation_scores(
            base, targets=targets, labels=labels, hole=hole, reference=reference, seed=seed
        )
    scores["baseline_name"] = base_name
    if "BA" in model._directions():
        b_in = ref.x[:n]
        ba = model.translate(b_in, "BA")
        b_labels = ref.y[:n] if ref.y is not None and not bool((ref.y[:n] < 0).any()) else None
        ref_a = _reference_features(ref.source[:10_000], f"{name}-{ref_split}-inputs")
        scores["BA"] = translation_scores(ba, labels=b_labels, reference=ref_a, seed=seed)
        scores["BA_inputs"] = translation_scores(b_in, labels=b_labels, reference=ref_a, seed=seed)
    metrics_out = {"translation": {**scores, "n": n, "paired": paired}}
    results = featureless_results(model, path, info, name, options, ref, ref_split, n, seed, metrics_out, t0)
    pics: dict[str, bytes] = {}
    if pictures:
        with tempfile.TemporaryDirectory() as tmp:
            k = min(16, n)
            rows = model.translation_rows(inputs[:k], ref.x[:k], hole[:k] if hole is not None else None)
            f = plotting.save_image_grid(rows, Path(tmp) / "t.png", nrow=k, value_range=(0.0, 1.0))
            pics["translations"] = f.read_bytes()
            history = _read_history(path)
            if history and any("epoch" in r for r in history):
                f = plotting.save_loss_curve(history, Path(tmp) / "l.png", title=f"{model.registry_name} on {name}")
                pics["loss_curve"] = f.read_bytes()
    return Evaluation(_finite(results), pics)


__all__ = ["TRANSLATION_METRICS", "evaluate_translation"]
