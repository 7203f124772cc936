"""Autoregressive models: each element conditioned on the ones before it, with an exact likelihood."""

from .made import MADE, MADEConfig

__all__ = ["MADE", "MADEConfig"]
