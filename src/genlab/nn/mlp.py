"""Multi-layer perceptrons."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ..errors import ConfigError

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}
ACTIVATIONS = tuple(_ACTIVATIONS)


def activation(name: str) -> nn.Module:
    """An activation module by name (``relu``, ``leaky_relu`` (slope 0.2), ``elu``, ``tanh``, ...)."""
    if name not in _ACTIVATIONS:
        raise ConfigError(f"unknown activation {name!r}; choose one of {', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]()


def mlp(
    in_dim: int,
    hidden_dims: Sequence[int],
    out_dim: int,
    *,
    act: str = "relu",
    out_act: str | None = None,
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> nn.Sequential:
    """``in_dim -> hidden_dims... -> out_dim`` with ``act`` after each hidden layer.

    Args:
        in_dim: input features.
        hidden_dims: widths of the hidden layers (may be empty: a single linear map).
        out_dim: output features.
        act: hidden activation name.
        out_act: optional output activation name.
        batch_norm: batch norm after each hidden linear layer.
        dropout: dropout probability after each hidden activation.
    """
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden_dims:
        layers.append(nn.Linear(d, h))
        if batch_norm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(activation(act))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d = h
    layers.append(nn.Linear(d, out_dim))
    if out_act is not None:
        layers.append(activation(out_act))
    return nn.Sequential(*layers)
