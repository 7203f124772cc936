"""Reusable network blocks (plain ``nn.Module`` builders)."""

from .mlp import activation, mlp
from .optim import adam

__all__ = ["activation", "adam", "mlp"]
