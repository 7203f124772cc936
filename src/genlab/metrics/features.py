"""Feature networks for sample-quality metrics: the first stage of FID, KID, precision/recall and the rest.

genlab ships two small CNN classifiers, trained by ``benchmarks/feature_nets.py`` (seeded) and stored inside
the package as safetensors files whose SHA-256 digests are checked at every load:

- ``mnist-cnn`` for 28x28 grey images (MNIST-like), test accuracy in ``weights/manifest.json``;
- ``digits-cnn`` for the 8x8 digits.

Their penultimate layer (128 units after batch norm and ReLU) gives the features, their last layer the class
logits (Inception-style score, class histograms). The nets expect intensities in [0, 1]; samples in another
range are mapped with ``value_range``. Features of dataset splits are cached on disk
(:func:`dataset_features`), keyed by the network's digest and a digest of the data, so a stale cache can
never be used.

An Inception-v3 backend (:class:`InceptionFeatures`, 2048-d pool features as in the FID literature) goes
through the ``torch-fidelity`` package with weights the user already has on disk; it never downloads.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .. import fileutil
from .._device import to_numpy
from ..errors import ConfigError, DataError
from ..nn.feature_nets import (  # noqa: F401  (MANIFEST, WEIGHTS_DIR: re-exported for benchmarks/feature_nets.py)
    MANIFEST,
    WEIGHTS_DIR,
    FeatureNet,
    file_sha256,
    list_feature_nets,
    load_feature_net,
)
from ..progress import Progress, note

#: environment variable naming the Inception-v3 weights file of torch-fidelity
INCEPTION_ENV = "GENLAB_INCEPTION_WEIGHTS"


@dataclass(frozen=True)
class Features:
    """The features of a set of samples.

    Attributes:
        features: ``(N, D)`` activations (float32).
        logits: ``(N, K)`` class logits of the feature network, or ``None`` when it has no classifier.
        extractor: the network's name (numbers computed with different extractors do not compare).
    """

    features: torch.Tensor
    logits: torch.Tensor | None
    extractor: str

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def subset(self, idx: torch.Tensor) -> Features:
        """The features of the samples ``idx``."""
        logits = self.logits[idx] if self.logits is not None else None
        return Features(self.features[idx], logits, self.extractor)


class FeatureExtractor(Protocol):
    """Maps samples to :class:`Features`; ``name`` identifies it, ``digest`` its weights."""

    name: str
    digest: str

    def __call__(self, x: torch.Tensor, value_range: tuple[float, float] = (0.0, 1.0)) -> Features: ...


def _batched(
    fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    x: torch.Tensor,
    batch_size: int,
    name: str,
    progress: bool,
) -> Features:
    """``fn`` over batches of ``x``, concatenated; with ``progress``, the images done shown on standard error."""
    feats, logits = [], []
    with Progress(x.shape[0], f"features ({name})", unit="image", enabled=progress) as p:
        for a in range(0, x.shape[0], batch_size):
            xb = x[a : a + batch_size]
            f, lg = fn(xb)
            feats.append(f.float())
            logits.append(lg.float())
            p.update(xb.shape[0])
    return Features(torch.cat(feats), torch.cat(logits), name)


def _checked_images(x: torch.Tensor, shape: tuple[int, ...], value_range: tuple[float, float], who: str):
    x = torch.as_tensor(x)
    if x.ndim == 2 and math.prod(shape) == x.shape[1]:
        x = x.reshape(x.shape[0], *shape)
    if tuple(x.shape[1:]) != tuple(shape):
        raise DataError(f"{who} takes images of shape {tuple(shape)}, got samples of shape {tuple(x.shape[1:])}")
    if x.shape[0] == 0:
        raise DataError(f"{who} needs at least one sample")
    x = x.detach().float()
    if not torch.isfinite(x).all():
        raise DataError(f"the samples given to {who} contain NaN or Inf values; check the model that drew them")
    lo, hi = value_range
    if hi <= lo:
        raise ConfigError(f"value_range must be (low, high) with low < high, got {value_range}")
    span = hi - lo
    x_lo, x_hi = float(x.min()), float(x.max())
    if x_lo < lo - 1e-3 * span or x_hi > hi + 1e-3 * span:
        raise DataError(
            f"{who} expects values in {tuple(value_range)} but the samples span [{x_lo:.3g}, {x_hi:.3g}]; "
            "pass the samples' value_range"
        )
    return x if (lo, hi) == (0.0, 1.0) else (x - lo) / span


class DomainFeatures:
    """One of genlab's shipped CNNs (see :func:`list_feature_nets`), loaded with its digest checked.

    Args:
        name: ``"mnist-cnn"`` or ``"digits-cnn"``.
        batch_size: images per forward pass (the features do not depend on it beyond float rounding).
    """

    def __init__(self, name: str, batch_size: int = 1000) -> None:
        net, entry, digest = load_feature_net(name)
        self.net = net
        self.name = name
        self.digest = digest
        self.input_shape = tuple(entry["input_shape"])
        self.test_accuracy = entry.get("test_accuracy")
        self.batch_size = batch_size

    @torch.no_grad()
    def __call__(
        self, x: torch.Tensor, value_range: tuple[float, float] = (0.0, 1.0), progress: bool = False
    ) -> Features:
        x = _checked_images(x, self.input_shape, value_range, f"feature network {self.name!r}")
        return _batched(self.net.features_and_logits, x, self.batch_size, self.name, progress)


class InceptionFeatures:
    """Inception-v3 pool features (2048-d) and logits through ``torch-fidelity``, from local weights only.

    The weights are torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth`` (the TensorFlow FID network
    converted to PyTorch), passed as ``weights`` or found in ``$GENLAB_INCEPTION_WEIGHTS``. Nothing is ever
    downloaded: without the file this raises a :class:`~genlab.errors.ConfigError` that says where to get it.
    Grey images are repeated to three channels; torch-fidelity resizes to 299x299 as TensorFlow did.
    """

    name = "inception-v3"

    def __init__(self, weights: str | os.PathLike | None = None, batch_size: int = 64) -> None:
        path = weights if weights is not None else os.environ.get(INCEPTION_ENV)
        if not path:
            raise ConfigError(
                "the Inception-v3 features need torch-fidelity's weights file on disk "
                "(weights-inception-2015-12-05-6726825d.pth from its GitHub releases, fetched on a machine "
                f"with a network); pass its path or set {INCEPTION_ENV}. genlab never downloads it"
            )
        path = Path(path).expanduser()
        if not path.is_file():
            raise ConfigError(f"Inception-v3 weights file {path} does not exist; check the path or {INCEPTION_ENV}")
        try:
            from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
        except ImportError as exc:
            raise ConfigError(
                f"the Inception-v3 backend needs the torch-fidelity package ({exc}); pip install torch-fidelity"
            ) from exc
        self.net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(path)
        )
        self.digest = file_sha256(path)
        self.batch_size = batch_size

    @torch.no_grad()
    def __call__(
        self, x: torch.Tensor, value_range: tuple[float, float] = (0.0, 1.0), progress: bool = False
    ) -> Features:
        x = torch.as_tensor(x)
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise DataError(f"Inception-v3 features need images (N, 1 or 3, H, W), got {tuple(x.shape)}")
        x = _checked_images(x, tuple(x.shape[1:]), value_range, "the Inception-v3 network")

        def batch(xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            xb = (xb * 255).round().clamp(0, 255).to(torch.uint8)
            return self.net(xb.repeat(1, 3, 1, 1) if xb.shape[1] == 1 else xb)

        return _batched(batch, x, self.batch_size, self.name, progress)


class CallableFeatures:
    """Wraps a user's function ``x -> (N, D)`` features as an extractor (no logits)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], name: str = "custom") -> None:
        self.fn, self.name, self.digest = fn, name, ""

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, value_range: tuple[float, float] = (0.0, 1.0)) -> Features:
        f = torch.as_tensor(self.fn(x)).detach().float()
        if f.ndim != 2 or f.shape[0] != len(x):
            raise DataError(f"a feature function must return (N, D) features, got {tuple(f.shape)}")
        return Features(f, None, self.name)


