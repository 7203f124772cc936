"""Mode coverage on the 2-D toys: ring of 8 and grid of 25 Gaussians, over several seeds.

Protocol of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): after training, 2,500 samples
are drawn; a sample is *high quality* within 3 standard deviations of its nearest mode (ring: std 0.02 on
a circle of radius 2; grid: std 0.05 on {-4, -2, 0, 2, 4}^2); a mode is covered when at least 20
high-quality samples reach it (PacGAN's rule; VEEGAN's is one); also the KL of the high-quality samples'
mode histogram to uniform. Published points on the grid: VEEGAN 24.6 modes / 40% high quality, PacGAN4
24.8 / 93.6%. Targets here: 8/8 and 25/25 modes with >= 95% high-quality samples, mean over 5 seeds.

The recipe (one config for both toys, see ``RECIPE``) trains through ``genlab.train``-equivalent code: the
one Trainer, 20,000 points drawn once per seed, batch ``--batch-size``, a cosine learning-rate decay to 0.

Usage::

    python benchmarks/gan_toy_modes.py [--data ring8 grid25] [--seeds 0 1 2 3 4] [--steps 20000]
        [--set KEY=VALUE ...] [--no-save]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from genlab.config import parse_value
from genlab.data import load
from genlab.metrics import mode_coverage
from genlab.training import LRSchedule, Trainer

RECIPE = {"loss": "non_saturating", "latent_dim": 16, "lr_g": 1e-3, "lr_d": 1e-3, "r1_weight": 1.0}
PUBLISHED = {"grid25": {"VEEGAN": (24.6, 0.40), "PacGAN4": (24.8, 0.936)}, "ring8": {"VEEGAN": (8.0, 0.529)}}


def run(data: str, seed: int, steps: int, batch_size: int, overrides: dict) -> dict:
    ds = load(data, n_samples=20_000, seed=seed)
    model = genlab.create("gan", data_shape=(2,), **{**RECIPE, **overrides}, seed=seed)
    t = time.perf_counter()
    trainer = Trainer(
        epochs=10**9, max_steps=steps, batch_size=batch_size, seed=seed, callbacks=[LRSchedule("cosine", final=0.0)]
    )
    trainer.fit(model, ds)
    seconds = time.perf_counter() - t
    samples = model.sample(2500, generator=torch.Generator().manual_seed(10_000 + seed))
    cov = mode_coverage(samples, ds.centers, ds.extras["std"], min_count=20)
    return {"seed": seed, **cov.as_dict(), "seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", default=["ring8", "grid25"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--no-save", action="store_true", help="print only; keep benchmarks/results as it is")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {k: parse_value(v) for k, v in (item.split("=", 1) for item in args.overrides)}
    for data in args.data:
        rows = []
        for seed in args.seeds:
            rows.append(run(data, seed, args.steps, args.batch_size, overrides))
            r = rows[-1]
            print(
                f"{data} seed {seed}: {r['modes']}/{r['n_modes']} modes, {100 * r['high_quality']:.1f}% high quality, "
                f"KL {r['kl']:.3f} ({r['seconds']:.0f} s)",
                flush=True,
            )
        modes = statistics.mean(r["modes"] for r in rows)
        hq = statistics.mean(r["high_quality"] for r in rows)
        n_modes = rows[0]["n_modes"]
        print(f"{data}: mean {modes:.1f}/{n_modes} modes, {100 * hq:.1f}% high quality over seeds {args.seeds}")
        if args.no_save:
            continue
        best = max(PUBLISHED[data].items(), key=lambda kv: kv[1][1])
        write_result(
            f"gan_toy_{data}",
            value=round(modes, 2),
            unit=f"modes covered of {n_modes} (>= 20 of 2,500 samples within 3 std), mean over {len(rows)} seeds",
            anchor=f"{best[0]} (published)",
            anchor_value=best[1][0],
            high_quality=round(hq, 4),
            anchor_high_quality=best[1][1],
            published=PUBLISHED[data],
            recipe={**RECIPE, **overrides},
            steps=args.steps,
            batch_size=args.batch_size,
            per_seed=rows,
            machine=machine(),
        )


if __name__ == "__main__":
    main()
