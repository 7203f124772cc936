r"""Feature extraction: the codes of an autoencoder as features for another model.

An autoencoder trained to reconstruct its input, :math:`x \approx g(f(x))`, with a code
:math:`h = f(x) \in \mathbb{R}^L` smaller than the input (or regularized: sparse, denoising) keeps in
:math:`h` what it needs to rebuild :math:`x`. The code is a learned non-linear generalization of PCA
(a linear autoencoder with the squared error spans the principal subspace; Baldi & Hornik 1989) and often
a better input for a classifier than the raw data when labels are few. A VAE gives the posterior mean
:math:`\mu_\phi(x)` of :math:`q(z|x)`.

Example::

    from genlab.apps.features import FeatureExtractor
    fx = FeatureExtractor("ae", latent_dim=16, epochs=30).fit(x_unlabelled)
    h = fx.transform(x)                  # (N, 16)

References:
    Baldi, P. & Hornik, K. (1989). Neural Networks and Principal Component Analysis: Learning from Examples
    Without Local Minima. Neural Networks 2(1).
    Hinton, G. E. & Salakhutdinov, R. R. (2006). Reducing the Dimensionality of Data with Neural Networks.
"""

from __future__ import annotations

from typing import Any

import torch

from ..data.dataset import check_samples
from ..errors import DataError
from ..models.base import GenerativeModel
from ._base import INFERENCE_BATCH, AutoencoderApp


def encode(model: GenerativeModel, x: Any, batch_size: int = INFERENCE_BATCH) -> torch.Tensor:
    """The codes ``model.encode(x)`` of a trained autoencoder, ``(N, latent_dim)``, batch by batch, no gradients.

    ``x`` must already be in the units the model was trained on (apply the same scaling).

    Raises:
        DataError: NaN / infinite values, or samples of another shape than the model's.
    """
    t = check_samples(x, what="data")
    shape = tuple(getattr(model.config, "data_shape", t.shape[1:]))
    if tuple(t.shape[1:]) != shape:
        raise DataError(f"the model takes samples of shape {shape}, got {tuple(t.shape[1:])}")
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device  # batches go to the model's device, the codes come back to x's
    try:
        with torch.no_grad():
            return torch.cat(
                [model.encode(t[i : i + batch_size].to(dev)).to(t.device) for i in range(0, len(t), batch_size)]
            )
    finally:
        model.train(was_training)


class FeatureExtractor(AutoencoderApp):
    """An autoencoder fitted on (unlabelled) data whose :meth:`transform` gives the codes.

    Takes the settings of :class:`~genlab.apps._base.AutoencoderApp` (``model``, ``latent_dim``,
    ``hidden_dims``, ``epochs``, ``seed``, ``standardize``...).
    """

    @property
    def n_features_out(self) -> int:
        """Size of the code."""
        return self.code_size

    def transform(self, x: Any) -> torch.Tensor:
        """The codes of ``x``, ``(N, latent_dim)`` float32."""
        return self.encode(x)

    def fit_transform(self, x: Any) -> torch.Tensor:
        return self.fit(x).transform(x)


__all__ = ["FeatureExtractor", "encode"]
