"""MADE: a masked autoencoder whose outputs are the conditionals of an autoregressive density over binary data."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ...config import (
    MAX_COPIES,
    MAX_LAYERS,
    MAX_WIDTH,
    BaseConfig,
    param,
    shape_param,
)
from ...data.dataset import DatasetInfo
from ...errors import ConfigError
from ...nn import activation, adam
from ...nn.masked import MaskedLinear, made_degrees, made_masks
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating, require_unit_range


@dataclass(frozen=True)
class MADEConfig(BaseConfig):
    """Configuration of :class:`MADE`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one (binary) sample")
    hidden_dims: tuple[int, ...] = param(
        (500,), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="widths of the masked hidden layers"
    )
    activation: Literal["relu", "tanh", "elu", "gelu", "softplus"] = "relu"
    direct_connections: bool = param(True, help="also connect each output directly to the inputs before it")
    order: Literal["natural", "random"] = param("natural", help="the autoregressive order of the dimensions")
    n_masks: int = param(1, ge=1, le=MAX_COPIES, help="masks cycled in training (connectivity-agnostic MADE when > 1)")
    order_agnostic: bool = param(False, help="each mask also draws a new order (order-agnostic training)")
    test_masks: int = param(1, ge=1, le=MAX_COPIES, help="masks averaged by log_prob and sample (an exact mixture)")
    mask_seed: int = param(0, ge=0, le=2**32 - 1, help="seeds the orders and connectivities")
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    weight_decay: float = param(0.0, ge=0)

    def validate(self) -> None:
        if self.test_masks > self.n_masks:
            raise ConfigError(
                f"test_masks={self.test_masks} > n_masks={self.n_masks}: a model can only average masks it was "
                "trained with; raise n_masks or lower test_masks"
            )


