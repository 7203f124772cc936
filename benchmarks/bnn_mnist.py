"""Bayesian networks on MNIST: accuracy and calibration against a plain network, out-of-distribution
detection from the predictive entropy, and the 1-D regression picture.

- ``--part mnist``: the MLP 784-400-400-10 trained ``--epochs`` epochs (Adam 1e-3, batch 128) as a plain
  network, with Bayes by backprop, with MC dropout (p = 0.5 in training and test) and as a deep ensemble of
  5; on the 10,000 test images: accuracy, expected calibration error (15 bins), NLL of the labels; AUROC of
  the predictive entropy for MNIST test images (negatives) against (a) uniform noise images and (b) the
  test digits rotated by 90 degrees (positives). 30 predictive draws. A reliability diagram per method in
  ``docs/images/bnn-mnist-reliability-<method>.png``.
- ``--part regression``: a 1-D toy (``sin(3x)`` + noise on [-1, 1]) with each method; the predictive mean with
  +-2 standard deviation bands on [-3, 3] (``docs/images/bnn-regression.png``).

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/bnn_mnist.py --part mnist --epochs 10 --threads 2
    python benchmarks/bnn_mnist.py --part regression
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
from genlab.data import Dataset, load
from genlab.metrics import auroc, expected_calibration_error
from genlab.training import Trainer

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("plain", "bayes_by_backprop", "mc_dropout", "ensemble")


def predictive(model, x: torch.Tensor, draws: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    parts = [model.predictive(x[a : a + 1000], draws, gen) for a in range(0, len(x), 1000)]
    return torch.cat([p.mean for p in parts]), torch.cat([p.entropy for p in parts])


def mnist_part(epochs: int, draws: int, seed: int) -> None:
    from genlab.plotting import save_reliability

    train, test = load("mnist"), load("mnist", split="test")
    g = torch.Generator().manual_seed(1)
    noise = torch.rand(len(test), 1, 28, 28, generator=g)
    rotated = torch.rot90(test.x, 1, (2, 3))
    rows = {}
    for method in METHODS:
        m = genlab.create(
            "bnn", method=method, hidden_dims=(400, 400), n_members=5, n_samples=draws, dropout=0.5, seed=seed
        )
        t = time.perf_counter()
        Trainer(epochs=epochs, batch_size=128, seed=seed).fit(m, train)
        seconds = time.perf_counter() - t
        probs, ent = predictive(m, test.x, draws)
        cal = expected_calibration_error(probs, test.y)
        save_reliability(
            cal.confidence,
            cal.bin_accuracy,
            cal.counts,
            ROOT / "docs" / "images" / f"bnn-mnist-reliability-{method}.png",
            title=f"{method}: ECE {cal.ece:.4f}, accuracy {cal.accuracy:.2%}",
        )
        nll = float(-probs.clamp_min(1e-30).log().gather(1, test.y[:, None]).mean())
        _, ent_noise = predictive(m, noise, draws)
        _, ent_rot = predictive(m, rotated, draws)
        rows[method] = {
            "accuracy": round(cal.accuracy * 100, 2),
            "ece": round(cal.ece, 4),
            "nll": round(nll, 4),
            "auroc_noise": round(auroc(ent_noise, ent), 4),
            "auroc_rotated": round(auroc(ent_rot, ent), 4),
            "train_seconds": round(seconds, 1),
        }
        print(method, rows[method], flush=True)
    write_result(
        "bnn_mnist",
        value={k: v["ece"] for k, v in rows.items() if k != "plain"},
        unit="expected calibration error (15 bins) on the MNIST test set, MLP 784-400-400-10",
        anchor="the plain network, same architecture and training",
        anchor_value=rows["plain"]["ece"],
        methods=rows,
        epochs=epochs,
        predictive_draws=draws,
        machine=machine(),
    )


def regression_part(seed: int) -> None:
    from genlab.plotting import _figure

    g = torch.Generator().manual_seed(0)
    x = torch.rand(300, 1, generator=g) * 2 - 1
    y = torch.sin(3 * x) + 0.1 * torch.randn(300, 1, generator=g)
    grid = torch.linspace(-3, 3, 400)[:, None]
    plt = _figure()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=100, sharey=True)
    widths = {}
    for ax, method in zip(axes, ("bayes_by_backprop", "mc_dropout", "ensemble"), strict=True):
        m = genlab.create(
            "bnn",
            data_shape=(1,),
            task="regression",
            n_outputs=1,
            hidden_dims=(64, 64),
            method=method,
            dropout=0.1,
            init_std=0.05,
            n_samples=100,
            lr=5e-3,
            seed=seed,
        )
        Trainer(epochs=300, batch_size=64, seed=seed).fit(m, Dataset(x, y))
        pred = m.predictive(grid, generator=torch.Generator().manual_seed(1))
        mu, sd = pred.mean[:, 0].numpy(), pred.variance[:, 0].sqrt().numpy()
        inside = (grid[:, 0].abs() <= 1).numpy()
        widths[method] = {"std_inside": float(sd[inside].mean()), "std_at_3": float(sd[[0, -1]].mean())}
        ax.fill_between(grid[:, 0].numpy(), mu - 2 * sd, mu + 2 * sd, alpha=0.3, label="+-2 sd")
        ax.plot(grid[:, 0].numpy(), mu, label="predictive mean")
        ax.plot(grid[:, 0].numpy(), torch.sin(3 * grid[:, 0]).numpy(), "k--", lw=0.8, label="sin(3x)")
        ax.scatter(x[:, 0], y[:, 0], s=4, c="tab:red", label="training data")
        ax.set_title(method)
        ax.set_ylim(-4, 4)
    axes[0].legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    out = ROOT / "docs" / "images" / "bnn-regression.png"
    fig.savefig(out)
    plt.close(fig)
    print(widths)
    write_result(
        "bnn_regression",
        value={k: round(v["std_at_3"] / v["std_inside"], 2) for k, v in widths.items()},
        unit="predictive std at x = +-3 over its mean on the data's interval [-1, 1] (how the bands widen)",
        anchor="none: a picture of the behaviour",
        anchor_value=None,
        widths=widths,
        picture=str(out.relative_to(ROOT)),
        machine=machine(),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["mnist", "regression"], required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--draws", type=int, default=30)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.part == "mnist":
        mnist_part(args.epochs, args.draws, args.seed)
    else:
        regression_part(args.seed)


if __name__ == "__main__":
    main()
