"""Time per epoch of every registered model (and of the README's example commands) on this machine.

Each case trains in memory through ``genlab.train`` with its settings (default config and batch 128 for the
per-model table), skips a few warm-up steps, times the next steps for a few seconds and scales the seconds
per step to one epoch of its data. This is the training loop alone: per-epoch extras (validation, sample
pictures, the GAN mode monitor) and layer-wise pretraining stages come on top. The plain-PyTorch DCGAN of
ANCHORS.md is timed in the same run as the anchor (genlab's dcgan at the same settings against it).

Writes ``src/genlab/cli/epoch_times.json`` (what ``genlab models -v`` and the README show) and
``benchmarks/results/epoch_times.json``.

Usage: GENLAB_DATA=../shared/data/mnist:../shared/data/tables python benchmarks/epoch_times.py [--seconds 6]
       [--only vae,dcgan]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from dcgan_speed import genlab_epoch, plain_epoch
from genlab import fileutil
from genlab.errors import GenlabError
from genlab.training.callbacks import Callback

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "genlab" / "cli" / "epoch_times.json"

# models that learn labels or need their own kind of data, and the data set each is timed on
DATASETS = {
    "realnvp": ["ring8", "digits", "mnist"],
    "boltzmann": ["digits"],
    **{name: ["penguins", "diamonds"] for name in ("ctgan", "tvae", "gaussian_copula")},  # tables
    "cyclegan": ["digits-to-mnist"],  # unpaired: an epoch is a pass over domain B (MNIST)
}
DEFAULT_DATASETS = ["digits", "mnist"]
# models whose tokens must be whole numbers are timed on binarized images
DATA_OPTIONS = {
    "transformer_ar": {"binarize": "static"},
    # image-to-image models train on pairs made by a corruption of the images
    "pix2pix": {"corruption": "edges"},
    "inpaint": {"corruption": "mask:center:4"},
    "srnet": {"corruption": "downsample:4", "corruption_size": "small"},
}

# the README's `genlab train` examples: (command as shown, model, data, data options, overrides, settings)
EXAMPLES = [
    (
        "genlab train denoising_ae --data mnist --set architecture=conv --set hidden_dims=32,64",
        "denoising_ae",
        "mnist",
        {},
        {"architecture": "conv", "hidden_dims": (32, 64)},
        {},
    ),
    ("genlab train vae --data digits --set latent_dim=8", "vae", "digits", {}, {"latent_dim": 8}, {}),
    ("genlab train ssvae --data digits --data-opt n_labels=30", "ssvae", "digits", {"n_labels": 30}, {}, {}),
    (
        "genlab train vae --data mnist --binarize dynamic",
        "vae",
        "mnist",
        {},
        {},
        {"batch_transform": "dynamic_binarize"},
    ),
    ("genlab train cgan --data mnist --batch-size 64", "cgan", "mnist", {}, {}, {"batch_size": 64}),
    (
        "genlab train made_ensemble --data mnist --binarize dynamic",
        "made_ensemble",
        "mnist",
        {},
        {},
        {"batch_transform": "dynamic_binarize"},
    ),
    (
        "genlab train transformer_ar --data examples/corpus.txt --data-opt seq_len=128 --set d_model=128",
        "transformer_ar",
        str(ROOT / "examples" / "corpus.txt"),
        {"seq_len": 128},
        {"d_model": 128},
        {},
    ),
    ("genlab train realnvp --data ring8 --batch-size 256", "realnvp", "ring8", {}, {}, {"batch_size": 256}),
    ("genlab train bnn --data mnist", "bnn", "mnist", {}, {}, {}),
    (
        "genlab train srnet --data mnist --data-opt corruption=downsample:4 --data-opt corruption_size=small",
        "srnet",
        "mnist",
        {"corruption": "downsample:4", "corruption_size": "small"},
        {},
        {},
    ),
    (
        "genlab train inpaint --data mnist --data-opt corruption=mask:center:14",
        "inpaint",
        "mnist",
        {"corruption": "mask:center:14"},
        {},
        {},
    ),
]


class StepTimer(Callback):
    """Times the steps after ``warmup`` and stops the run after ``seconds`` of timed steps (at least ``min_steps``)."""

    def __init__(self, warmup: int = 3, seconds: float = 6.0, min_steps: int = 5) -> None:
        self.warmup, self.seconds, self.min_steps = warmup, seconds, min_steps
        self.t0: float | None = None
        self.timed = 0
        self.elapsed = 0.0

    def on_step_end(self, trainer, model, metrics) -> None:
        now = time.perf_counter()
        if trainer.step == self.warmup:
            self.t0 = now
            return
        if self.t0 is None:
            return
        self.timed = trainer.step - self.warmup
        self.elapsed = now - self.t0
        if self.elapsed >= self.seconds and self.timed >= self.min_steps:
            trainer.request_stop("timed")


def time_case(model: str, data: str, data_opts: dict, overrides: dict, settings: dict, seconds: float) -> float:
    """Seconds per epoch of one training setting (the loop alone), from a few seconds of timed steps."""
    entry = genlab.get_model(model)
    fields = {f[0] for f in entry.config_cls.describe()}
    if "pretrain_epochs" in fields:  # the stages of greedy pretraining are timed as epochs of their own RBM/AE
        overrides = {"pretrain_epochs": 0, **overrides}
    representation = getattr(entry.config_cls, "representation", None)
    if representation is not None:  # table models read the table in their own representation
        data_opts = {"representation": representation, **data_opts}
    timer = StepTimer(seconds=seconds)
    defaults = {k: v for k, v in entry.cls.train_defaults.items() if k != "epochs"}  # e.g. CTGAN's batch of 500
    settings = {"batch_size": 128, **defaults, "epochs": 10**6, **settings}
    run = genlab.train(
        model,
        genlab.data.load(data, **data_opts),
        overrides=overrides or None,
        progress=False,
        callbacks=[timer],
        mode_monitor=False,
        **settings,
    )
    if timer.timed < 1:
        raise RuntimeError(f"{model} on {data}: no step was timed")
    return timer.elapsed / timer.timed * run.trainer.steps_per_epoch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="timed seconds per case (default 6)")
    ap.add_argument("--only", default=None, help="comma-separated models (default: every registered model)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's, i.e. the cores)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.only.split(",") if args.only else [e.name for e in genlab.list_models()]
    table: dict[str, dict[str, float]] = {}
    for name in names:
        for data in DATASETS.get(name, DEFAULT_DATASETS):
            try:
                s = time_case(name, data, DATA_OPTIONS.get(name, {}), {}, {}, args.seconds)
            except GenlabError as exc:  # a model that does not take this data (e.g. needs labels)
                print(f"{name:>15} on {data:<7} n/a ({str(exc)[:90]})", flush=True)
                continue
            table.setdefault(name, {})[data] = round(s, 3)
            print(f"{name:>15} on {data:<7} {s:9.2f} s/epoch", flush=True)
    examples = []
    for command, model, data, data_opts, overrides, settings in EXAMPLES:
        if args.only and model not in names:
            continue
        s = time_case(model, data, data_opts, overrides, settings, args.seconds)
        examples.append({"command": command, "seconds_per_epoch": round(s, 3)})
        print(f"{s:9.2f} s/epoch  {command}", flush=True)
    # the anchor, side by side: ANCHORS.md's plain-PyTorch DCGAN against genlab's dcgan at the same settings
    mnist = genlab.data.load("mnist", split="train", scale="symmetric")
    steps, epoch_steps = 100, -(-len(mnist) // 64)
    plain = plain_epoch(mnist.x, steps, seed=0) * epoch_steps / steps
    ours = genlab_epoch(mnist, steps, seed=0) * epoch_steps / steps
    print(f"anchor: plain PyTorch DCGAN {plain:.1f} s/epoch, genlab dcgan {ours:.1f} s/epoch (batch 64)")
    command = "python benchmarks/epoch_times.py " + " ".join(sys.argv[1:])
    if args.only and SHIPPED.exists():  # a partial run updates its models (and examples) in the shipped table
        old = json.loads(SHIPPED.read_text())
        command = f"{old.get('command', '?')}; then {command}"
        table = {**old.get("models", {}), **table}
        mine = {e["command"] for e in examples}
        examples = [e for e in old.get("examples", []) if e["command"] not in mine] + examples
    info = {
        "machine": machine(),
        "date": _dt.date.today().isoformat(),
        "setting": "2 cores, batch 128, default config",
        "command": command,
        "models": dict(sorted(table.items())),
        "examples": examples,
    }
    fileutil.write_json(SHIPPED, info)
    print(f"wrote {SHIPPED}")
    write_result(
        "epoch_times",
        value=round(ours, 2),
        unit="s per MNIST epoch of genlab's dcgan (ANCHORS.md architecture, batch 64)",
        anchor="plain PyTorch DCGAN (ANCHORS.md config), timed in the same run",
        anchor_value=round(plain, 2),
        models=info["models"],
        examples=examples,
        command=info["command"],
    )


if __name__ == "__main__":
    main()
