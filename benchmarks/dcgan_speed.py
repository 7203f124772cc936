"""DCGAN epoch time on MNIST: genlab's ``dcgan`` against a plain, hand-written PyTorch DCGAN.

Both sides use the architecture of ``shared/ANCHORS.md``: G: z100 -> 7x7x128 -> 14x14x64 -> 28x28x1 (tanh;
batch norm and ReLU), D mirrored (LeakyReLU 0.2, batch norm on the second layer), the non-saturating BCE
loss, Adam 2e-4 (0.5, 0.999), batch 64, the whole of MNIST in memory as a tensor scaled to [-1, 1]. The
plain loop is the PyTorch DCGAN example's: one D update on a real and a fake batch, then one G update on
the same fake batch. The two are timed interleaved, round by round, in one process, so machine noise
hits both alike; the figure is the ratio of the median epoch times (genlab / plain; below 1 is faster).

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/dcgan_speed.py [--rounds 3] [--steps N]

``--steps`` times that many steps per round and scales to the 938 steps of an epoch (for a quick look).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from genlab.data import load
from genlab.training import Trainer


class PlainG(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(100, 128, 7, 1, 0),
            nn.BatchNorm2d(128),
            nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], 100, 1, 1))


class PlainD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(64, 128, 4, 2, 1),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(128, 1, 7, 1, 0),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def plain_epoch(x: torch.Tensor, steps: int, seed: int) -> float:
    """Seconds for ``steps`` steps of the plain loop (batches in a seeded random order)."""
    torch.manual_seed(seed)
    g, d = PlainG(), PlainD()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    order = torch.randperm(len(x))
    bs = 64
    start = time.perf_counter()
    for i in range(steps):
        real = x[order[(i * bs) % len(x) : (i * bs) % len(x) + bs]]
        b = real.shape[0]
        ones, zeros = torch.ones(b), torch.zeros(b)
        d.zero_grad()
        err_real = bce(d(real), ones)
        err_real.backward()
        fake = g(torch.randn(b, 100))
        err_fake = bce(d(fake.detach()), zeros)
        err_fake.backward()
        opt_d.step()
        g.zero_grad()
        err_g = bce(d(fake), ones)
        err_g.backward()
        opt_g.step()
        _ = (err_real + err_fake).item(), err_g.item()  # what a training script logs
    return time.perf_counter() - start


def genlab_epoch(data, steps: int, seed: int) -> float:
    model = genlab.create("dcgan", data_shape=(1, 28, 28), hidden_dims=(64, 128), seed=seed)
    trainer = Trainer(epochs=1, max_steps=steps, batch_size=64, seed=seed)
    start = time.perf_counter()
    trainer.fit(model, data)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=None, help="steps per round (default: one epoch, 938)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load("mnist", split="train", scale="symmetric")
    epoch_steps = -(-len(data) // 64)
    steps = args.steps or epoch_steps
    scale = epoch_steps / steps
    ours, plain = [], []
    for r in range(args.rounds):
        plain.append(plain_epoch(data.x, steps, seed=r) * scale)
        ours.append(genlab_epoch(data, steps, seed=r) * scale)
        print(f"round {r + 1}: plain {plain[-1]:.1f} s/epoch, genlab {ours[-1]:.1f} s/epoch", flush=True)
    mo, mp = statistics.median(ours), statistics.median(plain)
    ratio = mo / mp
    print(f"median: genlab {mo:.1f} s/epoch, plain PyTorch {mp:.1f} s/epoch, ratio {ratio:.3f} ({machine()})")
    write_result(
        "dcgan_speed",
        value=round(ratio, 3),
        unit="genlab epoch time / plain PyTorch epoch time (lower is faster; target <= 1.0)",
        anchor="plain PyTorch DCGAN (ANCHORS.md architecture, batch 64, Adam 2e-4)",
        anchor_value=1.0,
        genlab_seconds_per_epoch=round(mo, 2),
        plain_seconds_per_epoch=round(mp, 2),
        rounds=args.rounds,
        steps_per_round=steps,
        per_round={"genlab": [round(v, 2) for v in ours], "plain": [round(v, 2) for v in plain]},
    )


if __name__ == "__main__":
    main()
