"""Autoencoder family: autoencoders (plain, sparse, denoising), stacked autoencoders, VAEs."""

from .ae import AE, AEConfig
from .stacked import StackedAE, StackedAEConfig
from .vae import VAE, VAEConfig

__all__ = ["AE", "VAE", "AEConfig", "StackedAE", "StackedAEConfig", "VAEConfig"]
