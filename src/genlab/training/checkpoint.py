"""Training checkpoints: the whole state of a run, written atomically, read without unpickling code.

Files are ``step-<step>.ckpt`` in the run's ``checkpoints/`` folder, written through
:func:`torch.save` to a temporary name and renamed, and read back with ``weights_only=True`` (tensors,
numbers, strings, lists and dicts only: no arbitrary objects are ever unpickled).

Symbolic links are not followed out of the run: a checkpoint file may only be a link to a file in its own
``checkpoints/`` folder, and that folder may only be a link to a folder inside the run directory; anything
else is refused with a :class:`~genlab.errors.ModelFileError` when a checkpoint is looked for or read.

Here too: what must match for a run to resume from a checkpoint (:func:`check_compatible`), and the part of the
state that differs per process of a data-parallel run (:func:`rank_state`, :func:`restore_rank_state`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from .. import fileutil
from ..errors import ModelFileError, TrainingError

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


def check_compatible(
    state: dict[str, Any],
    path: Path,
    model: Any,
    *,
    batch_size: int,
    n_samples: int,
    seed: int | None,
    world_size: int,
    n_optimizers: int,
) -> None:
    """Refuse to resume from ``state`` when the run differs from the one that wrote it.

    A different model or config is a :class:`ModelFileError`; a different batch size, data size or seed a
    :class:`TrainingError`. A different process count is allowed only with the same global batch size, and the
    batch-size message says so when the process count differs.
    """
    if state["model_name"] != model.registry_name or state["model_config"] != model.config.to_dict():
        raise ModelFileError(
            f"checkpoint {path} belongs to a {state['model_name']!r} model with another config; "
            "resume with the model and config that wrote it"
        )
    saved_world = int(state.get("world_size", 1))
    for key, mine in (("batch_size", batch_size), ("n_samples", n_samples), ("seed", seed)):
        if state[key] != mine:
            more = ""
            if key == "batch_size" and saved_world != world_size:
                more = (
                    f" (it ran as {saved_world} process(es), this run as {world_size}: a different process "
                    "count may resume only with the same global batch size)"
                )
            raise TrainingError(
                f"checkpoint {path} was written with {key}={state[key]} but this run has {key}={mine}{more}; "
                "resume with the same data, batch size and seed"
            )
    if len(state["optimizers"]) != n_optimizers:
        raise ModelFileError(
            f"checkpoint {path} holds {len(state['optimizers'])} optimizer states, the model has {n_optimizers}"
        )


def rank_state(model: Any, device: torch.device) -> dict[str, Any]:
    """What differs between the processes of a data-parallel run: their random states and buffers."""
    state = {
        "model_rng": model.generator.get_state(),
        "global_rng": torch.get_rng_state(),
        "buffers": {k: v.detach().cpu() for k, v in model.named_buffers()},
    }
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    return state


def restore_rank_state(state: dict[str, Any], rank: int, model: Any, device: torch.device) -> None:
    """Give process ``rank`` back its random states and buffers from a checkpoint.

    A one-process checkpoint restores rank 0; a rank the saved run did not have keeps the fresh noise stream
    of its own seed (the model, optimizers and batch order are shared and were restored already).
    """
    saved = state.get("ranks")
    if saved is not None and rank < len(saved):
        mine = saved[rank]
    elif rank == 0:
        mine = {"model_rng": state["model_rng"], "global_rng": state["global_rng"]}
    else:
        return
    model.generator.set_state(mine["model_rng"])
    torch.set_rng_state(mine["global_rng"])
    if "cuda_rng" in mine and device.type == "cuda":
        torch.cuda.set_rng_state(mine["cuda_rng"], device)
    with torch.no_grad():
        own = dict(model.named_buffers())
        for k, v in mine.get("buffers", {}).items():
            if k in own and own[k].shape == v.shape:
                own[k].copy_(v)
