"""genlab: the classic deep generative models, correct and fast on a plain CPU.

Quick use::

    import genlab
    run = genlab.train("vae", "digits", epochs=20, out="runs/vae-digits")
    model = genlab.load("runs/vae-digits")
    x = model.sample(16)
"""

from . import data
from ._version import __version__
from .config import BaseConfig
from .errors import (
    ConfigError,
    DataError,
    GenlabError,
    ModelFileError,
    NonFiniteLossError,
    TrainingError,
    UnknownModelError,
)
from .io import load, save_model
from .registry import create, get_model, list_models, register_model
from .training.run import RunResult, train
from .training.trainer import Trainer

__all__ = [
    "BaseConfig",
    "ConfigError",
    "DataError",
    "GenlabError",
    "ModelFileError",
    "NonFiniteLossError",
    "RunResult",
    "Trainer",
    "TrainingError",
    "UnknownModelError",
    "__version__",
    "create",
    "data",
    "get_model",
    "list_models",
    "load",
    "register_model",
    "save_model",
    "train",
]
