"""The protocol every genlab model follows.

A model is an ``nn.Module`` that owns its networks and its objective. The one :class:`~genlab.training.Trainer`
calls :meth:`GenerativeModel.configure_optimizers` once and :meth:`GenerativeModel.training_step` for
every batch; the step does its own backward passes and optimizer steps, so algorithms that need
several updates per batch (n_critic, CD-k chains, gradient penalties) live in the model, and the loop
stays the trainer's.

Evaluation methods (``log_prob``, ``score``, ``elbo``, ``free_energy``, ``energy``, ``reconstruct``, ``sample``...)
are decorated with :func:`evaluating`: they run in eval mode (no dropout, no data-dependent initialisation) and
without gradients whatever mode the model was left in, and give every submodule its own mode back afterwards.
The training step never calls them: it uses the differentiable terms of the objective (``loss``,
``elbo_terms``, ``iwae_bound``, private ``_nll`` / ``_log_prob`` helpers), which run in the caller's mode.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, ParamSpec, TypeVar

import torch
from torch import nn

from .. import _device
from ..config import BaseConfig
from ..data.dataset import DatasetInfo
from ..errors import DataError

_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` and all its submodules in eval mode for the ``with`` block, then give each submodule back
    exactly the ``training`` flag it had (a model with some parts frozen in eval mode keeps them so).

    Inside the block a caller may switch chosen submodules back on (MC dropout does, for its dropout layers);
    they are restored too.
    """
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, was in flags:
            m.training = was


