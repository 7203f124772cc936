"""What the table models share: the layout of an encoded row, its output activations, the transform they carry.

A table model learns rows encoded by :class:`~genlab.tabular.transform.TableTransform`; its config holds the
``layout`` of those rows (``"t m3 d4 ..."``, set from the data like ``data_shape``), so the networks are built
from the config alone. The fitted transform itself travels with the data's description (``data_info.table``,
saved in ``meta.json``): :func:`model_transform` rebuilds it, and :func:`resolve_conditions` turns
``{"column": value}`` into span positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..._device import rand
from ...config import MAX_SAMPLE_SIZE, BaseConfig, param, shape_param
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...tabular.transform import Span, TableTransform, parse_layout

SOFTMAX_KINDS = "mdn"  # mode, discrete column, missing indicator: one-hot parts


@dataclass(frozen=True)
class TableConfig(BaseConfig):
    """Fields every table model has: the encoded row's width and layout (both set from the data)."""

    data_shape: tuple[int, ...] = shape_param((7,), "(D,): values per encoded row (set from the table)")
    layout: str = param("t m3 d3", help="parts of an encoded row (set from the table's transform)")

    #: the representation this model's layout uses (``"modes"`` or ``"columns"``)
    representation = "modes"

    def validate(self) -> None:
        if len(self.data_shape) != 1:
            raise ConfigError(
                f"{type(self).__name__[: -len('Config')]} learns tables (rows of values), not samples of shape "
                f"{tuple(self.data_shape)}; train it on a .csv / .parquet file or a table data set (penguins, "
                "diamonds, iris...)"
            )
        try:
            spans = parse_layout(self.layout)
        except DataError as exc:
            raise ConfigError(f"{type(self).__name__}.layout: {exc}") from exc
        width = sum(s.width for s in spans)
        if not spans or width > MAX_SAMPLE_SIZE:
            raise ConfigError(f"{type(self).__name__}.layout must describe 1..{MAX_SAMPLE_SIZE} values")
        if tuple(self.data_shape) != (width,):
            raise ConfigError(
                f"{type(self).__name__}.data_shape {tuple(self.data_shape)} does not match its layout "
                f"({width} values); both come from the table, leave them to genlab"
            )
        allowed = "tmdn" if self.representation == "modes" else "ci"
        wrong = sorted({s.kind for s in spans} - set(allowed))
        if wrong:
            raise ConfigError(
                f"{type(self).__name__}.layout has parts {wrong} of another representation; this model reads "
                f"the {self.representation!r} representation (parts {', '.join(allowed)})"
            )


def spans_of(config: TableConfig) -> list[Span]:
    return parse_layout(config.layout)


