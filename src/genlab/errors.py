"""genlab's own exception hierarchy.

Every error a user can cause (bad data, a misspelled option, a corrupt model file, an unknown model
name, a diverging run) is raised as a subclass of :class:`GenlabError` whose message says what was
wrong and what to do about it. The CLI prints these in one or two lines without a traceback.

Each class also derives from the closest built-in exception, so ``except ValueError`` style code
(and scikit-learn's estimator checks) keep working.
"""

from __future__ import annotations


class GenlabError(Exception):
    """Base class of every error genlab raises on purpose."""


class ConfigError(GenlabError, ValueError):
    """A configuration value or key is invalid (unknown key, wrong type, out of range)."""


class DataError(GenlabError, ValueError):
    """Input data is unusable: NaN/Inf, wrong shape, empty, unreadable, wrong value range."""


class ChecksumError(DataError):
    """A downloaded or local dataset file does not have the expected SHA-256 digest."""


class DatasetNotFoundError(DataError, FileNotFoundError):
    """A dataset is not on disk and could not be downloaded."""


class ModelFileError(GenlabError, OSError):
    """A saved model directory or checkpoint is missing a file, corrupt, or from an incompatible version."""


class UnknownModelError(GenlabError, KeyError):
    """A model name is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TrainingError(GenlabError, RuntimeError):
    """Training cannot continue."""


class NonFiniteLossError(TrainingError):
    """A loss or metric became NaN or infinite; the last good checkpoint is kept."""


class RunExistsError(GenlabError, FileExistsError):
    """An output directory already exists and would be overwritten."""


class RunLockedError(TrainingError):
    """Another live process is writing the same run directory."""


class TableWarning(UserWarning):
    """A table column genlab models differently from what its type suggests, or leaves out (an ID column, a
    constant or empty column, text that looks numeric); the message names the column and what was done."""


class ModeCollapseWarning(UserWarning):
    """A generator's samples cover fewer modes or classes than before (issued as a warning, not raised)."""


__all__ = [
    "ChecksumError",
    "ConfigError",
    "DataError",
    "DatasetNotFoundError",
    "GenlabError",
    "ModeCollapseWarning",
    "ModelFileError",
    "NonFiniteLossError",
    "RunExistsError",
    "RunLockedError",
    "TableWarning",
    "TrainingError",
    "UnknownModelError",
]