class Identity:
    """The samples themselves, flattened, as features (2-D toys, tabular data)."""

    name, digest = "identity", ""

    def __call__(self, x: torch.Tensor, value_range: tuple[float, float] = (0.0, 1.0)) -> Features:
        x = torch.as_tensor(x).detach().float()
        return Features(x.reshape(x.shape[0], -1), None, self.name)


@lru_cache(maxsize=4)
def _domain(name: str) -> DomainFeatures:
    return DomainFeatures(name)


def feature_extractor(spec: Any = "auto", sample_shape: tuple[int, ...] | None = None) -> FeatureExtractor:
    """An extractor from a spec: an extractor object, a function ``x -> (N, D)``, a shipped network's name,
    ``"inception"`` (torch-fidelity, local weights), ``"identity"``, or ``"auto"``: the shipped network whose
    input shape is ``sample_shape`` (else the identity for flat data of at most 64 values).
    """
    if spec is None or (isinstance(spec, str) and spec == "auto"):
        if sample_shape is None:
            raise ConfigError("feature_extractor('auto') needs the sample shape")
        shape = tuple(sample_shape)
        for name, entry in list_feature_nets().items():
            c, h, w = entry["input_shape"]
            if shape in ((c, h, w), (c * h * w,)):
                return _domain(name)
        if len(shape) == 1 and shape[0] <= 64:
            return Identity()
        shipped = ", ".join(f"{n} {tuple(e['input_shape'])}" for n, e in list_feature_nets().items())
        raise ConfigError(
            f"no shipped feature network takes samples of shape {shape} (genlab ships {shipped}); pass "
            "extractor='inception' with its weights, or a function x -> (N, D) features"
        )
    if isinstance(spec, str):
        if spec == "inception":
            return InceptionFeatures()
        if spec == "identity":
            return Identity()
        return _domain(spec)
    if hasattr(spec, "name") and hasattr(spec, "digest") and callable(spec):
        return spec
    if callable(spec):
        return CallableFeatures(spec)
    raise ConfigError(f"cannot use {spec!r} as a feature extractor; pass a name, an extractor or a function")


