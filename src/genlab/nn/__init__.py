"""Reusable network blocks (plain ``nn.Module`` builders)."""

from .mlp import activation, mlp

__all__ = ["activation", "mlp"]
