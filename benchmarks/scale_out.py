"""Scale-out on this CPU: data-parallel processes, torch.compile and bf16 mixed precision (issue 19).

Tasks (each writes ``benchmarks/results/scale_<task>.json``):

* ``ddp``: a VAE (784-400-20, batch 128) and the DCGAN of ``shared/ANCHORS.md`` (batch 64) on MNIST, the same
  number of global batches timed as 1 process x 1 thread, 1 process x 2 threads and 2 gloo processes x 1 thread
  (``torchrun``; the global batch is split). The figure is the speed-up of 2 processes over 1 process x 1 thread.
  The anchor is PyTorch's own ``DistributedDataParallel`` on the plain VAE of the same size, 2 gloo processes vs
  1, to show what DDP itself reaches on this machine.
* ``compile``: the same models with ``--compile`` (``torch.compile``, inductor) against eager, after warm-up;
  the speed ratio and the loss difference after the timed steps.
* ``bf16``: one MNIST epoch of the VAE and of the DCGAN at ``bf16-mixed`` against float32: the speed ratio and
  the loss difference.

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/scale_out.py ddp [--steps 300] [--rounds 2]
    GENLAB_DATA=../shared/data/mnist python benchmarks/scale_out.py compile [--steps 200]
    GENLAB_DATA=../shared/data/mnist python benchmarks/scale_out.py bf16 [--threads 2]
    python benchmarks/scale_out.py ddp --device cuda   # on a GPU machine (nccl), same tasks

Every timing is the trainer's own training time (``Trainer.elapsed``), so process start-up, imports and the
torchrun rendezvous are left out; each configuration runs in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

MODELS = {
    "vae": {"config": {"hidden_dims": [400], "latent_dim": 20, "architecture": "mlp"}, "batch_size": 128},
    "dcgan": {"config": {}, "batch_size": 64},
}


def _data(scale: str):
    from genlab.data import load

    return load("mnist", split="train", scale=scale)


def worker(args: argparse.Namespace) -> None:
    """One configuration in this process (or in each torchrun process): writes the timing to ``args.out``."""
    import genlab
    from genlab.training import Trainer
    from genlab.training.distributed import world

    torch.set_num_threads(args.threads)
    spec = MODELS[args.model]
    data = _data("symmetric" if args.model == "dcgan" else "unit")
    model = genlab.create(args.model, data_shape=tuple(data.x.shape[1:]), seed=0, **spec["config"])

    def trainer(steps: int, seed: int) -> Trainer:
        return Trainer(
            epochs=10**6,
            batch_size=spec["batch_size"],
            seed=seed,
            max_steps=steps,
            device=args.device,
            precision=args.precision,
            compile=args.compile,
        )

    if args.warmup:  # compiled graphs (and caches) are built here, outside the timed steps; the timed steps
        trainer(args.warmup, seed=1).fit(model, data)  # then continue training the same model
    trainer_timed = trainer(args.steps, seed=0)
    import time

    t0 = time.perf_counter()
    trainer_timed.fit(model, data)
    wall = time.perf_counter() - t0
    if world().is_main:
        rows, t = trainer_timed.history.all_rows, trainer_timed
        Path(args.out).write_text(
            json.dumps({"elapsed": t.elapsed, "wall": wall, "steps": t.step, "loss": rows[-1]["loss"]})
        )


def _run(model: str, steps: int, nproc: int, threads: int, device: str, extra: list[str], task: str = "_worker"):
    """Run ``task`` (genlab's worker, or the plain DDP anchor) in a fresh process, or ``nproc`` under torchrun."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "t.json"
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        cmd = [sys.executable]
        if nproc > 1:
            cmd += ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]
        cmd += [str(HERE), task, model, str(steps), str(out), "--threads", str(threads), "--device", device]
        proc = subprocess.run([*cmd, *extra], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text())


