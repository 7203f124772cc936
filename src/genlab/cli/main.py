"""``genlab``: train, sample and inspect generative models from the shell.

A user error (bad data, unknown model, misspelled option, existing output) prints one or two lines
on standard error, without a traceback, and exits with status 1; a usage error exits with 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import GenlabError


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:  # no prefix matching: `--lr 1e6` must never mean `--lr-schedule`
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # two lines: the problem, then where help is
        self.exit(2, f"{self.prog}: error: {message}\nrun `{self.prog} -h` for help\n")


THREADS_HELP = "CPU threads for torch (default: the idle cores; GENLAB_THREADS also sets it)"
DEVICE_HELP = "auto (default: a GPU when there is one), cpu, cuda, cuda:N or mps"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="genlab", description="Classic deep generative models on a plain CPU.")
    p.add_argument("--version", action="version", version=f"genlab {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    m = sub.add_parser("models", help="list the registered models")
    m.add_argument("-v", "--verbose", action="store_true", help="also list each model's config options")
    m.set_defaults(func="models")

    t = sub.add_parser("train", help="train a model and write a run directory")
    t.add_argument("model", nargs="?", help="registry name (see `genlab models`); optional with --resume")
    _add_training_args(t)
    t.add_argument(
        "--data",
        default=None,
        help="dataset name (digits, mnist, fashion-mnist, ring8, grid25, "
        "swiss_roll) or a path (image folder, .csv, .npy); default digits",
    )
    t.add_argument(
        "--data-opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option for the data loader, e.g. split=test, scale=symmetric, binarize=static",
    )
    t.add_argument("--out", default=None, help="run directory (default: runs/<model>-<data>-<time>)")
    t.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a model config option, e.g. --set latent_dim=8 --set hidden_dims=256,128",
    )
    t.add_argument("--config", default=None, help="JSON file with the model config (a saved config.json works)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    t.add_argument("--overwrite", action="store_true", help="replace an existing --out directory")
    t.set_defaults(func="train")

    s = sub.add_parser("sample", help="draw samples from a trained model")
    s.add_argument("run", help="run directory or model directory")
    s.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    s.add_argument(
        "--out",
        required=True,
        help="output file: .png (a picture), .npy or .csv (the values), .txt (text models); tables: .csv or .parquet",
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--labels", default=None, help="conditional models: a class (e.g. 3) or comma-separated classes, repeated to -n"
    )
    s.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="table models: every row has this category (repeatable), e.g. --condition species=Adelie",
    )
    s.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    s.add_argument("--device", default="auto", help=DEVICE_HELP)
    s.set_defaults(func="sample")

    tr = sub.add_parser("translate", help="image-to-image models: translate a folder, an image or an .npy file")
    tr.add_argument("run", help="run directory or model directory of pix2pix, inpaint, srnet or cyclegan")
    tr.add_argument("input", help="a folder of images, an image file, or an .npy array (N, C, H, W) in [0, 1]")
    tr.add_argument("--out", required=True, help="the same kind as the input: a folder, a .png or an .npy")
    tr.add_argument("--direction", default="AB", choices=("AB", "BA"), help="cyclegan: AB (default) or BA")
    tr.add_argument(
        "--hole", default=None, help="inpainting: mask of missing pixels (image or .npy, non-zero = missing)"
    )
    tr.add_argument(
        "--corrupt", default=None, metavar="SPEC", help="corrupt the inputs first, e.g. mask:center:14 or downsample:4"
    )
    tr.add_argument("--seed", type=int, default=0, help="seed of --corrupt")
    tr.add_argument("--resize", action="store_true", help="resize images to the model's input size")
    tr.add_argument("--overwrite", action="store_true", help="replace an existing output")
    tr.add_argument("--device", default="auto", help=DEVICE_HELP)
    tr.set_defaults(func="translate")

    e = sub.add_parser("evaluate", help="metrics of a trained run: metrics.json and a self-contained report.html")
    e.add_argument("run", help="run directory (or a model directory with --data)")
    e.add_argument(
        "--metrics",
        default=None,
        help="comma-separated: fid, kid, is, pr (precision/recall), dc (density/coverage), classes, modes, recon, "
        "ll (log-likelihood); tables: quality, detection, utility, privacy; default every one that applies",
    )
    e.add_argument(
        "--target", default=None, help="table models: the column the utility score predicts (default per table)"
    )
    e.add_argument("-n", type=int, default=None, help="generated samples (default: the reference set's size, <= 10000)")
    e.add_argument("--data", default=None, help="the data set, if the directory has no run.json")
    e.add_argument("--data-opt", action="append", default=[], metavar="KEY=VALUE", help="an option for the data")
    e.add_argument(
        "--features",
        default="auto",
        help="feature network: auto (genlab's for 28x28 / 8x8 images), mnist-cnn, digits-cnn, identity or inception",
    )
    e.add_argument("--inception-weights", default=None, help="torch-fidelity's Inception-v3 weights file (offline)")
    e.add_argument("--no-floors", action="store_true", help="skip the train-vs-test floors of FID / KID")
    e.add_argument("--ll-samples", type=int, default=2000, help="reference samples for the log-likelihood")
    e.add_argument("--ll-k", type=int, default=500, help="IWAE importance samples per data point (VAEs)")
    e.add_argument("--ll-betas", type=int, default=5000, help="AIS inverse temperatures (RBMs, DBNs, DBMs)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--out", default=None, help="where metrics.json and report.html go (default: the run directory)")
    e.add_argument("--overwrite", action="store_true", help="replace an earlier metrics.json / report.html")
    e.add_argument("--quiet", action="store_true", help="no progress output")
    e.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    e.set_defaults(func="evaluate")

    g = sub.add_parser("gan-lab", help="mode collapse and vanishing gradients: several GAN losses on a 2-D toy")
    g.add_argument("--data", default="ring8", help="toy mixture: ring8 (default) or grid25")
    g.add_argument(
        "--losses",
        default="minimax,non_saturating,least_squares,wasserstein_gp",
        help="comma-separated losses to compare (minimax, non_saturating, least_squares, hinge, wasserstein, "
        "wasserstein_gp)",
    )
    g.add_argument("--updates", type=int, default=3000, help="generator updates per loss (default 3000)")
    g.add_argument("--snapshots", type=int, default=6, help="sample scatters per loss (default 6)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="config field")
    g.add_argument("--no-gradients", action="store_true", help="skip the generator-gradient experiment")
    g.add_argument("--out", default=None, help="output directory (default runs/gan-lab-<data>-<time>)")
    g.add_argument("--overwrite", action="store_true", help="replace an existing --out directory")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    g.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    g.set_defaults(func="gan_lab")

    d = sub.add_parser("demo", help="train a VAE on the bundled digits and show what it learned (< 1 min)")
    d.add_argument("--out", default=None, help="run directory (default: runs/demo-<time>)")
    d.add_argument("--epochs", type=int, default=None, help="override the demo's number of epochs")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--quiet", action="store_true", help="no progress output")
    d.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    d.set_defaults(func="demo")
    return p


def _add_training_args(t: argparse.ArgumentParser) -> None:
    t.add_argument("--epochs", type=int, default=None, help="total epochs (default 10; 1 for gaussian_copula)")
    t.add_argument("--batch-size", type=int, default=None, help="default 128 (500 for the table models)")
    t.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    t.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate: sets the model's lr (GANs: lr_g and lr_d); the same as --set lr=LR",
    )
    t.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    t.add_argument(
        "--binarize",
        choices=["dynamic"],
        default=None,
        help="dynamic: fresh Bernoulli draws of the pixel intensities for every batch",
    )
    t.add_argument("--val-fraction", type=float, default=None, help="hold out this fraction for val_* metrics")
    t.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        metavar="STEPS",
        help="also checkpoint every STEPS steps (a checkpoint is always written every epoch)",
    )
    t.add_argument("--sample-every", type=int, default=None, metavar="EPOCHS", help="sample picture every N epochs")
    t.add_argument(
        "--early-stopping",
        default=None,
        metavar="MONITOR[:PATIENCE]",
        help="stop when MONITOR (e.g. val_loss) stops improving",
    )
    t.add_argument(
        "--lr-schedule",
        default=None,
        metavar="KIND[:FINAL[:WARMUP]]",
        help="anneal the learning rate: cosine, exponential, linear or constant, to FINAL x lr (e.g. cosine:0.05)",
    )
    t.add_argument("--time-budget", type=float, default=None, metavar="SECONDS", help="stop after SECONDS")
    t.add_argument("--tensorboard", action="store_true", help="log to RUN/tensorboard (needs tensorboard)")
    t.add_argument(
        "--no-mode-monitor", action="store_true", help="GANs: do not measure the modes / classes covered each epoch"
    )
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    t.add_argument("--device", default=None, help=DEVICE_HELP)
    t.add_argument(
        "--precision",
        default=None,
        choices=["32", "bf16-mixed", "16-mixed"],
        help="arithmetic of the training step: 32 (default), bf16-mixed, or 16-mixed (GPU only)",
    )
    t.add_argument("--compile", action="store_true", help="compile the model's networks with torch.compile")
    t.add_argument(
        "--nproc",
        type=int,
        default=None,
        metavar="N",
        help="train data-parallel in N processes (launches torchrun: gloo on CPU cores, nccl on GPUs)",
    )
    t.add_argument(
        "--sync-batchnorm", action="store_true", help="with --nproc / torchrun: batch norm over the whole batch"
    )


def _command(name: str):
    """The function behind a subcommand; only `models` answers without importing torch."""
    if name == "models":
        from .catalog import cmd_models

        return cmd_models
    from . import commands

    return getattr(commands, f"cmd_{name.replace('-', '_')}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # `train --nproc` relaunches itself under torchrun
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if hasattr(args, "threads"):  # the commands that compute: never stall on a busy machine
            from ..threads import configure

            configure(args.threads, quiet=getattr(args, "quiet", False))
        return int(_command(args.func)(args) or 0)
    except GenlabError as exc:
        print(f"genlab: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `genlab models | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # disk full, permission denied...: the user can act on these too
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"genlab: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("genlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
