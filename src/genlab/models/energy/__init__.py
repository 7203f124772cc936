"""Energy-based models: Boltzmann machines, RBMs, deep belief nets and deep Boltzmann machines."""

from .boltzmann import BoltzmannConfig, BoltzmannMachine
from .dbn import DBN, DBNConfig
from .rbm import RBM, RBMConfig

__all__ = ["DBN", "RBM", "BoltzmannConfig", "BoltzmannMachine", "DBNConfig", "RBMConfig"]
