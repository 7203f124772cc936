"""Applications of autoencoders: anomaly detection, denoising, imputation, features, compression.

Each application trains a registered autoencoder (``ae``, ``sparse_ae``, ``denoising_ae``, ``vae``,
``stacked_ae``...) through the one :class:`~genlab.Trainer` and works on torch tensors or numpy arrays of
shape ``(N, d)`` (tabular) or ``(N, C, H, W)`` (images); results are torch tensors. The scikit-learn
style wrappers (numpy in, numpy out, ``get_params``, pipelines) are in :mod:`genlab.estimators`.

Quick use::

    from genlab.apps import Denoiser, Detector, FeatureExtractor, Imputer, psnr

    det = Detector("ae", contamination=0.05, epochs=30, seed=0).fit(x_normal)
    is_anomaly = det.predict(x_new)                    # 1 = anomaly, 0 = normal

    den = Denoiser(corruption="gaussian", corruption_level=0.2).fit(x_clean)
    print(psnr(x_clean_test, den.transform(x_noisy_test)))

    filled = Imputer(n_iter=3).fit_transform(x_with_nans)    # observed entries kept exactly
    codes = FeatureExtractor(latent_dim=16).fit(x).transform(x)

Every application saves to a directory (``app.save(dir)``; ``Detector.load(dir)``): the model directory of
:mod:`genlab.io` and a small ``app.json``; nothing is pickled.
"""

from ._base import AutoencoderApp, NotFittedError, autoencoder_names
from ._common import Standardizer
from .anomaly import Detector
from .compression import CompressionReport, Compressor, QuantizedCodes, compression_report, quantize
from .denoising import Denoiser, psnr
from .features import FeatureExtractor, encode
from .imputation import Imputer

__all__ = [
    "AutoencoderApp",
    "CompressionReport",
    "Compressor",
    "Denoiser",
    "Detector",
    "FeatureExtractor",
    "Imputer",
    "NotFittedError",
    "QuantizedCodes",
    "Standardizer",
    "autoencoder_names",
    "compression_report",
    "encode",
    "psnr",
    "quantize",
]
