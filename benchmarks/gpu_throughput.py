"""Training throughput per family on a GPU, in samples per second, at each precision (issue 19's GPU plan).

For every family below, the model is built with its default config for MNIST-shaped data (28x28, or the
family's own data shape) and trained for ``--steps`` steps through the one trainer on random batches of the
right range (``model.example_batch``), after ``--warmup`` steps that are not timed (CUDA context, cuDNN
autotuning, compiled graphs). The CUDA clock is synchronised before reading it.

Usage::

    python benchmarks/gpu_throughput.py [--steps 50] [--precision 32 bf16-mixed 16-mixed] [--compile]
    python benchmarks/gpu_throughput.py --device cpu --steps 10     # the same table on the CPU, for comparison

Without a CUDA GPU (and without ``--device cpu``) it prints that it skipped and exits 0. It writes
``benchmarks/results/gpu_throughput.json`` (value: the VAE's samples/s at float32; anchor: the same on the CPU
of the machine, measured in the same run with ``--steps 5``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

FAMILIES = {
    "ae": ({}, 128),
    "vae": ({}, 128),
    "dcgan": ({}, 64),
    "wgan_gp": ({}, 64),
    "lsgan": ({}, 64),
    "rbm": ({}, 100),
    "dbn": ({}, 100),
    "realnvp": ({}, 64),
    "made": ({}, 128),
    "transformer_ar": ({"data_shape": (1, 14, 14)}, 32),
    "pix2pix": ({}, 16),
    "srnet": ({}, 16),
}


def throughput(name: str, device: str, precision: str, steps: int, warmup: int, compile: bool) -> float | str:
    """Samples per second of ``steps`` training steps, or the reason the family cannot run so."""
    import genlab
    from genlab.errors import GenlabError
    from genlab.training import Trainer

    overrides, batch = FAMILIES[name]
    try:
        model = genlab.create(name, seed=0, **overrides)
        example = model.example_batch(batch * 4, generator=torch.Generator().manual_seed(0))
        data = _dataset(example)
        settings = {"epochs": 10**6, "batch_size": batch, "device": device, "precision": precision}
        Trainer(max_steps=warmup, compile=compile, **settings).fit(model, data)  # warm-up (and compile)
        trainer = Trainer(max_steps=steps, **settings)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        trainer.fit(model, data)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return steps * batch / (time.perf_counter() - t0)
    except GenlabError as exc:
        return f"n/a: {exc}"


def _dataset(example):
    from genlab.data.dataset import Dataset, infer_info

    x = example.x
    info = infer_info(x, name="random")
    return Dataset(x=x, y=example.y, info=info, source=example.source)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--precision", nargs="+", default=["32", "bf16-mixed", "16-mixed"])
    p.add_argument("--compile", action="store_true")
    p.add_argument("--only", nargs="+", default=None, help="families to run (default: all)")
    args = p.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_throughput: skipped, this machine has no CUDA GPU (pass --device cpu for the CPU table)")
        return
    from _common import write_result

    names = args.only or list(FAMILIES)
    table: dict[str, dict[str, float | str]] = {}
    for name in names:
        table[name] = {}
        for precision in args.precision:
            if precision == "16-mixed" and args.device == "cpu":
                continue
            table[name][precision] = throughput(name, args.device, precision, args.steps, args.warmup, args.compile)
            print(f"{name:15s} {precision:10s} {table[name][precision]}", file=sys.stderr)
    cpu_vae = throughput("vae", "cpu", "32", 5, 1, False)
    vae = table.get("vae", {}).get("32")
    gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    path = write_result(
        "gpu_throughput",
        value=round(vae, 1) if isinstance(vae, float) else None,
        unit="VAE training samples/s at float32",
        anchor="the same VAE on this machine's CPU",
        anchor_value=round(cpu_vae, 1) if isinstance(cpu_vae, float) else None,
        device=args.device,
        gpu=gpu,
        steps=args.steps,
        compile=args.compile,
        samples_per_s=table,
    )
    print(json.dumps(table, indent=1))
    print(f"written {path}")


if __name__ == "__main__":
    main()
