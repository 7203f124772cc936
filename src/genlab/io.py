"""Portable model directories.

A saved model is a directory of three files:

- ``config.json``: the model's registry name and its config;
- ``model.safetensors``: every parameter and persistent buffer (no pickle anywhere);
- ``meta.json``: format version, genlab / torch / Python versions, the data's shape and value range.

:func:`load` rebuilds the networks from the config through the registry and loads the tensors onto
the CPU, whatever device saved them. Training checkpoints (optimizer states, RNG states, step) are a
separate thing, written by the trainer.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import fileutil
from ._version import __version__
from .data.dataset import DatasetInfo
from .errors import ConfigError, ModelFileError, RunExistsError, UnknownModelError

if TYPE_CHECKING:
    from .models.base import GenerativeModel

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
META_FILE = "meta.json"
MODEL_SUBDIR = "model"  # a run directory keeps its final model here


def save_model(model: GenerativeModel, path: str | Path, overwrite: bool = False) -> Path:
    """Write ``model`` to the directory ``path`` atomically and return the path.

    Raises:
        RunExistsError: ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    if not model.registry_name:
        raise ModelFileError(
            f"{type(model).__name__} is not a registered model (build it with genlab.create or the registry)"
        )
    if path.exists() and not overwrite:
        raise RunExistsError(f"{path} already exists; choose another directory or pass overwrite=True")
    config = {"model": model.registry_name, "config": model.config.to_dict()}
    meta = {
        "format_version": FORMAT_VERSION,
        "model": model.registry_name,
        "class": type(model).__name__,
        "genlab_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "data": model.data_info.to_dict() if model.data_info is not None else None,
    }
    tensors = _state_tensors(model)
    with fileutil.atomic_dir(path, overwrite=True) as tmp:
        fileutil.write_json(tmp / CONFIG_FILE, config)
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"format_version": str(FORMAT_VERSION)})
        fileutil.write_json(tmp / META_FILE, meta)
    return path


def _state_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as contiguous CPU tensors; tensors shared under two names are stored once per name."""
    out = {}
    for k, v in model.state_dict().items():
        out[k] = v.detach().to("cpu").contiguous().clone()
    return out


def resolve_model_dir(path: str | Path) -> Path:
    """``path`` itself if it is a model directory, else ``path/model`` for a run directory."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path} does not exist; pass a model directory or a run directory")
    if not path.is_dir():
        raise ModelFileError(f"{path} is a file; a genlab model is a directory holding {CONFIG_FILE}")
    if not (path / CONFIG_FILE).exists() and (path / MODEL_SUBDIR / CONFIG_FILE).exists():
        return path / MODEL_SUBDIR
    return path


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ModelFileError(
            f"{path.parent} has no {path.name}; it is not a complete genlab model directory "
            f"(expected {CONFIG_FILE}, {WEIGHTS_FILE}, {META_FILE})"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path} is corrupt (not valid JSON: {exc}); re-save or re-train the model") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path} is corrupt (expected a JSON object)")
    return data


def read_meta(path: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a model (or run) directory."""
    return _read_json(resolve_model_dir(path) / META_FILE)


def load(path: str | Path) -> GenerativeModel:
    """Rebuild a saved model from its directory (or a run directory) on the CPU.

    Raises:
        ModelFileError: a file is missing or corrupt, the format is newer than this genlab reads,
            or the tensors do not fit the config.
    """
    from .registry import get_model

    path = resolve_model_dir(path)
    meta = _read_json(path / META_FILE)
    cfg = _read_json(path / CONFIG_FILE)
    fmt = meta.get("format_version")
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION or fmt < 1:
        raise ModelFileError(
            f"{path} was written in model format {fmt!r} by genlab {meta.get('genlab_version', '?')}; this genlab "
            f"({__version__}) reads format {FORMAT_VERSION}: upgrade genlab (pip install -U genlab) to load it"
        )
    name = cfg.get("model")
    try:
        entry = get_model(str(name))
    except UnknownModelError as exc:
        raise ModelFileError(
            f"{path} holds a model {name!r} that this genlab ({__version__}) does not know; "
            f"it was saved by genlab {meta.get('genlab_version', '?')}: install that version"
        ) from exc
    try:
        config = entry.config_cls.from_dict(cfg.get("config", {}))
    except ConfigError as exc:
        raise ModelFileError(f"{path / CONFIG_FILE} does not fit this genlab's {name!r} model: {exc}") from exc
    model = entry.build(config, seed=0)  # seeded: loading never touches torch's global RNG
    weights = path / WEIGHTS_FILE
    if not weights.exists():
        raise ModelFileError(f"{path} has no {WEIGHTS_FILE}; the directory is incomplete: re-save the model")
    try:
        tensors = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{weights} is corrupt or truncated ({exc}); re-save or re-train the model") from exc
    load_state(model, tensors, source=str(weights))
    if meta.get("data"):
        model.data_info = DatasetInfo.from_dict(meta["data"])
    model.eval()
    return model


def load_state(model: torch.nn.Module, tensors: dict[str, torch.Tensor], source: str) -> None:
    """Copy ``tensors`` into ``model``, with a :class:`ModelFileError` on any missing, extra or misshaped tensor."""
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    extra = sorted(set(tensors) - set(own))
    if missing or extra:
        raise ModelFileError(
            f"{source} does not match the model built from its config (missing: {missing[:5]}, "
            f"unexpected: {extra[:5]}); the files come from different models or versions"
        )
    for k, v in own.items():
        if tuple(v.shape) != tuple(tensors[k].shape):
            raise ModelFileError(
                f"{source}: tensor {k!r} has shape {tuple(tensors[k].shape)} but the config builds "
                f"{tuple(v.shape)}; the files come from different models"
            )
    model.load_state_dict(tensors, strict=True)
