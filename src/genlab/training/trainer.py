"""The one training loop.

Every genlab model trains through :class:`Trainer`: it draws batches from memory, calls the model's
``training_step`` (which does its own backward passes and optimizer steps), guards against NaN/Inf,
keeps the metrics history, runs callbacks (progress bar, checkpoints, sample grids, early stopping,
TensorBoard, a time budget) and can resume a run exactly: a checkpoint holds the model, the optimizers,
the step, the batch order and every random state, so a resumed run ends bit-for-bit where an
uninterrupted one would.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from .. import _device
from ..data.batching import BatchSampler
from ..data.dataset import Dataset, as_dataset, check_samples
from ..data.paired import hole_of
from ..errors import ConfigError, DataError, NonFiniteLossError, TrainingError
from ..models.base import Batch, GenerativeModel
from . import checkpoint as ckpt
from . import distributed
from .callbacks import Callback, MetricsHistory

BatchTransform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _bernoulli(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    # the data's range is checked once per fit (see Trainer.fit), not on every batch; the batch order's CPU
    # generator draws the same numbers whatever device the data is on
    return _device.bernoulli(x, generator)


class _ScaledSteps:
    """What a model's ``backward`` / ``step`` use under 16-mixed precision: the GradScaler, with gradients
    averaged over the processes *before* it checks them for overflow (so every process skips the same steps)."""

    def __init__(self, scaler: Any, reducer: distributed.GradientReducer | None) -> None:
        self.scaler, self.reducer = scaler, reducer

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        return self.scaler.scale(loss)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.reducer is not None:
            self.reducer.reduce(optimizer, mark=True)
        self.scaler.step(optimizer)


_BATCH_TRANSFORMS: dict[str, BatchTransform] = {"dynamic_binarize": _bernoulli}
_UNIT_RANGE_TRANSFORMS = {"dynamic_binarize"}


class Trainer:
    """Trains any :class:`~genlab.models.base.GenerativeModel`.

    Args:
        epochs: passes over the data (the total, also when resuming).
        batch_size: samples per step.
        seed: seeds the batch order and the model's noise; the same seed gives the same run.
        max_steps: stop after this many steps in total (overrides ``epochs`` if reached first).
        run_dir: where checkpoints, ``metrics.csv`` and pictures go; ``None`` keeps everything in memory.
        callbacks: extra :class:`~genlab.training.callbacks.Callback` objects (checkpointing, progress,
            sample grids, early stopping, time budget, TensorBoard...).
        batch_transform: applied to each batch with the trainer's data generator, e.g.
            ``"dynamic_binarize"`` (fresh Bernoulli draws of the intensities every time a sample is seen).
        shuffle: reshuffle every epoch.
        drop_last: skip a final incomplete batch.
        device: ``auto`` (a GPU when there is one), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``; the model and the
            in-memory data move there for the fit.
        precision: ``32``, ``bf16-mixed`` or ``16-mixed`` (GPU): the step runs under ``torch.autocast``.
        compile: compile the model's networks with ``torch.compile`` before training.
        sync_batchnorm: under data-parallel training, batch norm uses the statistics of the whole batch.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) the fit is data-parallel: ``batch_size`` is the global batch, split
    across the processes; see :mod:`genlab.training.distributed`.
    """

    def __init__(
        self,
        *,
        epochs: int = 10,
        batch_size: int = 128,
        seed: int = 0,
        max_steps: int | None = None,
        run_dir: str | Path | None = None,
        callbacks: Sequence[Callback] = (),
        batch_transform: str | BatchTransform | None = None,
        shuffle: bool = True,
        drop_last: bool = False,
        device: str | torch.device = "auto",
        precision: str = "32",
        compile: bool = False,
        sync_batchnorm: bool = False,
    ) -> None:
        if epochs < 0:
            raise ConfigError(f"epochs must be >= 0, got {epochs}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if max_steps is not None and max_steps < 0:
            raise ConfigError(f"max_steps must be >= 0, got {max_steps}")
        self._needs_unit_range = batch_transform in _UNIT_RANGE_TRANSFORMS
        if isinstance(batch_transform, str):
            if batch_transform not in _BATCH_TRANSFORMS:
                raise ConfigError(
                    f"unknown batch_transform {batch_transform!r}; choose one of {', '.join(_BATCH_TRANSFORMS)}"
                )
            batch_transform = _BATCH_TRANSFORMS[batch_transform]
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.max_steps = max_steps
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.batch_transform = batch_transform
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.device_spec = device
        self.precision_name = str(precision)
        distributed.Precision.canonical(self.precision_name)  # an unknown name fails here, before any data is read
        self.compile = compile
        self.sync_batchnorm = sync_batchnorm
        self.device = torch.device("cpu")
        self.world = distributed.World()
        self.precision: distributed.Precision | None = None
        self._reducer: distributed.GradientReducer | None = None
        self._weight = 1.0  # this process's share of the current batch
        self.history = MetricsHistory()
        self.callbacks: list[Callback] = [self.history, *callbacks]
        # state of the current fit
        self.step = 0
        self.epoch = 0
        self.should_stop = False
        self.stop_reason = ""
        self.steps_per_epoch = 0
        self.elapsed = 0.0  # seconds of training, summed over resumed segments
        self.model: GenerativeModel | None = None
        self.optimizers: list[torch.optim.Optimizer] = []
        self._sampler: BatchSampler | None = None
        self._epoch_sums: dict[str, float] = {}
        self._epoch_count = 0
        self._segment_start = 0.0
        self._elapsed_before = 0.0
        self.last_checkpoint: Path | None = None
        self.failed = False
        self.has_validation = False
        self._checkpoint_due = False
        self._checkpoint_keep: int | None = None

    # ------------------------------------------------------------------------------------------------
    @property
    def total_steps(self) -> int:
        """Steps the run will take if nothing stops it early."""
        total = self.epochs * self.steps_per_epoch
        return min(total, self.max_steps) if self.max_steps is not None else total

    @property
    def at_epoch_end(self) -> bool:
        """True when the last step finished an epoch whose bookkeeping has not run yet."""
        return self._sampler is not None and self._sampler.position >= len(self._sampler)

    def request_stop(self, reason: str) -> None:
        """Ask the loop to stop after the current step (used by early stopping, the time budget...)."""
        self.should_stop = True
        self.stop_reason = reason

    @property
    def checkpoint_dir(self) -> Path | None:
        return self.run_dir / "checkpoints" if self.run_dir is not None else None

    # ------------------------------------------------------------------------------------------------
    def fit(
        self,
        model: GenerativeModel,
        data: Dataset | Any,
        val_data: Dataset | Any | None = None,
        resume: bool | str | Path = False,
    ) -> GenerativeModel:
        """Train ``model`` on ``data`` (a :class:`~genlab.data.Dataset`, tensor or array).

        Args:
            model: the model; trained in place and returned.
            data: training samples (and labels, for a Dataset).
            val_data: optional held-out data; its mean metrics are logged each epoch as ``val_*``.
            resume: ``True`` to continue from the latest checkpoint in ``run_dir/checkpoints``, or the
                path of a checkpoint file.

        Raises:
            NonFiniteLossError: a metric became NaN/Inf (the last good checkpoint is kept).
            DataError: the data does not fit the model.
        """
        data = self._checked(model, data, "training data")
        val = self._checked(model, val_data, "validation data") if val_data is not None else None
        self.device = device = distributed.resolve_device(self.device_spec)
        self.world = world = distributed.init_from_env(device)
        distributed.check_world(self.batch_size, world, device)
        self.precision = distributed.Precision(self.precision_name, device)
        self.precision.check_model(model)
        model.data_info = data.info
        self.model = model
        self.has_validation = val is not None
        model.to(device)
        data, val = data.to(device), (val.to(device) if val is not None else None)
        if self.compile:
            distributed.compile_model(model)
        cuda = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda), distributed.sync_batchnorm(model, self.sync_batchnorm):
            # the global RNG (dropout...) is ours for the run; each process draws its own noise
            torch.manual_seed(distributed.rank_seed(self.seed, world.rank))
            model.generator = torch.Generator().manual_seed(distributed.rank_seed(self.seed, world.rank))
            data_gen = torch.Generator().manual_seed(self.seed + 1_000_003)  # one batch order for every process
            self._sampler = BatchSampler(
                len(data), self.batch_size, shuffle=self.shuffle, drop_last=self.drop_last, generator=data_gen
            )
            self.steps_per_epoch = len(self._sampler)
            self.optimizers = list(model.configure_optimizers())
            self._reducer = distributed.GradientReducer(self.optimizers, world) if world.distributed else None
            if self.precision.scaler is not None:
                model.grad_scaler = _ScaledSteps(self.precision.scaler, self._reducer)
            self.step, self.epoch, self._elapsed_before = 0, 0, 0.0
            self.last_checkpoint = None
            self._reset_epoch()
            for cb in self.callbacks:  # a new fit starts clean; a resumed one then loads the saved state
                cb.reset()
            # under torchrun, the callbacks that write or print run on rank 0 only (its decisions are broadcast)
            self._active = [cb for cb in self.callbacks if world.is_main or cb.all_ranks]
            if resume:
                self._resume(resume)
            if world.distributed:  # every process starts from rank 0's weights
                distributed.broadcast_state(model)
            self.should_stop, self.stop_reason = False, ""
            self._checkpoint_keep = None
            self._checkpoint_due = False
            self._segment_start = time.perf_counter()
            self.failed = False
            try:
                with torch.no_grad():
                    model.on_train_start(data.x)
                for cb in self._active:
                    cb.on_fit_start(self, model)
                self._sync()
                self._loop(model, data, val)
                with torch.no_grad():
                    model.on_train_end(data.x)
            except BaseException:
                self.failed = True
                raise
            finally:
                self._update_elapsed()
                model.eval()
                for cb in self._active:
                    cb.on_fit_end(self, model)
                if not self.failed:
                    self._sync()
                self._flush_checkpoint()
                model.generator = None
                model.grad_scaler = None
                if self._reducer is not None:
                    self._reducer.remove()
                    self._reducer = None
        return model

    @property
    def _comm_device(self) -> torch.device:
        """Where collectives run: the GPU under nccl, the CPU under gloo."""
        return self.device if self.device.type == "cuda" else torch.device("cpu")

    def _sync(self) -> None:
        """Under torchrun: rank 0's decisions (stop, checkpoint now) on every process, so all leave together."""
        if not self.world.distributed:
            return
        keep = -1 if self._checkpoint_keep is None else self._checkpoint_keep
        flags = [int(self.should_stop), int(self._checkpoint_due), keep]
        stop, due, keep = distributed.broadcast_flags(flags, self._comm_device)
        if stop and not self.should_stop:
            self.request_stop("stopped by rank 0")
        self._checkpoint_due = bool(due)
        self._checkpoint_keep = None if keep < 0 else keep

    def _checked(self, model: GenerativeModel, data: Any, what: str) -> Dataset:
        """Validate ``data`` (finite values, fits the model, range of the batch transform) once per fit."""
        accepts_missing = bool(getattr(model, "accepts_missing", False))  # NaN marks missing entries
        if isinstance(data, Dataset):  # a Dataset may have been built without checks
            check_samples(data.x, what=f"{what} {data.info.name!r}", allow_nan=accepts_missing)
        ds = as_dataset(data, allow_nan=accepts_missing)  # arrays are checked here, once
        if ds.source is not None:
            check_samples(ds.source, what=f"{what} inputs of {ds.info.name!r}")
        model.check_data(ds.info)
        if self._needs_unit_range:
            lo, hi = ds.info.value_range
            if lo < 0.0 or hi > 1.0:
                raise DataError(
                    f"dynamic binarization draws Bernoulli samples with probabilities x, but the {what} spans "
                    f"[{lo:g}, {hi:g}]; scale it to [0, 1] first (scale='unit')"
                )
        return ds

    def request_checkpoint(self, keep: int | None = None) -> None:
        """Ask for a checkpoint once every callback has run for the current step or epoch.

        Checkpoints are taken after all callbacks so that every callback's state (early stopping, history)
        in the file is the state a run that was never interrupted would have at that point.
        """
        self._checkpoint_due = True
        self._checkpoint_keep = keep

    def _flush_checkpoint(self) -> None:
        if self._checkpoint_due:
            self._checkpoint_due = False
            if not self.failed:
                self.save_checkpoint(keep=self._checkpoint_keep)

    def _reset_epoch(self) -> None:
        self._epoch_sums = {}
        self._epoch_count = 0

    def _update_elapsed(self) -> None:
        self.elapsed = self._elapsed_before + (time.perf_counter() - self._segment_start)

    def _done(self) -> bool:
        if self.should_stop:
            return True
        if self.max_steps is not None and self.step >= self.max_steps:
            self.stop_reason = self.stop_reason or f"reached max_steps={self.max_steps}"
            return True
        return self.epoch >= self.epochs

    def _loop(self, model: GenerativeModel, data: Dataset, val: Dataset | None) -> None:
        x_all, y_all, s_all, h_all = data.x, data.y, data.source, hole_of(data)
        unpaired = data.unpaired
        sampler = self._sampler
        transform = self.batch_transform
        callbacks = self._active
        world, device = self.world, self.device
        on_cpu = device.type == "cpu"
        scaler = self.precision.scaler
        while not self._done():
            model.train()
            for idx in sampler:
                # every process draws the same global batch; under torchrun each keeps its rows `part`
                part = slice(None)
                if world.distributed:
                    part = distributed.shard(len(idx), world)
                    self._weight = self._reducer.weight = (part.stop - part.start) / len(idx)
                rows = idx[part]
                if not on_cpu:
                    idx, rows = idx.to(device), rows.to(device)
                if transform is not None:  # drawn for the whole batch: the batch order stays the same everywhere
                    x = transform(torch.index_select(x_all, 0, idx), sampler.generator)[part]
                else:
                    x = torch.index_select(x_all, 0, rows)  # 6x faster than x_all[idx] on the CPU, same values
                y = torch.index_select(y_all, 0, rows) if y_all is not None else None
                src = None
                if s_all is not None:  # unpaired domains: a batch of A drawn independently of B's
                    if unpaired:
                        s_idx = torch.randint(len(s_all), (len(idx),), generator=sampler.generator)[part]
                        s_idx = s_idx if on_cpu else s_idx.to(device)
                    else:
                        s_idx = rows
                    src = torch.index_select(s_all, 0, s_idx)
                hole = torch.index_select(h_all, 0, rows) if h_all is not None else None
                with self.precision.autocast():
                    out = model.training_step(Batch(x, y, src, hole), self.optimizers, self.step)
                if scaler is not None:
                    scaler.update()
                self.step += 1
                metrics = self._record(out)
                for cb in callbacks:
                    cb.on_step_end(self, model, metrics)
                self._sync()
                if self._checkpoint_due:
                    self._flush_checkpoint()
                if self.should_stop or (self.max_steps is not None and self.step >= self.max_steps):
                    break
            if sampler.position >= len(sampler):  # the epoch is complete
                self.epoch += 1
                self._end_epoch(model, val)
            if self.max_steps is not None and self.step >= self.max_steps:
                self.stop_reason = self.stop_reason or f"reached max_steps={self.max_steps}"
                break

    def partial_epoch(self) -> dict[str, float] | None:
        """The means of the steps taken since the last complete epoch, as a history row, or ``None`` if none.

        Its ``epoch`` is fractional (``0.25``: a quarter of the first epoch), so a run stopped inside an epoch
        (time budget, max_steps) still has its metrics written and plotted.
        """
        if not self._epoch_count or self._sampler is None or not len(self._sampler):
            return None
        n = self._epoch_count
        fraction = self._sampler.position / len(self._sampler)
        return {
            "epoch": round(self.epoch + fraction, 4),
            "step": self.step,
            "time": round(self.elapsed, 3),
            **{k: v / n for k, v in self._epoch_sums.items()},
        }

    def _kept(self) -> str:
        """What a run that hit NaN/Inf leaves behind, and what to do next (for the error message)."""
        fix = "lower the learning rate, clip gradients or check the data for extreme values"
        if self.last_checkpoint is not None:
            return (
                f"The last good checkpoint, {self.last_checkpoint} (step {ckpt.step_of(self.last_checkpoint)}), "
                f"is kept: {fix}, or resume from it"
            )
        if self.run_dir is not None:
            return (
                f"No checkpoint had been written yet, so no training state was kept (only {self.run_dir}/run.json "
                f"records the failed run): {fix}, then train again (--overwrite replaces the failed run)"
            )
        return f"Nothing was saved (no run directory): {fix}, then train again"

    def _record(self, out: dict[str, Any]) -> dict[str, float]:
        """Turn the step's outputs into floats, stop on NaN/Inf, add them to the epoch's sums."""
        if "loss" not in out:
            raise TrainingError(f"{type(self.model).__name__}.training_step must return a dict with a 'loss' entry")
        metrics = {k: (v.item() if isinstance(v, torch.Tensor) else float(v)) for k, v in out.items()}
        if self.world.distributed:  # the batch's metrics: each process's, weighted by its share of the rows
            reduced = distributed.weighted_sum(list(metrics.values()), self._weight, self._comm_device)
            metrics = dict(zip(metrics, reduced, strict=True))
        for k, v in metrics.items():
            if not math.isfinite(v):
                raise NonFiniteLossError(
                    f"{k} became {v} at step {self.step} (epoch {self.epoch + 1}); training stopped. {self._kept()}"
                )
            self._epoch_sums[k] = self._epoch_sums.get(k, 0.0) + v
        self._epoch_count += 1
        return metrics

    def _end_epoch(self, model: GenerativeModel, val: Dataset | None) -> None:
        n = max(self._epoch_count, 1)
        metrics = {k: v / n for k, v in self._epoch_sums.items()}
        self._reset_epoch()
        if val is not None:
            metrics.update({f"val_{k}": v for k, v in self.evaluate(model, val).items()})
            model.train()
        for cb in self._active:
            metrics.update(cb.epoch_metrics(self, model))
        self._update_elapsed()
        for cb in self._active:
            cb.on_epoch_end(self, model, metrics)
        self._sync()
        self._flush_checkpoint()

    @torch.no_grad()
    def evaluate(self, model: GenerativeModel, data: Dataset) -> dict[str, float]:
        """Mean of ``validation_step`` over ``data`` (noise from a generator fixed by seed and epoch)."""
        was_training = model.training
        model.eval()
        saved = model.generator
        model.generator = torch.Generator().manual_seed(self.seed * 7919 + self.epoch)
        transform_gen = torch.Generator().manual_seed(self.seed * 7919 + 1)  # the same binarization every epoch
        sums: dict[str, float] = {}
        count = 0
        h_all = hole_of(data)
        world = self.world
        # under torchrun each process scores its contiguous share of the rows, and the sums are added up
        mine = distributed.shard(len(data), world) if world.distributed and len(data) >= world.size else None
        lo, hi = (mine.start, mine.stop) if mine is not None else (0, len(data))
        try:
            for start in range(lo, hi, self.batch_size):
                stop = min(start + self.batch_size, hi)
                x = data.x[start:stop]
                if self.batch_transform is not None:
                    x = self.batch_transform(x, transform_gen)
                y = data.y[start:stop] if data.y is not None else None
                src = None
                if data.source is not None:  # unpaired: domain A's images in turn, wrapping around
                    rows = torch.arange(start, start + len(x), device=data.source.device) % len(data.source)
                    src = data.source[rows]
                hole = h_all[start:stop] if h_all is not None else None
                out = model.validation_step(Batch(x, y, src, hole))
                for k, v in out.items():
                    sums[k] = sums.get(k, 0.0) + float(v) * len(x)
                count += len(x)
        finally:
            model.generator = saved
            model.train(was_training)
        if mine is not None:
            keys = sorted(sums)
            total = distributed.weighted_sum([*(sums[k] for k in keys), count], 1.0, self._comm_device)
            sums, count = dict(zip(keys, total[:-1], strict=True)), total[-1]
        return {k: v / count for k, v in sums.items()}

    # ------------------------------------------------------------------------------------------------
    def save_checkpoint(self, keep: int | None = None) -> Path | None:
        """Write a checkpoint of the whole training state to ``run_dir/checkpoints`` (atomically).

        Under torchrun every process calls it (it gathers each one's random states and buffers) and rank 0
        writes the file; the others return ``None``.

        Args:
            keep: keep only the newest ``keep`` checkpoint files.
        """
        if self.checkpoint_dir is None:
            raise TrainingError("checkpoints need a run_dir; pass Trainer(run_dir=...)")
        self._update_elapsed()
        ranks = distributed.gather_to_main(ckpt.rank_state(self.model, self.device)) if self.world.distributed else None
        if not self.world.is_main:
            return None
        model = self.model
        bad = [name for name, t in model.state_dict().items() if t.is_floating_point() and not torch.isfinite(t).all()]
        if bad:
            raise NonFiniteLossError(
                f"the model's {bad[0]!r} became NaN/Inf by step {self.step} (epoch {self.epoch + 1}); training "
                f"stopped and this state was not saved. {self._kept()}"
            )
        state = {
            "format_version": ckpt.FORMAT_VERSION,
            "model_name": model.registry_name,
            "model_config": model.config.to_dict(),
            "model": model.state_dict(),
            "optimizers": [o.state_dict() for o in self.optimizers],
            "step": self.step,
            "epoch": self.epoch,
            "elapsed": self.elapsed,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "n_samples": self._sampler.n,
            "sampler": self._sampler.state_dict(),
            "model_rng": model.generator.get_state(),
            "global_rng": torch.get_rng_state(),
            "epoch_sums": dict(self._epoch_sums),
            "epoch_count": self._epoch_count,
            "callbacks": {cb.state_key: cb.state_dict() for cb in self.callbacks if cb.state_key},
            "world_size": self.world.size,
            "precision": self.precision.name,
            "grad_scaler": self.precision.state_dict(),
        }
        if ranks is not None:
            state["ranks"] = ranks
        self.last_checkpoint = ckpt.write(self.checkpoint_dir, self.step, state, keep=keep)
        return self.last_checkpoint

    def _resume(self, resume: bool | str | Path) -> None:
        if resume is True:
            if self.checkpoint_dir is None:
                raise TrainingError("resume=True needs a run_dir holding checkpoints")
            path = ckpt.latest(self.checkpoint_dir)
            if path is None:
                raise TrainingError(
                    f"no checkpoint in {self.checkpoint_dir} to resume from; start the run without resume"
                )
        else:
            path = Path(resume)
        state = ckpt.read(path)
        main = self.world.is_main
        if main and self.checkpoint_dir is not None and path.parent.resolve() == self.checkpoint_dir.resolve():
            # resuming from an older checkpoint abandons the newer ones: remove them so that the next
            # resume (and pruning, which goes by step) cannot pick a file from the abandoned future
            for newer in ckpt.list_checkpoints(self.checkpoint_dir):
                if ckpt.step_of(newer) > ckpt.step_of(path):
                    newer.unlink(missing_ok=True)
        model = self.model
        ckpt.check_compatible(
            state,
            path,
            model,
            batch_size=self.batch_size,
            n_samples=self._sampler.n,
            seed=self.seed,
            world_size=self.world.size,
            n_optimizers=len(self.optimizers),
        )
        model.load_state_dict(state["model"])
        for opt, s in zip(self.optimizers, state["optimizers"], strict=True):
            opt.load_state_dict(s)
        self._sampler.load_state_dict(state["sampler"])
        self.precision.load_state_dict(state.get("grad_scaler") or {})
        saved_world = int(state.get("world_size", 1))
        if saved_world != self.world.size and main:
            print(
                f"genlab: {path.name} was written by {saved_world} process(es) and resumes on {self.world.size}: "
                "the model, optimizers and batch order continue exactly (the global batch is kept); the "
                "processes' noise streams do not, so the run will differ from an uninterrupted one",
                file=sys.stderr,
            )
        ckpt.restore_rank_state(state, self.world.rank, model, self.device)
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self._elapsed_before = float(state["elapsed"])
        self._epoch_sums = dict(state["epoch_sums"])
        self._epoch_count = int(state["epoch_count"])
        saved_cb = state["callbacks"]
        for cb in self.callbacks:
            if cb.state_key and cb.state_key in saved_cb:
                cb.load_state_dict(saved_cb[cb.state_key])
        self.last_checkpoint = path
