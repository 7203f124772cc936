"""Callbacks: what happens around the loop without being the loop.

A callback overrides any of ``on_fit_start``, ``on_step_end``, ``on_epoch_end`` and ``on_fit_end``, and may
add metrics of its own to every epoch's row with ``epoch_metrics`` (called before any ``on_epoch_end``). A
callback with state that must survive a resume sets ``state_key`` and implements ``state_dict`` /
``load_state_dict``; the trainer stores it in every checkpoint.
"""

from __future__ import annotations

import csv
import io
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .. import fileutil, plotting
from ..errors import ConfigError, GenlabError, TrainingError

if TYPE_CHECKING:
    from ..models.base import GenerativeModel
    from .trainer import Trainer


class Callback:
    """Base class: every hook does nothing."""

    state_key: str | None = None
    #: under torchrun, callbacks run on rank 0 only (they write and print; their stop and checkpoint requests
    #: are broadcast); one that changes the training itself on every process (a learning-rate schedule) sets this
    all_ranks: bool = False

    def reset(self) -> None:
        """Forget the state of an earlier fit (called at the start of every fit, before a resume loads state)."""

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        pass

    def on_step_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        pass

    def epoch_metrics(self, trainer: Trainer, model: GenerativeModel) -> dict[str, float]:
        """Extra metrics for the epoch that just ended (logged like the model's own)."""
        return {}

    def on_epoch_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        pass

    def on_fit_end(self, trainer: Trainer, model: GenerativeModel) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class MetricsHistory(Callback):
    """Per-epoch metrics kept in memory (``rows``) and written to ``run_dir/metrics.csv`` after every epoch.

    Each row holds ``epoch``, ``step``, ``time`` (seconds of training so far) and the epoch means of every
    metric the model returned (plus ``val_*`` metrics when there is validation data). A run that stops inside
    an epoch (time budget, max_steps) also gets a last row for the steps of that unfinished epoch, with a
    fractional ``epoch`` (``partial``; it is not checkpointed: a resumed run replaces it by the whole epoch).
    """

    state_key = "history"
    all_ranks = True

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self.partial: dict[str, float] | None = None

    def reset(self) -> None:
        self.rows = []
        self.partial = None

    @property
    def all_rows(self) -> list[dict[str, float]]:
        """``rows`` and, after a stop inside an epoch, the row of that unfinished epoch."""
        return [*self.rows, self.partial] if self.partial is not None else list(self.rows)

    def on_epoch_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        self.rows.append({"epoch": trainer.epoch, "step": trainer.step, "time": round(trainer.elapsed, 3), **metrics})
        if trainer.run_dir is not None and trainer.world.is_main:
            self.write_csv(trainer.run_dir / "metrics.csv")

    def on_fit_end(self, trainer: Trainer, model: GenerativeModel) -> None:
        self.partial = None if trainer.failed else trainer.partial_epoch()
        if self.partial is not None and trainer.run_dir is not None and trainer.world.is_main:
            self.write_csv(trainer.run_dir / "metrics.csv")

    def column(self, key: str) -> list[float]:
        """The values of one metric over the epochs (missing entries skipped)."""
        return [r[key] for r in self.rows if key in r]

    def write_csv(self, path: Path) -> None:
        rows = self.all_rows
        keys: list[str] = []
        for r in rows:
            keys.extend(k for k in r if k not in keys)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        fileutil.write_text(path, buf.getvalue())

    def state_dict(self) -> dict[str, Any]:
        return {"rows": [dict(r) for r in self.rows]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows = [dict(r) for r in state["rows"]]


class ProgressBar(Callback):
    """Training progress on standard error (see :mod:`genlab.progress`): a tqdm bar on a terminal, lines elsewhere.

    On a terminal the bar shows step/total, the rate, the ETA, the epoch and the running mean over the epoch so
    far of every metric the step returns. Off a terminal it writes a line at least every ``interval`` seconds
    within an epoch (step i/total, rate, elapsed, ETA, epoch, running means) and one summary line per epoch
    (``epoch 2/5  step 40  loss 0.31  [12.0s, ETA 18s]``); a run that stops inside an epoch ends with a final
    line. A resumed run counts from the step it resumed at.

    Args:
        stream: where to write (standard error by default).
        force_bar: ``True``/``False`` to force the bar on/off; ``None`` uses a bar on a terminal only.
        refresh_seconds: seconds between two redraws of the bar.
        interval: seconds between two lines within an epoch off a terminal (``None``: ``$GENLAB_PROGRESS_SECONDS``
            or 10; ``0``: a line every step).
        desc: the label (default the model's registry name).
        epoch_lines: write the per-epoch summary off a terminal (off for step-bounded runs such as the GAN lab).
        clock: the time source of the line cadence (``time.monotonic``; tests pass a fake one).
    """

    #: set by :func:`~genlab.training.layerwise.pretrain_layerwise` for each stage, e.g. ``"stage 2/3"``
    stage: str | None = None

    def __init__(
        self,
        stream: Any = None,
        force_bar: bool | None = None,
        refresh_seconds: float = 0.25,
        interval: float | None = None,
        desc: str | None = None,
        epoch_lines: bool = True,
        clock: Any = None,
    ) -> None:
        self.stream = stream
        self.force_bar = force_bar
        self.refresh = refresh_seconds
        self.interval = interval
        self.desc = desc
        self.epoch_lines = epoch_lines
        self.clock = clock
        self._progress = None
        self._trainer: Trainer | None = None
        self._sums: dict[str, float] = {}
        self._count = 0

    def _out(self):
        return self.stream if self.stream is not None else sys.stderr

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        from ..progress import Progress

        name = self.desc or model.registry_name or "train"
        self._trainer = trainer
        self._sums, self._count = {}, 0
        self._last_epoch: tuple[int, dict[str, float]] | None = None
        self._start_step = trainer.step
        self._t0 = time.perf_counter()
        self._progress = Progress(
            trainer.total_steps,
            f"{name} {self.stage}" if self.stage else name,
            unit="step",
            stream=self._out(),
            bar=self.force_bar,
            interval=self.interval,
            refresh=self.refresh,
            initial=trainer.step,
            clock=self.clock,
            final=False,
        )
        self._progress.set_postfix(self._postfix)  # called only when a line or a redraw is due

    def _postfix(self) -> str:
        t = self._trainer
        if self._count == 0 and self._last_epoch is not None:  # between epochs: the epoch that just ended
            e, means = self._last_epoch
        else:
            n = max(self._count, 1)
            e, means = t.epoch + 1, {k: v / n for k, v in self._sums.items()}
        bounded = t.max_steps is None or t.max_steps >= t.epochs * t.steps_per_epoch
        epoch = f"epoch {e}/{t.epochs}" if bounded else f"epoch {e}"
        return "  ".join([epoch, *(f"{k} {v:.4g}" for k, v in means.items())])

    def on_step_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        sums = self._sums
        for k, v in metrics.items():
            sums[k] = sums.get(k, 0.0) + v
        self._count += 1
        self._progress.update(1)

    def eta(self, trainer: Trainer) -> float:
        done = trainer.step - self._start_step
        if done <= 0:
            return float("nan")
        rate = (time.perf_counter() - self._t0) / done
        return rate * max(trainer.total_steps - trainer.step, 0)

    def on_epoch_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        self._sums, self._count = {}, 0
        self._last_epoch = (trainer.epoch, metrics)
        if self._progress.on_terminal or not self.epoch_lines:
            return
        shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        stage = f"{self.stage}  " if self.stage else ""
        self._progress.write(
            f"{stage}epoch {trainer.epoch}/{trainer.epochs}  step {trainer.step}  {shown}  "
            f"[{trainer.elapsed:.1f}s, ETA {self.eta(trainer):.0f}s]",
            reset_timer=True,
        )

    def on_fit_end(self, trainer: Trainer, model: GenerativeModel) -> None:
        if self._progress is not None:
            # off a terminal: a final line when steps ran after the last epoch line (a stop inside an epoch)
            ran = self._count > 0 or not self.epoch_lines
            self._progress.close(final=ran and not trainer.failed and trainer.step > self._start_step)
            self._progress = None


class Checkpoint(Callback):
    """Atomic checkpoints every ``every_steps`` steps and/or ``every_epochs`` epochs, and at the end.

    Only the newest ``keep`` files are kept. No checkpoint is written after a NaN/Inf (the run raises
    before reaching this callback), so the last one on disk is always a good one.
    """

    def __init__(
        self, every_steps: int | None = None, every_epochs: int | None = 1, keep: int = 2, at_end: bool = True
    ) -> None:
        for name, v in (("every_steps", every_steps), ("every_epochs", every_epochs)):
            if v is not None and v < 1:
                raise ConfigError(f"Checkpoint {name} must be >= 1 or None, got {v}")
        if keep < 1:
            raise ConfigError(f"Checkpoint keep must be >= 1, got {keep}")
        self.every_steps, self.every_epochs, self.keep, self.at_end = every_steps, every_epochs, keep, at_end
        self._last_step = -1

    def _save(self, trainer: Trainer) -> None:
        if trainer.step != self._last_step:
            trainer.request_checkpoint(keep=self.keep)  # written after every callback has run
            self._last_step = trainer.step

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        self._last_step = trainer.step  # a resumed run does not rewrite the checkpoint it started from

    def on_step_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        # a step that ends an epoch is saved in on_epoch_end, after the epoch's bookkeeping
        if self.every_steps and trainer.step % self.every_steps == 0 and not trainer.at_epoch_end:
            self._save(trainer)

    def on_epoch_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        if (self.every_epochs and trainer.epoch % self.every_epochs == 0) or (
            self.every_steps and trainer.step % self.every_steps == 0
        ):
            self._save(trainer)

    def on_fit_end(self, trainer: Trainer, model: GenerativeModel) -> None:
        if self.at_end and trainer.step > 0 and not trainer.failed:
            self._save(trainer)


def write_translations(model: GenerativeModel, data: Any, path: Path, n: int = 16) -> Path:
    """A picture of ``n`` of ``data``'s inputs, an image-to-image model's outputs and the targets, one row each (a
    two-way model adds its B -> A rows)."""
    from ..data.paired import hole_of

    hole = hole_of(data)
    with torch.no_grad():
        rows = model.translation_rows(data.source[:n], data.x[:n], hole[:n] if hole is not None else None)
    return plotting.save_image_grid(rows, path, nrow=min(n, len(data.source), len(data.x)), value_range=(0.0, 1.0))


class SampleGrid(Callback):
    """Every ``every_epochs`` epochs, draw ``n`` samples from a fixed generator and write a picture.

    The same latent draws are used every time, so the pictures show one set of samples improving. For an
    image-to-image model, ``pairs`` (a paired or unpaired Dataset) gives the inputs: the picture shows 16 of them,
    their outputs and their targets (:func:`write_translations`). Files: ``run_dir/samples/epoch-0005.png``.
    """

    def __init__(self, every_epochs: int = 1, n: int = 64, seed: int = 1234, pairs: Any = None) -> None:
        if every_epochs < 1 or n < 1:
            raise ConfigError("SampleGrid needs every_epochs >= 1 and n >= 1")
        if pairs is not None and getattr(pairs, "source", None) is None:
            raise ConfigError("SampleGrid(pairs=...) takes image-to-image data: a Dataset with inputs (source)")
        self.every, self.n, self.seed, self.pairs = every_epochs, n, seed, pairs
        self.paths: list[Path] = []

    def reset(self) -> None:
        self.paths = []

    def on_epoch_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        if trainer.run_dir is None or trainer.epoch % self.every:
            return
        if self.pairs is not None:
            self.paths.append(
                write_translations(model, self.pairs, trainer.run_dir / "samples" / f"epoch-{trainer.epoch:04d}.png")
            )
            return
        was_training = model.training
        model.eval()
        with torch.no_grad():
            x = model.sample(self.n, generator=torch.Generator().manual_seed(self.seed))
        model.train(was_training)
        lo, hi = model.data_info.value_range if model.data_info else (0.0, 1.0)
        path = plotting.save_samples(
            x, trainer.run_dir / "samples" / f"epoch-{trainer.epoch:04d}.png", value_range=(lo, hi)
        )
        if path is not None:
            self.paths.append(path)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    state_key = "early_stopping"

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str = "min", min_delta: float = 0.0):
        if mode not in ("min", "max"):
            raise ConfigError(f"EarlyStopping mode must be 'min' or 'max', got {mode!r}")
        if patience < 1:
            raise ConfigError(f"EarlyStopping patience must be >= 1, got {patience}")
        self.monitor, self.patience, self.mode, self.min_delta = monitor, patience, mode, min_delta
        self.reset()

    def reset(self) -> None:
        self.best: float | None = None
        self.best_epoch = 0
        self.wait = 0

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        if self.monitor.startswith("val_") and not trainer.has_validation:
            raise TrainingError(
                f"early stopping monitors {self.monitor!r} but there is no validation data; pass val_data "
                "(--val-fraction) or monitor a training metric such as 'loss'"
            )

    def on_epoch_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        if self.monitor not in metrics:
            hint = " (val_* metrics need validation data)" if self.monitor.startswith("val_") else ""
            raise TrainingError(
                f"early stopping monitors {self.monitor!r} but the metrics are {', '.join(metrics)}{hint}"
            )
        v = metrics[self.monitor]
        better = self.best is None or (
            v < self.best - self.min_delta if self.mode == "min" else v > self.best + self.min_delta
        )
        if better:
            self.best, self.best_epoch, self.wait = v, trainer.epoch, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.request_stop(
                    f"early stopping: {self.monitor} has not improved for {self.patience} epochs "
                    f"(best {self.best:.5g} at epoch {self.best_epoch})"
                )

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]


