"""What deep belief nets and deep Boltzmann machines share: layer-wise stages and the fine-tuned classifier."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ...errors import ConfigError
from ..base import Batch, checked_labels


class StackMixin:
    """Stages for :func:`~genlab.training.layerwise.pretrain_layerwise` (one per hidden layer) and a softmax head.

    The model defines ``n_layers``, ``head`` (an ``nn.Linear`` or ``None``), ``stage`` and ``logits(x)``.
    """

    @property
    def n_stages(self) -> int:
        return self.n_layers

    def _check_stage(self, stage: int | None) -> None:
        if stage is not None and not 0 <= stage < self.n_layers:
            raise ConfigError(f"stage must be in 0..{self.n_layers - 1} or None, got {stage}")

    def _require_head(self) -> None:
        if self.head is None:
            name = type(self).__name__
            raise ConfigError(
                f"this {name} has no classifier: build it with n_classes > 0 (the {name.lower()}_classifier preset)"
            )

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(B, n_classes)``."""
        return torch.softmax(self.logits(x), 1)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted classes ``(B,)``."""
        return self.logits(x).argmax(1)

    def _finetune_step(self, batch: Batch, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        """One step of discriminative fine-tuning (cross-entropy through the whole stack)."""
        y = checked_labels(batch.y, batch.x.shape[0], self.config.n_classes, type(self).__name__)
        loss = F.cross_entropy(self.logits(batch.x), y)
        self.optimize(loss, optimizer)
        return {"loss": loss.detach()}

    @torch.no_grad()
    def _classification_metrics(self, batch: Batch) -> dict[str, Any]:
        logits = self.logits(batch.x)
        return {"loss": F.cross_entropy(logits, batch.y), "error": (logits.argmax(1) != batch.y).float().mean()}
