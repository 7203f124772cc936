"""The mode-collapse lab: what the course teaches about GAN training, made visible on 2-D toys.

- :func:`compare_losses` trains one GAN per loss on the same mixture (``ring8``, ``grid25``) with the same
  seed and records samples and mode coverage at regular numbers of generator updates, so mode collapse
  (the generator hopping between a few modes) and its absence under the fixes can be seen side by side.
- :func:`generator_gradients` shows the vanishing-gradient argument (Arjovsky & Bottou 2017): the
  generator is frozen after a short warm-up, the discriminator keeps training and grows confident, and
  the norm of the generator's gradient is measured under the minimax loss ``E log(1 - D(G(z)))`` (it
  vanishes) and the non-saturating loss ``-E log D(G(z))`` (it does not).

Both train through the one :class:`~genlab.training.Trainer`; the frozen generator is simply
``n_critic`` larger than the number of steps. ``genlab gan-lab`` runs both and writes the pictures.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import fileutil, plotting
from ..data import load
from ..data.dataset import Dataset
from ..data.toy import TOY_DATASETS
from ..errors import ConfigError, DataError
from ..losses.adversarial import ADVERSARIAL_LOSSES, generator_loss
from ..metrics.modes import ModeCoverage, mode_coverage
from ..models.gans import GAN
from ..progress import note
from ..registry import create
from ..training import Callback, ProgressBar, Trainer

#: the registry preset each loss trains with (its optimizer and n_critic as published)
LOSS_PRESETS = {
    "minimax": ("gan", {"loss": "minimax"}),
    "non_saturating": ("gan", {}),
    "least_squares": ("lsgan", {}),
    "hinge": ("gan", {"loss": "hinge"}),
    "wasserstein": ("wgan", {}),
    "wasserstein_gp": ("wgan_gp", {}),
}
#: the toy networks: small MLPs, a 16-dimensional code
TOY_CONFIG = {"hidden_dims": (128, 128), "latent_dim": 16}


@dataclass
class LossRun:
    """One loss's run in :func:`compare_losses`: generator updates, samples and coverage at each snapshot."""

    loss: str
    updates: list[int] = field(default_factory=list)
    samples: list[torch.Tensor] = field(default_factory=list)
    coverage: list[ModeCoverage] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class GradientNorms:
    """The result of :func:`generator_gradients`: D steps and the generator's gradient norm per loss."""

    d_steps: list[int]
    norms: dict[str, list[float]]
    d_real: list[float]
    d_fake: list[float]


def _toy(data: str | Dataset, seed: int) -> Dataset:
    if isinstance(data, str):
        ds = load(data, n_samples=20_000, seed=seed) if data in TOY_DATASETS else load(data)
    else:
        ds = data
    if ds.centers is None or "std" not in ds.extras:
        raise DataError("the GAN lab needs a toy mixture with known modes, e.g. 'ring8' or 'grid25'")
    return ds


def _build(loss: str, overrides: dict[str, Any] | None, seed: int) -> GAN:
    if loss not in LOSS_PRESETS:
        raise ConfigError(f"unknown loss {loss!r}; choose from {', '.join(ADVERSARIAL_LOSSES)}")
    preset, extra = LOSS_PRESETS[loss]
    return create(preset, data_shape=(2,), **{**TOY_CONFIG, **extra, **(overrides or {})}, seed=seed)


class _Snapshots(Callback):
    """Samples (fixed noise) and mode coverage every ``every`` generator updates."""

    def __init__(self, run: LossRun, ds: Dataset, every: int, n: int, seed: int) -> None:
        self.run, self.ds, self.every, self.n, self.seed = run, ds, every, n, seed

    def on_step_end(self, trainer: Trainer, model: GAN, metrics: dict[str, float]) -> None:
        updates = int(model.g_updates)
        if updates == 0 or updates % self.every or (self.run.updates and self.run.updates[-1] == updates):
            return
        # kept for the report and the plots: on the CPU whatever device the model trains on
        x = model.sample(self.n, generator=torch.Generator().manual_seed(self.seed)).cpu()
        self.run.updates.append(updates)
        self.run.samples.append(x)
        self.run.coverage.append(mode_coverage(x, self.ds.centers, self.ds.extras["std"]))


