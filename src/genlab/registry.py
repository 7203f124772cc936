"""The model registry: one decorator makes a model known to ``genlab.load``, the CLI and the tests.

Adding a model family is one module and one decorator::

    @register_model("vae", config=VAEConfig, description="variational autoencoder")
    class VAE(GenerativeModel): ...

The module must be imported by ``genlab.models`` (its ``__init__`` imports every family).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from .errors import ConfigError, UnknownModelError

if TYPE_CHECKING:
    from .config import BaseConfig
    from .models.base import GenerativeModel


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its name, class, config class, one-line description and preset overrides."""

    name: str
    cls: type
    config_cls: type
    description: str
    preset: tuple[tuple[str, Any], ...] = ()

    def default_config(self, **overrides: Any) -> BaseConfig:
        base = dict(self.preset)
        base.update(overrides)
        return self.config_cls.from_dict(base)

    def build(self, config: BaseConfig | None = None, *, seed: int | None = None, **overrides: Any) -> GenerativeModel:
        """A fresh model. With ``seed`` its initial weights come from that seed and torch's global RNG is
        left untouched; without, they come from the global RNG as for any ``nn.Module``."""
        if config is None:
            config = self.default_config(**overrides)
        else:
            if not isinstance(config, self.config_cls):
                raise ConfigError(
                    f"model {self.name!r} takes a {self.config_cls.__name__}, got {type(config).__name__}"
                )
            if overrides:
                config = config.replace(**overrides)
        if seed is None:
            model = self.cls(config)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = self.cls(config)
        model.registry_name = self.name
        return model


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, *, config: type, description: str, presets: dict[str, dict] | None = None):
    """Class decorator registering a model under ``name`` (and optional named presets).

    Args:
        name: the registry name (``genlab train NAME``); lower-case, unique.
        config: the model's :class:`~genlab.config.BaseConfig` subclass.
        description: one line shown by ``genlab models``.
        presets: extra names that build the same class with some config fields preset, e.g.
            ``{"wgan_gp": {"loss": "wasserstein_gp"}}``; each is listed and saved under its own name.
    """

    def deco(cls: type) -> type:
        for key, preset in {name: {}, **(presets or {})}.items():
            if key in _REGISTRY and _REGISTRY[key].cls is not cls:
                raise ValueError(f"model name {key!r} is already registered by {_REGISTRY[key].cls.__name__}")
            _REGISTRY[key] = ModelEntry(key, cls, config, description, tuple(preset.items()))
        cls.config_class = config
        return cls

    return deco


def _ensure_loaded() -> None:
    from . import models  # noqa: F401  (importing registers every family)


def get_model(name: str) -> ModelEntry:
    """The registry entry for ``name``; :class:`UnknownModelError` with suggestions if absent."""
    _ensure_loaded()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownModelError(
            f"unknown model {name!r}; {hint}known models: {', '.join(sorted(_REGISTRY))} (see `genlab models`)"
        )
    return _REGISTRY[name]


def list_models() -> list[ModelEntry]:
    """Every registered model, sorted by name."""
    _ensure_loaded()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def create(
    name: str, config: BaseConfig | dict | None = None, *, seed: int | None = None, **overrides: Any
) -> GenerativeModel:
    """Build a fresh model by registry name: ``create("vae", latent_dim=8, seed=0)``."""
    entry = get_model(name)
    if isinstance(config, dict):
        config = entry.default_config(**{**config, **overrides})
        overrides = {}
    return entry.build(config, seed=seed, **overrides)
