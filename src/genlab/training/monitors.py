"""Watching a generator's diversity while it trains: the mode-collapse monitor.

The monitor uses the pure functions of :mod:`genlab.metrics.modes` (the training layer may call metrics;
metrics never import the trainer).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..data.dataset import Dataset
from ..errors import ConfigError, ModeCollapseWarning
from ..metrics.modes import class_histogram, fit_probe, histogram_kl, mode_coverage
from ..models.base import eval_mode
from .callbacks import Callback

if TYPE_CHECKING:
    from ..models.base import GenerativeModel
    from .trainer import Trainer


class ModeCollapseMonitor(Callback):
    """Every ``every_epochs`` epochs, draw ``n`` samples and measure how many modes or classes they reach.

    - Data with known mode centres (the toy mixtures): logs ``modes`` (covered), ``high_quality`` (fraction
      within 3 standard deviations of a mode) and ``mode_kl`` (KL of the mode histogram to uniform).
    - Labelled data: classifies the samples (with ``classifier``, or a softmax-regression probe fitted on
      the reference data when the fit starts) and logs ``classes`` (classes holding at least a quarter of
      their fair share of samples) and ``class_kl`` (KL of the sample histogram to the data's).

    A :class:`~genlab.errors.ModeCollapseWarning` is issued when diversity drops: the count falls below
    ``drop`` times the best count seen in this run, or the KL rises above ``max_kl`` after having been
    below it (an untrained generator is not diverse yet; that is not a collapse). The warning's advice is the
    model's own (:meth:`~genlab.models.base.GenerativeModel.diversity_advice`: GAN stabilisers for a GAN,
    posterior collapse and the KL weight for a VAE, longer Gibbs chains for an energy model...). Each warning
    is also kept in ``events``.

    Args:
        reference: the training data (labels or ``centers`` needed).
        every_epochs: how often to measure.
        n: samples per measurement.
        seed: the samples' noise (the same draws each time).
        classifier: ``x -> logits (N, K)`` for labelled data (default: a fitted probe).
        drop: warn when the count falls below ``drop * best``.
        max_kl: warn when the KL exceeds this many nats.
    """

    state_key = "mode_collapse_monitor"

    def __init__(
        self,
        reference: Dataset,
        every_epochs: int = 1,
        n: int = 2000,
        seed: int = 4321,
        classifier: Any = None,
        drop: float = 0.75,
        max_kl: float = 1.0,
    ) -> None:
        if every_epochs < 1 or n < 1:
            raise ConfigError("ModeCollapseMonitor needs every_epochs >= 1 and n >= 1")
        self.toy = reference.centers is not None and "std" in reference.extras
        if not self.toy and reference.y is None:
            raise ConfigError("the mode-collapse monitor needs labelled data or a toy mixture with known modes")
        self.reference = reference
        self.every, self.n, self.seed = every_epochs, n, seed
        self.classifier = classifier
        self.drop, self.max_kl = drop, max_kl
        self.best = 0
        self.best_kl = math.inf
        self.events: list[str] = []
        if not self.toy:
            self.n_classes = int(reference.y.max()) + 1
            self.data_hist = class_histogram(reference.y, self.n_classes)

    def reset(self) -> None:
        self.best = 0
        self.best_kl = math.inf
        self.events = []

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        if not self.toy and self.classifier is None:
            self.classifier = fit_probe(self.reference.x, self.reference.y, seed=self.seed)

    def measure(self, model: GenerativeModel) -> dict[str, float]:
        """The diversity metrics of ``n`` fresh samples (see the class docstring)."""
        # eval mode for any module (genlab's own samplers already evaluate); a duck-typed sampler as it is
        mode = eval_mode(model) if isinstance(model, nn.Module) else contextlib.nullcontext()
        with mode, torch.no_grad():
            x = model.sample(self.n, generator=torch.Generator().manual_seed(self.seed))
        if self.toy:
            cov = mode_coverage(x.reshape(len(x), -1), self.reference.centers, self.reference.extras["std"])
            return {"modes": float(cov.modes), "high_quality": cov.high_quality, "mode_kl": cov.kl}
        with torch.no_grad():
            hist = class_histogram(self.classifier(x), self.n_classes)
        classes = int((hist >= 0.25 / self.n_classes).sum())
        return {"classes": float(classes), "class_kl": histogram_kl(hist, self.data_hist)}

    def epoch_metrics(self, trainer: Trainer, model: GenerativeModel) -> dict[str, float]:
        if trainer.epoch % self.every:
            return {}
        m = self.measure(model)
        count = int(m["modes"] if self.toy else m["classes"])
        kl = m["mode_kl"] if self.toy else m["class_kl"]
        what = "modes" if self.toy else "classes"
        problem = ""
        if self.best and count < self.drop * self.best:
            problem = f"the samples cover {count} {what}, down from {self.best}"
        elif kl > self.max_kl >= self.best_kl:
            problem = f"the samples' {what} histogram moved to {kl:.2f} nats (KL) from the data's"
        self.best = max(self.best, count)
        self.best_kl = min(self.best_kl, kl)
        if problem:
            msg = f"possible mode collapse at epoch {trainer.epoch}: {problem}. {_advice(model)}"
            self.events.append(msg)
            warnings.warn(msg, ModeCollapseWarning, stacklevel=2)
        return m

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_kl": self.best_kl, "events": list(self.events)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = int(state["best"])
        self.best_kl = float(state["best_kl"])
        self.events = list(state["events"])


def _advice(model: Any) -> str:
    """The model family's remedies for lost diversity, as a sentence (a generic one for other samplers)."""
    advice = model.diversity_advice() if callable(getattr(model, "diversity_advice", None)) else ""
    advice = advice or "train longer or with a lower learning rate"
    return f"Advice: {advice[0].upper()}{advice[1:]}."