def example_rows(spans: list[Span], n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` random valid encoded rows: scalars in (-1, 1) or N(0, 1), one-hot parts, integer codes (on the
    generator's device)."""
    width = spans[-1].stop
    dev = generator.device
    x = torch.zeros(n, width, device=dev)
    for s in spans:
        if s.kind == "t":
            x[:, s.start] = torch.rand(n, generator=generator, device=dev) * 1.8 - 0.9
        elif s.kind == "c":
            x[:, s.start] = torch.randn(n, generator=generator, device=dev)
        elif s.kind == "i":
            x[:, s.start] = torch.randint(0, 3, (n,), generator=generator, device=dev).float()
        else:
            code = torch.randint(0, s.width, (n,), generator=generator, device=dev)
            x[torch.arange(n, device=dev), s.start + code] = 1.0
    return x


def softmax(v: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax along ``dim`` as max-shift, exp and a sum: the same values as ``torch.softmax``, but about five
    times faster on the CPU for the short rows of a table's one-hot parts (torch 2.13 measured here: 90 us
    against 445 us for (500, 10, 10) over the last axis)."""
    e = (v - v.detach().amax(dim, keepdim=True)).exp()
    return e / e.sum(dim, keepdim=True)


def log_softmax(v: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log softmax`` along ``dim`` (see :func:`softmax` for why not torch's)."""
    shifted = v - v.detach().amax(dim, keepdim=True)
    return shifted - shifted.exp().sum(dim, keepdim=True).log()


class Dropout(torch.nn.Module):
    """``nn.Dropout`` with the mask drawn as ``rand >= p``: the same operation (and the same global RNG, which
    the trainer seeds and checkpoints), about five times faster on the CPU than torch's ``bernoulli_`` kernel for
    the critic's small activations (150 us against 30 us for (50, 256) here)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand(x.shape, dtype=x.dtype, device=x.device) >= self.p
        return x * keep * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Activation:
    """A generator's raw outputs as a row: tanh for the scalars, Gumbel-softmax for the one-hot parts.

    The parts of one width are activated together (one softmax over a ``(B, parts, width)`` view) and the row is
    put back in layout order with one index, so a row of many columns costs a handful of kernels, not a few per
    column.
    """

    def __init__(self, spans: list[Span]) -> None:
        self.spans = spans
        self.scalars = torch.tensor([s.start for s in spans if s.kind == "t"], dtype=torch.long)
        widths = sorted({s.width for s in spans if s.kind in SOFTMAX_KINDS})
        self.groups = [
            (
                w,
                torch.tensor(
                    [j for s in spans if s.kind in SOFTMAX_KINDS and s.width == w for j in range(s.start, s.stop)]
                ),
            )
            for w in widths
        ]
        order = torch.cat([self.scalars, *(idx for _, idx in self.groups)])
        self.inverse = torch.argsort(order)
        self._on: dict[torch.device, tuple] = {}  # the index tensors copied to each device rows come from

    def _indices(self, device: torch.device) -> tuple[torch.Tensor, list[tuple[int, torch.Tensor]], torch.Tensor]:
        """``(scalars, groups, inverse)`` on ``device`` (built on the CPU, copied once per device)."""
        if device.type == "cpu":
            return self.scalars, self.groups, self.inverse
        if device not in self._on:
            self._on[device] = (
                self.scalars.to(device),
                [(w, idx.to(device)) for w, idx in self.groups],
                self.inverse.to(device),
            )
        return self._on[device]

    def __call__(self, raw: torch.Tensor, tau: float, generator: torch.Generator, hard: bool = False) -> torch.Tensor:
        """``hard``: one-hots of the arg-max of each part (a draw from its softmax(logits)) instead of soft ones."""
        n = len(raw)
        scalars, groups, inverse = self._indices(raw.device)
        parts = [torch.tanh(raw[:, scalars])]
        u = rand(raw.shape, generator=generator, device=raw.device, dtype=raw.dtype).clamp_(1e-10, 1.0 - 1e-7)
        noisy = (raw - torch.log(-torch.log(u))) / tau  # Gumbel noise for the whole row at once
        for w, idx in groups:
            soft = softmax(noisy[:, idx].view(n, -1, w), dim=2)
            if hard:
                soft = F.one_hot(soft.argmax(2), w).to(raw.dtype)
            parts.append(soft.reshape(n, -1))
        return torch.cat(parts, dim=1)[:, inverse]


def harden(x: torch.Tensor, spans: list[Span]) -> torch.Tensor:
    """Every one-hot part of ``x`` replaced by the one-hot of its arg-max."""
    out = x.clone()
    for s in spans:
        if s.kind in SOFTMAX_KINDS:
            out[:, s.start : s.stop] = F.one_hot(x[:, s.start : s.stop].argmax(1), s.width).to(x.dtype)
    return out


def model_transform(model: Any) -> TableTransform:
    """The fitted transform a table model was trained with (kept in ``model.data_info.table``).

    Raises:
        DataError: the model has not been trained on a table (a fresh model has no transform).
    """
    info = model.data_info
    table = getattr(info, "table", None) if info is not None else None
    if table is None:
        raise DataError(
            f"this {model.registry_name} has no table transform: train it on a table first "
            "(genlab.tabular.Synthesizer(...).fit(df), or genlab train on a .csv)"
        )
    cached = getattr(model, "_transform_cache", None)
    if cached is not None and cached[0] is table:
        return cached[1]
    transform = TableTransform.from_dict(table)
    model._transform_cache = (table, transform)
    return transform


def check_table_data(model: Any, info: DatasetInfo) -> None:
    """The data must be a table encoded in this model's representation with this model's layout."""
    table = getattr(info, "table", None)
    name = model.registry_name or type(model).__name__
    if table is None:
        raise DataError(
            f"{name} learns tables: load a .csv / .parquet file or a table data set (penguins, diamonds, iris...), "
            f"not {info.name!r}"
        )
    transform = TableTransform.from_dict(table)
    if transform.layout != model.config.layout:
        raise DataError(
            f"{name} was built for rows laid out as {model.config.layout!r} but {info.name!r} encodes to "
            f"{transform.layout!r}; build the model from this table (leave layout and data_shape to genlab)"
        )


def resolve_conditions(model: Any, conditions: dict[str, Any] | None) -> list[tuple[Span, int]]:
    """``[(span, code)]`` of ``{"column": value}`` conditions on categorical / boolean columns."""
    if not conditions:
        return []
    if not isinstance(conditions, dict):
        raise DataError(f"conditions must be a dict {{column: value}}, got {type(conditions).__name__}")
    transform = model_transform(model)
    return [transform.discrete_code(str(col), value) for col, value in conditions.items()]


def impose(x: torch.Tensor, fixed: list[tuple[Span, int]], one_hot: bool = True) -> torch.Tensor:
    """Rows ``x`` with the conditioned parts set to their categories."""
    for span, code in fixed:
        if one_hot:
            x[:, span.start : span.stop] = 0.0
            x[:, span.start + code] = 1.0
        else:
            x[:, span.start] = float(code)
    return x


def matches(x: torch.Tensor, fixed: list[tuple[Span, int]], one_hot: bool = True) -> torch.Tensor:
    """Which rows of ``x`` satisfy every condition ``(span, code)``."""
    ok = torch.ones(len(x), dtype=torch.bool, device=x.device)
    for span, code in fixed:
        got = x[:, span.start : span.stop].argmax(1) if one_hot else x[:, span.start].round().long()
        ok &= got == code
    return ok


def sample_meeting(draw: Any, n: int, fixed: list[tuple[Span, int]], one_hot: bool) -> torch.Tensor:
    """``n`` rows drawn by ``draw(m)`` that meet every condition (kept by :func:`rejection_sample` among at most
    ``max(100 n, 10000)`` draws), with the conditioned parts written in."""
    return impose(rejection_sample(draw, n, fixed, one_hot, max(100 * n, 10_000)), fixed, one_hot)


class TableModel:
    """What every table model adds to :class:`~genlab.models.base.GenerativeModel` (listed before it in the bases;
    not a module, so the networks stay two levels below ``nn.Module``): the data check and example rows of its
    layout. The model sets ``self.spans``."""

    spans: list[Span]

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)  # type: ignore[misc]  # GenerativeModel's shape check
        check_table_data(self, info)

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Any:
        from ..base import Batch

        rows = example_rows(self.spans, n, self.rng(generator))  # type: ignore[attr-defined]
        return Batch(rows.to(self.device), None)  # type: ignore[attr-defined]


def rejection_sample(draw: Any, n: int, fixed: list[tuple[Span, int]], one_hot: bool, max_draws: int) -> torch.Tensor:
    """``n`` rows satisfying ``fixed``, drawn in chunks by ``draw(m)`` and kept when they match.

    Raises:
        DataError: fewer than ``n`` matching rows among ``max_draws`` drawn (the condition is too rare for
            this model).
    """
    kept, drawn, have = [], 0, 0
    while have < n and drawn < max_draws:
        m = min(max(2 * (n - have), 256), max_draws - drawn)
        x = draw(m)
        drawn += m
        ok = x[matches(x, fixed, one_hot)]
        kept.append(ok)
        have += len(ok)
    if have < n:
        raise DataError(
            f"only {have} of {drawn} sampled rows met the conditions; the model rarely makes such rows. Ask for "
            "fewer rows, loosen the conditions, or use ctgan, whose conditional vector makes them directly"
        )
    return torch.cat(kept)[:n]


__all__ = [
    "Activation",
    "Dropout",
    "TableConfig",
    "TableModel",
    "check_table_data",
    "example_rows",
    "harden",
    "impose",
    "matches",
    "model_transform",
    "rejection_sample",
    "resolve_conditions",
    "sample_meeting",
    "spans_of",
]
