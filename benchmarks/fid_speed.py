"""Seconds for the FID of 10,000 MNIST samples, features included (target: under 30 s on this machine).

Three timings, each the median of ``--rounds``:

- ``cold``: features of the 10,000 samples *and* of the 10,000 test images (nothing cached), statistics, distance;
- ``warm``: the reference's features come from genlab's cache (what ``genlab evaluate`` does after its first run);
- the statistics-and-distance stage alone, genlab's (float64, symmetric square root) beside the textbook one
  that pytorch-fid and TTUR use (``np.cov`` and ``scipy.linalg.sqrtm`` of the product), on the same
  features: the values must agree to 1e-6 relative. The metric packages themselves (pytorch-fid,
  torch-fidelity) import torchvision at module level, which does not import beside this machine's CPU
  build of torch, so their statistics step is reproduced here rather than imported.

The "samples" are 10,000 MNIST training images (the time does not depend on what the images show).

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/fid_speed.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, write_result
from genlab.data import load
from genlab.metrics import dataset_features, extract_features, fid, gaussian_stats
from genlab.metrics.fid import frechet_distance


def scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    test = load("mnist", split="test")
    fake = load("mnist", split="train").x[: args.n].clone()
    real = test.x[: args.n]
    cold, warm, ours_stage, ref_stage = [], [], [], []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GENLAB_CACHE"] = cache
        for r in range(args.rounds):
            for f in Path(cache).rglob("*.safetensors"):
                f.unlink()
            t = time.perf_counter()
            value = fid(real=real, fake=fake).value
            cold.append(time.perf_counter() - t)
            dataset_features(real, label="mnist-test")  # fills the cache
            t = time.perf_counter()
            warm_value = fid(real=dataset_features(real, label="mnist-test"), fake=fake).value
            warm.append(time.perf_counter() - t)
            fr, ff = extract_features(real).features, extract_features(fake).features
            t = time.perf_counter()
            stage_value = frechet_distance(gaussian_stats(fr), gaussian_stats(ff))
            ours_stage.append(time.perf_counter() - t)
            a, b = fr.double().numpy(), ff.double().numpy()
            t = time.perf_counter()
            ref_value = scipy_fid(a, b)
            ref_stage.append(time.perf_counter() - t)
            print(
                f"round {r}: cold {cold[-1]:.2f} s, warm {warm[-1]:.2f} s, stage {ours_stage[-1]:.3f} s vs "
                f"scipy {ref_stage[-1]:.3f} s; FID {value:.6f} / {warm_value:.6f} / {stage_value:.6f} / "
                f"scipy {ref_value:.6f}",
                flush=True,
            )
    rel = abs(stage_value - ref_value) / abs(ref_value)
    med = {
        k: statistics.median(v) for k, v in {"cold": cold, "warm": warm, "ours": ours_stage, "ref": ref_stage}.items()
    }
    print(f"medians: {med}; relative difference to scipy {rel:.2e}")
    write_result(
        "fid_speed",
        value=round(med["cold"], 2),
        unit=f"s, FID of {args.n} 28x28 samples against {len(real)} test images, both featurized (mnist-cnn)",
        anchor="issue 6 target",
        anchor_value=30.0,
        warm_seconds=round(med["warm"], 2),
        stage_seconds=round(med["ours"], 3),
        scipy_stage_seconds=round(med["ref"], 3),
        fid=round(stage_value, 6),
        scipy_fid=round(ref_value, 6),
        relative_difference=float(f"{rel:.3g}"),
        rounds={"cold": cold, "warm": warm, "stage": ours_stage, "scipy_stage": ref_stage},
        machine=machine(),
    )


if __name__ == "__main__":
    main()