class TimeBudget(Callback):
    """Stop after ``seconds`` of training (counted over resumed segments too)."""

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ConfigError(f"time budget must be positive, got {seconds}")
        self.seconds = seconds

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        self._t0 = time.perf_counter() - trainer._elapsed_before
        if trainer._elapsed_before >= self.seconds:
            trainer.request_stop(f"time budget of {self.seconds:g}s was already used up")

    def on_step_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        if time.perf_counter() - self._t0 >= self.seconds:
            trainer.request_stop(f"time budget of {self.seconds:g}s used up")


class LRSchedule(Callback):
    """Anneal every optimizer's learning rate over the run: ``lr(t) = base_lr * factor(t)``.

    ``t`` in ``[0, 1]`` is the fraction of the run's steps done (``step / total_steps``), so the schedule
    follows ``epochs`` and ``max_steps`` and a resumed run continues it exactly (the factor depends only on
    the step). The base rate of each parameter group is the one the model configured; it is kept in the
    group as ``initial_lr`` and so travels in the optimizer state of every checkpoint.

    Args:
        kind: ``"cosine"`` (half a cosine from 1 to ``final``), ``"exponential"`` (``final ** t``),
            ``"linear"`` (straight from 1 to ``final``), ``"linear_decay"`` (1 for the first half of the run,
            then straight to ``final``: CycleGAN's schedule) or ``"constant"``; or a callable ``t -> factor``.
        final: the factor reached at the end of the run (e.g. 0.1 ends at a tenth of the base rate).
        warmup: fraction of the run spent rising linearly from 0 to the base rate first.
    """

    KINDS = ("cosine", "exponential", "linear", "linear_decay", "constant")

    all_ranks = True

    def __init__(self, kind: str | Any = "cosine", final: float = 0.0, warmup: float = 0.0) -> None:
        if isinstance(kind, str) and kind not in self.KINDS:
            raise ConfigError(f"unknown learning-rate schedule {kind!r}; choose one of {', '.join(self.KINDS)}")
        if not callable(kind) and not isinstance(kind, str):
            raise ConfigError(f"a learning-rate schedule is a name or a callable t -> factor, got {kind!r}")
        if not 0.0 <= final <= 1.0:
            raise ConfigError(f"the schedule's final factor must be in [0, 1], got {final}")
        if kind == "exponential" and final <= 0.0:
            raise ConfigError("an exponential schedule needs final > 0 (e.g. final=0.01)")
        if not 0.0 <= warmup < 1.0:
            raise ConfigError(f"warmup is a fraction of the run in [0, 1), got {warmup}")
        self.kind, self.final, self.warmup = kind, final, warmup

    def factor(self, t: float) -> float:
        """The multiplier of the base learning rate at run fraction ``t``."""
        t = min(max(t, 0.0), 1.0)
        if self.warmup and t < self.warmup:
            return t / self.warmup
        u = (t - self.warmup) / (1.0 - self.warmup)
        if callable(self.kind):
            return float(self.kind(u))
        if self.kind == "cosine":
            return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * u))
        if self.kind == "exponential":
            return self.final**u
        if self.kind == "linear":
            return 1.0 + (self.final - 1.0) * u
        if self.kind == "linear_decay":  # CycleGAN's: the base rate for half the run, then linearly to `final`
            return 1.0 if u <= 0.5 else 1.0 + (self.final - 1.0) * (2.0 * u - 1.0)
        return 1.0

    def _apply(self, trainer: Trainer) -> None:
        f = self.factor(trainer.step / max(trainer.total_steps, 1))
        for opt in trainer.optimizers:
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] * f

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        for opt in trainer.optimizers:
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
        self._apply(trainer)

    def on_step_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        self._apply(trainer)


