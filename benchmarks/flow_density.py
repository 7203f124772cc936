"""RealNVP densities: 2-D toys (pictures), two tabular data sets against GaussianMixture and KernelDensity,
and dequantized MNIST in bits per dimension.

- ``--part toys``: ``ring8``, ``grid25`` and ``swiss_roll`` (10,000 training points each); the learned density
  on a grid beside the data (``docs/images/realnvp-toys.png``) and the test log-likelihood against one
  Gaussian.
- ``--part tabular``: scikit-learn's bundled ``wine`` (178 x 13) and ``breast_cancer`` (569 x 30), each
  standardized with the training statistics and split 64/16/20 (train/validation/test, seeded). Every model
  picks its capacity on the validation split: GaussianMixture the number of components (full covariance),
  KernelDensity the bandwidth, RealNVP the epoch (early stopping) for two sizes. Test log-likelihood per
  sample in nats (standardized units; the standardization's Jacobian is the same constant for every model).
- ``--part mnist``: ``realnvp_mnist`` on the 60,000 MNIST images dequantized (uniform noise on the 256
  levels) for ``--minutes``; test bits per dimension averaged over ``--dequant-draws`` noise draws.

Usage::

    python benchmarks/flow_density.py --part toys
    python benchmarks/flow_density.py --part tabular
    GENLAB_DATA=../shared/data/mnist python benchmarks/flow_density.py --part mnist --minutes 30 --threads 1
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import TimeBudgetDecay, machine, write_result
from genlab.data import load
from genlab.training import Trainer
from genlab.training.callbacks import Callback, LRSchedule

ROOT = Path(__file__).resolve().parents[1]


class BestOnValidation(Callback):
    """Keeps the weights of the epoch with the best validation log-likelihood (early stopping)."""

    def __init__(self, val: torch.Tensor) -> None:
        self.val, self.best, self.state, self.epoch = val, -math.inf, None, 0

    def on_epoch_end(self, trainer, model, metrics) -> None:
        ll = float(model.log_prob(self.val).mean())
        if ll > self.best:
            self.best, self.state, self.epoch = ll, copy.deepcopy(model.state_dict()), trainer.epoch


def fit_flow(x_train, x_val, epochs: int, seed: int, **cfg):
    m = genlab.create("realnvp", data_shape=(x_train.shape[1],), standardize=False, seed=seed, **cfg)
    keep = BestOnValidation(x_val)
    Trainer(epochs=epochs, batch_size=min(128, len(x_train)), seed=seed, callbacks=[keep]).fit(m, x_train)
    m.load_state_dict(keep.state)
    return m, keep.epoch, keep.best


def tabular() -> None:
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.mixture import GaussianMixture
    from sklearn.neighbors import KernelDensity

    rows = {}
    for name, loader in (("wine", load_wine), ("breast_cancer", load_breast_cancer)):
        x = loader().data.astype(np.float64)
        perm = np.random.RandomState(0).permutation(len(x))
        n_test, n_val = round(0.2 * len(x)), round(0.16 * len(x))
        te, va, tr = perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]
        mean, std = x[tr].mean(0), x[tr].std(0)
        z = (x - mean) / std
        ztr, zva, zte = z[tr], z[va], z[te]
        res = {"n_train": len(tr), "n_val": len(va), "n_test": len(te), "dims": x.shape[1]}
        best = max(
            (
                GaussianMixture(k, covariance_type="full", reg_covar=1e-3, random_state=0, n_init=3).fit(ztr)
                for k in (1, 2, 3, 4, 6, 8)
                if k * 3 <= len(tr)
            ),
            key=lambda g: g.score(zva),
        )
        res["gmm"] = {"test_ll": float(best.score(zte)), "components": int(best.n_components)}
        bws = np.exp(np.linspace(np.log(0.05), np.log(3.0), 30))
        bw = max(bws, key=lambda b: KernelDensity(bandwidth=b).fit(ztr).score(zva) / len(zva))
        res["kde"] = {
            "test_ll": float(KernelDensity(bandwidth=bw).fit(ztr).score(zte) / len(zte)),
            "bandwidth": float(bw),
        }
        xtr, xva, xte = (torch.from_numpy(a).float() for a in (ztr, zva, zte))
        flows = {}
        sizes = {
            "tiny": {"n_couplings": 2, "hidden_dims": (16,)},
            "small": {"n_couplings": 4, "hidden_dims": (32, 32)},
            "large": {"n_couplings": 8, "hidden_dims": (64, 64)},
        }
        for label, cfg in sizes.items():
            for wd in (1e-4, 1e-2):
                m, epoch, val_ll = fit_flow(xtr, xva, epochs=300, seed=0, weight_decay=wd, lr=1e-3, **cfg)
                flows[f"{label}-wd{wd:g}"] = {
                    "val_ll": val_ll,
                    "epoch": epoch,
                    "test_ll": float(m.log_prob(xte).mean()),
                    "weight_decay": wd,
                    **cfg,
                }
        choice = max(flows.values(), key=lambda r: r["val_ll"])
        res["realnvp"] = {
            **choice,
            "hidden_dims": list(choice["hidden_dims"]),
            "candidates": {k: {**v, "hidden_dims": list(v["hidden_dims"])} for k, v in flows.items()},
        }
        rows[name] = res
        print(name, {k: res[k]["test_ll"] for k in ("gmm", "kde", "realnvp")}, flush=True)
    write_result(
        "flow_tabular",
        value={k: round(v["realnvp"]["test_ll"], 3) for k, v in rows.items()},
        unit="nats per sample, test log-likelihood (standardized features)",
        anchor="scikit-learn GaussianMixture / KernelDensity, same splits, capacity chosen on validation",
        anchor_value={
            k: {"gmm": round(v["gmm"]["test_ll"], 3), "kde": round(v["kde"]["test_ll"], 3)} for k, v in rows.items()
        },
        datasets=rows,
        machine=machine(),
    )


def toys() -> None:
    from genlab.plotting import _figure

    plt = _figure()
    fig, axes = plt.subplots(2, 3, figsize=(10, 6.6), dpi=100)
    rows = {}
    for j, name in enumerate(("ring8", "grid25", "swiss_roll")):
        train, test = load(name, n_samples=10_000), load(name, split="test")
        m = genlab.create("realnvp", data_shape=(2,), n_couplings=8, hidden_dims=(128, 128), lr=1e-3, seed=0)
        t = time.perf_counter()
        Trainer(epochs=150, batch_size=256, seed=0, callbacks=[LRSchedule("cosine")]).fit(m, train)
        seconds = time.perf_counter() - t
        mean, cov = train.x.double().mean(0), torch.cov(train.x.double().t())
        gauss = float(torch.distributions.MultivariateNormal(mean, cov).log_prob(test.x.double()).mean())
        flow = float(m.log_prob(test.x).mean())
        rows[name] = {"test_ll": flow, "gaussian_test_ll": gauss, "train_seconds": round(seconds, 1)}
        print(name, rows[name], flush=True)
        lo, hi = train.x.min(0).values - 0.5, train.x.max(0).values + 0.5
        gx, gy = torch.meshgrid(torch.linspace(lo[0], hi[0], 300), torch.linspace(lo[1], hi[1], 300), indexing="xy")
        with torch.no_grad():
            logd = m.log_prob(torch.stack([gx, gy], -1).reshape(-1, 2)).reshape(300, 300)
        dens = logd.clamp_min(float(logd.max()) - 10).numpy()  # log scale: sharp modes and the space between
        extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        axes[0][j].scatter(train.x[:3000, 0], train.x[:3000, 1], s=1, alpha=0.4)
        axes[0][j].set_title(f"{name}: data")
        axes[1][j].imshow(dens, origin="lower", extent=extent, cmap="viridis", aspect="auto")
        axes[1][j].set_title(f"RealNVP log-density (test LL {flow:.2f})")
        for ax in (axes[0][j], axes[1][j]):
            ax.set_xlim(extent[:2])
            ax.set_ylim(extent[2:])
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    out = ROOT / "docs" / "images" / "realnvp-toys.png"
    fig.savefig(out)
    plt.close(fig)
    write_result(
        "flow_toys",
        value={k: round(v["test_ll"], 3) for k, v in rows.items()},
        unit="nats per point, test log-likelihood of the 2-D toys",
        anchor="one Gaussian fitted to the training points",
        anchor_value={k: round(v["gaussian_test_ll"], 3) for k, v in rows.items()},
        datasets=rows,
        picture=str(out.relative_to(ROOT)),
        machine=machine(),
    )


def mnist_bpd(minutes: float, draws: int, seed: int) -> None:
    train, test = load("mnist"), load("mnist", split="test")
    m = genlab.create("realnvp_mnist", seed=seed)
    t = time.perf_counter()
    tr = Trainer(epochs=10**6, batch_size=64, seed=seed, callbacks=[TimeBudgetDecay(minutes * 60, [])])
    tr.fit(m, train)
    seconds = time.perf_counter() - t
    bpds = [
        float(
            torch.cat(
                [
                    -m.log_prob(test.x[a : a + 1000], generator=torch.Generator().manual_seed(d))
                    for a in range(0, len(test), 1000)
                ]
            ).mean()
        )
        / (784 * math.log(2))
        for d in range(draws)
    ]
    bpd = float(np.mean(bpds))
    from genlab.plotting import save_image_grid

    save_image_grid(
        m.sample(64, generator=torch.Generator().manual_seed(0)), ROOT / "docs" / "images" / "realnvp-mnist.png", nrow=8
    )
    m.save(Path(__file__).resolve().parent / ".cache" / "realnvp_mnist", overwrite=True)
    print(f"realnvp_mnist: {bpd:.3f} bits/dim after {tr.step} steps ({seconds / 60:.1f} min)", flush=True)
    write_result(
        "flow_mnist",
        value=round(bpd, 4),
        unit="bits per dimension, dequantized MNIST test set (a bound: uniform dequantization)",
        anchor="Glow (Kingma & Dhariwal 2018), 1.05 bits/dim, a far larger model trained on a GPU",
        anchor_value=1.05,
        draws=bpds,
        train_minutes=round(seconds / 60, 2),
        steps=tr.step,
        epochs=round(tr.step * 64 / len(train), 2),
        parameters=sum(p.numel() for p in m.parameters()),
        config=m.config.to_dict(),
        machine=machine(),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["toys", "tabular", "mnist"], required=True)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--dequant-draws", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    {"toys": toys, "tabular": tabular}.get(args.part, lambda: mnist_bpd(args.minutes, args.dequant_draws, args.seed))()


if __name__ == "__main__":
    main()
