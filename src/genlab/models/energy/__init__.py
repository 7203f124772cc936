"""Energy-based models: Boltzmann machines, RBMs, deep belief nets and deep Boltzmann machines."""

from .boltzmann import BoltzmannConfig, BoltzmannMachine
from .rbm import RBM, RBMConfig

__all__ = ["RBM", "BoltzmannConfig", "BoltzmannMachine", "RBMConfig"]
