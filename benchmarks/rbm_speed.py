"""Seconds per epoch of a 784-500 RBM on the 60,000 MNIST training images, side by side with the anchors.

- against scikit-learn's BernoulliRBM (PCD-1, its algorithm) at its anchor config: batch 20, learning rate 0.01,
  no momentum or weight decay, float64 data (what scikit-learn computes in); genlab runs PCD-1 with 20 chains;
- against learnergy's RBM (CD-1) at its anchor config: batch 128, learning rate 0.1, no momentum or decay;
- the achieved GFLOP/s of genlab's step (the five matrix products of CD-1 / PCD-1 as dense equivalents)
  against a loop of the same five products alone: the physical limit on this machine.

Epochs alternate between the libraries, ``--rounds`` times; the median is reported. Every epoch runs in a
fresh process: scikit-learn computes with NumPy's BLAS threads and torch with its OpenMP threads, and in one
process the threads of one library keep spinning while the other works, which slowed scikit-learn down
about three times in an earlier version of this script. Each process first warms up the same code on 2,560
images (its first call pays about a second of one-time costs, which a training run pays once, not per
epoch). genlab trains through its one Trainer (shuffling, batching, metrics included). The anchors need
their own environment (see ``benchmarks/requirements-rbm.txt``)::

    GENLAB_DATA=../shared/data/mnist benchmarks/.venv-rbm/bin/python benchmarks/rbm_speed.py [--rounds 3]

A missing anchor is reported as missing (null), never guessed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from genlab.data import load
from genlab.training import Trainer

D, H = 784, 500


def genlab_epoch(x: torch.Tensor, batch: int, lr: float, method: str, seed: int) -> float:
    m = genlab.create(
        "rbm",
        data_shape=(D,),
        n_hidden=H,
        lr=lr,
        momentum=0.0,
        weight_decay=0.0,
        method=method,
        n_chains=batch,
        seed=seed,
    )
    t = time.perf_counter()
    Trainer(epochs=1, batch_size=batch, seed=seed).fit(m, x)
    return time.perf_counter() - t


def sklearn_epoch(x64: np.ndarray, seed: int) -> float:
    from sklearn.neural_network import BernoulliRBM

    rbm = BernoulliRBM(n_components=H, learning_rate=0.01, batch_size=20, n_iter=1, random_state=seed)
    t = time.perf_counter()
    rbm.fit(x64)
    return time.perf_counter() - t


def learnergy_epoch(x: torch.Tensor, seed: int) -> float:
    import logging

    from learnergy.models.bernoulli import RBM

    logging.getLogger("learnergy").setLevel(logging.ERROR)
    torch.manual_seed(seed)
    rbm = RBM(n_visible=D, n_hidden=H, steps=1, learning_rate=0.1, momentum=0.0, decay=0.0, temperature=1.0)
    data = torch.utils.data.TensorDataset(x, torch.zeros(len(x)))
    t = time.perf_counter()
    rbm.fit(data, batch_size=128, epochs=1)
    return time.perf_counter() - t


def matmul_limit(batch: int, steps: int) -> float:
    """Seconds for ``steps`` x the five dense products of one CD-1 step (B x D @ D x H and friends)."""
    g = torch.Generator().manual_seed(0)
    v, W, h = torch.rand(batch, D, generator=g), torch.rand(D, H, generator=g), torch.rand(batch, H, generator=g)
    out = torch.empty(D, H)
    for _ in range(5):
        v @ W
    t = time.perf_counter()
    for _ in range(steps):
        v @ W
        h @ W.t()
        v @ W
        out.addmm_(v.t(), h, beta=0.0)
        out.addmm_(v.t(), h)
    return time.perf_counter() - t


def available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        print(f"{module} is not installed: pip install -r benchmarks/requirements-rbm.txt (reported as missing)")
        return False
    return True


CHILDREN = {
    "genlab_pcd20": lambda x, r: genlab_epoch(x, 20, 0.01, "pcd", r),
    "sklearn": lambda x, r: sklearn_epoch(x.double().numpy(), r),
    "genlab_cd128": lambda x, r: genlab_epoch(x, 128, 0.1, "cd", r),
    "learnergy": lambda x, r: learnergy_epoch(x, r),
    "limit20": lambda x, r: matmul_limit(20, -(-len(x) // 20)),
    "limit128": lambda x, r: matmul_limit(128, -(-len(x) // 128)),
}


def child(name: str, r: int) -> None:
    """One measurement in this (fresh) process, after a warm-up of the same code on 2,560 images (thread pools,
    allocator, first touch of the data: what a longer run pays once); prints the epoch's seconds."""
    ds = load("mnist", flatten=True)
    x = ds.x.reshape(len(ds), D).contiguous()
    CHILDREN[name](x[:2560].clone(), r)
    print(json.dumps({"seconds": CHILDREN[name](x, r)}))


def measure(name: str, r: int, threads: int | None) -> float:
    cmd = [sys.executable, __file__, "--child", name, "--round", str(r)] + (
        ["--threads", str(threads)] if threads else []
    )
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ.copy())
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--child", choices=list(CHILDREN), default=None, help=argparse.SUPPRESS)
    ap.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        child(args.child, args.round)
        return
    n = len(load("mnist", flatten=True))
    has_sk, has_lrn = available("sklearn"), available("learnergy")
    names = [k for k in CHILDREN if (k != "sklearn" or has_sk) and (k != "learnergy" or has_lrn)]
    rows: dict[str, list[float]] = {k: [] for k in CHILDREN}
    for r in range(args.rounds):
        for k in names:
            rows[k].append(measure(k, r, args.threads))
        print(f"round {r}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in rows.items() if v), flush=True)
    med = {k: (statistics.median(v) if v else None) for k, v in rows.items()}

    def flops(batch: int) -> float:
        return -(-n // batch) * 5 * 2 * batch * D * H

    def ratio(a: str, b: str) -> float | None:
        return round(med[b] / med[a], 2) if med[a] and med[b] else None

    gflops = {b: flops(b) / med[f"genlab_{'pcd20' if b == 20 else 'cd128'}"] / 1e9 for b in (20, 128)}
    limit = {b: flops(b) / med[f"limit{b}"] / 1e9 for b in (20, 128)}
    summary = {
        "sklearn_speedup": ratio("genlab_pcd20", "sklearn"),
        "learnergy_speedup": ratio("genlab_cd128", "learnergy"),
        "gflops": {str(b): round(gflops[b], 1) for b in gflops},
        "matmul_gflops": {str(b): round(limit[b], 1) for b in limit},
        "fraction_of_matmul": {str(b): round(gflops[b] / limit[b], 3) for b in gflops},
    }
    print(f"medians (s/epoch): { ({k: round(v, 2) if v else None for k, v in med.items()}) }")
    print(summary)
    write_result(
        "rbm_speed",
        value=round(med["genlab_cd128"], 2),
        unit="s/epoch, 784-500 RBM, CD-1, batch 128, lr 0.1, 60,000 MNIST images",
        anchor="learnergy 2.0.2 RBM (same config)",
        anchor_value=round(med["learnergy"], 2) if med["learnergy"] else None,
        genlab_pcd_batch20=round(med["genlab_pcd20"], 2),
        sklearn_batch20=round(med["sklearn"], 2) if med["sklearn"] else None,
        rounds=rows,
        **summary,
        process="each epoch in a fresh process",
        machine=machine(),
    )


if __name__ == "__main__":
    main()
