"""Training runs on disk: what ``genlab train`` and :func:`genlab.train` do.

A run directory holds everything one training run produced::

    RUN/
      run.json          what was trained on what, with which settings; status and timing
      model/            the final model (config.json, model.safetensors, meta.json)
      checkpoints/      the newest training checkpoints (for --resume)
      metrics.csv       per-epoch metrics
      samples/          a sample picture every N epochs
      samples.png       final samples; reconstructions.png for autoencoders; filters.png and
                        gibbs_chain.png for energy-based models
      loss_curve.png    the metrics over the epochs

An existing run directory is never overwritten unless asked (``overwrite=True``); ``resume=True``
continues the run from its newest checkpoint with the settings recorded in ``run.json``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import fileutil, io, plotting
from .._version import __version__
from ..config import BaseConfig
from ..data import load as load_data
from ..data.dataset import Dataset
from ..errors import ConfigError, RunExistsError, TrainingError
from ..models.base import GenerativeModel
from ..registry import get_model
from . import checkpoint as ckpt
from . import distributed
from .callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    LRSchedule,
    ProgressBar,
    SampleGrid,
    TensorBoard,
    TimeBudget,
    write_translations,
)
from .layerwise import pretrain_layerwise, supports_layerwise
from .lock import run_lock
from .monitors import ModeCollapseMonitor
from .trainer import Trainer

RUN_FILE = "run.json"
# settings a resumed run may change (a run may resume on another device, compiled or not)
_RESUMABLE = {"epochs", "max_steps", "time_budget", "device", "compile"}


@dataclass
class RunResult:
    """What :func:`train` returns: the trained model, the trainer (with its history) and the run directory."""

    model: GenerativeModel
    trainer: Trainer
    run_dir: Path | None
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class TrainSettings:
    """The trainer settings recorded in ``run.json`` (and reused on resume)."""

    epochs: int = 10
    batch_size: int = 128
    seed: int = 0
    max_steps: int | None = None
    batch_transform: str | None = None
    val_fraction: float = 0.0
    checkpoint_every_steps: int | None = None
    checkpoint_every_epochs: int | None = 1
    sample_every: int | None = 1
    early_stopping: str | None = None  # "monitor:patience[:min|max]"
    time_budget: float | None = None
    tensorboard: bool = False
    lr_schedule: str | None = None  # "kind[:final[:warmup]]", e.g. "cosine:0.05"
    mode_monitor: bool = True  # GANs on labelled or toy data: log modes/classes covered, warn on collapse
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    precision: str = "32"  # 32 | bf16-mixed | 16-mixed
    compile: bool = False  # torch.compile the model's networks
    sync_batchnorm: bool = False  # under torchrun: batch norm over the whole batch


def _holding_run_lock(fn):
    """Run ``fn`` (:func:`train`) holding the lock of its ``out`` directory, if it has one."""

    @functools.wraps(fn)
    def locked(*args: Any, out: str | Path | None = None, **kwargs: Any) -> RunResult:
        if out is None or not distributed.env_is_main():  # under torchrun, rank 0 owns the run directory
            return fn(*args, out=out, **kwargs)
        with run_lock(out):  # held for the whole run: a second process with the same out fails at once
            return fn(*args, out=out, **kwargs)

    return locked


class _ResumeNotice(Callback):
    """Says where a resumed run starts, and that there is nothing to do when its target is already reached."""

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        where = f"step {trainer.step} (epoch {trainer.epoch} of {trainer.epochs} done)"
        limit = trainer.max_steps is not None and trainer.step >= trainer.max_steps
        if trainer.epoch >= trainer.epochs or limit:
            target = f"max_steps={trainer.max_steps}" if limit else f"epochs={trainer.epochs}"
            more = "--max-steps" if limit else "--epochs"
            print(
                f"{trainer.run_dir} already reached its target ({target}) at {where}: nothing to train; "
                f"pass a larger {more} to continue it",
                file=sys.stderr,
            )
        else:
            print(f"resuming {trainer.run_dir} from {trainer.last_checkpoint.name}: {where}", file=sys.stderr)


def default_run_dir(model_name: str, data_name: str, base: str | Path = "runs") -> Path:
    """``runs/<model>-<data>-<timestamp>``, made unique if it already exists."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe_data = Path(str(data_name)).name.replace(" ", "_") or "data"
    path = Path(base) / f"{model_name}-{safe_data}-{stamp}"
    i = 1
    while path.exists():
        i += 1
        path = Path(base) / f"{model_name}-{safe_data}-{stamp}-{i}"
    return path


