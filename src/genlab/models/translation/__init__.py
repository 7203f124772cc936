"""Image-to-image models: pix2pix (and inpainting), super-resolution, CycleGAN."""

from ._common import ImageTranslator
from .cyclegan import CycleGAN, CycleGANConfig
from .pix2pix import Pix2Pix, Pix2PixConfig
from .srnet import SRNet, SRNetConfig, bicubic

__all__ = [
    "CycleGAN",
    "CycleGANConfig",
    "ImageTranslator",
    "Pix2Pix",
    "Pix2PixConfig",
    "SRNet",
    "SRNetConfig",
    "bicubic",
]
