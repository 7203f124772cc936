"""genlab: the classic deep generative models, correct and fast on a plain CPU.

Quick use::

    import genlab
    run = genlab.train("vae", "digits", epochs=20, out="runs/vae-digits")
    model = genlab.load("runs/vae-digits")
    x = model.sample(16)

``import genlab`` is cheap: the public names below are imported on first use (PEP 562), so the
command line answers ``--help``, ``--version`` and ``models`` without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    ConfigError,
    DataError,
    GenlabError,
    ModelFileError,
    NonFiniteLossError,
    TrainingError,
    UnknownModelError,
)

# public name -> the module that defines it (relative to genlab); imported when first asked for
_LAZY = {
    "BaseConfig": ".config",
    "load": ".io",
    "save_model": ".io",
    "create": ".registry",
    "get_model": ".registry",
    "list_models": ".registry",
    "register_model": ".registry",
    "RunResult": ".training.run",
    "train": ".training.run",
    "Trainer": ".training.trainer",
}
_LAZY_MODULES = {"data"}

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from . import data
    from .config import BaseConfig
    from .io import load, save_model
    from .registry import create, get_model, list_models, register_model
    from .training.run import RunResult, train
    from .training.trainer import Trainer


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _LAZY_MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'genlab' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _LAZY_MODULES)


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
