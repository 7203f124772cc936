"""The implementations of the ``genlab`` subcommands."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .. import fileutil, plotting
from .._device import to_numpy
from ..config import parse_value
from ..errors import ConfigError, RunExistsError
from ..io import load
from ..registry import get_model
from ..training import distributed
from ..training.run import TrainSettings, default_run_dir, train

# What `genlab demo` trains: a small VAE on the bundled 8x8 digits (about 13 s on 2 CPU cores).
DEMO_MODEL = "vae"
DEMO_CONFIG = {"hidden_dims": (256, 128), "latent_dim": 8, "lr": 2e-3}
DEMO_SETTINGS = {"epochs": 150, "batch_size": 64, "sample_every": 25}


def _key_values(items: list[str], what: str) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"{what} expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_value(v.strip())
    return out


def _settings(args: argparse.Namespace) -> dict:
    mapping = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "max_steps": args.max_steps,
        "batch_transform": "dynamic_binarize" if args.binarize == "dynamic" else None,
        "val_fraction": args.val_fraction,
        "checkpoint_every_steps": args.checkpoint_every,
        "sample_every": args.sample_every,
        "early_stopping": args.early_stopping,
        "time_budget": args.time_budget,
        "tensorboard": args.tensorboard or None,
        "lr_schedule": args.lr_schedule,
        "mode_monitor": False if args.no_mode_monitor else None,
        "device": args.device,
        "precision": args.precision,
        "compile": args.compile or None,
        "sync_batchnorm": args.sync_batchnorm or None,
    }
    return {k: v for k, v in mapping.items() if v is not None}


def _report(result, started: float) -> None:
    tr = result.trainer
    rows = tr.history.all_rows
    last = rows[-1] if rows else {}
    shown = ", ".join(f"{k} {v:.4g}" for k, v in last.items() if k not in ("epoch", "step", "time"))
    why = f" ({tr.stop_reason})" if tr.stop_reason else ""
    print(
        f"trained {result.model.registry_name} for {tr.epoch} epochs / {tr.step} steps in "
        f"{tr.elapsed:.1f}s{why}" + (f"; {shown}" if shown else "")
    )
    if result.run_dir is not None:
        print(f"run directory: {result.run_dir}")
        for name, path in result.files.items():
            print(f"  {name:<16} {path}")
    print(f"total time {time.perf_counter() - started:.1f}s")


def _lr_overrides(model: str | None, lr: float) -> list[str]:
    """``--lr`` as config overrides: the model's ``lr`` field, or both of a GAN's ``lr_g`` and ``lr_d``."""
    if not model:
        raise ConfigError("a resumed run keeps its recorded learning rate; leave out --lr with --resume")
    fields = {f[0] for f in get_model(model).config_cls.describe()}
    names = ["lr"] if "lr" in fields else [n for n in ("lr_g", "lr_d") if n in fields]
    if not names:
        raise ConfigError(f"model {model!r} has no learning-rate option; see `genlab models -v` for its options")
    return [f"{n}={lr!r}" for n in names]


def cmd_train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if not args.model and not args.resume:
        raise ConfigError("name the model to train (see `genlab models`), e.g. `genlab train vae`")
    if args.resume and not args.out:
        raise ConfigError("--resume needs --out RUN_DIR, the run to continue")
    if args.resume and args.overwrite:
        raise ConfigError("--resume and --overwrite contradict each other; choose one")
    data_opts = _key_values(args.data_opt, "--data-opt")
    overrides = list(args.overrides) + (_lr_overrides(args.model, args.lr) if args.lr is not None else [])
    out = Path(args.out) if args.out else default_run_dir(args.model, args.data or "digits")
    if args.nproc is not None:
        launched = _launch_processes(args, out)
        if launched is not None:
            return launched
    world = distributed.init_from_env(distributed.resolve_device(args.device or "auto"))
    out = distributed.broadcast_object(out)  # one run directory, named by rank 0
    result = train(
        args.model,
        args.data,
        out=out,
        overwrite=args.overwrite,
        resume=args.resume,
        config=args.config,
        overrides=overrides or None,
        data_options=data_opts,
        progress=not args.quiet,
        **_settings(args),
    )
    if world.is_main:
        _report(result, started)
    return 0


def _launch_processes(args: argparse.Namespace, out: Path) -> int | None:
    """``genlab train --nproc N``: run this same command in N processes under torchrun; its exit code.

    ``None`` when there is nothing to launch: N is 1, or this process already is one of torchrun's.
    """
    n = args.nproc
    if n < 1:
        raise ConfigError(f"--nproc must be at least 1, got {n}")
    if distributed.world_size_from_env() > 1 or n == 1:
        return None
    device = distributed.resolve_device(args.device or "auto")
    most = distributed.max_processes(device)
    if n > most:
        what = "CUDA GPUs" if device.type == "cuda" else "CPU cores this process may use"
        raise ConfigError(f"--nproc {n} is more than the {most} {what}; use --nproc {most} or fewer")
    if device.type == "mps":
        raise ConfigError("--nproc needs CPU cores or CUDA GPUs; Apple's MPS trains in one process")
    rest, skip = [], False
    for token in args.argv:  # the same command without --nproc, with the run directory named here
        if skip:
            skip = False
        elif token == "--nproc":
            skip = True
        elif not token.startswith("--nproc="):
            rest.append(token)
    if not args.out:
        rest += ["--out", str(out)]
    return distributed.launch(rest, n, device)


def _on_device(model, args: argparse.Namespace):
    """The loaded model (always on the CPU) moved to ``--device``; a bad or absent device is a one-line error."""
    return model.to(distributed.resolve_device(getattr(args, "device", None) or "auto"))


def cmd_sample(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise ConfigError(f"-n must be at least 1, got {args.n}")
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise RunExistsError(f"{out} already exists; choose another --out or pass --overwrite")
    suffix = out.suffix.lower()
    if suffix not in (".png", ".npy", ".csv", ".txt", ".parquet"):
        raise ConfigError(
            f"--out must end in .png, .npy, .csv, .parquet (tables) or .txt (text models), got {out.name!r}"
        )
    model = _on_device(load(args.run), args)
    if getattr(model, "translator", False):
        raise ConfigError(
            f"{args.run} is a {model.registry_name}: it maps inputs to outputs; "
            "use genlab translate RUN INPUT --out OUT"
        )
    table = getattr(model.data_info, "table", None) is not None
    if table:
        return _sample_table(model, args, out, suffix)
    if args.condition:
        raise ConfigError(f"{args.run} is not a table model; --condition applies to ctgan, tvae and gaussian_copula")
    if suffix == ".parquet":
        raise ConfigError(f"{args.run} is not a table model; write its samples to .png, .npy or .csv")
    if suffix == ".txt" and not getattr(model.config, "vocab", ""):
        raise ConfigError(f"{args.run} is not a text model; write its samples to .png, .npy or .csv")
    kwargs = {}
    if args.labels is not None:
        if not getattr(model.config, "n_classes", 0):
            raise ConfigError(f"{args.run} is not a conditional model; leave out --labels")
        try:
            classes = [int(v) for v in str(args.labels).split(",")]
        except ValueError as exc:
            raise ConfigError(f"--labels takes a class or comma-separated classes, got {args.labels!r}") from exc
        kwargs["labels"] = torch.tensor(classes, device=model.device).repeat(-(-args.n // len(classes)))[: args.n]
    with torch.no_grad():
        x = model.sample(args.n, generator=torch.Generator().manual_seed(args.seed), **kwargs).cpu()
    if suffix == ".png":
        lo_hi = model.data_info.value_range if model.data_info else (0.0, 1.0)
        if plotting.save_samples(x, out, value_range=lo_hi) is None:
            raise ConfigError(f"samples of shape {tuple(x.shape[1:])} have no picture; use --out FILE.npy or .csv")
    elif suffix == ".txt":
        fileutil.write_text(out, "\n".join(model.decode_text(x)) + "\n")
    elif suffix == ".npy":
        with fileutil.atomic_path(out, suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, to_numpy(x))
    else:
        flat = to_numpy(x.reshape(len(x), -1))
        with fileutil.atomic_open(out, "w", encoding="utf-8") as fh:
            np.savetxt(fh, flat, delimiter=",", fmt="%.6g")
    print(f"wrote {args.n} samples to {out}")
    return 0


def _sample_table(model, args: argparse.Namespace, out: Path, suffix: str) -> int:
    """Table models: decoded rows with the training table's columns, to CSV or Parquet (atomically)."""
    from ..tabular import Synthesizer
    from ..tabular.io import write_table

    if suffix not in (".csv", ".parquet"):
        raise ConfigError(f"{args.run} makes table rows; write them to a .csv or .parquet file, not {out.name!r}")
    conditions = _key_values(args.condition, "--condition") if args.condition else None
    frame = Synthesizer.from_model(model).sample(args.n, conditions=conditions, seed=args.seed)
    write_table(frame, out)
    print(f"wrote {args.n} rows x {frame.shape[1]} columns to {out}")
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    from ..apps.translation import translate_path

    done = translate_path(
        _on_device(load(args.run), args),
        args.input,
        args.out,
        direction=args.direction,
        hole=args.hole,
        corruption=args.corrupt,
        seed=args.seed,
        resize=args.resize,
        overwrite=args.overwrite,
    )
    print(f"wrote {len(done.outputs)} translated image(s) to {done.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import os

    from ..report import evaluate_run, write_report

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    if args.inception_weights:
        os.environ["GENLAB_INCEPTION_WEIGHTS"] = args.inception_weights
    out = Path(args.out) if args.out else Path(args.run)
    if not args.overwrite and ((out / "metrics.json").exists() or (out / "report.html").exists()):
        raise RunExistsError(f"{out} already holds metrics.json / report.html; pass --overwrite or --out DIR")
    started = time.perf_counter()
    ev = evaluate_run(
        args.run,
        metrics=metrics,
        n=args.n,
        data=args.data,
        data_options=_key_values(args.data_opt, "--data-opt") if args.data_opt else None,
        extractor=args.features,
        seed=args.seed,
        floors=not args.no_floors,
        ll_samples=args.ll_samples,
        ll_k=args.ll_k,
        ll_betas=args.ll_betas,
        progress=not args.quiet,
        target=args.target,
    )
    paths = write_report(ev, out, overwrite=args.overwrite)
    from ..report.html import metric_rows

    for label, value, floor, _, detail in metric_rows(ev.results):
        shown = f"  (floor train vs test: {floor})" if floor != "–" else ""
        print(f"{label:<28} {value}{shown}  [{detail}]")
    print(f"wrote {paths['metrics']} and {paths['report']} ({time.perf_counter() - started:.1f}s)")
    return 0


def cmd_gan_lab(args: argparse.Namespace) -> int:
    from ..apps.gan_lab import run_lab

    losses = [v.strip() for v in args.losses.split(",") if v.strip()]
    if not losses:
        raise ConfigError("--losses needs at least one loss, e.g. minimax,non_saturating")
    overrides = _key_values(args.overrides, "--set")
    out = Path(args.out) if args.out else default_run_dir("gan-lab", args.data)
    if out.exists() and not args.overwrite:
        raise RunExistsError(f"{out} already exists; choose another --out or pass --overwrite")
    print(f"genlab gan-lab: {', '.join(losses)} on {args.data}, {args.updates} generator updates each", file=sys.stderr)
    with fileutil.atomic_dir(out, overwrite=args.overwrite) as tmp:
        run_lab(
            tmp,
            data=args.data,
            losses=losses,
            updates=args.updates,
            snapshots=args.snapshots,
            seed=args.seed,
            gradients=not args.no_gradients,
            overrides=overrides,
            progress=not args.quiet,
        )
    report = json.loads((out / "lab.json").read_text(encoding="utf-8"))
    for loss, run in report["runs"].items():
        last = run["coverage"][-1]
        print(
            f"{loss:>16}: {last['modes']}/{last['n_modes']} modes, {100 * last['high_quality']:.1f}% high quality, "
            f"KL to uniform {last['kl']:.3f} ({run['seconds']:.0f} s)"
        )
    pictures = "modes.png" + (" and gradient_norms.png" if not args.no_gradients else "")
    print(f"wrote {pictures} and lab.json to {out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from ..data import load as load_data

    out = Path(args.out) if args.out else default_run_dir("demo", "digits")
    settings = dict(DEMO_SETTINGS, seed=args.seed)
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    train_data, test_data = load_data("digits", split="train"), load_data("digits", split="test")
    print(
        f"genlab demo: a VAE learns the 8x8 digits ({len(train_data)} training images, "
        f"{settings['epochs']} epochs); held-out ELBO on {len(test_data)} test images",
        file=sys.stderr,
    )
    result = train(
        DEMO_MODEL, train_data, out=out, config=DEMO_CONFIG, val_data=test_data, progress=not args.quiet, **settings
    )
    _report(result, started)
    elbo = result.trainer.history.column("val_elbo")
    if elbo:
        print(f"held-out ELBO per image: {elbo[-1]:.2f} nats (64 pixels; {elbo[-1] / 64 / math.log(2):.3f} bits/pixel)")
    print(
        f"look at {out / 'samples.png'} (new digits) and {out / 'reconstructions.png'} (test digits, "
        "each above its reconstruction)"
    )
    return 0


__all__ = ["TrainSettings", "cmd_demo", "cmd_evaluate", "cmd_gan_lab", "cmd_sample", "cmd_train"]
