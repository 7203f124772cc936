"""The number of attention heads: test NLL and training throughput for 1, 2, 4 and 8 heads at equal d_model.

Each transformer (``--d-model`` wide, ``--layers`` blocks) trains for the same number of epochs on dynamically
binarized MNIST at ``--size`` x ``--size`` (default 14: 196-pixel sequences, cheap enough for four runs),
Adam with the learning rate decayed linearly to 0; the exact NLL is measured on the test set binarized once
(seed 0). Throughput is training tokens per second (forward, backward, update). Every head count has the
same parameters (the heads split ``d_model``), so the difference is how attention is shared.

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/attention_heads.py --epochs 3 --threads 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from ar_mnist import mnist, nll
from genlab.training import Trainer
from genlab.training.callbacks import LRSchedule

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--size", type=int, default=14)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test = mnist("train", args.size), mnist("test", args.size)
    test_bin = torch.bernoulli(test.x, generator=torch.Generator().manual_seed(0))
    rows = []
    for h in args.heads:
        model = genlab.create(
            "transformer_ar",
            data_shape=tuple(train.info.sample_shape),
            d_model=args.d_model,
            n_heads=h,
            n_layers=args.layers,
            lr=args.lr,
            seed=args.seed,
        )
        trainer = Trainer(
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            callbacks=[LRSchedule("linear")],
            batch_transform="dynamic_binarize",
        )
        t = time.perf_counter()
        trainer.fit(model, train)
        seconds = time.perf_counter() - t
        tokens = trainer.step * args.batch_size * model.length
        row = {
            "heads": h,
            "test_nll": round(nll(model, test_bin), 3),
            "train_seconds": round(seconds, 1),
            "tokens_per_second": round(tokens / seconds),
            "parameters": sum(p.numel() for p in model.parameters()),
        }
        rows.append(row)
        print(row, flush=True)
    from genlab.plotting import save_lines

    hs = [r["heads"] for r in rows]
    save_lines(
        {"test NLL (nats)": (hs, [r["test_nll"] for r in rows])},
        ROOT / "docs" / "images" / "heads-nll.png",
        xlabel="attention heads",
        ylabel="nats per image",
        title=f"{args.size}x{args.size} MNIST, d_model {args.d_model}",
    )
    save_lines(
        {"tokens / s": (hs, [r["tokens_per_second"] for r in rows])},
        ROOT / "docs" / "images" / "heads-throughput.png",
        xlabel="attention heads",
        ylabel="training tokens per second",
        title="training throughput",
    )
    best = min(rows, key=lambda r: r["test_nll"])
    write_result(
        "attention_heads",
        value=best["heads"],
        unit=f"heads with the lowest test NLL ({args.size}x{args.size} binarized MNIST, d_model {args.d_model})",
        anchor="none: a study, not a comparison",
        anchor_value=None,
        rows=rows,
        epochs=args.epochs,
        layers=args.layers,
        machine=machine(),
    )


if __name__ == "__main__":
    main()
