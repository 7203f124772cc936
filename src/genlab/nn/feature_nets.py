"""genlab's shipped CNN classifiers (``mnist-cnn`` for 28x28 grey images, ``digits-cnn`` for the 8x8 digits): the
architecture and the loading of their weights, with the SHA-256 digest checked at every load.

The weights live in the package (``genlab/metrics/weights``, trained by ``benchmarks/feature_nets.py``). The
metrics use them as feature extractors (:mod:`genlab.metrics.features`); models may use their convolutional
layers as a fixed feature space (``srnet``'s feature loss), which is why they sit here, below both.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from ..errors import ChecksumError, ConfigError, ModelFileError

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "metrics" / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"


class FeatureNet(nn.Module):
    """A small CNN classifier: blocks of ``convs`` 3x3 convolutions (batch norm, ReLU) and a 2x2 max pool per
    width, a fully connected feature layer, and a linear classifier.

    Args:
        input_shape: ``(C, H, W)`` of the images.
        widths: channels of the convolution blocks (each halves the resolution).
        convs: convolutions per block.
        feature_dim: size of the feature layer.
        n_classes: classes of the classifier.
        dropout: dropout before the classifier (training only).
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        widths: tuple[int, ...] = (32, 64),
        convs: int = 2,
        feature_dim: int = 128,
        n_classes: int = 10,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        c, h, w = input_shape
        layers: list[nn.Module] = []
        for width in widths:
            for _ in range(convs):
                layers += [nn.Conv2d(c, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
                c = width
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.feature = nn.Sequential(
            nn.Linear(c * h * w, feature_dim, bias=False), nn.BatchNorm1d(feature_dim), nn.ReLU()
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, n_classes))
        self.input_shape = tuple(input_shape)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(features (B, feature_dim), logits (B, n_classes))`` of images ``(B, C, H, W)`` in [0, 1]."""
        f = self.feature(self.body(x))
        return f, self.classifier(f)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_logits(x)[1]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _manifest() -> dict[str, Any]:
    if not MANIFEST.is_file():
        raise ModelFileError(f"genlab's feature networks are missing ({MANIFEST}); reinstall genlab")
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def list_feature_nets() -> dict[str, dict[str, Any]]:
    """The shipped feature networks: ``name -> manifest entry`` (input shape, test accuracy, digest...)."""
    return dict(_manifest()["nets"])


def load_feature_net(name: str) -> tuple[FeatureNet, dict[str, Any], str]:
    """The shipped network ``name`` in eval mode with frozen weights, its manifest entry and its weights' digest.

    Raises:
        ConfigError: an unknown name.
        ModelFileError / ChecksumError: the weights are missing, unreadable or not the shipped ones.
    """
    nets = list_feature_nets()
    if name not in nets:
        raise ConfigError(f"unknown feature network {name!r}; genlab ships {', '.join(sorted(nets))}")
    entry = nets[name]
    path = WEIGHTS_DIR / entry["file"]
    if not path.is_file():
        raise ModelFileError(f"the weights of feature network {name!r} are missing ({path}); reinstall genlab")
    digest = file_sha256(path)
    if digest != entry["sha256"]:
        raise ChecksumError(
            f"the weights of feature network {name!r} ({path}) have SHA-256 {digest[:16]}..., expected "
            f"{entry['sha256'][:16]}...: the file is corrupt or was changed; reinstall genlab"
        )
    arch = entry["architecture"]
    net = FeatureNet(
        tuple(entry["input_shape"]),
        widths=tuple(arch["widths"]),
        convs=arch["convs"],
        feature_dim=arch["feature_dim"],
        n_classes=arch["n_classes"],
    )
    try:
        net.load_state_dict(load_file(str(path)))
    except (SafetensorError, RuntimeError) as exc:
        raise ModelFileError(f"cannot read feature network {name!r} from {path}: {exc}; reinstall genlab") from exc
    net.eval().requires_grad_(False)
    return net, entry, digest


@lru_cache(maxsize=4)
def feature_layers(shape: tuple[int, ...]) -> nn.Module:
    """The convolutional blocks (before the last pooling) of the shipped network for images of ``shape``, frozen:
    a fixed feature space for perceptual losses.

    Raises:
        ConfigError: no shipped network takes images of ``shape``.
    """
    for name, entry in list_feature_nets().items():
        if tuple(entry["input_shape"]) == tuple(shape):
            body = load_feature_net(name)[0].body
            pools = [i for i, m in enumerate(body) if isinstance(m, nn.MaxPool2d)]
            return body[: pools[-1]]
    shipped = ", ".join("x".join(map(str, e["input_shape"])) for e in list_feature_nets().values())
    raise ConfigError(f"no shipped feature network takes {tuple(shape)} images (they take {shipped})")


__all__ = [
    "MANIFEST",
    "WEIGHTS_DIR",
    "FeatureNet",
    "feature_layers",
    "file_sha256",
    "list_feature_nets",
    "load_feature_net",
]