def plain_ddp_vae(args: argparse.Namespace) -> None:
    """The anchor: a hand-written VAE step wrapped in torch's DistributedDataParallel (gloo), one MNIST batch
    order shared by the processes, each taking its half of every global batch."""
    import time

    import torch.distributed as dist
    from torch import nn

    torch.set_num_threads(args.threads)
    ws = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if ws > 1:
        dist.init_process_group("gloo")
    x_all = _data("unit").x.reshape(-1, 784)

    class VAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 40))
            self.dec = nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mu, logvar = self.enc(x).chunk(2, dim=1)
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            logits = self.dec(z)
            rec = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
            kl = -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum() / len(x)
            return rec + kl

    torch.manual_seed(0)
    net = VAE()
    model = nn.parallel.DistributedDataParallel(net) if ws > 1 else net
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    perm = torch.randperm(len(x_all), generator=g)
    t0 = time.perf_counter()
    for step in range(args.steps):
        idx = perm[(step * 128) % (len(perm) - 128) :][:128]
        idx = idx[rank * (128 // ws) : (rank + 1) * (128 // ws)]
        loss = model(x_all[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    elapsed = time.perf_counter() - t0
    if rank == 0:
        Path(args.out).write_text(json.dumps({"elapsed": elapsed, "steps": args.steps}))
    if ws > 1:
        dist.destroy_process_group()


def task_ddp(args: argparse.Namespace) -> None:
    from _common import write_result

    configs = {"1x1": (1, 1), "1x2": (1, 2), "2x1": (2, 1)}
    out = {}
    for model in ("vae", "dcgan"):
        times: dict[str, list[float]] = {k: [] for k in configs}
        for _ in range(args.rounds):  # interleaved, so machine noise hits every configuration alike
            for key, (nproc, threads) in configs.items():
                times[key].append(_run(model, args.steps, nproc, threads, args.device, [])["elapsed"])
                print(f"{model} {key}: {times[key][-1]:.2f}s for {args.steps} steps", file=sys.stderr)
        med = {k: statistics.median(v) for k, v in times.items()}
        out[model] = {
            "seconds": med,
            "rounds": times,
            "speedup_2proc": med["1x1"] / med["2x1"],
            "speedup_2threads": med["1x1"] / med["1x2"],
            "steps_per_s": {k: args.steps / v for k, v in med.items()},
        }
    plain = {
        n: statistics.median(_run("vae", args.steps, n, 1, "cpu", [], "_plain")["elapsed"] for _ in range(args.rounds))
        for n in (1, 2)
    }
    anchor = plain[1] / plain[2]
    value = min(out["vae"]["speedup_2proc"], out["dcgan"]["speedup_2proc"])
    path = write_result(
        "scale_ddp",
        value=round(value, 3),
        unit="speed-up of 2 gloo processes x 1 thread over 1 process x 1 thread (the lower of VAE and DCGAN)",
        anchor="torch DistributedDataParallel, plain VAE of the same size, 2 gloo processes vs 1",
        anchor_value=round(anchor, 3),
        target=1.7,
        steps=args.steps,
        device=args.device,
        models=out,
        plain_ddp_seconds=plain,
    )
    print(json.dumps({m: {k: round(v, 3) for k, v in o.items() if k.startswith("speedup")} for m, o in out.items()}))
    print(f"anchor DDP speed-up {anchor:.3f}; written {path}")


def task_compile(args: argparse.Namespace) -> None:
    from _common import write_result

    out = {}
    for model in ("vae", "dcgan"):
        eager, compiled = [], []
        for _ in range(args.rounds):
            eager.append(_run(model, args.steps, 1, args.threads, args.device, ["--warmup", "20"]))
            compiled.append(_run(model, args.steps, 1, args.threads, args.device, ["--warmup", "20", "--compile"]))
        e = statistics.median(r["elapsed"] for r in eager)
        c = statistics.median(r["elapsed"] for r in compiled)
        out[model] = {
            "eager_s": e,
            "compiled_s": c,
            "ratio": e / c,
            "loss_eager": eager[0]["loss"],
            "loss_compiled": compiled[0]["loss"],
            "loss_rel_diff": abs(compiled[0]["loss"] - eager[0]["loss"]) / abs(eager[0]["loss"]),
        }
        print(f"{model}: eager {e:.2f}s compiled {c:.2f}s ratio {e / c:.3f}", file=sys.stderr)
    path = write_result(
        "scale_compile",
        value=round(min(o["ratio"] for o in out.values()), 3),
        unit="speed ratio eager / compiled after warm-up (the lower of VAE and DCGAN; > 1: compile is faster)",
        anchor="genlab eager (same model, same steps)",
        anchor_value=1.0,
        threshold_on_by_default=1.2,
        steps=args.steps,
        threads=args.threads,
        device=args.device,
        models=out,
    )
    print(json.dumps(out, indent=1))
    print(f"written {path}")


def task_bf16(args: argparse.Namespace) -> None:
    from _common import write_result

    out, epoch_steps = {}, {}
    for model in ("vae", "dcgan"):
        # one MNIST epoch (60000 images) at the model's batch size unless --steps says otherwise
        steps = epoch_steps[model] = args.steps or -(-60000 // MODELS[model]["batch_size"])
        runs = {p: _run(model, steps, 1, args.threads, args.device, ["--precision", p]) for p in ("32", "bf16-mixed")}
        f32, bf = runs["32"], runs["bf16-mixed"]
        out[model] = {
            "fp32_s": f32["elapsed"],
            "bf16_s": bf["elapsed"],
            "ratio": f32["elapsed"] / bf["elapsed"],
            "loss_fp32": f32["loss"],
            "loss_bf16": bf["loss"],
            "loss_rel_diff": (bf["loss"] - f32["loss"]) / abs(f32["loss"]),
        }
        print(f"{model}: {json.dumps(out[model])}", file=sys.stderr)
    path = write_result(
        "scale_bf16",
        value=round(out["vae"]["ratio"], 3),
        unit="speed ratio float32 / bf16-mixed over one MNIST epoch, VAE (> 1: bf16 is faster)",
        anchor="genlab float32 (same model, same steps)",
        anchor_value=1.0,
        steps=epoch_steps,
        threads=args.threads,
        device=args.device,
        models=out,
        bf16_cpu_support=_bf16_hw(),
    )
    print(json.dumps(out, indent=1))
    print(f"written {path}")


def _bf16_hw() -> str:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    have = [f for f in ("avx512_bf16", "amx_bf16", "avx512f") if f" {f}" in flags]
    return ", ".join(have) or "no AVX-512 / AMX bf16 instructions"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("task", choices=["ddp", "compile", "bf16", "_worker", "_plain"])
    p.add_argument("model", nargs="?")
    p.add_argument("wsteps", nargs="?", type=int)
    p.add_argument("out", nargs="?")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="32")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--warmup", type=int, default=0)
    args = p.parse_args()
    if args.task in ("_worker", "_plain"):
        args.steps = args.wsteps
        (worker if args.task == "_worker" else plain_ddp_vae)(args)
        return
    if args.task == "ddp":
        args.steps = args.steps or 300
        task_ddp(args)
    elif args.task == "compile":
        args.steps = args.steps or 200
        task_compile(args)
    else:
        task_bf16(args)


if __name__ == "__main__":
    main()
