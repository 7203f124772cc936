"""Energy-based models: Boltzmann machines, RBMs, deep belief nets and deep Boltzmann machines."""

from .boltzmann import BoltzmannConfig, BoltzmannMachine
from .dbm import DBM, DBMConfig
from .dbn import DBN, DBNConfig
from .rbm import RBM, RBMConfig

__all__ = ["DBM", "DBN", "RBM", "BoltzmannConfig", "BoltzmannMachine", "DBMConfig", "DBNConfig", "RBMConfig"]
