"""Greedy layer-wise training: one stage per layer, each through the same :class:`Trainer`.

A model that supports it has ``n_stages`` and ``set_stage(i | None)``: in stage ``i`` its
``configure_optimizers`` and ``training_step`` train layer ``i`` alone on the (frozen) outputs of the
layers below. Stacked autoencoders use it now; deep belief nets and deep Boltzmann machines will too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError
from ..models.base import GenerativeModel
from .callbacks import Callback, MetricsHistory, ProgressBar
from .trainer import Trainer


def supports_layerwise(model: GenerativeModel) -> bool:
    return hasattr(model, "n_stages") and hasattr(model, "set_stage")


def pretrain_layerwise(
    model: GenerativeModel,
    data: Any,
    *,
    epochs: int,
    batch_size: int = 128,
    seed: int = 0,
    callbacks: Callable[[int], Sequence[Callback]] | None = None,
    progress: bool = False,
    **trainer_kwargs: Any,
) -> list[MetricsHistory]:
    """Train each layer of ``model`` in turn for ``epochs`` epochs; return one metrics history per stage.

    Args:
        model: a model with ``n_stages`` and ``set_stage``.
        data: the training data (the first stage sees it; later stages see the codes of the layers below).
        epochs: epochs per stage.
        batch_size: samples per step.
        seed: stage ``i`` trains with seed ``seed + i``.
        callbacks: ``stage -> callbacks`` for that stage's trainer (e.g. a progress bar). A
            :class:`~genlab.training.ProgressBar` among them is labelled with the stage (``stage 2/3``).
        progress: add a progress bar to every stage (unless ``callbacks`` already gives one).
        **trainer_kwargs: passed to every stage's :class:`Trainer` (e.g. ``batch_transform``).
    """
    if not supports_layerwise(model):
        raise ConfigError(f"{model.registry_name or type(model).__name__} has no layer-wise stages")
    histories = []
    n_stages = model.n_stages
    try:
        for stage in range(n_stages):
            model.set_stage(stage)
            cbs = list(callbacks(stage)) if callbacks else []
            bars = [cb for cb in cbs if isinstance(cb, ProgressBar)]
            if progress and not bars:
                bars.append(ProgressBar())
                cbs.append(bars[-1])
            for bar in bars:
                bar.stage = f"stage {stage + 1}/{n_stages}"
            trainer = Trainer(epochs=epochs, batch_size=batch_size, seed=seed + stage, callbacks=cbs, **trainer_kwargs)
            trainer.fit(model, data)
            histories.append(trainer.history)
    finally:
        model.set_stage(None)
    return histories
