"""GANs on MNIST within a time budget: DCGAN, WGAN-GP, LSGAN and the conditional GAN.

Each model trains with ``genlab.train`` (batch 64, MNIST in [0, 1], mapped to [-1, 1] inside the model)
for at most ``--minutes`` of training, then draws 10,000 samples (a conditional GAN: 1,000 per digit).
Quality is measured with the evaluation suite and genlab's shipped ``mnist-cnn`` feature network, against
the 10,000 test images, next to the floors of the data itself (``genlab.metrics.metric_floors``):

- FID and KID, precision / recall, density / coverage;
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
from genlab.data import load
from genlab.metrics import (
    class_histogram,
    dataset_features,
    density_coverage,
    extract_features,
    fid,
    histogram_kl,
    kid,
    metric_floors,
    precision_recall,
)


def evaluate(model, real, n: int, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    conditional = bool(model.config.n_classes)
    labels = torch.arange(n) % 10 if conditional else None
    xs = []
    for i in range(0, n, 1000):
        kw = {"labels": labels[i : i + 1000]} if conditional else {}
        xs.append(model.sample(min(1000, n - i), generator=g, **kw))
    fake = extract_features(torch.cat(xs).clamp(0, 1))
    probs = torch.softmax(fake.logits, 1)
    hist = class_histogram(probs, 10)
    pr, dc = precision_recall(real=real, fake=fake), density_coverage(real=real, fake=fake)
    k = kid(real=real, fake=fake)
    out = {
        "n_samples": n,
        "fid": round(fid(real=real, fake=fake).value, 3),
        "kid": round(k.mean, 5),
        "kid_std": round(k.std, 5),
        "precision": round(pr.precision, 4),
        "recall": round(pr.recall, 4),
        "density": round(dc.density, 4),
        "coverage": round(dc.coverage, 4),
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
    test = load("mnist", split="test")
    real = dataset_features(test.x, label="mnist-test")
    acc = float((real.logits.argmax(1) == test.y).double().mean())
    real_conf = torch.softmax(real.logits, 1).max(1).values.mean().item()
    floors = metric_floors("mnist")
    print(
        f"mnist-cnn: test accuracy {acc:.4f}, mean confidence on real test digits {real_conf:.4f}; floors "
        f"FID train/test {floors['train_vs_test']['fid']:.3f}",
        flush=True,
    )
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
        ev = evaluate(model, real, args.n, args.seed)
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
            feature_network="mnist-cnn",
            floors={k: floors[k] for k in ("train_vs_test", "test_halves")},
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
