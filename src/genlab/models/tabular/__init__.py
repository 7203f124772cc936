"""Table models over :mod:`genlab.tabular`'s encoded rows: ``ctgan``, ``tvae`` and ``gaussian_copula``."""

from .copula import GaussianCopula, GaussianCopulaConfig
from .ctgan import CTGAN, CTGANConfig
from .tvae import TVAE, TVAEConfig

__all__ = ["CTGAN", "TVAE", "CTGANConfig", "GaussianCopula", "GaussianCopulaConfig", "TVAEConfig"]
