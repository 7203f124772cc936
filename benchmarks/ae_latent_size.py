"""Autoencoders from undercomplete to overcomplete, and tied against untied weights (a docs figure).

For each code size, an MLP autoencoder (64-256-code-256-64, MSE) is trained on the 1,438 training digits
for the same number of epochs; on the 359 test digits we report the reconstruction error (squared error
per image) and the accuracy of a linear probe (logistic regression on the codes, fitted on the training
codes). The input has 64 pixels: codes below 64 are undercomplete, above overcomplete.
Then a stacked autoencoder (64-128-32-8) with tied and untied weights: parameters and test error.

Usage: python benchmarks/ae_latent_size.py [--epochs 60]    (writes docs/images/ae-latent-size.png)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import write_result
from genlab.training import Trainer

SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
FIGURE = Path(__file__).resolve().parents[1] / "docs" / "images" / "ae-latent-size.png"


def probe(model, train, test) -> float:
    with torch.no_grad():
        a, b = model.encode(train.x).numpy(), model.encode(test.x).numpy()
    clf = LogisticRegression(max_iter=2000).fit(a, train.y.numpy())
    return float(clf.score(b, test.y.numpy()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    train, test = genlab.data.load("digits"), genlab.data.load("digits", split="test")
    rows = []
    for size in SIZES:
        m = genlab.create("ae", data_shape=(1, 8, 8), hidden_dims=(256,), latent_dim=size, lr=2e-3, seed=args.seed)
        Trainer(epochs=args.epochs, batch_size=64, seed=args.seed).fit(m, train)
        err = float(m.score(test.x).mean())
        acc = probe(m, train, test)
        rows.append({"latent_dim": size, "test_mse_per_image": err, "probe_accuracy": acc})
        print(f"latent {size:4d}: test squared error {err:.3f}, linear probe accuracy {acc:.3f}")
    raw_acc = float(
        LogisticRegression(max_iter=2000)
        .fit(train.x.flatten(1).numpy(), train.y.numpy())
        .score(test.x.flatten(1).numpy(), test.y.numpy())
    )
    tied = {}
    for t in (True, False):
        m = genlab.create(
            "stacked_ae", data_shape=(1, 8, 8), layer_dims=(128, 32, 8), tied_weights=t, lr=2e-3, seed=args.seed
        )
        Trainer(epochs=args.epochs, batch_size=64, seed=args.seed).fit(m, train)
        tied["tied" if t else "untied"] = {
            "parameters": sum(p.numel() for p in m.parameters()),
            "test_mse_per_image": float(m.score(test.x).mean()),
        }
        print(f"stacked 64-128-32-8 {'tied' if t else 'untied'}: {tied['tied' if t else 'untied']}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax1 = plt.subplots(figsize=(6.5, 4), dpi=100)
    xs = [r["latent_dim"] for r in rows]
    ax1.plot(xs, [r["test_mse_per_image"] for r in rows], "o-", color="tab:blue", label="test reconstruction error")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("code size (input: 64 pixels)")
    ax1.set_ylabel("squared error per test image", color="tab:blue")
    ax1.axvline(64, color="gray", ls="--", lw=1)
    ax1.text(64, ax1.get_ylim()[1] * 0.9, " input size", color="gray")
    ax2 = ax1.twinx()
    ax2.plot(xs, [r["probe_accuracy"] for r in rows], "s-", color="tab:red", label="linear probe accuracy")
    ax2.axhline(raw_acc, color="tab:red", ls=":", lw=1)
    ax2.set_ylabel("linear probe accuracy (dotted: on raw pixels)", color="tab:red")
    ax1.set_title(f"MLP autoencoders on the digits, {args.epochs} epochs each")
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE)
    print(f"wrote {FIGURE}")
    best = max(rows, key=lambda r: r["probe_accuracy"])
    write_result(
        "ae_latent_size",
        value=best["probe_accuracy"],
        unit="best linear-probe test accuracy over code sizes (digits)",
        anchor="logistic regression on the raw pixels",
        anchor_value=raw_acc,
        rows=rows,
        tied_vs_untied=tied,
        epochs=args.epochs,
        command="python benchmarks/ae_latent_size.py " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
