"""A small, seeded MNIST CNN used by the GAN benchmarks to judge samples (class, confidence).

conv 32 -> pool -> conv 64 -> pool -> fc 128 -> 10, inputs in [0, 1], 3 epochs of Adam 1e-3 (batch 128):
about 99% test accuracy. The trained weights are cached in ``benchmarks/.cache/`` (not committed); the
evaluation suite's shipped feature networks will replace this helper.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
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


def mnist_classifier(seed: int = 0, epochs: int = 3, verbose: bool = True) -> tuple[nn.Module, float]:
    """The trained CNN (eval mode) and its MNIST test accuracy; trained once, then loaded from the cache."""
    from genlab.data import load

    test = load("mnist", split="test")
    path = Path(str(CACHE).format(seed=seed))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _net()
    if path.exists():
        net.load_state_dict(load_file(path))
    else:
        train = load("mnist", split="train")
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(seed)
        for epoch in range(epochs):
            order = torch.randperm(len(train), generator=g)
            for i in range(0, len(train), 128):
                idx = order[i : i + 128]
                loss = F.cross_entropy(net(train.x[idx]), train.y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            if verbose:
                print(f"mnist classifier: epoch {epoch + 1}/{epochs} done", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(net.state_dict(), str(path))
    net.eval()
    return net, accuracy(net, test.x, test.y)


@torch.no_grad()
def predict(net: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities ``(N, 10)`` of images ``(N, 1, 28, 28)`` in [0, 1]."""
    return torch.cat([F.softmax(net(x[i : i + batch_size]), 1) for i in range(0, len(x), batch_size)])


def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(net, x).argmax(1) == y).double().mean().item()