class TensorBoard(Callback):
    """Log step metrics (every ``every_steps``) and epoch metrics to TensorBoard in ``run_dir/tensorboard``.

    Needs the optional ``tensorboard`` package (``pip install "genlab[tensorboard]"``).
    """

    def __init__(self, log_dir: str | Path | None = None, every_steps: int = 50) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter  # noqa: F401
        except ImportError as exc:
            raise GenlabError(
                'TensorBoard logging needs the tensorboard package: pip install "genlab[tensorboard]"'
            ) from exc
        self.log_dir, self.every = log_dir, every_steps
        self._writer = None

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        from torch.utils.tensorboard import SummaryWriter

        log_dir = self.log_dir or (trainer.run_dir / "tensorboard" if trainer.run_dir else None)
        if log_dir is None:
            raise TrainingError("TensorBoard needs a log_dir or a trainer run_dir")
        self._writer = SummaryWriter(log_dir=str(log_dir))

    def on_step_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        if trainer.step % self.every == 0:
            for k, v in metrics.items():
                self._writer.add_scalar(f"step/{k}", v, trainer.step)

    def on_epoch_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self._writer.add_scalar(f"epoch/{k}", v, trainer.epoch)
        self._writer.flush()

    def on_fit_end(self, trainer: Trainer, model: GenerativeModel) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
