"""Strict, typed model configurations.

Each model has one dataclass deriving from :class:`BaseConfig`. Field types are checked from the
annotations (``int``, ``float``, ``bool``, ``str``, ``Literal[...]``, ``tuple[int, ...]``, ``X | None``)
and ranges from :func:`param` metadata, when the config is created and whenever it is read from a
dict, JSON file or ``key=value`` strings. A misspelled key or an out-of-range value is a
:class:`~genlab.errors.ConfigError` naming the field, never a silent default.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import numbers
import types
import typing
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from .errors import ConfigError

C = TypeVar("C", bound="BaseConfig")

# Upper bounds on the sizes a config may ask for. They are far above anything genlab's models need (a
# deep-learning course, a CPU, the published tables) and exist so that a mistyped or hostile value (a width
# of 10**8 in a config.json or a ``--set``) is a ConfigError naming the field instead of an allocator crash.
MAX_WIDTH = 65_536
"""Widths, channels, latent sizes, hidden units, vocabulary and class counts."""
MAX_LAYERS = 256
"""Layers: entries of a widths tuple, transformer blocks, coupling layers."""
MAX_SAMPLE_SIZE = 2**24
"""Values in one sample (the product of ``data_shape``), e.g. 4096 x 4096 pixels."""
MAX_SAMPLE_DIMS = 8
"""Axes of one sample (``len(data_shape)``)."""
MAX_STEPS = 100_000
"""Iterations inside one update or one draw: Gibbs / mean-field steps, importance or predictive samples."""
MAX_CHAINS = 65_536
"""Persistent Markov chains (each one is a stored sample)."""
MAX_COPIES = 1_024
"""Networks or masks a model keeps side by side (ensemble members, MADE masks)."""


def param(
    default: Any = MISSING,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    max_len: int | None = None,
    max_product: int | None = None,
    help: str = "",
) -> Any:
    """A config field with an optional numeric range and a help text (shown by ``genlab models -v``).

    The range bounds apply to a number, or to each entry of a tuple. ``max_len`` bounds the number of
    entries of a tuple and ``max_product`` the product of its entries (e.g. the values in one sample).
    """
    meta = {"ge": ge, "gt": gt, "le": le, "lt": lt, "max_len": max_len, "max_product": max_product, "help": help}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple for sequence defaults: configs are value objects")
    return field(default=default, metadata=meta)


def shape_param(default: tuple[int, ...], help: str = "shape of one sample") -> Any:
    """The ``data_shape`` field every model has: positive sizes, at most ``MAX_SAMPLE_DIMS`` axes and
    ``MAX_SAMPLE_SIZE`` values in all."""
    return param(default, ge=1, max_len=MAX_SAMPLE_DIMS, max_product=MAX_SAMPLE_SIZE, help=help)


@dataclass(frozen=True)
class BaseConfig:
    """Base of every model config: validated on creation, immutable, round-trips through dicts and JSON.

    Subclasses are declared ``@dataclass(frozen=True)``; change a config with :meth:`replace`.
    """

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            value = _coerce(getattr(self, f.name), hints[f.name], f"{type(self).__name__}.{f.name}")
            _check_range(value, f, f"{type(self).__name__}.{f.name}")
            object.__setattr__(self, f.name, value)
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; subclasses override and raise :class:`ConfigError`."""

    # --- conversions -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls: type[C], d: dict[str, Any]) -> C:
        if not isinstance(d, dict):
            raise ConfigError(f"{cls.__name__} must be built from a mapping of field names, got {type(d).__name__}")
        names = [f.name for f in dataclasses.fields(cls)]
        for key in d:
            if key not in names:
                raise ConfigError(_unknown_key_message(cls, key, names))
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls: type[C], text_or_path: str | Path) -> C:
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            path = Path(text_or_path)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config is not valid JSON ({exc.msg} at line {exc.lineno}); fix the file") from exc
        except RecursionError as exc:
            raise ConfigError("config is nested too deeply to be a genlab config; fix the file") from exc
        return cls.from_dict(data)

    def replace(self: C, **changes: Any) -> C:
        """A copy with some fields changed (validated like a new config)."""
        names = [f.name for f in dataclasses.fields(self)]
        for key in changes:
            if key not in names:
                raise ConfigError(_unknown_key_message(type(self), key, names))
        return dataclasses.replace(self, **changes)

    def with_overrides(self: C, assignments: list[str] | tuple[str, ...]) -> C:
        """Apply ``key=value`` strings (as given to ``genlab train --set``).

        Values are parsed as JSON where possible (``latent_dim=8``, ``hidden_dims=[200,200]``,
        ``beta=0.5``, ``likelihood=gaussian``); comma-separated numbers become tuples.
        """
        changes = {}
        hints = _hints(type(self))
        for item in assignments:
            if "=" not in item:
                raise ConfigError(f"--set expects key=value, got {item!r}")
            key, raw = (part.strip() for part in item.split("=", 1))
            value = parse_value(raw)
            if key in hints and not isinstance(value, str) and _takes_string(hints[key], raw):
                value = raw  # e.g. a string option whose value looks like a number
            changes[key] = value
        return self.replace(**changes)

    @classmethod
    def describe(cls) -> list[tuple[str, str, Any, str]]:
        """``(name, type, default, help)`` for each field."""
        hints = _hints(cls)
        rows = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not MISSING else None
            rows.append((f.name, _type_name(hints[f.name]), default, f.metadata.get("help", "")))
        return rows


