"""Energy-based models: Boltzmann machines, RBMs, deep belief nets and deep Boltzmann machines."""

from .rbm import RBM, RBMConfig

__all__ = ["RBM", "RBMConfig"]
