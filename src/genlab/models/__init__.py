"""Model families. Importing this package registers every model with :mod:`genlab.registry`."""

from .autoencoders import AE, VAE, AEConfig, StackedAE, StackedAEConfig, VAEConfig
from .autoregressive import MADE, MADEConfig, TransformerAR, TransformerARConfig
from .base import Batch, GenerativeModel, eval_mode, evaluating
from .bayesian import BNN, BNNConfig
from .energy import RBM, RBMConfig
from .flows import RealNVP, RealNVPConfig
from .gans import GAN, GANConfig
from .tabular import CTGAN, TVAE, CTGANConfig, GaussianCopula, GaussianCopulaConfig, TVAEConfig

__all__ = [
    "AE",
    "BNN",
    "CTGAN",
    "GAN",
    "MADE",
    "RBM",
    "TVAE",
    "VAE",
    "AEConfig",
    "BNNConfig",
    "Batch",
    "CTGANConfig",
    "GANConfig",
    "GaussianCopula",
    "GaussianCopulaConfig",
    "GenerativeModel",
    "MADEConfig",
    "RBMConfig",
    "RealNVP",
    "RealNVPConfig",
    "StackedAE",
    "StackedAEConfig",
    "TVAEConfig",
    "TransformerAR",
    "TransformerARConfig",
    "VAEConfig",
    "eval_mode",
    "evaluating",
]
