"""Portable model directories.

A saved model is a directory of three files:

- ``config.json``: the model's registry name and its config;
- ``model.safetensors``: every parameter and persistent buffer (no pickle anywhere);
- ``meta.json``: format version, genlab / torch / Python versions, the data's shape and value range.

:func:`load` rebuilds the networks from the config through the registry and loads the tensors onto
the CPU, whatever device saved them. Training checkpoints (optimizer states, RNG states, step) are a
separate thing, written by the trainer.

Loading treats a directory as untrusted input: it never crashes with a traceback, hangs or exhausts
memory on a broken or hostile one, but raises :class:`~genlab.errors.ModelFileError` saying what is wrong.
Both JSON files are validated strictly (unknown keys, wrong types and out-of-range values are errors); the
safetensors header is read (bounded) and every tensor's name, dtype and shape is compared with a copy of
the model built on the ``meta`` device (no memory) *before* any tensor or real network is allocated;
NaN / infinite weights are refused; and no file is read through a symbolic link that leads out of the
model directory.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import platform
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import fileutil
from ._version import __version__
from .config import MAX_SAMPLE_DIMS, MAX_SAMPLE_SIZE, MAX_WIDTH
from .config import short_repr as _short
from .data.dataset import DatasetInfo
from .errors import ConfigError, DataError, GenlabError, ModelFileError, RunExistsError, UnknownModelError

if TYPE_CHECKING:
    from .models.base import GenerativeModel
    from .registry import ModelEntry

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
META_FILE = "meta.json"
MODEL_SUBDIR = "model"  # a run directory keeps its final model here

MAX_JSON_BYTES = 16 * 2**20
"""Largest ``config.json`` / ``meta.json`` read (genlab writes a few kB)."""
MAX_HEADER_BYTES = 64 * 2**20
"""Largest safetensors header read (its JSON table of tensor names, dtypes, shapes and offsets)."""
MAX_MODEL_BYTES = 8 * 2**30
"""Largest model :func:`load` builds (parameters and buffers); raise it to load a bigger model on purpose."""

_META_TYPES: dict[str, type | tuple[type, ...]] = {
    "format_version": int,
    "model": str,
    "class": str,
    "genlab_version": str,
    "torch_version": str,
    "python_version": str,
    "created": str,
    "data": object,  # null, or a DatasetInfo mapping: see data_info_from_dict
}
_DATA_KEYS = ("name", "sample_shape", "value_range", "class_names", "source", "table", "source_shape", "pairing")

# safetensors dtype names (https://github.com/huggingface/safetensors, "dtype" in the header)
_ST_DTYPES: dict[str, torch.dtype] = {
    name: getattr(torch, attr)
    for name, attr in {
        "F64": "float64",
        "F32": "float32",
        "F16": "float16",
        "BF16": "bfloat16",
        "I64": "int64",
        "I32": "int32",
        "I16": "int16",
        "I8": "int8",
        "U64": "uint64",
        "U32": "uint32",
        "U16": "uint16",
        "U8": "uint8",
        "BOOL": "bool",
        "F8_E4M3": "float8_e4m3fn",
        "F8_E5M2": "float8_e5m2",
        "C64": "complex64",
    }.items()
    if hasattr(torch, attr)
}
_FIX = "re-save the model (or re-train it) with genlab"


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


# --- the directory and its files -----------------------------------------------------------------
def resolve_model_dir(path: str | Path) -> Path:
    """``path`` itself if it is a model directory, else ``path/model`` for a run directory.

    ``path`` itself may be a symbolic link; a ``model`` folder inside a run directory may only be a link
    to a folder inside that run directory.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path} does not exist; pass a model directory or a run directory")
    if not path.is_dir():
        raise ModelFileError(f"{path} is a file; a genlab model is a directory holding {CONFIG_FILE}")
    sub = path / MODEL_SUBDIR
    if not (path / CONFIG_FILE).exists() and (sub / CONFIG_FILE).exists():
        fileutil.refuse_link_outside(sub, path)
        return sub
    return path


def _member(root: Path, name: str, what: str) -> Path:
    """``root/name`` if it is a regular file that stays inside ``root``; else a :class:`ModelFileError`."""
    path = root / name
    if not path.exists() and not path.is_symlink():
        if name in (CONFIG_FILE, META_FILE):
            raise ModelFileError(_not_a_model_dir(root, f"no {name}"))
        raise ModelFileError(
            f"{root} has no {name}; it is not a complete genlab model directory (expected {CONFIG_FILE}, "
            f"{WEIGHTS_FILE}, {META_FILE}): {_FIX}"
        )
    fileutil.refuse_link_outside(path, root)
    if not path.is_file():  # a directory, a FIFO (reading it would hang), a device, a dangling link
        raise ModelFileError(f"{path} is not a regular file, so it cannot be the model's {what}: {_FIX}")
    return path


