"""The small MNIST CNN that ``gan_augmentation.py`` trains on real and generated digits (the classifier whose
accuracy the augmentation changes): conv 32 -> pool -> conv 64 -> pool -> fc 128 -> 10, inputs in [0, 1].

Samples are judged with the evaluation suite's shipped ``mnist-cnn`` instead (``genlab.metrics``).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

CACHE = Path(__file__).resolve().parent / ".cache" / "mnist_cnn_seed{seed}.safetensors"


def _net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


@torch.no_grad()
def predict(net: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities ``(N, 10)`` of images ``(N, 1, 28, 28)`` in [0, 1]."""
    return torch.cat([F.softmax(net(x[i : i + batch_size]), 1) for i in range(0, len(x), batch_size)])


def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(net, x).argmax(1) == y).double().mean().item()