@register_model(
    "made",
    config=MADEConfig,
    description="MADE: masked autoencoder for distribution estimation (exact log-likelihood of binary data)",
    presets={"made_ensemble": {"n_masks": 32, "test_masks": 32, "order_agnostic": True, "hidden_dims": (500, 500)}},
)
class MADE(GenerativeModel):
    r"""Masked Autoencoder for Distribution Estimation (Germain et al. 2015) over binary vectors
    :math:`x \in \{0, 1\}^D`:

    .. math::
        \log p(x) = \sum_{d=1}^D \log \mathrm{Bernoulli}\big(x_{o_d} \,\big|\, \sigma(f_{o_d}(x_{o_{<d}}))\big),

    an autoencoder whose weights are multiplied by binary masks so that output :math:`o_d` only depends on the
    inputs earlier in the order :math:`o`. Each unit gets a degree; a hidden unit of degree :math:`k` sees
    inputs of degree at most :math:`k`, and output :math:`d` sees units of degree below :math:`d`. Training
    maximises the exact log-likelihood. With ``n_masks > 1`` every step uses one of several connectivities
    (and orders, ``order_agnostic``), and ``log_prob`` can average ``test_masks`` of them: the mixture
    :math:`\frac{1}{M} \sum_m p_m(x)` is again an exact density.

    References:
        Germain, M., Gregor, K., Murray, I. & Larochelle, H. (2015). MADE: Masked Autoencoder for Distribution
        Estimation. ICML.
        Uria, B., Murray, I. & Larochelle, H. (2014). A Deep and Tractable Density Estimator. ICML.
    """

    likelihood_method = "exact"
    output_range = (0.0, 1.0)

    def __init__(self, config: MADEConfig) -> None:
        super().__init__(config)
        c = config
        self.dim = math.prod(c.data_shape)
        dims = (self.dim, *c.hidden_dims)
        self.hidden = nn.ModuleList(MaskedLinear(a, b) for a, b in itertools.pairwise(dims))
        self.out = MaskedLinear(dims[-1], self.dim)
        self.direct = MaskedLinear(self.dim, self.dim, bias=False) if c.direct_connections else None
        if self.direct is not None:
            nn.init.zeros_(self.direct.weight)
        self.act = activation(c.activation)
        self.register_buffer("current_mask", torch.zeros((), dtype=torch.long))
        self._cache: dict[int, tuple] = {}
        self.use_mask(0)
        # the masks are not saved (they follow from the config): a loaded model rebuilds the one it used
        self.register_load_state_dict_post_hook(lambda module, _keys: module.use_mask(int(module.current_mask)))

    # --- masks ----------------------------------------------------------------------------------------
    def order(self, index: int = 0) -> torch.Tensor:
        """The autoregressive order of mask ``index``: ``order[d]`` is the position (1..D) of dimension ``d``.

        On the CPU whatever the model's device: the order and the masks follow from the config alone."""
        c = self.config
        if c.order == "natural" and not (c.order_agnostic and index > 0):
            return torch.arange(1, self.dim + 1, device="cpu")
        g = torch.Generator().manual_seed(c.mask_seed * 1_000_003 + (index if c.order_agnostic else 0))
        return torch.randperm(self.dim, generator=g, device="cpu") + 1

    def _masks(self, index: int) -> tuple:
        if index not in self._cache:
            g = torch.Generator().manual_seed(self.config.mask_seed * 7919 + index + 1)
            degrees = made_degrees(self.order(index), tuple(self.config.hidden_dims), g)
            hidden, out, direct = made_masks(degrees)
            self._cache[index] = (tuple(m.bool() for m in hidden), out.bool(), direct.bool())
        return self._cache[index]

    def use_mask(self, index: int) -> None:
        """Switch to mask (connectivity and order) ``index`` in ``0..n_masks-1``."""
        if not 0 <= index < self.config.n_masks:
            raise ConfigError(f"mask index must be in 0..{self.config.n_masks - 1}, got {index}")
        hidden, out, direct = self._masks(index)
        for layer, m in zip(self.hidden, hidden, strict=True):
            layer.set_mask(m)
        self.out.set_mask(out)
        if self.direct is not None:
            self.direct.set_mask(direct)
        self.current_mask.fill_(index)

    # --- the density ----------------------------------------------------------------------------------
    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1).to(self.out.weight.dtype)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the conditionals ``p(x_d = 1 | x_<d)`` under the current mask, ``(B, D)``."""
        v = self._flat(x)
        h = v
        for layer in self.hidden:
            h = self.act(layer(h))
        out = self.out(h)
        return out + self.direct(v) if self.direct is not None else out

    def _log_prob_current(self, x: torch.Tensor) -> torch.Tensor:
        v = self._flat(x)
        return -F.binary_cross_entropy_with_logits(self.logits(v), v, reduction="none").sum(1)

    @evaluating
    def log_prob(self, x: torch.Tensor, masks: int | None = None) -> torch.Tensor:
        """Exact ``log p(x)`` in nats ``(B,)`` of binary ``x``, the mixture of the first ``masks`` masks
        (default ``test_masks``); in eval mode and without gradients (training differentiates the current
        mask's ``_log_prob_current``)."""
        m = self.config.test_masks if masks is None else masks
        if not 1 <= m <= self.config.n_masks:
            raise ConfigError(f"masks must be in 1..{self.config.n_masks}, got {m}")
        keep = int(self.current_mask)
        parts = []
        try:
            for i in range(m):
                self.use_mask(i)
                parts.append(self._log_prob_current(x).double())
        finally:
            self.use_mask(keep)
        return torch.logsumexp(torch.stack(parts), 0) - math.log(m)

    @evaluating
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` binary samples ``(n, *data_shape)``: each from a mask drawn uniformly among the ``test_masks``,
        one dimension at a time in that mask's order (``D`` passes)."""
        gen = self.rng(generator)
        which = self.randint(0, self.config.test_masks, (n,), generator=gen)
        x = torch.zeros(n, self.dim, device=self.device)
        keep = int(self.current_mask)
        try:
            for i in range(self.config.test_masks):
                rows = (which == i).nonzero().flatten()
                if not len(rows):
                    continue
                self.use_mask(i)
                v = torch.zeros(len(rows), self.dim, device=self.device)
                for d in torch.argsort(self.order(i)).tolist():  # dimensions in their order
                    p = torch.sigmoid(self.logits(v)[:, d])
                    v[:, d] = (self.rand(len(rows), generator=gen) < p).float()
                x[rows] = v
        finally:
            self.use_mask(keep)
        return x.reshape(n, *self.config.data_shape)

    def diversity_advice(self) -> str:
        return (
            "an autoregressive density covers what it has learned: train longer, widen hidden_dims, or average "
            "orders (n_masks and test_masks > 1, order_agnostic=True)"
        )

    # --- training -------------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        if self.config.n_masks > 1:
            self.use_mask(step % self.config.n_masks)
        nll = -self._log_prob_current(batch.x).mean()
        self.optimize(nll, optimizers[0])
        return {"loss": nll.detach()}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        return {"loss": -self.log_prob(batch.x).mean()}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        require_unit_range(info, "MADE (a density over binary data)", "binarize the data (binarize='static')")

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        return Batch(self.rand((n, *self.data_shape), generator=generator).round(), None)


__all__ = ["MADE", "MADEConfig"]
