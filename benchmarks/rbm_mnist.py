"""AIS test log-likelihood of a 784-500 RBM on MNIST after at most ``--minutes`` of training, and its curve.

Protocol (Salakhutdinov & Murray 2008): 500 binary hidden units; training on dynamically binarized MNIST
(a fresh Bernoulli draw of every training image each time it is seen); the test set binarized once with
``torch.Generator().manual_seed(0)``; log Z by AIS from a base-rate model (the smoothed pixel means of the
binarized training set) with 100 runs and the 14,500 inverse temperatures of the paper; the +-3 sigma interval
of log Z gives the interval of the log-likelihood. The learning rate decays linearly to 0 over the time budget.
Snapshots taken during training (training time only; evaluation is not counted) give the curve of test
log-likelihood against training time (AIS with ``--curve-betas`` temperatures).

Published: -86.34 for CD-25 (Salakhutdinov & Murray 2008, the anchor) and -84.9 for a centered RBM trained
with PCD (the stretch target).

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/rbm_mnist.py --method cd --k 1 --minutes 30 --threads 1
    GENLAB_DATA=... python benchmarks/rbm_mnist.py --method pcd --minutes 30 --threads 1
    python benchmarks/rbm_mnist.py --plot     # docs/images/rbm-mnist-ll-vs-time.png from the results files
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import RESULTS, TimeBudgetDecay, machine, write_result
from genlab.data import load
from genlab.metrics import base_bias_from_data, log_partition
from genlab.training import Trainer

ANCHOR = ("Salakhutdinov & Murray 2008, CD-25, 500 hidden units", -86.34)
ROOT = Path(__file__).resolve().parents[1]


def evaluate(model, test_bin: torch.Tensor, base: torch.Tensor, betas: int, seed: int) -> dict:
    est = log_partition(model, n_runs=100, betas=betas, base_bias=base, generator=torch.Generator().manual_seed(seed))
    unnorm = float((-model.free_energy(test_bin)).double().mean())

    def finite(v: float) -> float | None:  # the interval is open (None) where mean - 3 sigma reaches 0
        return round(v, 3) if abs(v) != float("inf") else None

    return {
        "test_ll": round(unnorm - est.log_z, 3),
        "interval": [finite(unnorm - est.upper), finite(unnorm - est.lower)],
        "log_z": round(est.log_z, 3),
        "ess": round(est.effective_sample_size, 1),
    }


def plot() -> None:
    from genlab.plotting import save_lines

    series = {}
    for path in sorted(RESULTS.glob("rbm_mnist_*.json")):
        r = json.loads(path.read_text())
        series[r["tag"]] = ([p["minutes"] for p in r["curve"]], [p["test_ll"] for p in r["curve"]])
    out = ROOT / "docs" / "images" / "rbm-mnist-ll-vs-time.png"
    save_lines(
        series, out, xlabel="training minutes", ylabel="test log-likelihood (nats, AIS)", title="784-500 RBM on MNIST"
    )
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=["cd", "pcd"], default="cd")
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--lr", type=float, default=None, help="default 0.05 (cd) / 0.02 (pcd)")
    ap.add_argument("--momentum", type=float, default=0.5)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--centering", action="store_true")
    ap.add_argument("--betas", type=int, default=14_500)
    ap.add_argument("--curve-betas", type=int, default=2_000)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", action="store_true", help="only draw the curves of the saved results")
    args = ap.parse_args()
    if args.plot:
        plot()
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    tag = f"{args.method}{args.k}" + ("_centered" if args.centering else "")
    lr = args.lr if args.lr is not None else (0.05 if args.method == "cd" else 0.02)
    train, test = load("mnist"), load("mnist", split="test")
    test_bin = torch.bernoulli(test.x, generator=torch.Generator().manual_seed(0))
    base = base_bias_from_data(torch.bernoulli(train.x, generator=torch.Generator().manual_seed(1)))
    model = genlab.create(
        "rbm",
        data_shape=(1, 28, 28),
        n_hidden=500,
        method=args.method,
        k=args.k,
        lr=lr,
        momentum=args.momentum,
        weight_decay=2e-4,
        n_chains=args.batch_size,
        centering=args.centering,
        seed=args.seed,
    )
    seconds = args.minutes * 60
    marks = [m * 60 for m in (1, 2, 5, 10, 15, 20, 25) if m < args.minutes]
    budget = TimeBudgetDecay(seconds, marks)
    trainer = Trainer(
        epochs=10**6,
        batch_size=args.batch_size,
        seed=args.seed,
        batch_transform="dynamic_binarize",
        callbacks=[budget],
    )
    t = time.perf_counter()
    trainer.fit(model, train)
    train_seconds = time.perf_counter() - t
    epochs = trainer.step * args.batch_size / len(train)
    print(f"{tag}: trained {train_seconds / 60:.1f} min, {trainer.step} steps ({epochs:.1f} epochs)", flush=True)
    model.save(Path(__file__).resolve().parent / ".cache" / f"rbm_mnist_{tag}", overwrite=True)
    from genlab.plotting import save_image_grid

    for name, (images, nrow) in model.pictures(generator=torch.Generator().manual_seed(0)).items():
        out = ROOT / "docs" / "images" / f"rbm-mnist-{tag}-{name.replace('_', '-')}.png"
        save_image_grid(images, out, nrow=nrow, value_range=(0.0, 1.0))
    curve = []
    probe = copy.deepcopy(model)
    for snap in budget.snapshots:
        probe.load_state_dict(snap["state"])
        r = evaluate(probe, test_bin, base, args.curve_betas, args.seed)
        curve.append({"minutes": round(snap["seconds"] / 60, 2), "step": snap["step"], **r})
        print(f"  {snap['seconds'] / 60:5.1f} min: test LL {r['test_ll']:.2f}", flush=True)
    final_quick = evaluate(model, test_bin, base, args.curve_betas, args.seed)
    curve.append({"minutes": round(train_seconds / 60, 2), "step": trainer.step, **final_quick})
    t = time.perf_counter()
    final = evaluate(model, test_bin, base, args.betas, args.seed)
    ais_seconds = time.perf_counter() - t
    train_ll = (
        float(
            (-model.free_energy(torch.bernoulli(train.x[:10_000], generator=torch.Generator().manual_seed(2))))
            .double()
            .mean()
        )
        - final["log_z"]
    )
    print(
        f"{tag}: test LL {final['test_ll']:.2f} nats, interval {final['interval']}, train LL {train_ll:.2f} "
        f"(AIS {args.betas} betas, {ais_seconds:.0f} s)"
    )
    write_result(
        f"rbm_mnist_{tag}",
        value=final["test_ll"],
        unit="nats, mean test log-likelihood (AIS, 100 runs), test set binarized once with seed 0",
        anchor=ANCHOR[0],
        anchor_value=ANCHOR[1],
        tag=tag,
        interval=final["interval"],
        log_z=final["log_z"],
        ais_ess=final["ess"],
        ais_betas=args.betas,
        ais_seconds=round(ais_seconds, 1),
        train_ll_10k=round(train_ll, 3),
        train_minutes=round(train_seconds / 60, 2),
        steps=trainer.step,
        epochs=round(epochs, 2),
        config={**model.config.to_dict(), "batch_size": args.batch_size, "lr_schedule": "linear to 0 over the budget"},
        binarization="train: dynamic (fresh Bernoulli draws); test: one fixed draw, torch seed 0",
        curve=curve,
        machine=machine(),
    )


if __name__ == "__main__":
    main()
