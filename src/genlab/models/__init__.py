"""Model families. Importing this package registers every model with :mod:`genlab.registry`."""

from .autoencoders import VAE, VAEConfig
from .base import Batch, GenerativeModel

__all__ = ["VAE", "Batch", "GenerativeModel", "VAEConfig"]
