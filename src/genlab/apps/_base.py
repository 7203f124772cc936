"""What every application shares: an autoencoder trained through the one trainer on (optionally standardized) data.

:class:`AutoencoderApp` builds a registered autoencoder for the shape of the data, fits a
:class:`Standardizer` when the model reconstructs real values, trains through :class:`~genlab.Trainer`,
maps new data through the same scaling, and saves / loads itself as a directory: the model directory
(``model/``, see :mod:`genlab.io`) and ``app.json`` (settings and fitted scalars). Nothing is pickled on
disk; pickling in memory (joblib, :func:`copy.deepcopy`) rebuilds the networks from their config.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from .. import fileutil, io
from .._version import __version__
from ..data.dataset import DatasetInfo, check_samples
from ..errors import ConfigError, DataError, GenlabError, ModelFileError, RunExistsError
from ..models.base import GenerativeModel
from ..registry import get_model, list_models
from ..training.callbacks import ProgressBar
from ..training.layerwise import pretrain_layerwise, supports_layerwise
from ..training.trainer import Trainer
from ._common import Standardizer, plain, same_shape

APP_FILE = "app.json"
APP_FORMAT_VERSION = 1
_AUTOENCODER_METHODS = ("encode", "decode", "reconstruct", "score")
#: rows per forward pass at inference (memory stays bounded whatever the data size)
INFERENCE_BATCH = 1024


class NotFittedError(GenlabError, SklearnNotFittedError):
    """An application was used before :meth:`AutoencoderApp.fit` (or :meth:`AutoencoderApp.load`).

    It is also scikit-learn's ``NotFittedError`` (a ``ValueError`` and an ``AttributeError``).
    """


def autoencoder_names() -> list[str]:
    """Registry names of the models the applications accept (they have encode, decode, reconstruct, score)."""
    return [e.name for e in list_models() if all(hasattr(e.cls, m) for m in _AUTOENCODER_METHODS)]


class AutoencoderApp:
    """Base of the applications: a registered autoencoder trained on the data, and the scaling of its inputs.

    Args:
        model: registry name of an autoencoder (``ae``, ``sparse_ae``, ``denoising_ae``, ``vae``,
            ``stacked_ae``...; see :func:`autoencoder_names`).
        latent_dim: code size (``None``: the model's default). For ``stacked_ae`` it is the last layer width.
        hidden_dims: encoder widths (the decoder mirrors them); ``None``: the model's default.
        lr: learning rate; ``None``: the model's default.
        epochs: training epochs.
        batch_size: samples per training step.
        seed: seeds the model's initial weights, the batch order and every random draw (training noise,
            splits, Monte-Carlo scores): the same seed gives the same numbers.
        standardize: ``True``, ``False`` or ``"auto"``: standardize each feature with the training mean and
            standard deviation before the model sees it. ``"auto"`` standardizes tabular data ``(N, d)`` when
            the model reconstructs real values (``loss="mse"``, Gaussian likelihood) and leaves images
            ``(N, C, H, W)`` as they are (e.g. in [0, 1] for a Bernoulli / BCE model).
        verbose: show a progress bar while training.
        model_params: other fields of the model's config, e.g. ``{"architecture": "conv"}``.
        device: where to train, ``"auto"`` (a GPU when there is one), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or
            ``"mps"``. The fitted model stays there; inputs and results are CPU tensors either way.
    """

    #: config fields the application sets itself (subclasses); users may not set them in ``model_params``
    _reserved: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        model: str = "ae",
        *,
        latent_dim: int | None = None,
        hidden_dims: Sequence[int] | None = None,
        lr: float | None = None,
        epochs: int = 20,
        batch_size: int = 128,
        seed: int = 0,
        standardize: bool | Literal["auto"] = "auto",
        verbose: bool = False,
        model_params: dict[str, Any] | None = None,
        device: str = "auto",
    ) -> None:
        if not isinstance(model, str):
            raise ConfigError(f"model must be the registry name of an autoencoder, e.g. 'ae', got {model!r}")
        if model_params is not None and not isinstance(model_params, dict):
            raise ConfigError(f"model_params must be a dict of config fields or None, got {model_params!r}")
        if standardize not in (True, False, "auto"):
            raise ConfigError(f"standardize must be True, False or 'auto', got {standardize!r}")
        for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
            if isinstance(value, bool) or not isinstance(plain(value), int) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        if isinstance(seed, bool) or not isinstance(plain(seed), int):
            raise ConfigError(f"seed must be an integer, got {seed!r}")
        self.model_name = model
        self.latent_dim = latent_dim
        self.hidden_dims = None if hidden_dims is None else tuple(hidden_dims)
        self.lr = lr
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.standardize = standardize
        self.verbose = bool(verbose)
        self.model_params = plain(dict(model_params or {}))
        if not isinstance(device, str | torch.device):
            raise ConfigError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")
        self.device = str(device)
        # fitted state
        self.model: GenerativeModel | None = None
        self.scaler = Standardizer()
        self.sample_shape: tuple[int, ...] | None = None
        self.history: list[dict[str, float]] = []

    # --- settings ----------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The constructor arguments (JSON-ready), from which :meth:`load` rebuilds the application."""
        return {
            "model": self.model_name,
            "latent_dim": self.latent_dim,
            "hidden_dims": list(self.hidden_dims) if self.hidden_dims is not None else None,
            "lr": self.lr,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "standardize": self.standardize,
            "verbose": self.verbose,
            "model_params": self.model_params,
            "device": self.device,
        }

    def _app_config(self) -> dict[str, Any]:
        """Config fields the application needs (e.g. the corruption of a denoiser); subclasses override."""
        return {}

    def model_config(self, sample_shape: tuple[int, ...]) -> dict[str, Any]:
        """The config overrides the model is built with for samples of ``sample_shape``.

        Raises:
            ConfigError: not an autoencoder, ``model_params`` clashing with a dedicated argument, or a config
                field the application needs (e.g. a denoiser's ``corruption``) that the model lacks.
            UnknownModelError: no model of that name.
        """
        entry = get_model(self.model_name)
        if not all(hasattr(entry.cls, m) for m in _AUTOENCODER_METHODS):
            raise ConfigError(
                f"model {self.model_name!r} is not an autoencoder; the applications need one of "
                f"{', '.join(autoencoder_names())}"
            )
        fields = set(entry.config_cls.__dataclass_fields__)
        extra = {k: plain(v) for k, v in self.model_params.items()}
        dedicated = {"latent_dim": self.latent_dim, "hidden_dims": self.hidden_dims, "lr": self.lr}
        for key in ("data_shape", *self._reserved, *(k for k, v in dedicated.items() if v is not None)):
            if key in extra:
                raise ConfigError(
                    f"model_params must not set {key!r}: "
                    + ("it comes from the data" if key == "data_shape" else f"set it with the {key} argument")
                )
        cfg: dict[str, Any] = {"data_shape": tuple(sample_shape)}
        latent, hidden = plain(self.latent_dim), plain(self.hidden_dims)
        if "layer_dims" in fields and "latent_dim" not in fields:  # stacked autoencoders: widths then code
            if latent is not None or hidden is not None:
                default = entry.default_config(**extra).layer_dims
                cfg["layer_dims"] = (
                    *(default[:-1] if hidden is None else hidden),
                    default[-1] if latent is None else latent,
                )
        else:
            cfg.update({k: v for k, v in (("latent_dim", latent), ("hidden_dims", hidden)) if v is not None})
        if self.lr is not None:
            cfg["lr"] = plain(self.lr)
        cfg.update(self._app_config())
        unknown = sorted(k for k in cfg if k not in fields)
        if unknown:
            able = [n for n in autoencoder_names() if set(unknown) <= set(get_model(n).config_cls.__dataclass_fields__)]
            raise ConfigError(
                f"model {self.model_name!r} has no config field(s) {unknown}, which {type(self).__name__} needs; "
                f"use one of {', '.join(able) or 'none registered'}"
            )
        return {**cfg, **extra}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model_name!r})"

    # --- fitting -----------------------------------------------------------------------------------
    def _samples(self, x: Any, what: str, allow_nan: bool = False) -> torch.Tensor:
        return check_samples(x, what=what, allow_nan=allow_nan)

    def _use_standardizer(self, x: torch.Tensor, model: GenerativeModel) -> bool:
        unbounded = model.output_range is None
        if self.standardize == "auto":
            return x.ndim == 2 and unbounded
        if self.standardize and not unbounded:
            raise ConfigError(
                f"standardize=True gives values outside {model.output_range}, which the {self.model_name!r} model "
                "with this config cannot reconstruct; use loss='mse' (likelihood='gaussian' for a VAE) "
                "or standardize=False"
            )
        return bool(self.standardize)

    def _build(self, x: torch.Tensor) -> GenerativeModel:
        entry = get_model(self.model_name)
        return entry.build(seed=self.seed, **self.model_config(tuple(x.shape[1:])))

    def _train(self, model: GenerativeModel, x: torch.Tensor, val: torch.Tensor | None = None) -> None:
        """Train ``model`` on the (already scaled) samples through the trainer (layer-wise first if configured)."""
        pre = int(getattr(model.config, "pretrain_epochs", 0) or 0)
        if pre and supports_layerwise(model):
            pretrain_layerwise(
                model,
                x,
                epochs=pre,
                batch_size=self.batch_size,
                seed=self.seed,
                callbacks=self._callbacks,
                device=self.device,
            )
        trainer = Trainer(
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.seed,
            callbacks=self._callbacks(0),
            device=self.device,
        )
        trainer.fit(model, x, val_data=val)
        self.history = [dict(r) for r in trainer.history.rows]

    def _callbacks(self, stage: int) -> list[ProgressBar]:
        return [ProgressBar()] if self.verbose else []

    def _fit_model(self, x: torch.Tensor, val: torch.Tensor | None = None, fill: torch.Tensor | None = None) -> None:
        """Build the model for ``x``, fit the scaler on ``x`` (NaN ignored) and train on ``fill`` (default ``x``)."""
        model = self._build(x)
        self.scaler = Standardizer.fit(x) if self._use_standardizer(x, model) else Standardizer()
        data = self.scaler.transform(x if fill is None else fill)
        self._train(model, data, None if val is None else self.scaler.transform(val))
        model.eval()
        self.model = model
        self.sample_shape = tuple(x.shape[1:])

    def fit(self, x: Any, val_data: Any = None) -> AutoencoderApp:
        """Train the autoencoder on samples ``x`` ``(N, *sample_shape)`` (optionally validated on ``val_data``)."""
        x = self._samples(x, "training data")
        val = None if val_data is None else same_shape(self._samples(val_data, "validation data"), x)
        self._fit_model(x, val)
        return self

    # --- using the fitted model --------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return self.model is not None

    def _require_fitted(self) -> GenerativeModel:
        if self.model is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(x) first (or load it)")
        return self.model

    def _check_shape(self, x: torch.Tensor) -> torch.Tensor:
        if self.sample_shape is not None and tuple(x.shape[1:]) != self.sample_shape:
            raise DataError(
                f"samples of shape {tuple(x.shape[1:])} given, but {type(self).__name__} was fitted on samples of "
                f"shape {self.sample_shape}; pass data of the training shape"
            )
        return x

    def _inputs(self, x: Any, what: str = "data", allow_nan: bool = False) -> torch.Tensor:
        """Validated float32 samples of the fitted shape (not yet scaled)."""
        self._require_fitted()
        return self._check_shape(self._samples(x, what, allow_nan=allow_nan))

    def _inference_model(self) -> GenerativeModel:
        """A float64 copy of the fitted model, made once per fit: a sample's result then does not depend on
        the other samples of its batch (float32 matrix products round differently for other batch sizes)."""
        model = self._require_fitted()
        cached = self.__dict__.get("_model64")
        if cached is None or cached[0] is not model:
            self._model64 = (model, copy.deepcopy(model).double().eval())
        return self._model64[1]

    def _map(self, fn: Callable[[GenerativeModel, torch.Tensor], torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        """``fn(model, batch)`` on the scaled samples ``z``, batch by batch, in float64, without gradients; each
        batch goes to the model's device and its result comes back to ``z``'s (a model trained on a GPU stays
        there)."""
        model = self._inference_model()
        z = z.double()
        dev = model.device
        with torch.no_grad():
            return torch.cat(
                [fn(model, z[i : i + INFERENCE_BATCH].to(dev)).to(z.device) for i in range(0, len(z), INFERENCE_BATCH)]
            )

    def encode(self, x: Any) -> torch.Tensor:
        """The codes of ``x``: ``(N, latent_dim)`` float32 (a VAE gives its posterior means)."""
        return self._map(lambda m, b: m.encode(b), self.scaler.transform(self._inputs(x))).float()

    @property
    def code_size(self) -> int:
        """Number of values in a code (``latent_dim``; the last layer width of a stacked autoencoder)."""
        model = self._inference_model()
        with torch.no_grad():
            probe = torch.zeros((1, *model.data_shape), dtype=torch.float64, device=model.device)
            return int(model.encode(probe).shape[1])

    def decode(self, codes: Any) -> torch.Tensor:
        """Samples ``(N, *sample_shape)`` float32 in data units, decoded from codes ``(N, latent_dim)``."""
        model = self._require_fitted()
        h = check_samples(codes, what="codes", min_ndim=2, max_ndim=2)
        if h.shape[1] != self.code_size:
            raise DataError(f"codes have {h.shape[1]} values per sample but this model's codes have {self.code_size}")
        shape = self.sample_shape or model.data_shape
        out = self._map(lambda m, b: m.decode(b).reshape(len(b), *shape), h)
        return self.scaler.inverse(out).float()

    def _reconstruct_scaled(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstructions (float64) of scaled samples ``z``, in the scaled units."""
        return self._map(lambda m, b: m.reconstruct(b).reshape(b.shape), z)

    def reconstruct(self, x: Any) -> torch.Tensor:
        """The reconstructions of ``x`` in data units, shaped like ``x`` (float32)."""
        return self.scaler.inverse(self._reconstruct_scaled(self.scaler.transform(self._inputs(x)))).float()

    # --- files -------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Fitted scalars beyond the model and the scaler (JSON-ready); subclasses extend."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""

    def save(self, path: str | Path, overwrite: bool = False, extra: dict[str, Any] | None = None) -> Path:
        """Write the fitted application to the directory ``path`` (``model/`` and ``app.json``), atomically.

        Args:
            path: the directory to create.
            overwrite: replace an existing directory.
            extra: more JSON-ready data to store under ``"extra"`` (e.g. a scikit-learn wrapper's params).

        Raises:
            RunExistsError: ``path`` exists and ``overwrite`` is False.
        """
        model = self._require_fitted()
        path = Path(path)
        if path.exists() and not overwrite:
            raise RunExistsError(f"{path} already exists; choose another directory or pass overwrite=True")
        doc = {
            "format_version": APP_FORMAT_VERSION,
            "app": type(self).__name__,
            "genlab_version": __version__,
            "settings": self.settings(),
            "sample_shape": list(self.sample_shape or ()),
            "scaler": self.scaler.to_dict(),
            "state": self.state(),
            "history": self.history,
            "extra": extra or {},
        }
        with fileutil.atomic_dir(path, overwrite=True) as tmp:
            model.save(tmp / io.MODEL_SUBDIR)
            fileutil.write_json(tmp / APP_FILE, doc)
        return path

    @classmethod
    def read_document(cls, path: str | Path, check_class: bool = True) -> dict[str, Any]:
        """The parsed ``app.json`` of a saved application (checked to be one of ``cls`` unless told not to)."""
        file = Path(path) / APP_FILE
        if not file.is_file():
            raise ModelFileError(f"{path} has no {APP_FILE}; it is not a saved genlab application")
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"{file} is corrupt (not valid JSON: {exc}); save the application again") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("settings"), dict):
            raise ModelFileError(f"{file} is corrupt (no settings); save the application again")
        fmt = doc.get("format_version")
        if not isinstance(fmt, int) or not 1 <= fmt <= APP_FORMAT_VERSION:
            raise ModelFileError(
                f"{file} has format {fmt!r}, this genlab ({__version__}) reads {APP_FORMAT_VERSION}; upgrade genlab"
            )
        if check_class and doc.get("app") != cls.__name__:
            raise ModelFileError(
                f"{path} holds a saved {doc.get('app')}, not a {cls.__name__}; load it with {doc.get('app')}.load"
            )
        return doc

    @classmethod
    def load(cls, path: str | Path) -> AutoencoderApp:
        """Rebuild an application saved by :meth:`save` (on the CPU)."""
        doc = cls.read_document(path)
        try:
            app = cls(**doc["settings"])
        except (TypeError, ConfigError) as exc:
            raise ModelFileError(f"{path}/{APP_FILE} has settings this genlab cannot use ({exc})") from exc
        app.model = io.load(Path(path) / io.MODEL_SUBDIR)
        app.scaler = Standardizer.from_dict(doc.get("scaler"))
        app.sample_shape = tuple(doc.get("sample_shape") or app.model.data_shape)
        app.history = list(doc.get("history") or [])
        app.set_state(doc.get("state") or {})
        return app

    # --- in-memory pickling: networks are rebuilt from their config ------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_model64", None)  # the float64 copy is rebuilt on demand
        model = state.get("model")
        if model is not None and model.registry_name:
            state["model"] = {
                "name": model.registry_name,
                "config": model.config.to_dict(),
                "tensors": {k: v.detach().clone() for k, v in model.state_dict().items()},
                "data_info": model.data_info.to_dict() if model.data_info is not None else None,
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        spec = state.get("model")
        if isinstance(spec, dict):
            entry = get_model(spec["name"])
            model = entry.build(entry.config_cls.from_dict(spec["config"]), seed=0)
            io.load_state(model, spec["tensors"], source="a pickled genlab application")
            model.data_info = DatasetInfo.from_dict(spec["data_info"]) if spec["data_info"] else None
            model.eval()
            state = {**state, "model": model}
        self.__dict__.update(state)


__all__ = ["AutoencoderApp", "NotFittedError", "autoencoder_names"]