def parse_value(raw: str) -> Any:
    """Parse a command-line value: JSON if it parses, ``a,b,c`` as a tuple, else the string."""
    lowered = raw.lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        v = json.loads(raw)
    except json.JSONDecodeError:
        if "," in raw:
            return tuple(parse_value(p.strip()) for p in raw.split(",") if p.strip())
        return raw
    return tuple(v) if isinstance(v, list) else v


# --- type checking -------------------------------------------------------------------------------
_HINT_CACHE: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINT_CACHE:
        _HINT_CACHE[cls] = typing.get_type_hints(cls)
    return _HINT_CACHE[cls]


def _takes_string(tp: Any, raw: str) -> bool:
    """Whether a field of type ``tp`` accepts the literal string ``raw`` (and not what it parses to)."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if raw.lower() in ("none", "null") and type(None) in get_args(tp):
            return False
        return any(_takes_string(a, raw) for a in get_args(tp))
    if origin is Literal:
        return raw in get_args(tp)
    return tp is str


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "|".join(repr(a) for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(tp))
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"tuple[{_type_name(args[0])}, ...]"
        return "tuple[" + ", ".join(_type_name(a) for a in args) + "]"
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(f"{where} must not be None (expected {_type_name(tp)})")
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{where} = {value!r} is not a valid {_type_name(tp)}")
    if origin is Literal:
        options = get_args(tp)
        if value in options:
            return value
        lowered = {str(o).lower(): o for o in options}
        close = difflib.get_close_matches(str(value).lower(), list(lowered), n=1)
        hint = f"; did you mean {lowered[close[0]]!r}?" if close else ""
        raise ConfigError(f"{where} = {value!r} is not one of {', '.join(repr(o) for o in options)}{hint}")
    if origin is tuple:
        args = get_args(tp)
        if isinstance(value, (list, tuple)):
            items = list(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            items = [value]
        else:
            raise ConfigError(f"{where} must be a sequence ({_type_name(tp)}), got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(items))
        if len(items) != len(args):
            raise ConfigError(f"{where} needs {len(args)} values ({_type_name(tp)}), got {len(items)}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(items, args, strict=True)))
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if tp is int:  # numpy integers (e.g. from a GridSearchCV grid) count as integers
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)  # int() of Infinity / NaN (valid in Python's JSON) would raise
            or int(value) != value
        ):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    if tp is Any:
        return value
    raise TypeError(f"unsupported config field type {tp!r} at {where}")


def _check_range(value: Any, f: dataclasses.Field, where: str) -> None:
    meta = f.metadata
    if not meta:
        return
    if isinstance(value, tuple):
        max_len = meta.get("max_len")
        if max_len is not None and len(value) > max_len:
            raise ConfigError(f"{where} has {len(value)} entries; at most {max_len} are supported")
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        for key, ok, word in (
            ("ge", lambda a, b: a >= b, ">="),
            ("gt", lambda a, b: a > b, ">"),
            ("le", lambda a, b: a <= b, "<="),
            ("lt", lambda a, b: a < b, "<"),
        ):
            bound = meta.get(key)
            if bound is not None and not ok(v, bound):
                raise ConfigError(f"{where} = {short_repr(value)} must be {word} {bound}")
    max_product = meta.get("max_product")
    if max_product is not None and isinstance(value, tuple):
        size = math.prod(v for v in value if isinstance(v, int) and not isinstance(v, bool))
        if size > max_product:
            raise ConfigError(
                f"{where} = {short_repr(value)} holds {size} values in all; at most {max_product} are supported"
            )


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, shortened for messages (a hostile config may hold a tuple of a million entries)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + " ...)"


def _unknown_key_message(cls: type, key: str, names: list[str]) -> str:
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{cls.__name__} has no option {key!r}; {hint}valid options: {', '.join(names)}"
