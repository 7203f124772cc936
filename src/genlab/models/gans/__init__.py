"""GAN family: one :class:`GAN` with every loss (minimax ... WGAN-GP), architecture and stabiliser as config."""

from .gan import GAN, GANConfig

__all__ = ["GAN", "GANConfig"]
