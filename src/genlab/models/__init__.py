"""Model families. Importing this package registers every model with :mod:`genlab.registry`."""

from .autoencoders import AE, VAE, AEConfig, StackedAE, StackedAEConfig, VAEConfig
from .autoregressive import MADE, MADEConfig, TransformerAR, TransformerARConfig
from .base import Batch, GenerativeModel, eval_mode, evaluating
from .bayesian import BNN, BNNConfig
from .energy import RBM, RBMConfig
from .flows import RealNVP, RealNVPConfig
from .gans import GAN, GANConfig

__all__ = [
    "AE",
    "BNN",
    "GAN",
    "MADE",
    "RBM",
    "VAE",
    "AEConfig",
    "BNNConfig",
    "Batch",
    "GANConfig",
    "GenerativeModel",
    "MADEConfig",
    "RBMConfig",
    "RealNVP",
    "RealNVPConfig",
    "StackedAE",
    "StackedAEConfig",
    "TransformerAR",
    "TransformerARConfig",
    "VAEConfig",
    "eval_mode",
    "evaluating",
]
