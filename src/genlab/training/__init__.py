"""The training core: one loop (:class:`Trainer`), its callbacks and checkpoints."""

from .callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    LRSchedule,
    MetricsHistory,
    ProgressBar,
    SampleGrid,
    TensorBoard,
    TimeBudget,
)
from .monitors import ModeCollapseMonitor
from .trainer import Trainer

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "LRSchedule",
    "MetricsHistory",
    "ModeCollapseMonitor",
    "ProgressBar",
    "SampleGrid",
    "TensorBoard",
    "TimeBudget",
    "Trainer",
]
