"""Data augmentation with a conditional GAN: a classifier on 1% of MNIST's labels, with and without synthetic digits.

Only 600 labelled images (60 per digit, seeded) are used, by everything: the conditional GAN (``cgan``) is
trained on those 600 images alone (no other label is ever seen), then a small CNN classifier (conv 32 ->
pool -> conv 64 -> pool -> fc 128 -> 10) is trained

- on the 600 real images only, and
- on the 600 real images plus ``--synthetic`` generated ones (balanced over the digits), drawn from the cGAN,

for the same number of steps with the same seed, and both are tested on the 10,000 MNIST test images.
Mean and spread over ``--seeds``.

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/gan_augmentation.py [--seeds 0 1 2] [--gan-steps 3000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from _mnist_classifier import _net, accuracy
from genlab.data import load
from genlab.training import Trainer


def labelled_subset(train, per_class: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    idx = torch.cat(
        [
            torch.nonzero(train.y == k).squeeze(1)[torch.randperm(int((train.y == k).sum()), generator=g)[:per_class]]
            for k in range(10)
        ]
    )
    return train.subset(idx)


def train_classifier(x: torch.Tensor, y: torch.Tensor, steps: int, seed: int):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(len(x), (64,), generator=g)
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--per-class", type=int, default=60, help="labelled images per digit (60 = 1%% of MNIST)")
    ap.add_argument("--gan-steps", type=int, default=3000)
    ap.add_argument("--synthetic", type=int, default=6000)
    ap.add_argument("--clf-steps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test = load("mnist", split="train"), load("mnist", split="test")
    base, aug, gan_seconds = [], [], []
    for seed in args.seeds:
        few = labelled_subset(train, args.per_class, seed)
        gan = genlab.create("cgan", data_shape=(1, 28, 28), seed=seed)
        t = time.perf_counter()
        Trainer(epochs=10**9, max_steps=args.gan_steps, batch_size=64, seed=seed).fit(gan, few)
        gan_seconds.append(time.perf_counter() - t)
        labels = torch.arange(args.synthetic) % 10
        x_syn = torch.cat(
            [
                gan.sample(1000, labels=labels[i : i + 1000], generator=torch.Generator().manual_seed(seed + i))
                for i in range(0, args.synthetic, 1000)
            ]
        )
        net = train_classifier(few.x, few.y, args.clf_steps, seed)
        base.append(accuracy(net, test.x, test.y))
        net = train_classifier(torch.cat([few.x, x_syn]), torch.cat([few.y, labels]), args.clf_steps, seed)
        aug.append(accuracy(net, test.x, test.y))
        print(
            f"seed {seed}: real only {base[-1]:.4f}, real + {args.synthetic} synthetic {aug[-1]:.4f} "
            f"(cGAN {gan_seconds[-1]:.0f} s)",
            flush=True,
        )

    def ms(v):
        return statistics.mean(v), (statistics.stdev(v) if len(v) > 1 else 0.0)

    (mb, sb), (ma, sa) = ms(base), ms(aug)
    print(
        f"test accuracy with {10 * args.per_class} labels: real only {mb:.4f} +- {sb:.4f}; "
        f"with cGAN samples {ma:.4f} +- {sa:.4f}"
    )
    write_result(
        "gan_augmentation",
        value=round(ma, 4),
        unit=f"MNIST test accuracy, classifier on {10 * args.per_class} real + {args.synthetic} cGAN digits",
        anchor=f"the same classifier on the {10 * args.per_class} real digits only",
        anchor_value=round(mb, 4),
        std=round(sa, 4),
        anchor_std=round(sb, 4),
        per_seed={"real_only": base, "augmented": aug},
        seeds=args.seeds,
        gan_steps=args.gan_steps,
        gan_seconds=[round(s, 1) for s in gan_seconds],
        classifier_steps=args.clf_steps,
        machine=machine(),
    )


if __name__ == "__main__":
    main()