def _not_a_model_dir(root: Path, why: str) -> str:
    return (
        f"{root} is not a genlab model directory ({why}); pass the directory genlab.save, model.save or "
        f"`genlab train` wrote (it holds {CONFIG_FILE}, {WEIGHTS_FILE} and {META_FILE}), or a run directory "
        f"with a {MODEL_SUBDIR}/ folder"
    )


def _read_json(root: Path, name: str) -> dict[str, Any]:
    path = _member(root, name, "JSON description")
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ModelFileError(
            f"{path} is {size} bytes, far more than a genlab {name} ({MAX_JSON_BYTES} bytes at most): "
            f"it is not one; {_FIX}"
        )
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_JSON_BYTES + 1)
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path} is corrupt (not valid JSON: {exc}); {_FIX}") from exc
    except RecursionError as exc:
        raise ModelFileError(f"{path} is corrupt (JSON nested too deeply); {_FIX}") from exc
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path} is corrupt (expected a JSON object, got {type(data).__name__}); {_FIX}")
    return data


def _read_config(root: Path) -> tuple[str, dict[str, Any]]:
    """``(model name, config mapping)`` from ``config.json``, checked for its structure only."""
    doc = _read_json(root, CONFIG_FILE)
    path = root / CONFIG_FILE
    if "model" not in doc or "config" not in doc:
        raise ModelFileError(_not_a_model_dir(root, f"its {CONFIG_FILE} has no 'model' and 'config' entries"))
    extra = sorted(set(doc) - {"model", "config"})
    if extra:
        raise ModelFileError(f"{path} has unknown entries {extra[:5]} (genlab writes 'model' and 'config'); {_FIX}")
    if not isinstance(doc["model"], str):
        raise ModelFileError(f"{path}: 'model' must be a model name (a string), got {_short(doc['model'])}; {_FIX}")
    if not isinstance(doc["config"], dict):
        raise ModelFileError(f"{path}: 'config' must be a JSON object of options, got {_short(doc['config'])}")
    return doc["model"], doc["config"]


def _read_meta(root: Path) -> dict[str, Any]:
    """``meta.json`` with its format version checked (other entries: :func:`_check_meta`)."""
    meta = _read_json(root, META_FILE)
    if "format_version" not in meta:
        raise ModelFileError(_not_a_model_dir(root, f"its {META_FILE} has no format_version"))
    fmt = meta["format_version"]
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
        raise ModelFileError(
            f"{root / META_FILE} is corrupt: format_version must be a positive integer, got {_short(fmt)}; {_FIX}"
        )
    if fmt > FORMAT_VERSION:
        version = meta.get("genlab_version")
        by = f" by genlab {version}" if isinstance(version, str) else ""
        raise ModelFileError(
            f"{root} was written in model format {fmt}{by}; this genlab ({__version__}) reads format "
            f"{FORMAT_VERSION}: upgrade genlab (pip install -U genlab) to load it"
        )
    return meta


def _check_meta(meta: dict[str, Any], path: Path, model_name: str | None) -> DatasetInfo | None:
    """Validate every entry of a ``meta.json``; the recorded data's :class:`DatasetInfo` (or ``None``)."""
    for key, value in meta.items():
        if key not in _META_TYPES:
            raise ModelFileError(f"{path} has an unknown entry {_short(key)} (known: {', '.join(_META_TYPES)}); {_FIX}")
        want = _META_TYPES[key]
        if key == "data":  # checked entry by entry below
            continue
        if not isinstance(value, want) or isinstance(value, bool):
            names = " or ".join(t.__name__ for t in (want if isinstance(want, tuple) else (want,)))
            raise ModelFileError(f"{path}: {key} must be {names.replace('NoneType', 'null')}, got {_short(value)}")
    if "model" not in meta:
        raise ModelFileError(f"{path} does not name its model (no 'model' entry); {_FIX}")
    if model_name is not None and meta["model"] != model_name:
        raise ModelFileError(
            f"{path} describes a {meta['model']!r} model but {CONFIG_FILE} holds a {model_name!r} model: "
            f"the files come from different models; {_FIX}"
        )
    data = meta.get("data")
    return None if data is None else data_info_from_dict(data, f"{path}: data")


