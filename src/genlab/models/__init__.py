"""Model families. Importing this package registers every model with :mod:`genlab.registry`."""

from .autoencoders import AE, VAE, AEConfig, StackedAE, StackedAEConfig, VAEConfig
from .base import Batch, GenerativeModel

__all__ = ["AE", "VAE", "AEConfig", "Batch", "GenerativeModel", "StackedAE", "StackedAEConfig", "VAEConfig"]