def evaluating(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator of a model's evaluation methods: the call runs under :func:`eval_mode` and ``torch.no_grad()``.

    So ``log_prob`` / ``score`` / ``elbo`` / ``free_energy``... give the same numbers whether the model was left
    in train or eval mode (dropout off, activation norms not initialised from evaluation data), return tensors
    without gradients, and leave every submodule's mode as it was. A caller who needs gradients of such a
    quantity uses the differentiable method behind it (named in each method's docstring). The wrapper keeps
    the name, docstring and signature of ``method`` (``functools.wraps``).

    Tensor arguments on another device are moved to the model's first, so a model on a GPU takes CPU inputs (its
    results stay on its device; ``genlab._device.to_numpy`` or ``.cpu()`` brings them back).
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        args, kwargs = _device.move_args(args, kwargs, _device.module_device(self))
        with eval_mode(self), torch.no_grad():
            return method(self, *args, **kwargs)

    wrapper.__evaluating__ = True  # type: ignore[attr-defined]  # lets tests find every decorated method
    return wrapper  # type: ignore[return-value]


class Batch(NamedTuple):
    """A batch handed to ``training_step``: samples ``x`` ``(B, ...)``, labels ``y`` ``(B,)`` or None; for
    image-to-image data the inputs ``source`` ``(B, ...)`` (paired: the inputs whose targets are ``x``;
    unpaired: a batch of domain A drawn independently), else None; and for inpainting pairs ``hole``, a bool
    mask shaped like ``x`` that is True where the input hides the target, else None."""

    x: torch.Tensor
    y: torch.Tensor | None = None
    source: torch.Tensor | None = None
    hole: torch.Tensor | None = None


def checked_labels(y: torch.Tensor | None, n: int, n_classes: int, what: str) -> torch.Tensor | None:
    """Class labels ``(n,)`` as int64 for a conditional model with ``n_classes`` (``None`` if unconditional).

    Raises:
        DataError: labels missing, of the wrong shape, or outside ``0..n_classes-1``.
    """
    if not n_classes:
        return None
    if y is None:
        raise DataError(
            f"this conditional {what} ({n_classes} classes) needs labels; load labelled data or pass labels="
        )
    y = torch.as_tensor(y, dtype=torch.long)
    if y.shape != (n,):
        raise DataError(f"expected {n} labels, got shape {tuple(y.shape)}")
    if y.min() < 0 or y.max() >= n_classes:
        raise DataError(f"labels must lie in 0..{n_classes - 1}, got {int(y.min())}..{int(y.max())}")
    return y


def require_unit_range(info: DatasetInfo, what: str, fix: str) -> None:
    """A :class:`DataError` unless the data lie in [0, 1] (``what`` needs it; ``fix`` is the alternative option)."""
    lo, hi = info.value_range
    if lo < 0.0 or hi > 1.0:
        raise DataError(
            f"the {what} needs data in [0, 1] but {info.name!r} spans [{lo:g}, {hi:g}]; "
            f"rescale it (scale='unit') or use {fix}"
        )


class GenerativeModel(nn.Module, metaclass=abc.ABCMeta):
    """Base class of every registered model.

    Subclasses set ``config_class`` (done by :func:`~genlab.registry.register_model`) and implement
    ``training_step``, ``configure_optimizers`` and ``sample``.

    Attributes:
        config: the model's validated config.
        data_info: metadata of the data the model was trained on (set by the trainer; saved in meta.json).
        generator: the random source the model uses while training (set by the trainer so that
            runs and resumed runs are reproducible).
    """

    config_class: ClassVar[type[BaseConfig]]
    registry_name: str = ""
    #: value range of ``sample`` output, checked by the contract tests; ``None`` means unbounded
    output_range: ClassVar[tuple[float, float] | None] = None
    #: how :func:`genlab.metrics.log_likelihood` evaluates the model: ``"exact"``, ``"iwae"`` (an importance-
    #: sampled lower bound), ``"ais"`` (log Z by annealed importance sampling) or ``None`` (no likelihood)
    likelihood_method: ClassVar[str | None] = None
    #: False for models that predict rather than generate (Bayesian networks): their ``sample`` draws
    #: predictions for given inputs, ``sample(n, x=...)``
    generative: ClassVar[bool] = True
    #: training settings this family trains with unless told otherwise (e.g. the copula's single epoch)
    train_defaults: ClassVar[dict[str, Any]] = {}
    #: the ``--precision`` settings the family trains at (see :mod:`genlab.training.distributed`)
    precisions: ClassVar[tuple[str, ...]] = ("32", "bf16-mixed", "16-mixed")
    #: why a family supports fewer precisions (shown in the error)
    precision_note: ClassVar[str] = ""

    def __init__(self, config: BaseConfig) -> None:
        super().__init__()
        self.config = config
        self.data_info: DatasetInfo | None = None
        self.generator: torch.Generator | None = None
        self._fallback_generator: torch.Generator | None = None
        #: set by the trainer for 16-mixed precision: scales losses and steps optimizers (``None``: plain steps)
        self.grad_scaler: Any = None

    # --- to implement --------------------------------------------------------------------------
    @abc.abstractmethod
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        """The optimizers ``training_step`` receives, in order."""

    @abc.abstractmethod
    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        """Update the parameters on one batch; return the metrics to log (``"loss"`` at least)."""

    @abc.abstractmethod
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples shaped like the data, ``(n, *data_shape)``."""

    # --- optional hooks ------------------------------------------------------------------------
    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        """Metrics on a held-out batch (averaged by the trainer, logged with a ``val_`` prefix)."""
        return {}

    def check_data(self, info: DatasetInfo) -> None:
        """Raise :class:`DataError` if data with this metadata cannot train this model."""
        shape = tuple(getattr(self.config, "data_shape", info.sample_shape))
        if math.prod(shape) != math.prod(info.sample_shape):
            raise DataError(
                f"{self.registry_name or type(self).__name__} was built for samples of shape {shape} but the "
                f"data {info.name!r} has samples of shape {tuple(info.sample_shape)}; build the model with "
                f"data_shape={tuple(info.sample_shape)}"
            )

    def on_train_start(self, x: torch.Tensor) -> None:
        """Called by the trainer before the first step of every fit (also a resumed one, after the checkpoint is
        loaded) with the training samples ``x``: data-dependent initialisation (e.g. an RBM's visible biases).
        A model must make it a no-op when it has already been initialised."""

    def on_train_end(self, x: torch.Tensor) -> None:
        """Called by the trainer after a successful fit with the training samples ``x`` (e.g. to fit statistics)."""

    def diversity_advice(self) -> str:
        """What to try when the samples lose modes or classes (the mode-collapse monitor's advice), in terms of
        this model's own options; each family overrides it."""
        return "train longer or with a lower learning rate (lr)"

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        """A random batch of ``n`` inputs of the shape and range the model takes (tests, benchmarks)."""
        return Batch(torch.rand((n, *self.data_shape), generator=self.rng(generator)), None)

    # --- shared helpers ------------------------------------------------------------------------
    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.config.data_shape)

    def rng(self, generator: torch.Generator | None = None) -> torch.Generator:
        """The generator to draw from: the one passed, else the trainer's (while training), else the model's own.

        The model's own generator is seeded 0 when first used: results are repeatable from the moment a model
        is built or loaded, repeated calls draw fresh numbers, and torch's global RNG is never touched.
        """
        if generator is not None:
            return generator
        if self.generator is not None:
            return self.generator
        if self._fallback_generator is None:  # created once, so repeated calls draw fresh numbers
            self._fallback_generator = torch.Generator().manual_seed(0)
        return self._fallback_generator

    @property
    def device(self) -> torch.device:
        """Where the model's parameters (else buffers) live; the CPU for a model with neither."""
        return _device.module_device(self) or torch.device("cpu")

    # --- noise, drawn where the generator lives and delivered where the model lives (see genlab._device) ------
    # The trainer's generators are CPU ones; a generator a user passes gives the same numbers whatever device
    # the model is on, so a seed means the same samples on a CPU and a GPU.
    def randn(self, *shape: Any, generator: torch.Generator | None = None, dtype: torch.dtype | None = None):
        """Standard normal noise of ``shape`` from :meth:`rng`, on the model's device."""
        return _device.randn(*shape, generator=self.rng(generator), device=self.device, dtype=dtype)

    def rand(self, *shape: Any, generator: torch.Generator | None = None, dtype: torch.dtype | None = None):
        """Uniform [0, 1) noise of ``shape`` from :meth:`rng`, on the model's device."""
        return _device.rand(*shape, generator=self.rng(generator), device=self.device, dtype=dtype)

    def randint(self, low: int, high: int, shape: Any, generator: torch.Generator | None = None) -> torch.Tensor:
        """Integers in ``[low, high)`` of ``shape`` from :meth:`rng`, on the model's device."""
        return _device.randint(low, high, shape, self.rng(generator), device=self.device)

    def randperm(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """A random permutation of ``range(n)`` from :meth:`rng`, on the model's device."""
        return _device.randperm(n, self.rng(generator), device=self.device)

    def bernoulli(self, p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """0/1 draws with probabilities ``p``, on ``p``'s device (the same numbers as ``torch.bernoulli``)."""
        return _device.bernoulli(p, self.rng(generator))

    def multinomial(
        self, probs: torch.Tensor, k: int, replacement: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``torch.multinomial`` of ``probs`` from :meth:`rng`, on ``probs``' device."""
        return _device.multinomial(probs, k, replacement, self.rng(generator))

    # --- updates ---------------------------------------------------------------------------------------
    def backward(self, loss: torch.Tensor) -> None:
        """``loss.backward()``, scaled by the trainer's gradient scaler under 16-mixed precision."""
        (self.grad_scaler.scale(loss) if self.grad_scaler is not None else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()``; under 16-mixed precision the scaler unscales first and skips a step whose
        gradients overflowed."""
        if self.grad_scaler is not None:
            self.grad_scaler.step(optimizer)
        else:
            optimizer.step()

    def optimize(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """``zero_grad`` -> ``backward`` -> ``step`` for one optimizer."""
        optimizer.zero_grad(set_to_none=True)
        self.backward(loss)
        self.step(optimizer)

    def compile_targets(self) -> list[tuple[str, nn.Module]] | None:
        """The networks ``--compile`` compiles (``None``: every direct child module with parameters)."""
        return None

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the model directory (config.json, model.safetensors, meta.json); see :func:`genlab.io.save_model`."""
        from ..io import save_model

        return save_model(self, path, overwrite=overwrite)

    def extra_repr(self) -> str:
        return f"registry_name={self.registry_name!r}"