def data_info_from_dict(d: Any, where: str = "data") -> DatasetInfo:
    """A :class:`DatasetInfo` from its ``to_dict`` form, validated as strictly as a config.

    ``name`` and ``source`` are strings, ``sample_shape`` a list of positive integers (at most
    ``MAX_SAMPLE_DIMS`` of them, ``MAX_SAMPLE_SIZE`` values in all), ``value_range`` two finite numbers
    ``low <= high``, ``class_names`` ``null`` or a list of strings; no other keys.

    Raises:
        ModelFileError: naming ``where`` and the bad entry.
    """
    fix = "re-save the model, or correct the file by hand"

    def bad(msg: str) -> ModelFileError:
        return ModelFileError(f"{where}: {msg}; {fix}")

    if not isinstance(d, dict):
        raise bad(f"must be a JSON object, got {_short(d)}")
    for key in d:
        if key not in _DATA_KEYS:
            raise bad(f"unknown entry {_short(key)} (known: {', '.join(_DATA_KEYS)})")
    for key in ("name", "sample_shape", "value_range"):
        if key not in d:
            raise bad(f"the entry {key!r} is missing")
    for key in ("name", "source"):
        if key in d and not isinstance(d[key], str):
            raise bad(f"{key} must be a string, got {_short(d[key])}")

    def checked_shape(key: str) -> list[int]:
        shape = d[key]
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_SAMPLE_DIMS
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)
        ):
            raise bad(f"{key} must be a list of at most {MAX_SAMPLE_DIMS} positive integers, got {_short(shape)}")
        if math.prod(shape) > MAX_SAMPLE_SIZE:
            raise bad(f"{key} {_short(shape)} holds more than {MAX_SAMPLE_SIZE} values per sample")
        return shape

    shape = checked_shape("sample_shape")
    source_shape = checked_shape("source_shape") if d.get("source_shape") is not None else None
    pairing = d.get("pairing")
    if pairing not in ((None,) if source_shape is None else ("paired", "unpaired")):
        raise bad(f"pairing must be 'paired' or 'unpaired' with a source_shape (else absent), got {_short(pairing)}")
    vr = d["value_range"]
    if (
        not isinstance(vr, list)
        or len(vr) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in vr)
        or vr[0] > vr[1]
    ):
        raise bad(f"value_range must be [low, high], two finite numbers with low <= high, got {_short(vr)}")
    names = d.get("class_names")
    if names is not None and (
        not isinstance(names, list) or len(names) > MAX_WIDTH or not all(isinstance(n, str) for n in names)
    ):
        raise bad(f"class_names must be null or a list of at most {MAX_WIDTH} strings, got {_short(names)}")
    table = d.get("table")
    if table is not None:
        from .tabular.transform import TableTransform

        try:
            transform = TableTransform.from_dict(table, where="table")
        except DataError as exc:
            raise bad(str(exc)) from exc
        if (transform.width,) != tuple(shape):
            raise bad(f"the table transform encodes {transform.width} values per row but sample_shape is {shape}")
    return DatasetInfo(
        name=d["name"],
        sample_shape=tuple(shape),
        value_range=(float(vr[0]), float(vr[1])),
        class_names=tuple(names) if names is not None else None,
        source=d.get("source", ""),
        table=table,
        source_shape=tuple(source_shape) if source_shape is not None else None,
        pairing=pairing,
    )


