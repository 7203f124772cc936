"""Semi-supervised MNIST with 100 and 1,000 labels: pretrain on all 60,000 training images without labels,
fine-tune a classifier on the few labelled ones, and compare with training from scratch and with frozen
features. Targets: the M1+M2 results of Kingma et al. (2014): 3.33% (100 labels), 2.40% (1,000 labels).

The labelled subset is class-balanced (10 or 100 per class), drawn with a fixed seed. The pretrained model
is a denoising MLP autoencoder 784-1000-500-250-32 (masking noise 0.25, MSE, ``--pretrain-epochs``
epochs); the classifier is its encoder plus a linear head, trained for ``--epochs`` epochs with each
strategy (gradual: one block unfrozen every 5 epochs from the top, per-layer lr decay 0.3).

Usage: GENLAB_DATA=../shared/data/mnist python benchmarks/semi_supervised_mnist.py [--pretrain-epochs 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import write_result
from genlab.apps.semi_supervised import compare_strategies
from genlab.training import ProgressBar, Trainer

TARGETS = {100: 3.33, 1000: 2.40}


def balanced(ds, n_labels: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    per = n_labels // 10
    idx = [torch.nonzero(ds.y == k)[:, 0][torch.randperm(int((ds.y == k).sum()), generator=g)[:per]] for k in range(10)]
    return ds.subset(torch.cat(idx))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pretrain-epochs", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    train = genlab.data.load("mnist", split="train", download=False)
    test = genlab.data.load("mnist", split="test", download=False)
    ae = genlab.create(
        "ae",
        data_shape=(1, 28, 28),
        hidden_dims=(1000, 500, 250),
        latent_dim=32,
        corruption="mask",
        corruption_level=0.25,
        seed=args.seed,
    )
    t = time.perf_counter()
    Trainer(epochs=args.pretrain_epochs, batch_size=128, seed=args.seed, callbacks=[ProgressBar()]).fit(ae, train.x)
    pretrain_s = time.perf_counter() - t
    results = {}
    for n in (100, 1000):
        few = balanced(train, n, args.seed)
        bs = min(50, n)
        t = time.perf_counter()
        errs = compare_strategies(
            ae,
            few,
            test,
            epochs=args.epochs,
            batch_size=bs,
            lr=1e-3,
            seed=args.seed,
            unfreeze_every=5,
            layer_lr_decay=0.3,
        )
        results[n] = {k: round(100 * v, 2) for k, v in errs.items()} | {"seconds": round(time.perf_counter() - t, 1)}
        print(f"{n} labels: test error % {results[n]} (target {TARGETS[n]}%)", flush=True)
    write_result(
        "semi_supervised_mnist",
        value=results[100]["gradual"],
        unit="test error % with 100 labels (gradual unfreezing)",
        anchor="Kingma et al. 2014, M1+M2, 100 labels",
        anchor_value=TARGETS[100],
        results={str(k): v for k, v in results.items()},
        targets={str(k): v for k, v in TARGETS.items()},
        pretrain_seconds=round(pretrain_s, 1),
        pretrain_epochs=args.pretrain_epochs,
        epochs=args.epochs,
        command="GENLAB_DATA=../shared/data/mnist python benchmarks/semi_supervised_mnist.py " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
