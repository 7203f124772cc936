"""Trainer overhead: genlab's Trainer against a hand-written minimal PyTorch loop, same VAE, same data.

Both train the VAE of Burda et al. (784-200-200-50, Bernoulli likelihood, Adam 1e-3) on MNIST's
60,000 training images (in memory, [0, 1]) with batch size 128. The runs are interleaved (genlab,
plain, genlab, plain, ...) so machine noise hits both alike; the median seconds per epoch is reported.
Falls back to the digits data (upsampled to 60,000 rows of 64 pixels) if MNIST is absent.

Usage: GENLAB_DATA=../shared/data/mnist python benchmarks/trainer_overhead.py [--rounds 5] [--epochs 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from genlab.errors import DatasetNotFoundError
from genlab.training import Trainer

BATCH = 128


def load_data() -> tuple[torch.Tensor, str]:
    try:
        ds = genlab.data.load("mnist", download=False)
        return ds.x, "MNIST train (60,000 x 784)"
    except DatasetNotFoundError:
        x = genlab.data.load("digits").x
        reps = -(-60_000 // len(x))
        return x.repeat(reps, 1, 1, 1)[:60_000], "digits repeated to 60,000 x 64 (MNIST not found)"


def plain_loop(x: torch.Tensor, epochs: int, seed: int, fused: bool = True) -> float:
    """The minimal loop a user would write by hand: no callbacks, no logging, no checks.

    With ``fused`` it uses the same optimizer as genlab's VAE (torch's fused CPU Adam), so the difference
    is the trainer's overhead alone; without, torch's default Adam (what most hand-written loops use).
    """
    torch.manual_seed(seed)
    d = x[0].numel()
    enc = nn.Sequential(nn.Linear(d, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 100))
    dec = nn.Sequential(nn.Linear(50, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, d))
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3, **({"fused": True} if fused else {}))
    g = torch.Generator().manual_seed(seed)
    flat = x.reshape(len(x), -1)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(flat), generator=g)
        for i in range(0, len(flat), BATCH):
            xb = flat[perm[i : i + BATCH]]
            mean, logvar = enc(xb).chunk(2, 1)
            z = mean + torch.randn(mean.shape, generator=g) * torch.exp(0.5 * logvar)
            rec = F.binary_cross_entropy_with_logits(dec(z), xb, reduction="none").sum(1)
            kl = 0.5 * (mean.square() + logvar.exp() - logvar - 1).sum(1)
            loss = (rec + kl).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return (time.perf_counter() - t0) / epochs


def genlab_loop(x: torch.Tensor, epochs: int, seed: int) -> float:
    torch.manual_seed(seed)
    model = genlab.create("vae", data_shape=tuple(x.shape[1:]), hidden_dims=(200, 200), latent_dim=50)
    trainer = Trainer(epochs=epochs, batch_size=BATCH, seed=seed)
    t0 = time.perf_counter()
    trainer.fit(model, x)
    return (time.perf_counter() - t0) / epochs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args()
    x, what = load_data()
    print(f"data: {what}; machine: {machine()}")
    genlab_loop(x[:2048], 1, 0)  # warm-up both paths (allocator, kernels)
    plain_loop(x[:2048], 1, 0)
    g_times, p_times, d_times = [], [], []
    for r in range(args.rounds):
        g_times.append(genlab_loop(x, args.epochs, r))
        p_times.append(plain_loop(x, args.epochs, r))
        d_times.append(plain_loop(x, args.epochs, r, fused=False))
        print(
            f"round {r + 1}: genlab {g_times[-1]:.3f} s/epoch, plain loop (same fused Adam) {p_times[-1]:.3f}, "
            f"plain loop (torch default Adam) {d_times[-1]:.3f}"
        )
    g, p, d = statistics.median(g_times), statistics.median(p_times), statistics.median(d_times)
    ratio = g / p
    paired = statistics.median(a / b for a, b in zip(g_times, p_times, strict=True))
    print(
        f"median: genlab {g:.3f} s/epoch, plain (same optimizer) {p:.3f}, plain (default Adam) {d:.3f}; "
        f"trainer overhead ratio {ratio:.3f}, median of paired per-round ratios {paired:.3f} (target <= 1.10); "
        f"genlab vs default-Adam loop {g / d:.3f}"
    )
    write_result(
        "trainer_overhead",
        value=round(g, 4),
        unit="s/epoch",
        anchor="hand-written minimal PyTorch loop, same VAE, same (fused) Adam",
        anchor_value=round(p, 4),
        ratio=round(ratio, 4),
        paired_ratio_median=round(paired, 4),
        plain_default_adam=round(d, 4),
        ratio_vs_default_adam_loop=round(g / d, 4),
        plain_default_adam_times=d_times,
        target="ratio <= 1.10",
        data=what,
        batch_size=BATCH,
        rounds=args.rounds,
        genlab_times=g_times,
        plain_times=p_times,
        command="GENLAB_DATA=../shared/data/mnist python benchmarks/trainer_overhead.py " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
