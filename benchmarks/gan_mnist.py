"""GANs on MNIST within a time budget: DCGAN, WGAN-GP, LSGAN and the conditional GAN.

Each model trains with ``genlab.train`` (batch 64, MNIST in [0, 1], mapped to [-1, 1] inside the model)
for at most ``--minutes`` of training, then draws 10,000 samples (a conditional GAN: 1,000 per digit).
Until the evaluation suite's FID lands, quality is judged by a seeded CNN classifier (``_mnist_classifier``,
about 99% test accuracy):

- the class histogram of the samples and its KL to uniform (mode coverage over the 10 digits);
- the classifier's mean confidence (max softmax) on samples, next to its confidence on real test digits;
- conditional GAN: the fraction of samples classified as the requested digit (target >= 97%).

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/gan_mnist.py --models dcgan lsgan [--minutes 30]
        [--run-root runs/bench-gan] [--threads 1]

Each model writes ``benchmarks/results/gan_mnist_<model>.json`` and keeps its run directory (sample
pictures per epoch, loss curves) under ``--run-root``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from _mnist_classifier import mnist_classifier, predict
from genlab.data import load
from genlab.metrics import class_histogram, histogram_kl


def evaluate(model, net, n: int, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    conditional = bool(model.config.n_classes)
    labels = torch.arange(n) % 10 if conditional else None
    xs = []
    for i in range(0, n, 1000):
        kw = {"labels": labels[i : i + 1000]} if conditional else {}
        xs.append(model.sample(min(1000, n - i), generator=g, **kw))
    x = torch.cat(xs)
    probs = predict(net, x)
    hist = class_histogram(probs, 10)
    out = {
        "n_samples": n,
        "class_histogram": [round(v, 4) for v in hist.tolist()],
        "class_kl_to_uniform": round(histogram_kl(hist, torch.full((10,), 0.1)), 4),
        "classes_covered": int((hist >= 0.025).sum()),
        "mean_confidence": round(probs.max(1).values.mean().item(), 4),
    }
    if conditional:
        out["conditional_accuracy"] = round((probs.argmax(1) == labels).double().mean().item(), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["dcgan", "wgan_gp", "lsgan", "cgan"])
    ap.add_argument("--minutes", type=float, default=30.0, help="training time budget per model")
    ap.add_argument("--epochs", type=int, default=100, help="upper bound on epochs (the budget usually stops first)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=10_000, help="samples to evaluate")
    ap.add_argument("--run-root", default="runs/bench-gan")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="config KEY=VALUE for every model")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    net, acc = mnist_classifier()
    test = load("mnist", split="test")
    real_conf = predict(net, test.x).max(1).values.mean().item()
    print(f"classifier: test accuracy {acc:.4f}, mean confidence on real test digits {real_conf:.4f}", flush=True)
    for name in args.models:
        run_dir = Path(args.run_root) / f"{name}-seed{args.seed}"
        result = genlab.train(
            name,
            "mnist",
            out=run_dir,
            overwrite=True,
            overrides=args.overrides or None,
            epochs=args.epochs,
            batch_size=64,
            seed=args.seed,
            time_budget=args.minutes * 60,
            sample_every=1,
            checkpoint_every_epochs=5,
        )
        model = result.model
        ev = evaluate(model, net, args.n, args.seed)
        tr = result.trainer
        rows = tr.history.rows
        print(f"{name}: {tr.epoch} epochs, {tr.step} steps in {tr.elapsed:.0f} s; {ev}", flush=True)
        conditional = "conditional_accuracy" in ev
        write_result(
            f"gan_mnist_{name}",
            value=ev["conditional_accuracy"] if conditional else ev["mean_confidence"],
            unit=(
                "fraction of samples classified as the requested digit (target >= 0.97)"
                if conditional
                else "mean classifier confidence on samples"
            ),
            anchor="the same classifier on real MNIST test digits" + (" (its accuracy)" if conditional else ""),
            anchor_value=round(acc if conditional else real_conf, 4),
            classifier_test_accuracy=round(acc, 4),
            train_seconds=round(tr.elapsed, 1),
            epochs=tr.epoch,
            steps=tr.step,
            budget_minutes=args.minutes,
            final_metrics={
                k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else v) for k, v in rows[-1].items()
            }
            if rows
            else {},
            config=model.config.to_dict(),
            machine=machine(),
            run_dir=str(run_dir),
            **ev,
        )


if __name__ == "__main__":
    main()