def read_meta(path: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a model (or run) directory, validated (see :func:`load`)."""
    root = resolve_model_dir(path)
    meta = _read_meta(root)
    _check_meta(meta, root / META_FILE, None)
    return meta


# --- the tensors ---------------------------------------------------------------------------------
def read_safetensors_header(path: str | Path) -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
    """``{name: (dtype, shape)}`` of every tensor in a safetensors file, read from its header alone.

    The header (8 bytes of length, then a JSON table) is bounded by ``MAX_HEADER_BYTES`` and must describe
    tensors that exactly tile the rest of the file, so nothing is allocated for a tensor the file does not
    hold.

    Raises:
        ModelFileError: the file is truncated, is not a safetensors file, or its header is inconsistent.
    """
    path = Path(path)
    bad = f"{path} is corrupt or truncated"
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ModelFileError(f"{bad} ({size} bytes, less than a safetensors header); {_FIX}")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES or 8 + n > size:
                raise ModelFileError(
                    f"{bad}: it announces a {n}-byte header but holds {size} bytes (at most {MAX_HEADER_BYTES} "
                    f"are read); it is not a safetensors file genlab wrote: {_FIX}"
                )
            raw = fh.read(n)
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{bad} (its header is not valid JSON); {_FIX}") from exc
    if not isinstance(header, dict):
        raise ModelFileError(f"{bad} (its header is not a JSON object); {_FIX}")
    out: dict[str, tuple[torch.dtype, tuple[int, ...]]] = {}
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        ok = isinstance(entry, dict) and set(entry) == {"dtype", "shape", "data_offsets"}
        dtype = _ST_DTYPES.get(entry.get("dtype")) if ok else None
        shape, offsets = (entry.get("shape"), entry.get("data_offsets")) if ok else (None, None)
        if (
            dtype is None
            or not _ints(shape, minimum=0)
            or not _ints(offsets, minimum=0)
            or len(offsets) != 2
            or offsets[1] - offsets[0] != math.prod(shape) * dtype.itemsize
        ):
            raise ModelFileError(f"{bad}: the header entry of tensor {_short(name)} is invalid ({_short(entry)})")
        out[name] = (dtype, tuple(shape))
        spans.append((offsets[0], offsets[1], name))
    end = 0
    for begin, stop, name in sorted(spans):
        if begin != end:
            raise ModelFileError(f"{bad}: tensor {name!r} does not start where the one before it ends")
        end = stop
    if end != size - 8 - n:
        raise ModelFileError(
            f"{bad}: its header describes {end} bytes of tensor data but {size - 8 - n} follow it; {_FIX}"
        )
    return out


def _ints(v: Any, minimum: int) -> bool:
    return isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= minimum for i in v)


@contextlib.contextmanager
def _recording_sizes() -> Iterator[dict[tuple[int, str], int]]:
    """Record the bytes of every parameter and buffer registered on any module inside the block."""
    from torch.nn.modules import module as _module

    sizes: dict[tuple[int, str], int] = {}
    keep: list[torch.nn.Module] = []  # ids stay unique while the modules are alive

    def hook(mod: torch.nn.Module, name: str, tensor: torch.Tensor | None) -> None:
        if isinstance(tensor, torch.Tensor):
            keep.append(mod)
            sizes[(id(mod), name)] = tensor.numel() * tensor.element_size()

    handles = [
        _module.register_module_parameter_registration_hook(hook),
        _module.register_module_buffer_registration_hook(hook),
    ]
    try:
        yield sizes
    finally:
        for h in handles:
            h.remove()


def _expected_state(entry: ModelEntry, config: Any, where: Path) -> tuple[dict[str, Any] | None, int]:
    """``({name: (dtype, shape)} of the state dict or None, bytes of all parameters and buffers)``.

    The model is built on the ``meta`` device, which allocates nothing. A model whose constructor
    needs real values (e.g. ``.item()``) cannot be built there: then only the bytes it registered before
    failing are known (a lower bound), and the caller compares the tensors with the real model instead.
    """
    with _recording_sizes() as sizes:
        try:
            with torch.device("meta"):
                model = entry.build(config, seed=0)
        except GenlabError as exc:
            raise ModelFileError(f"{where / CONFIG_FILE} does not describe a model genlab can build: {exc}") from exc
        except Exception:  # data-dependent constructors (.item()) fail on meta tensors: use the bound
            return None, sum(sizes.values())
    state = {k: (v.dtype, tuple(v.shape)) for k, v in model.state_dict().items()}
    return state, max(sum(sizes.values()), sum(math.prod(s) * d.itemsize for d, s in state.values()))


def _match(expected: dict[str, Any], found: dict[str, Any], source: str) -> None:
    """Compare ``{name: (dtype, shape)}`` tables; :class:`ModelFileError` naming the first difference."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise ModelFileError(
            f"{source} does not match the model built from its config (missing: {missing[:5]}, "
            f"unexpected: {extra[:5]}); the files come from different models or versions: {_FIX}"
        )
    for k, (dtype, shape) in expected.items():
        f_dtype, f_shape = found[k]
        if tuple(f_shape) != tuple(shape):
            raise ModelFileError(
                f"{source}: tensor {k!r} has shape {tuple(f_shape)} but the config builds {tuple(shape)}; "
                f"the files come from different models (or one was edited): {_FIX}"
            )
        if f_dtype != dtype:
            raise ModelFileError(
                f"{source}: tensor {k!r} is {str(f_dtype).removeprefix('torch.')} but the model holds "
                f"{str(dtype).removeprefix('torch.')}; the files come from different models: {_FIX}"
            )