def _run(ext: Any, x: torch.Tensor, value_range: tuple[float, float], progress: bool) -> Features:
    """``ext(x, value_range)``, with progress over the batches where the extractor reports it (genlab's own),
    else one final line."""
    if not progress:
        return ext(x, value_range)
    try:
        reports = "progress" in inspect.signature(ext.__call__).parameters
    except (TypeError, ValueError):  # a callable without a signature
        reports = False
    if reports:
        return ext(x, value_range, progress=True)
    with Progress(x.shape[0], f"features ({getattr(ext, 'name', 'custom')})", unit="image") as p:
        out = ext(x, value_range)
        p.update(x.shape[0])
    return out


def extract_features(
    x: torch.Tensor, extractor: Any = "auto", value_range: tuple[float, float] = (0.0, 1.0), progress: bool = False
) -> Features:
    """Stage 1 of the metrics: the features of samples ``x`` (an :class:`Features` passes through).

    With ``progress``, the images done, the rate and the ETA are shown on standard error (see
    :mod:`genlab.progress`).
    """
    if isinstance(x, Features):
        return x
    x = torch.as_tensor(x)
    return _run(feature_extractor(extractor, tuple(x.shape[1:])), x, value_range, progress)


def data_digest(x: torch.Tensor) -> str:
    """SHA-256 of a tensor's values (float32, C order): what a feature cache entry is keyed on."""
    t = torch.as_tensor(x).detach().to("cpu", torch.float32).contiguous()
    return hashlib.sha256(to_numpy(t).tobytes()).hexdigest()


def features_cache_dir() -> Path:
    from ..data.download import cache_dir

    return cache_dir() / "features"


def dataset_features(
    x: torch.Tensor,
    extractor: Any = "auto",
    *,
    label: str = "data",
    value_range: tuple[float, float] = (0.0, 1.0),
    cache: bool = True,
    progress: bool = False,
) -> Features:
    """:func:`extract_features` of a data set, cached on disk (``<cache>/features``) under its ``label`` (e.g.
    ``"mnist-test"``), the extractor's digest and the data's digest; a changed network or data set misses.
    ``progress`` shows the extraction (or says the features came from the cache) on standard error."""
    x = torch.as_tensor(x)
    ext = feature_extractor(extractor, tuple(x.shape[1:]))
    if not cache or not getattr(ext, "digest", ""):
        return _run(ext, x, value_range, progress)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)
    path = features_cache_dir() / f"{ext.name}-{ext.digest[:12]}" / f"{safe}-{data_digest(x)[:16]}.safetensors"
    if path.is_file():
        try:
            t = load_file(str(path))
            note(f"features ({ext.name}) of {label}: {x.shape[0]} images from the cache", enabled=progress)
            return Features(t["features"], t.get("logits"), ext.name)
        except (SafetensorError, KeyError, OSError):
            pass  # a damaged cache entry is recomputed and replaced
    feats = _run(ext, x, value_range, progress)
    tensors = {"features": feats.features.contiguous()}
    if feats.logits is not None:
        tensors["logits"] = feats.logits.contiguous()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with fileutil.atomic_path(path, suffix=".safetensors") as tmp:
            save_file(tensors, str(tmp))
    except OSError:
        pass  # a read-only cache only costs the recomputation next time
    return feats


__all__ = [
    "INCEPTION_ENV",
    "CallableFeatures",
    "DomainFeatures",
    "FeatureExtractor",
    "FeatureNet",
    "Features",
    "Identity",
    "InceptionFeatures",
    "data_digest",
    "dataset_features",
    "extract_features",
    "feature_extractor",
    "list_feature_nets",
]