def compare_losses(
    data: str | Dataset = "ring8",
    losses: Sequence[str] = ("minimax", "non_saturating", "least_squares", "wasserstein_gp"),
    updates: int = 3000,
    snapshots: int = 6,
    seed: int = 0,
    batch_size: int = 256,
    n_samples: int = 2000,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, LossRun]:
    """Train one GAN per loss on the same toy data and seed; snapshot samples and coverage.

    Args:
        data: a toy dataset name or Dataset with ``centers``.
        losses: the losses to compare (each with its registry preset's optimizer and ``n_critic``).
        updates: generator updates per run (a loss with ``n_critic = 5`` takes 5x as many steps).
        snapshots: number of snapshots, evenly spaced in generator updates.
        seed: one seed for all: the same initial noise, data order and sample noise.
        batch_size: samples per step.
        n_samples: samples drawn at each snapshot.
        overrides: config fields applied to every run (e.g. ``{"minibatch_std": True}``).
        progress: show each run's progress (steps, rate, ETA, losses) on standard error.
    """
    if updates < 1 or snapshots < 1:
        raise ConfigError("updates and snapshots must be >= 1")
    ds = _toy(data, seed)
    every = max(1, updates // snapshots)
    runs: dict[str, LossRun] = {}
    for i, loss in enumerate(losses, 1):
        model = _build(loss, overrides, seed)
        run = LossRun(loss)
        callbacks: list[Callback] = [_Snapshots(run, ds, every, n_samples, seed)]
        if progress:
            note(
                f"gan-lab [{i}/{len(losses)}] {loss}: {updates} generator updates "
                f"({updates * model.config.n_critic} steps with n_critic={model.config.n_critic})"
            )
            callbacks.append(ProgressBar(desc=loss, epoch_lines=False))
        trainer = Trainer(
            epochs=10**9,
            max_steps=updates * model.config.n_critic,
            batch_size=batch_size,
            seed=seed,
            callbacks=callbacks,
        )
        trainer.fit(model, ds)
        run.seconds = trainer.elapsed
        runs[loss] = run
    return runs


class _GradientProbe(Callback):
    """Every ``every`` discriminator steps: the frozen generator's gradient norm under each loss."""

    def __init__(self, z: torch.Tensor, every: int, out: GradientNorms) -> None:
        self.z, self.every, self.out = z, every, out

    def on_step_end(self, trainer: Trainer, model: GAN, metrics: dict[str, float]) -> None:
        if trainer.step % self.every and trainer.step != 1:
            return
        params = list(model.netG.parameters())
        z = self.z.to(params[0].device)  # the fixed noise, where the trainer put the model
        for loss in self.out.norms:
            scores = model.netD(model.netG(z))
            grads = torch.autograd.grad(generator_loss(loss, scores), params)
            self.out.norms[loss].append(GAN.grad_norm(list(grads)))
        model.netD.zero_grad(set_to_none=True)
        self.out.d_steps.append(trainer.step)
        self.out.d_real.append(metrics["d_real"])
        self.out.d_fake.append(metrics["d_fake"])


def generator_gradients(
    data: str | Dataset = "ring8",
    warmup_updates: int = 50,
    d_steps: int = 2000,
    every: int = 20,
    seed: int = 0,
    batch_size: int = 256,
    d_lr: float = 1e-3,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
) -> GradientNorms:
    """The generator's gradient norm under the minimax and non-saturating losses as D grows strong.

    A non-saturating GAN trains ``warmup_updates`` steps; then G is frozen and D trains alone for
    ``d_steps`` steps at learning rate ``d_lr`` (the same model with ``n_critic`` above ``d_steps``), and
    every ``every`` steps the gradient of each generator loss with respect to G's weights is measured on
    one fixed noise batch. ``progress`` shows both phases on standard error.
    """
    ds = _toy(data, seed)
    model = _build("non_saturating", overrides, seed)

    def bar(desc: str) -> list[Callback]:
        return [ProgressBar(desc=desc, epoch_lines=False)] if progress else []

    note(f"gan-lab gradients: {warmup_updates} warm-up steps, then D alone for {d_steps} steps", enabled=progress)
    warmup = Trainer(epochs=10**9, max_steps=warmup_updates, batch_size=batch_size, seed=seed, callbacks=bar("warm-up"))
    warmup.fit(model, ds)
    frozen = create("gan", model.config.replace(n_critic=d_steps + 1, lr_d=d_lr))
    frozen.load_state_dict(model.state_dict())
    frozen.data_info = model.data_info
    out = GradientNorms([], {"minimax": [], "non_saturating": []}, [], [])
    z = torch.randn(batch_size, frozen.config.latent_dim, generator=torch.Generator().manual_seed(seed + 1))
    probe = _GradientProbe(z, every, out)
    Trainer(
        epochs=10**9, max_steps=d_steps, batch_size=batch_size, seed=seed + 1, callbacks=[probe, *bar("D alone")]
    ).fit(frozen, ds)
    return out


def run_lab(
    out_dir: str | Path,
    data: str = "ring8",
    losses: Sequence[str] = ("minimax", "non_saturating", "least_squares", "wasserstein_gp"),
    updates: int = 3000,
    snapshots: int = 6,
    seed: int = 0,
    gradients: bool = True,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Path]:
    """Run :func:`compare_losses` (and :func:`generator_gradients`) and write ``modes.png``,
    ``gradient_norms.png`` and ``lab.json`` (coverage per snapshot, timings) into ``out_dir``.
    ``progress`` shows every run on standard error (what ``genlab gan-lab`` does)."""
    out_dir = Path(out_dir)
    ds = _toy(data, seed)
    runs = compare_losses(ds, losses, updates, snapshots, seed, overrides=overrides, progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    first = next(iter(runs.values()))
    files["modes"] = plotting.save_scatter_grid(
        [r.samples for r in runs.values()],
        out_dir / "modes.png",
        row_labels=list(runs),
        col_labels=[f"{u} G updates" for u in first.updates],
        reference=ds.centers,
        title=f"{data}: samples over training, one row per loss (seed {seed})",
    )
    report: dict[str, Any] = {
        "data": data,
        "seed": seed,
        "updates": updates,
        "date": _dt.date.today().isoformat(),
        "overrides": overrides or {},
        "runs": {
            loss: {
                "updates": r.updates,
                "coverage": [c.as_dict() for c in r.coverage],
                "seconds": round(r.seconds, 2),
            }
            for loss, r in runs.items()
        },
    }
    if gradients:
        g = generator_gradients(ds, seed=seed, overrides=overrides, progress=progress)
        files["gradient_norms"] = plotting.save_lines(
            {f"{k} generator loss": (g.d_steps, v) for k, v in g.norms.items()},
            out_dir / "gradient_norms.png",
            xlabel="discriminator steps with the generator frozen",
            ylabel="norm of the generator's gradient",
            logy=True,
            title="Vanishing generator gradients under the minimax loss",
        )
        report["gradients"] = {"d_steps": g.d_steps, "norms": g.norms, "d_real": g.d_real, "d_fake": g.d_fake}
    fileutil.write_json(out_dir / "lab.json", report)
    files["report"] = out_dir / "lab.json"
    return files


__all__ = ["LOSS_PRESETS", "GradientNorms", "LossRun", "compare_losses", "generator_gradients", "run_lab"]