def check_finite(tensors: dict[str, torch.Tensor], source: str) -> None:
    """:class:`ModelFileError` naming the first floating-point tensor that holds NaN or infinite values."""
    for k, v in tensors.items():
        if (v.is_floating_point() or v.is_complex()) and not bool(torch.isfinite(v).all()):
            n_nan, n_inf = int(torch.isnan(v).sum()), int(torch.isinf(v).sum())
            raise ModelFileError(
                f"{source}: tensor {k!r} holds {n_nan} NaN and {n_inf} infinite value(s) (of {v.numel()}); the "
                "model diverged or the file was damaged: re-train it, or pass allow_nonfinite=True to load it anyway"
            )


def load(path: str | Path, *, allow_nonfinite: bool = False) -> GenerativeModel:
    """Rebuild a saved model from its directory (or a run directory) on the CPU.

    The directory is checked before anything big is allocated: ``config.json`` (its options validated
    like any config, so sizes are bounded), then ``meta.json`` (format version; every entry, the data's
    shape and value range included), then the safetensors header against the model built on the ``meta``
    device (names, dtypes, shapes; at most ``MAX_MODEL_BYTES``). Only then are the tensors read, checked
    for NaN / infinite values, and copied into the real model.

    Symbolic links: ``path`` itself may be one, but the files inside it (and a run directory's ``model``
    folder) may only link to files inside the same directory; a link that leads out of it is refused.

    Args:
        path: a model directory, or a run directory holding ``model/``.
        allow_nonfinite: load weights holding NaN or infinite values instead of refusing them (to inspect a
            diverged model).

    Raises:
        ModelFileError: not a genlab model directory; a file is missing, corrupt, a link out of the
            directory or not a regular file; the format is newer than this genlab reads; an entry of the
            JSON files is invalid; the tensors do not fit the config; the weights are not finite.
    """
    from .registry import get_model

    root = resolve_model_dir(path)
    name, cfg = _read_config(root)
    meta = _read_meta(root)
    try:
        entry = get_model(name)
    except UnknownModelError as exc:
        version = meta.get("genlab_version")
        by = f"genlab {version}" if isinstance(version, str) else "another genlab"
        raise ModelFileError(
            f"{root} holds a model {name!r} that this genlab ({__version__}) does not know; "
            f"it was saved by {by}: install that version"
        ) from exc
    try:
        config = entry.config_cls.from_dict(cfg)
    except ConfigError as exc:
        raise ModelFileError(f"{root / CONFIG_FILE} does not fit this genlab's {name!r} model: {exc}") from exc
    info = _check_meta(meta, root / META_FILE, name)
    weights = _member(root, WEIGHTS_FILE, "weights")
    source = str(weights)
    header = read_safetensors_header(weights)
    expected, n_bytes = _expected_state(entry, config, root)
    if expected is not None:  # a mismatch says more (files from different models) than the size
        _match(expected, header, source)
    if n_bytes > MAX_MODEL_BYTES:
        raise ModelFileError(
            f"{root / CONFIG_FILE} describes a model of {n_bytes / 2**30:.1f} GiB or more, above the "
            f"{MAX_MODEL_BYTES / 2**30:.0f} GiB genlab.io.MAX_MODEL_BYTES allows; if it is meant to be that big, "
            "raise genlab.io.MAX_MODEL_BYTES and load it again"
        )
    try:
        model = entry.build(config, seed=0)  # seeded: loading never touches torch's global RNG
    except GenlabError as exc:
        raise ModelFileError(f"{root / CONFIG_FILE} does not describe a model genlab can build: {exc}") from exc
    except (RuntimeError, ValueError, TypeError, IndexError, MemoryError) as exc:
        raise ModelFileError(
            f"{root / CONFIG_FILE} does not describe a model genlab can build ({type(exc).__name__}: {exc}); {_FIX}"
        ) from exc
    if expected is None:  # the meta build failed: check the header against the real model before reading
        _match({k: (v.dtype, tuple(v.shape)) for k, v in model.state_dict().items()}, header, source)
    try:
        tensors = load_file(source, device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{weights} is corrupt or truncated ({exc}); {_FIX}") from exc
    if not allow_nonfinite:
        check_finite(tensors, source)
    load_state(model, tensors, source=source)
    model.data_info = info
    model.eval()
    return model


def load_state(model: torch.nn.Module, tensors: dict[str, torch.Tensor], source: str) -> None:
    """Copy ``tensors`` into ``model``, with a :class:`ModelFileError` on any missing, extra, misshaped or
    mistyped tensor."""
    own = model.state_dict()
    _match(
        {k: (v.dtype, tuple(v.shape)) for k, v in own.items()},
        {k: (v.dtype, tuple(v.shape)) for k, v in tensors.items()},
        source,
    )
    model.load_state_dict(tensors, strict=True)
