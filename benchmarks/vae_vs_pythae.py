"""VAE training throughput: genlab against pythae 0.1.2, same network, batch size, optimizer and data.

Target (genlab issue 3): genlab's VAE trains at least 2x as many samples per second as pythae's.

Environment (pythae and genlab in one process, on the same torch; see benchmarks/requirements-pythae.txt):

    python3 -m venv benchmarks/.venv-pythae
    benchmarks/.venv-pythae/bin/pip install torch==2.13.0            # first: the local CPU build
    benchmarks/.venv-pythae/bin/pip install pythae==0.1.2 torch==2.13.0
    benchmarks/.venv-pythae/bin/pip install -e . --no-deps
    benchmarks/.venv-pythae/bin/pip install numpy scipy scikit-learn safetensors pillow matplotlib tqdm torch==2.13.0

Usage: GENLAB_DATA=../shared/data/mnist benchmarks/.venv-pythae/bin/python benchmarks/vae_vs_pythae.py [--rounds 3]
       [--losses bce,mse] [--threads N]

What is compared. Both train on MNIST's 60,000 training images, (60000, 1, 28, 28) float32 in [0, 1], held in
memory, batch size 64, Adam with lr 1e-4, one epoch from a fresh model, in one process on the same torch threads
(torch's default unless --threads). The network is pythae's default MLP for input_dim (1, 28, 28) and latent_dim
16: 784-512 (ReLU) -> mean and log-variance (16 each) -> 16-512 (ReLU)-784, 829,232 parameters in both. genlab's
encoder computes mean and log-variance with one Linear(512, 32) where pythae has two Linear(512, 16): the same
parameters and FLOPs. pythae's decoder ends in a sigmoid; genlab's decoder returns logits (Bernoulli) or the
unbounded mean (Gaussian).

- ``bce``: pythae ``reconstruction_loss="bce"`` (sigmoid, then binary cross-entropy summed over pixels);
  genlab ``likelihood="bernoulli"`` (BCE with logits). The same objective, the negative ELBO per sample.
- ``mse``: pythae ``reconstruction_loss="mse"`` (0.5 * squared error summed over pixels, on the sigmoid output);
  genlab ``likelihood="gaussian", obs_std=1.0`` (fixed unit variance), which is the same objective plus the
  constant 784/2 * log(2 pi) = 720.4 nats, so the same gradients (genlab's default obs_std=0.1 would scale
  the reconstruction term by 100, a different objective). The loss printed for genlab has that constant removed.

Each timed epoch starts from a newly built model. Rounds are interleaved, and the order (genlab first or
pythae first) alternates between rounds; the median seconds per epoch over the rounds is reported, and samples/s
is 60,000 divided by it (the ratio of the fastest epochs is written too). Before the rounds each library trains
one short warm-up run (2,048 images). Run it on an otherwise idle machine: another process running torch on the
same cores makes both libraries' OpenMP threads contend, and single epochs then take several times longer.
On a machine that others are using, ``--threads 1`` (both libraries on one thread) is far less sensitive to that;
the results file records the thread count.

What each timing includes:

- genlab: the whole ``genlab.Trainer(epochs=1, batch_size=64, callbacks=[ProgressBar(force_bar=True)]).fit(model,
  data)`` call: the data checks (finite values, value range), building the fused Adam, the shuffled batch order,
  the 938 steps (indexing the in-memory tensor, forward, loss, backward, Adam step, three ``.item()`` calls and a
  finiteness check per step, the progress bar), the end-of-epoch bookkeeping. Model construction is outside.
- pythae (headline): its ``BaseTrainer.train_step(epoch)``, the epoch alone as pythae's trainer runs it inside
  ``BaseTrainer.train()``: its ``torch.utils.data.DataLoader`` (shuffle, ``num_workers`` = pythae's default
  ``train_dataloader_num_workers=0``, so batches are built in the main process, one ``__getitem__`` per image and
  a collate per batch), forward, loss, backward, the Adam step (torch's default ``Adam``: on the CPU the
  per-parameter loop, neither fused nor foreach), one ``.item()`` and a NaN check per step, its tqdm progress bar.
  Left out, in pythae's favour: building the model, wrapping the tensor in its ``BaseDataset`` (no copy),
  constructing ``BaseTrainer`` (the DataLoader and one sanity-check forward pass), and the rest of ``train()``:
  seeding, building the optimizer, creating the output folders, the ``deepcopy`` of the best model at the end of
  the epoch and saving the final model. The whole ``train()`` call is measured too and written to the results
  file as ``pythae_train_call_s``. pythae writes its training folder and final model into a temporary directory
  that is deleted after each run; no checkpoints are saved during training (``steps_saving=None``), and no
  evaluation set is given (so it keeps the best model on the training loss, as it says in its log).

Results go to benchmarks/results/vae_vs_pythae.json (value: genlab samples/s with the BCE loss; anchor_value:
pythae's; ratio: genlab / pythae throughput; the MSE figures beside them).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import machine, write_result
from genlab.errors import DatasetNotFoundError
from genlab.models.base import GenerativeModel
from genlab.training import ProgressBar

try:
    PYTHAE_VERSION = version("pythae")
    from pythae.data.datasets import BaseDataset
    from pythae.models import VAE as PythaeVAE
    from pythae.models import VAEConfig as PythaeVAEConfig
    from pythae.trainers import BaseTrainer, BaseTrainerConfig
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit(
        "pythae is not installed in this interpreter; make the benchmark environment first:\n"
        "  python3 -m venv benchmarks/.venv-pythae\n"
        "  benchmarks/.venv-pythae/bin/pip install torch==2.13.0\n"
        "  benchmarks/.venv-pythae/bin/pip install -r benchmarks/requirements-pythae.txt\n"
        "  benchmarks/.venv-pythae/bin/pip install -e . --no-deps\n"
        "and run this script with benchmarks/.venv-pythae/bin/python"
    )

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
BATCH = 64
LR = 1e-4
LATENT = 16
HIDDEN = 512
SHAPE = (1, 28, 28)
LOG_2PI = math.log(2 * math.pi)
GENLAB_LIKELIHOOD = {"bce": {"likelihood": "bernoulli"}, "mse": {"likelihood": "gaussian", "obs_std": 1.0}}


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def genlab_model(loss: str) -> GenerativeModel:
    return genlab.create(
        "vae", data_shape=SHAPE, hidden_dims=(HIDDEN,), latent_dim=LATENT, lr=LR, **GENLAB_LIKELIHOOD[loss]
    )


def pythae_model(loss: str) -> PythaeVAE:
    return PythaeVAE(PythaeVAEConfig(input_dim=SHAPE, latent_dim=LATENT, reconstruction_loss=loss))


def run_genlab(data: Any, loss: str, seed: int) -> dict[str, float]:
    """One epoch of genlab's Trainer; returns the wall time of ``fit`` and the epoch's mean training loss."""
    model = genlab_model(loss)
    trainer = genlab.Trainer(epochs=1, batch_size=BATCH, seed=seed, callbacks=[ProgressBar(force_bar=True)])
    t0 = time.perf_counter()
    trainer.fit(model, data)
    seconds = time.perf_counter() - t0
    mean_loss = trainer.history.rows[-1]["loss"]
    if loss == "mse":  # the Gaussian log-density's constant, absent from pythae's 0.5 * squared error
        mean_loss -= math.prod(SHAPE) / 2 * LOG_2PI
    return {"epoch_s": seconds, "call_s": seconds, "loss": mean_loss}


def run_pythae(x: torch.Tensor, loss: str, seed: int) -> dict[str, Any]:
    """One epoch through pythae's BaseTrainer; times ``train_step`` (the epoch) and the whole ``train()``."""
    model = pythae_model(loss)
    dataset = BaseDataset(x, torch.ones(len(x)))  # what pythae's TrainingPipeline makes of a tensor
    with tempfile.TemporaryDirectory(prefix="pythae-bench-") as out:
        config = BaseTrainerConfig(
            output_dir=out,
            num_epochs=1,
            per_device_train_batch_size=BATCH,
            learning_rate=LR,
            steps_saving=None,
            steps_predict=None,
            seed=seed,
            no_cuda=True,
        )
        trainer = BaseTrainer(model=model, train_dataset=dataset, eval_dataset=None, training_config=config)
        record: dict[str, Any] = {"num_workers": trainer.train_loader.num_workers}
        inner = trainer.train_step

        def timed_train_step(epoch: int) -> float:
            t = time.perf_counter()
            epoch_loss = inner(epoch)
            record["epoch_s"] = time.perf_counter() - t
            record["loss"] = float(epoch_loss)
            return epoch_loss

        trainer.train_step = timed_train_step  # train() looks it up on the instance
        t0 = time.perf_counter()
        trainer.train()
        record["call_s"] = time.perf_counter() - t0
    return record


