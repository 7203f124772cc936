"""Autoencoder family."""

from .vae import VAE, VAEConfig

__all__ = ["VAE", "VAEConfig"]
