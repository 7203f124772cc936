"""Imputation: genlab's autoencoder imputer against scikit-learn's SimpleImputer, KNNImputer and
IterativeImputer, side by side on the same missing entries.

- MNIST, 50% of the pixels missing completely at random: 10,000 training images (with their missing
  pixels) to fit, 2,000 test images to fill; RMSE over the missing test pixels (pixel values in [0, 1]).
  IterativeImputer on 784 features is slow, so it uses ``n_nearest_features=50`` and 5 rounds (stated).
- Tabular, 20% of the entries missing at random in scikit-learn's bundled breast-cancer (569 x 30) and
  wine (178 x 13) data, standardized with the training part's observed statistics; a 70/30 split; RMSE
  over the missing test entries in standard units.

Every imputer fits on the training part with its missing entries and fills the test part.

Usage: GENLAB_DATA=../shared/data/mnist python benchmarks/imputation.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import write_result
from genlab.apps import Imputer


def with_missing(x: np.ndarray, frac: float, seed: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    out = x.astype(np.float64).copy()
    out[rng.rand(*x.shape) < frac] = np.nan
    return out


def rmse(truth: np.ndarray, filled: np.ndarray, missing: np.ndarray) -> float:
    return float(np.sqrt(np.mean((truth[missing] - filled[missing]) ** 2)))


def compare(name, x_train, x_test, frac, seed, genlab_kwargs, iterative_kwargs):
    tr, te = with_missing(x_train, frac, seed), with_missing(x_test, frac, seed + 1)
    missing = np.isnan(te)
    imputers = {
        "mean (SimpleImputer)": SimpleImputer(strategy="mean"),
        "KNNImputer (k=5)": KNNImputer(n_neighbors=5),
        "IterativeImputer": IterativeImputer(random_state=seed, **iterative_kwargs),
        "genlab Imputer": None,
    }
    row = {}
    for label, imp in imputers.items():
        t = time.perf_counter()
        if imp is None:
            g = Imputer("ae", seed=seed, **genlab_kwargs).fit(tr.astype(np.float32))
            filled = g.transform(te.astype(np.float32)).numpy().astype(np.float64)
            assert np.array_equal(filled[~missing], te[~missing].astype(np.float32).astype(np.float64))
        else:
            filled = imp.fit(tr).transform(te)
        row[label] = {"rmse": rmse(x_test, filled, missing), "seconds": round(time.perf_counter() - t, 2)}
        print(f"{name}: {label:22s} RMSE {row[label]['rmse']:.4f}  ({row[label]['seconds']:.1f}s)", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    results = {}
    mnist_tr = genlab.data.load("mnist", split="train", download=False).x[:10_000].reshape(10_000, -1).numpy()
    mnist_te = genlab.data.load("mnist", split="test", download=False).x[:2_000].reshape(2_000, -1).numpy()
    results["mnist_50pct"] = compare(
        "MNIST 50%",
        mnist_tr,
        mnist_te,
        0.5,
        args.seed,
        dict(epochs=50, batch_size=128, latent_dim=256, hidden_dims=(1024,)),
        dict(n_nearest_features=50, max_iter=5),
    )
    for name, loader in (("breast_cancer", load_breast_cancer), ("wine", load_wine)):
        x = loader().data
        rng = np.random.RandomState(args.seed)
        idx = rng.permutation(len(x))
        cut = int(0.7 * len(x))
        tr, te = x[idx[:cut]], x[idx[cut:]]
        mu, sd = tr.mean(0), tr.std(0) + 1e-12
        results[f"{name}_20pct"] = compare(
            f"{name} 20%",
            (tr - mu) / sd,
            (te - mu) / sd,
            0.2,
            args.seed,
            dict(epochs=300, batch_size=32, latent_dim=8, hidden_dims=(64,), standardize=False),
            dict(max_iter=10),
        )
    g = results["mnist_50pct"]["genlab Imputer"]["rmse"]
    best_other = min(v["rmse"] for k, v in results["mnist_50pct"].items() if k != "genlab Imputer")
    write_result(
        "imputation",
        value=round(g, 4),
        unit="RMSE on the missing pixels, MNIST 50% MCAR (pixels in [0, 1])",
        anchor="best of scikit-learn SimpleImputer / KNNImputer / IterativeImputer",
        anchor_value=round(best_other, 4),
        results=results,
        command="GENLAB_DATA=../shared/data/mnist python benchmarks/imputation.py " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
