"""Model families. Importing this package registers every model with :mod:`genlab.registry`."""

from .autoencoders import AE, VAE, AEConfig, StackedAE, StackedAEConfig, VAEConfig
from .autoregressive import MADE, MADEConfig, TransformerAR, TransformerARConfig
from .base import Batch, GenerativeModel, eval_mode, evaluating
from .bayesian import BNN, BNNConfig
from .energy import RBM, RBMConfig
from .flows import RealNVP, RealNVPConfig
from .gans import GAN, GANConfig
from .tabular import CTGAN, TVAE, CTGANConfig, GaussianCopula, GaussianCopulaConfig, TVAEConfig
from .translation import CycleGAN, CycleGANConfig, ImageTranslator, Pix2Pix, Pix2PixConfig, SRNet, SRNetConfig

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
    "CycleGAN",
    "CycleGANConfig",
    "GANConfig",
    "GaussianCopula",
    "GaussianCopulaConfig",
    "GenerativeModel",
    "ImageTranslator",
    "MADEConfig",
    "Pix2Pix",
    "Pix2PixConfig",
    "RBMConfig",
    "RealNVP",
    "RealNVPConfig",
    "SRNet",
    "SRNetConfig",
    "StackedAE",
    "StackedAEConfig",
    "TVAEConfig",
    "TransformerAR",
    "TransformerARConfig",
    "VAEConfig",
    "eval_mode",
    "evaluating",
]