def quiet_pythae() -> None:
    """pythae logs its folders and settings at INFO on every run; keep warnings only (the progress bar stays)."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("pythae"):
            logging.getLogger(name).setLevel(logging.WARNING)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--losses", default="bce,mse", help="comma-separated: bce, mse")
    ap.add_argument(
        "--threads", type=int, default=None, help="torch threads for both libraries (default: torch's, one per core)"
    )
    args = ap.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    losses = [s.strip() for s in args.losses.split(",") if s.strip()]
    if not losses or any(s not in GENLAB_LIKELIHOOD for s in losses):
        ap.error(f"--losses takes a comma-separated subset of {', '.join(GENLAB_LIKELIHOOD)}")
    if "GENLAB_DATA" not in os.environ and SHARED_MNIST.is_dir():
        os.environ["GENLAB_DATA"] = str(SHARED_MNIST)
    try:
        data = genlab.data.load("mnist", download=False)
    except DatasetNotFoundError as e:
        sys.exit(f"MNIST is needed (the architecture is pythae's 784-input MLP): {e}")
    x = data.x
    quiet_pythae()
    print(f"data: MNIST train {tuple(x.shape)} in [{x.min():.0f}, {x.max():.0f}]; machine: {machine()}")
    print(f"genlab {genlab.__version__}, pythae {PYTHAE_VERSION}, torch {torch.__version__}")

    params = {}
    for loss in losses:
        params[loss] = {"genlab": n_params(genlab_model(loss)), "pythae": n_params(pythae_model(loss))}
        print(f"parameters ({loss}): genlab {params[loss]['genlab']:,}, pythae {params[loss]['pythae']:,}")

    workers = None
    for loss in losses:  # warm-up: allocator, kernels, lazy imports
        run_genlab(x[:2048], loss, 0)
        workers = run_pythae(x[:2048], loss, 0)["num_workers"]
    print(f"pythae DataLoader num_workers: {workers} (its default)")

    times: dict[str, dict[str, list[dict[str, Any]]]] = {loss: {"genlab": [], "pythae": []} for loss in losses}
    for r in range(args.rounds):
        for loss in losses:
            order = ("genlab", "pythae") if r % 2 == 0 else ("pythae", "genlab")
            for lib in order:
                res = run_genlab(data, loss, r) if lib == "genlab" else run_pythae(x, loss, r)
                times[loss][lib].append(res)
            g, p = times[loss]["genlab"][-1], times[loss]["pythae"][-1]
            print(
                f"round {r + 1} {loss}: genlab {g['epoch_s']:.3f} s/epoch (loss {g['loss']:.2f}), "
                f"pythae {p['epoch_s']:.3f} s/epoch (loss {p['loss']:.2f}; whole train() {p['call_s']:.3f} s); "
                f"ratio {p['epoch_s'] / g['epoch_s']:.2f}x",
                flush=True,
            )

    n = len(x)
    summary: dict[str, dict[str, float]] = {}
    for loss in losses:
        g_s = statistics.median(t["epoch_s"] for t in times[loss]["genlab"])
        p_s = statistics.median(t["epoch_s"] for t in times[loss]["pythae"])
        p_call = statistics.median(t["call_s"] for t in times[loss]["pythae"])
        paired = statistics.median(
            p["epoch_s"] / g["epoch_s"] for g, p in zip(times[loss]["genlab"], times[loss]["pythae"], strict=True)
        )
        g_min = min(t["epoch_s"] for t in times[loss]["genlab"])
        p_min = min(t["epoch_s"] for t in times[loss]["pythae"])
        summary[loss] = {
            "genlab_s_per_epoch": round(g_s, 4),
            "pythae_s_per_epoch": round(p_s, 4),
            "pythae_train_call_s": round(p_call, 4),
            "genlab_samples_per_s": round(n / g_s, 1),
            "pythae_samples_per_s": round(n / p_s, 1),
            "ratio": round(p_s / g_s, 4),
            "paired_ratio_median": round(paired, 4),
            "ratio_of_fastest_epochs": round(p_min / g_min, 4),
            "genlab_epoch_losses": [round(t["loss"], 3) for t in times[loss]["genlab"]],
            "pythae_epoch_losses": [round(t["loss"], 3) for t in times[loss]["pythae"]],
            "genlab_times": [t["epoch_s"] for t in times[loss]["genlab"]],
            "pythae_times": [t["epoch_s"] for t in times[loss]["pythae"]],
            "pythae_train_call_times": [t["call_s"] for t in times[loss]["pythae"]],
        }
        s = summary[loss]
        print(
            f"median {loss}: genlab {g_s:.3f} s/epoch = {s['genlab_samples_per_s']:.0f} samples/s; pythae {p_s:.3f} "
            f"s/epoch = {s['pythae_samples_per_s']:.0f} samples/s (whole train() {p_call:.3f} s); "
            f"genlab/pythae throughput {s['ratio']:.2f}x (paired {paired:.2f}x, fastest epochs "
            f"{s['ratio_of_fastest_epochs']:.2f}x; target >= 2.0)"
        )

    head = "bce" if "bce" in summary else losses[0]
    write_result(
        "vae_vs_pythae",
        value=summary[head]["genlab_samples_per_s"],
        unit="samples/s",
        anchor=(
            f"pythae 0.1.2 VAE (default MLP 784-512-16-512-784, {head.upper()}, Adam 1e-4, batch 64) "
            "through its BaseTrainer, one epoch (train_step only)"
        ),
        anchor_value=summary[head]["pythae_samples_per_s"],
        ratio=summary[head]["ratio"],
        target=">= 2.0",
        loss=head,
        data="MNIST train (60,000 x 1 x 28 x 28, [0, 1], in memory)",
        batch_size=BATCH,
        learning_rate=LR,
        rounds=args.rounds,
        threads=torch.get_num_threads(),
        parameters=params,
        pythae_dataloader_num_workers=workers,
        versions={"genlab": genlab.__version__, "pythae": PYTHAE_VERSION, "torch": torch.__version__},
        timing=(
            "genlab: the whole Trainer.fit call (data checks, optimizer, the epoch, a progress bar); pythae: its "
            "BaseTrainer.train_step (the epoch with its DataLoader, num_workers=0, and progress bar); pythae's "
            "trainer construction, seeding, optimizer, folders, best-model deepcopy and final save excluded "
            "(whole train() call in pythae_train_call_s)"
        ),
        **summary,
        command="GENLAB_DATA=../shared/data/mnist benchmarks/.venv-pythae/bin/python benchmarks/vae_vs_pythae.py "
        + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
