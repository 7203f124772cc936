"""VAE test log-likelihood on dynamically binarized MNIST, against Burda et al. (2016), Table 1.

Architecture as in the paper's one-stochastic-layer model: 784-200-200-50 (encoder), mirrored decoder,
Bernoulli likelihood, trained on dynamically binarized training images (a fresh Bernoulli draw of every
image each time it is seen). The test set is binarized once with a fixed seed, and its negative
log-likelihood is estimated with k = 5000 importance samples (the IWAE bound L_5000, a lower bound on
log p(x) that approaches it as k grows), as in the paper.

The paper trains for 3,280 epochs in total (3^i epochs at learning rate 1e-3 * 10^(-i/7) for i = 0..7,
Adam, batch 20); a CPU budget cannot do that, so this script reports what a given number of epochs
reaches, and the training time.

Usage: GENLAB_DATA=../shared/data/mnist python benchmarks/vae_mnist_nll.py --epochs 100 [--objective iwae --iwae-k 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import write_result
from genlab.training import Checkpoint, LRSchedule, ProgressBar, Trainer
from genlab.training import checkpoint as ckpt

PAPER = {"elbo": 86.76, "iwae": 84.78}  # Burda et al. 2016, Table 1, one stochastic layer: VAE k=1 / IWAE k=50


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument(
        "--schedule", default="constant", choices=LRSchedule.KINDS, help="learning-rate annealing over the run"
    )
    ap.add_argument("--final-lr", type=float, default=1.0, help="the schedule's end factor (of --lr)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for training (default: torch's)")
    ap.add_argument("--activation", default="relu", help="the paper used tanh")
    ap.add_argument("--objective", choices=["elbo", "iwae"], default="elbo")
    ap.add_argument("--iwae-k", type=int, default=50)
    ap.add_argument("--k", type=int, default=5000, help="importance samples for the test log-likelihood")
    ap.add_argument("--n-test", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", default=None, help="save the trained model to this directory")
    ap.add_argument("--run-dir", default=None, help="checkpoint here every epoch and resume from it if present")
    args = ap.parse_args()

    train = genlab.data.load("mnist", split="train", download=False)
    test = genlab.data.load("mnist", split="test", download=False)
    x_test = torch.bernoulli(test.x[: args.n_test], generator=torch.Generator().manual_seed(0))
    extra = {"objective": "iwae", "k": args.iwae_k} if args.objective == "iwae" else {}
    model = genlab.create(
        "vae",
        data_shape=(1, 28, 28),
        hidden_dims=(200, 200),
        latent_dim=50,
        activation=args.activation,
        lr=args.lr,
        seed=args.seed,
        **extra,
    )
    default_threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    callbacks = [ProgressBar(), LRSchedule(args.schedule, final=args.final_lr)]
    callbacks += [Checkpoint(every_epochs=1)] if args.run_dir else []
    trainer = Trainer(
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        run_dir=args.run_dir,
        batch_transform="dynamic_binarize",
        callbacks=callbacks,
    )
    resume = bool(args.run_dir) and ckpt.latest(Path(args.run_dir) / "checkpoints") is not None
    trainer.fit(model, train, resume=resume)
    train_s = trainer.elapsed  # training time summed over resumed segments
    if args.save:
        model.save(args.save, overwrite=True)
    torch.set_num_threads(default_threads)  # evaluation uses every core
    t0 = time.perf_counter()
    nll = -model.log_prob(x_test, k=args.k, generator=torch.Generator().manual_seed(1)).mean().item()
    eval_s = time.perf_counter() - t0
    elbo = model.elbo(x_test, torch.Generator().manual_seed(2)).mean().item()
    anchor = PAPER[args.objective]
    print(
        f"test NLL (k={args.k}) {nll:.2f} nats, test ELBO {elbo:.2f}; paper {anchor}; "
        f"training {train_s:.0f}s for {args.epochs} epochs, evaluation {eval_s:.0f}s"
    )
    write_result(
        f"vae_mnist_nll_{args.objective}",
        value=round(nll, 3),
        unit="nats (test NLL, IWAE bound with k importance samples)",
        anchor=f"Burda et al. 2016, Table 1, 1 stochastic layer, {args.objective.upper()} "
        f"({'k=1' if args.objective == 'elbo' else 'k=50'}), NLL with k=5000",
        anchor_value=anchor,
        k=args.k,
        n_test=args.n_test,
        test_elbo=round(elbo, 3),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        schedule=f"{args.schedule} to {args.final_lr:g} x lr",
        train_seconds=round(train_s, 1),
        eval_seconds=round(eval_s, 1),
        final_train_loss=trainer.history.rows[-1]["loss"],
        command="GENLAB_DATA=../shared/data/mnist python benchmarks/vae_mnist_nll.py " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
