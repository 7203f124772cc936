"""Autoregressive models: each element conditioned on the ones before it, with an exact likelihood."""

from .made import MADE, MADEConfig
from .transformer import TransformerAR, TransformerARConfig

__all__ = ["MADE", "MADEConfig", "TransformerAR", "TransformerARConfig"]
