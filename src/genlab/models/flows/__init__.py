"""Normalizing flows: invertible maps onto a simple base density, with an exact likelihood."""

from .realnvp import RealNVP, RealNVPConfig

__all__ = ["RealNVP", "RealNVPConfig"]