def _load_run_json(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RUN_FILE
    if not path.exists():
        raise TrainingError(f"{run_dir} is not a genlab run directory (no {RUN_FILE}); nothing to resume")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TrainingError(f"{path} is corrupt ({exc.msg}); the run cannot be resumed") from exc


def _parse_early_stopping(spec: str) -> EarlyStopping:
    parts = spec.split(":")
    try:
        monitor = parts[0]
        patience = int(parts[1]) if len(parts) > 1 else 5
        mode = parts[2] if len(parts) > 2 else ("max" if "acc" in monitor or "elbo" in monitor else "min")
    except ValueError as exc:
        raise ConfigError(f"early stopping takes MONITOR[:PATIENCE[:min|max]], got {spec!r}") from exc
    return EarlyStopping(monitor=monitor, patience=patience, mode=mode)


def parse_lr_schedule(spec: str) -> LRSchedule:
    """``"KIND[:FINAL[:WARMUP]]"`` (e.g. ``"cosine:0.05"``) -> an :class:`LRSchedule` callback."""
    kind, *numbers = spec.split(":")
    try:
        if len(numbers) > 2:
            raise ValueError(spec)
        final = float(numbers[0]) if numbers else (0.01 if kind == "exponential" else 0.0)
        warmup = float(numbers[1]) if len(numbers) > 1 else 0.0
    except ValueError as exc:
        raise ConfigError(f"a learning-rate schedule is KIND[:FINAL[:WARMUP]], e.g. cosine:0.05; got {spec!r}") from exc
    return LRSchedule(kind, final=final, warmup=warmup)


def _build_config(entry, config: BaseConfig | dict | str | Path | None, overrides, data: Dataset) -> BaseConfig:
    cfg_cls = entry.config_cls
    if isinstance(config, (str, Path)):
        if not Path(config).is_file():
            raise ConfigError(f"config file {config} does not exist")
        try:
            raw = json.loads(Path(config).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {config} is not valid JSON ({exc}); fix it") from exc
        if isinstance(raw, dict) and "config" in raw and "model" in raw:  # a saved model's config.json
            raw = raw["config"]
        config = raw
    base: dict[str, Any] = dict(entry.preset)
    fields = {f[0] for f in cfg_cls.describe()}
    if "data_shape" in fields:
        base["data_shape"] = tuple(data.info.sample_shape)
    if "source_shape" in fields and data.info.source_shape is not None:  # image-to-image: the inputs' shape
        base["source_shape"] = tuple(data.info.source_shape)
    if "layout" in fields and data.info.table is not None:  # tables: the encoded row's parts
        from ..tabular.transform import TableTransform

        base["layout"] = TableTransform.from_dict(data.info.table).layout
    vocab = data.extras.get("vocab")
    if isinstance(vocab, str) and {"vocab", "vocab_size"} <= fields:  # text: the tokens are the data's characters
        base["vocab"], base["vocab_size"] = vocab, len(vocab)
    if isinstance(config, BaseConfig):
        base.update(config.to_dict())
    elif isinstance(config, dict):
        base.update(config)
    cfg = cfg_cls.from_dict(base)
    if overrides:
        cfg = cfg.with_overrides(list(overrides)) if isinstance(overrides, (list, tuple)) else cfg.replace(**overrides)
    return cfg


@_holding_run_lock
def train(
    model: str | GenerativeModel,
    data: str | Path | Dataset | None = None,
    *,
    out: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    config: BaseConfig | dict | str | Path | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
    data_options: dict[str, Any] | None = None,
    val_data: Dataset | None = None,
    progress: bool = True,
    callbacks: list[Callback] | None = None,
    **settings: Any,
) -> RunResult:
    """Train a model end to end and (with ``out``) write a run directory.

    Args:
        model: a registry name (``"vae"``) or a built model.
        data: a dataset name (``"digits"``, ``"mnist"``...), a path (image folder, CSV, NPY) or a Dataset;
            ``None`` means ``"digits"`` (or, when resuming, the run's recorded data).
        out: the run directory; ``None`` keeps everything in memory.
        overwrite: replace an existing ``out`` (otherwise an existing directory is an error).
        resume: continue the run in ``out`` from its newest checkpoint, with its recorded settings; a run that
            failed or was killed before its first checkpoint starts again from step 0 with those settings.
        config: a config object, dict, or JSON file for the model (ignored for a built model).
        overrides: ``key=value`` strings or a dict applied on top of ``config``.
        data_options: options for :func:`genlab.data.load` (``split``, ``scale``, ``binarize``...).
        val_data: held-out data for ``val_*`` metrics (else ``val_fraction`` of ``data`` if set).
        progress: show a progress bar / per-epoch lines on standard error.
        callbacks: extra callbacks.
        **settings: fields of :class:`TrainSettings` (epochs, batch_size, seed, max_steps, batch_transform,
            val_fraction, checkpoint_every_steps, checkpoint_every_epochs, sample_every, early_stopping,
            time_budget, tensorboard, lr_schedule).

    Raises:
        RunLockedError: another process is training into the same ``out``.
        RunExistsError: ``out`` exists and neither ``overwrite`` nor ``resume`` was asked for.
    """
    unknown = set(settings) - set(TrainSettings.__dataclass_fields__)
    if unknown:
        raise ConfigError(
            f"unknown training setting(s) {sorted(unknown)}; valid: {', '.join(TrainSettings.__dataclass_fields__)}"
        )
    run_dir = Path(out) if out is not None else None
    main = distributed.init_from_env(distributed.resolve_device(settings.get("device", "auto"))).is_main
    data_name = data.info.name if isinstance(data, Dataset) else (str(data) if data is not None else None)
    data_spec: dict[str, Any] = {"name": data_name or "digits", "options": dict(data_options or {})}
    recorded: dict[str, Any] | None = None
    from_checkpoint = False  # resume from a checkpoint (a resumed run with none starts from step 0)
    if resume:
        if run_dir is None:
            raise TrainingError("resume needs the run directory (out=...)")
        recorded = _load_run_json(run_dir)
        if overrides or config is not None:
            raise ConfigError("a resumed run keeps its recorded config; do not pass --set or --config with --resume")
        rec_model = recorded["model"]["name"]
        if isinstance(model, str) and model != rec_model:
            raise TrainingError(f"{run_dir} is a run of {rec_model!r}, not {model!r}")
        model = rec_model
        if data_name is not None and data_name != recorded["data"]["name"]:
            raise TrainingError(
                f"{run_dir} was trained on {recorded['data']['name']!r}; resume with that data (or leave --data out)"
            )
        data_spec = recorded["data"]
        merged = dict(recorded["settings"])
        for key, value in settings.items():
            if key not in _RESUMABLE and value != merged.get(key):
                raise ConfigError(
                    f"a resumed run keeps its recorded {key} ({merged.get(key)!r}); only "
                    f"{', '.join(sorted(_RESUMABLE))} may change when resuming"
                )
            merged[key] = value
        settings = merged
        from_checkpoint = ckpt.latest(run_dir / "checkpoints") is not None
        if not from_checkpoint and progress and main:
            print(
                f"{run_dir} has no checkpoint (the run stopped before its first one): starting it again from step 0 "
                "with its recorded settings",
                file=sys.stderr,
            )
        if recorded.get("validation") == "given" and val_data is None:
            raise TrainingError(
                f"{run_dir} was validated on data passed from Python; pass the same val_data to resume it"
            )
    elif main and run_dir is not None and run_dir.exists():
        if not overwrite:
            raise RunExistsError(
                f"{run_dir} already exists; choose another --out, add --resume to continue it, "
                "or --overwrite to replace it"
            )
        if not (run_dir / RUN_FILE).is_file():
            raise RunExistsError(
                f"{run_dir} exists and is not a genlab run directory (no {RUN_FILE}); refusing to replace it. "
                "Choose another --out"
            )
    cls = get_model(model).cls if isinstance(model, str) else type(model)
    if recorded is None:  # the family's own defaults (a copula fits in one epoch; CTGAN's batch of 500)
        settings = {**cls.train_defaults, **settings}
    st = TrainSettings(**settings)
    representation = getattr(cls.config_class, "representation", None)
    if representation is not None and not isinstance(data, Dataset):  # table models: the rows they read
        from ..tabular.data import is_table_source

        if is_table_source(data_spec["name"]):  # anything else is refused by the model's check_data
            data_spec["options"].setdefault("representation", representation)
    dataset = data if isinstance(data, Dataset) else load_data(data_spec["name"], **data_spec["options"])

    if isinstance(model, GenerativeModel):
        net = model
    else:
        entry = get_model(model)
        if recorded is not None:
            cfg = entry.config_cls.from_dict(recorded["model"]["config"])
        else:
            cfg = _build_config(entry, config, overrides, dataset)
        net = entry.build(cfg, seed=st.seed)

    val = val_data
    if val is None and st.val_fraction > 0:
        dataset, val = dataset.split(st.val_fraction, generator=torch.Generator().manual_seed(st.seed + 17))

    cbs: list[Callback] = []
    if from_checkpoint and progress:
        cbs.append(_ResumeNotice())
    if progress:
        cbs.append(ProgressBar())
    if run_dir is not None:
        cbs.append(Checkpoint(every_steps=st.checkpoint_every_steps, every_epochs=st.checkpoint_every_epochs))
        if st.sample_every and getattr(net, "translator", False):  # image-to-image: inputs | outputs | targets
            cbs.append(SampleGrid(every_epochs=st.sample_every, pairs=val if val is not None else dataset))
        elif st.sample_every and net.generative:  # predictive models have no samples to picture
            cbs.append(SampleGrid(every_epochs=st.sample_every))
    if st.early_stopping:
        cbs.append(_parse_early_stopping(st.early_stopping))
    if st.time_budget:
        cbs.append(TimeBudget(st.time_budget))
    if st.lr_schedule:
        cbs.append(parse_lr_schedule(st.lr_schedule))
    if (
        st.mode_monitor
        and getattr(net, "monitor_modes", False)
        and (dataset.y is not None or dataset.centers is not None)
    ):
        cbs.append(ModeCollapseMonitor(dataset))
    if st.tensorboard:
        cbs.append(TensorBoard())
    cbs.extend(callbacks or [])

    trainer = Trainer(
        epochs=st.epochs,
        batch_size=st.batch_size,
        seed=st.seed,
        max_steps=st.max_steps,
        run_dir=run_dir,
        callbacks=cbs,
        batch_transform=st.batch_transform,
        device=st.device,
        precision=st.precision,
        compile=st.compile,
        sync_batchnorm=st.sync_batchnorm,
    )
    run_info = {
        "genlab_version": __version__,
        "command": " ".join(sys.argv) if sys.argv and sys.argv[0].endswith("genlab") else None,
        "model": {"name": net.registry_name, "config": net.config.to_dict()},
        "data": data_spec,
        "validation": "given" if val_data is not None else ("fraction" if st.val_fraction > 0 else "none"),
        "settings": dataclasses.asdict(st),
        "status": "running",
        "started": (recorded or {}).get("started") or _dt.datetime.now().isoformat(timespec="seconds"),
    }
    # everything is checked and built: only now is an old run (--overwrite) moved aside; it is deleted
    # once the new run has finished, and put back if the new run fails or is interrupted
    if distributed.world().distributed:
        run_info["processes"] = distributed.world().size
    replaced = None
    writes = run_dir is not None and main  # under torchrun, rank 0 writes the run directory
    if writes and run_dir.exists() and not resume:
        replaced = run_dir.with_name(f".{run_dir.name}.replaced-{os.getpid()}")
        os.replace(run_dir, replaced)
    if writes:
        run_dir.mkdir(parents=True, exist_ok=True)
        fileutil.write_json(run_dir / RUN_FILE, run_info)
    try:
        pretrain_epochs = getattr(net.config, "pretrain_epochs", 0)
        if pretrain_epochs and not from_checkpoint and supports_layerwise(net):
            histories = pretrain_layerwise(
                net,
                dataset,
                epochs=pretrain_epochs,
                batch_size=st.batch_size,
                seed=st.seed,
                progress=progress,
                batch_transform=st.batch_transform,
            )
            run_info["pretraining"] = [
                {"stage": i, "epochs": pretrain_epochs, "final_loss": h.rows[-1]["loss"] if h.rows else None}
                for i, h in enumerate(histories)
            ]
        trainer.fit(net, dataset, val_data=val, resume=from_checkpoint)
    except BaseException as exc:
        if replaced is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
            os.replace(replaced, run_dir)
        elif writes:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            run_info.update(status=status, error=f"{type(exc).__name__}: {exc}", step=trainer.step)
            fileutil.write_json(run_dir / RUN_FILE, run_info)
        raise
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)
    result = RunResult(model=net, trainer=trainer, run_dir=run_dir)
    if writes:
        result.files = write_run_outputs(net, trainer, run_dir, val if val is not None else dataset)
        run_info.update(
            status="stopped" if trainer.stop_reason else "completed",
            stop_reason=trainer.stop_reason,
            steps=trainer.step,
            epochs_done=trainer.epoch,
            train_seconds=round(trainer.elapsed, 2),
            finished=_dt.datetime.now().isoformat(timespec="seconds"),
            final_metrics=(trainer.history.all_rows or [None])[-1],
        )
        fileutil.write_json(run_dir / RUN_FILE, run_info)
    return result


def write_run_outputs(model: GenerativeModel, trainer: Trainer, run_dir: Path, show: Dataset) -> dict[str, Path]:
    """Save the final model and the pictures of a run: samples, reconstructions, loss curve."""
    files: dict[str, Path] = {"model": io.save_model(model, run_dir / io.MODEL_SUBDIR, overwrite=True)}
    lo_hi = model.data_info.value_range if model.data_info else (0.0, 1.0)
    samples = None
    if getattr(model.data_info, "table", None) is not None:  # table models: rows decoded to the table's columns
        from ..tabular import Synthesizer
        from ..tabular.io import write_table

        rows = Synthesizer.from_model(model).sample(1000, seed=trainer.seed)
        files["samples_table"] = write_table(rows, run_dir / "samples.csv")
    elif model.generative:  # predictive models (Bayesian networks) draw predictions, not data
        with torch.no_grad():
            samples = model.sample(64, generator=torch.Generator().manual_seed(trainer.seed))
        p = plotting.save_samples(samples, run_dir / "samples.png", value_range=lo_hi)
        if p is not None:
            files["samples"] = p
    if samples is not None and getattr(model.config, "vocab", ""):  # text models: the samples as text
        files["samples_text"] = run_dir / "samples.txt"
        fileutil.write_text(files["samples_text"], "\n\n".join(model.decode_text(samples[:16])) + "\n")
    x = show.x[:32]
    if getattr(model, "translator", False) and show.source is not None:  # image-to-image: input | output | target
        files["translations"] = write_translations(model, show, run_dir / "translations.png")
    if hasattr(model, "reconstruct") and x.ndim == 4:
        with torch.no_grad():
            conditional = getattr(model.config, "n_classes", 0) and show.y is not None
            rec = (model.reconstruct(x, show.y[:32]) if conditional else model.reconstruct(x)).reshape(x.shape)
        rows = [t for i in range(0, len(x), 16) for t in (x[i : i + 16], rec[i : i + 16])]  # originals above recons
        files["reconstructions"] = plotting.save_image_grid(
            torch.cat(rows), run_dir / "reconstructions.png", nrow=16, value_range=lo_hi
        )
    if hasattr(model, "pictures"):  # model-specific pictures (an RBM's filters and Gibbs chain...)
        with torch.no_grad():
            pictures = model.pictures(generator=torch.Generator().manual_seed(trainer.seed))
        for name, (images, nrow) in pictures.items():
            files[name] = plotting.save_image_grid(images, run_dir / f"{name}.png", nrow=nrow, value_range=(0.0, 1.0))
    if trainer.history.all_rows:
        files["loss_curve"] = plotting.save_loss_curve(
            trainer.history.all_rows,
            run_dir / "loss_curve.png",
            keys=getattr(model, "plot_keys", None),
            title=f"{model.registry_name} on {show.info.name}",
        )
    return files
