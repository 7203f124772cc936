"""Training checkpoints: the whole state of a run, written atomically, read without unpickling code.

Files are ``step-<step>.ckpt`` in the run's ``checkpoints/`` folder, written through
:func:`torch.save` to a temporary name and renamed, and read back with ``weights_only=True`` (tensors,
numbers, strings, lists and dicts only: no arbitrary objects are ever unpickled).

Symbolic links are not followed out of the run: a checkpoint file may only be a link to a file in its own
``checkpoints/`` folder, and that folder may only be a link to a folder inside the run directory; anything
else is refused with a :class:`~genlab.errors.ModelFileError` when a checkpoint is looked for or read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from .. import fileutil
from ..errors import ModelFileError

FORMAT_VERSION = 1
_NAME = re.compile(r"^step-(\d+)\.ckpt$")


def write(directory: Path, step: int, state: dict[str, Any], keep: int | None = None) -> Path:
    """Write ``state`` as ``directory/step-<step>.ckpt``; keep only the newest ``keep`` files if given."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"step-{step:09d}.ckpt"
    with fileutil.atomic_path(path) as tmp:
        torch.save(state, tmp)
    if keep is not None:
        for old in list_checkpoints(directory)[:-keep]:
            if old != path:
                old.unlink(missing_ok=True)
    return path


def step_of(path: Path) -> int:
    """The step a checkpoint file was written at (from its name)."""
    m = _NAME.match(Path(path).name)
    if not m:
        raise ModelFileError(f"{path} is not named like a genlab checkpoint (step-<step>.ckpt)")
    return int(m.group(1))


def list_checkpoints(directory: Path) -> list[Path]:
    """Complete checkpoint files in ``directory``, oldest first (temporary files are ignored)."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest(directory: Path) -> Path | None:
    """The newest complete checkpoint in ``directory``, or ``None``.

    Raises:
        ModelFileError: ``directory`` is a symbolic link out of the run directory that holds it.
    """
    directory = Path(directory)
    fileutil.refuse_link_outside(directory, directory.parent, "checkpoint folder")
    files = list_checkpoints(directory)
    return files[-1] if files else None


def read(path: Path) -> dict[str, Any]:
    """Load a checkpoint on the CPU; :class:`ModelFileError` if it is missing, not a regular file, a symbolic
    link out of its folder, corrupt or from a newer genlab."""
    path = Path(path)
    fileutil.refuse_link_outside(path, path.parent, "checkpoint")
    if not path.exists():
        raise ModelFileError(f"checkpoint {path} does not exist")
    if not path.is_file():  # a directory, or a FIFO / device that torch.load would block on
        raise ModelFileError(f"checkpoint {path} is not a regular file; resume from a checkpoint genlab wrote")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise ModelFileError(
            f"checkpoint {path} is corrupt or truncated ({type(exc).__name__}); "
            "resume from an earlier checkpoint or delete this one"
        ) from exc
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"checkpoint {path} has format {state.get('format_version') if isinstance(state, dict) else '?'}; "
            f"this genlab reads format {FORMAT_VERSION}"
        )
    return state
