"""Denoising MNIST test images: genlab's denoising autoencoder against the noisy input and a median filter.

Two noises, as in the issue: additive Gaussian noise with sigma = 0.5 (not clipped, the same corruption
the denoiser trains with) and 20% salt-and-pepper. For each, a denoising autoencoder (convolutional,
channels 32-64, code 64, MSE) is trained on the clean training images with that corruption; on the
10,000 test images (corrupted once with a fixed seed) we report the PSNR (data range 1) of the noisy
input, of a 3x3 median filter (scipy.ndimage) and of the denoiser, against the clean images.

Usage: GENLAB_DATA=../shared/data/mnist python benchmarks/denoising_mnist.py [--epochs 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import median_filter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import write_result
from genlab.apps import Denoiser, psnr
from genlab.data import gaussian_noise, salt_and_pepper

NOISES = {"gaussian": 0.5, "salt_and_pepper": 0.2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    train = genlab.data.load("mnist", split="train", download=False).x
    test = genlab.data.load("mnist", split="test", download=False).x
    results = {}
    for kind, level in NOISES.items():
        g = torch.Generator().manual_seed(123)
        noisy = gaussian_noise(test, level, g) if kind == "gaussian" else salt_and_pepper(test, level, g)
        med = torch.from_numpy(median_filter(noisy.numpy(), size=(1, 1, 3, 3)))
        den = Denoiser(
            "ae",
            corruption=kind,
            corruption_level=level,
            epochs=args.epochs,
            batch_size=128,
            seed=args.seed,
            latent_dim=64,
            hidden_dims=(32, 64),
            model_params={"architecture": "conv"},
        )
        t = time.perf_counter()
        den.fit(train)
        train_s = time.perf_counter() - t
        out = den.transform(noisy)
        row = {
            "noisy": float(psnr(test, noisy)),
            "median_3x3": float(psnr(test, med)),
            "genlab": float(psnr(test, out)),
            "train_seconds": round(train_s, 1),
        }
        results[kind] = row
        print(
            f"{kind} {level}: PSNR noisy {row['noisy']:.2f} dB, median 3x3 {row['median_3x3']:.2f} dB, "
            f"genlab denoiser {row['genlab']:.2f} dB (trained {train_s:.0f}s)",
            flush=True,
        )
    write_result(
        "denoising_mnist",
        value=round(results["gaussian"]["genlab"], 3),
        unit="dB PSNR on MNIST test, Gaussian noise sigma 0.5",
        anchor="3x3 median filter",
        anchor_value=round(results["gaussian"]["median_3x3"], 3),
        results=results,
        epochs=args.epochs,
        command="GENLAB_DATA=../shared/data/mnist python benchmarks/denoising_mnist.py " + " ".join(sys.argv[1:]),
    )
    _ = np  # numpy is used through scipy's arrays


if __name__ == "__main__":
    main()
