r"""Anomaly detection with autoencoders: fit on normal data, flag what the model cannot reconstruct.

The anomaly score of a sample is the model's own :meth:`score`:

- an autoencoder: the reconstruction loss summed over the dimensions,
  :math:`s(x) = \sum_j (x_j - \hat x_j)^2` (``loss="mse"``) or the binary cross-entropy (``loss="bce"``);
- a VAE: the negative evidence lower bound :math:`s(x) = -\mathrm{ELBO}(x)`, or with ``k > 1`` importance
  samples the negative IWAE bound :math:`-\mathcal{L}_k(x) \ge -\log p(x)` (a Monte-Carlo estimate drawn from a
  generator seeded by ``seed``, so the same call gives the same numbers).

Higher means less typical of the training data. A threshold :math:`t` turns scores into labels, **1 = anomaly
(score > t), 0 = normal**, chosen either as

- the :math:`(1 - c)` quantile of the training scores, so a fraction :math:`c` (``contamination``) of the
  training data is flagged; or
- the ``threshold_quantile`` :math:`q` of the scores of held-out normal data (``val_data``, or a random
  ``val_fraction`` of the training data that the model does not train on), so about :math:`1 - q` of new
  normal data is flagged: a calibrated false-positive rate.

Tabular data are standardized internally (``standardize="auto"``); images in [0, 1] are used as they are.

Example::

    from genlab.apps.anomaly import Detector
    det = Detector("ae", contamination=0.05, epochs=30).fit(x_normal)
    flags = det.predict(x_new)          # (N,) int64, 1 = anomaly
    scores = det.score(x_new)           # (N,) float, higher = more abnormal
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch

from ..errors import ConfigError
from ._base import AutoencoderApp
from ._common import quantile, same_shape, tensor_from_json, tensor_to_json


class Detector(AutoencoderApp):
    """An autoencoder anomaly detector (see the module docstring for the scores and the threshold).

    Args:
        model: registry name of an autoencoder (``"ae"``, ``"vae"``...).
        contamination: expected fraction of anomalies in the training data, in [0, 0.5]; the threshold is
            the ``1 - contamination`` quantile of the training scores. Ignored when ``threshold_quantile``
            is set.
        threshold_quantile: if set (in (0, 1], e.g. 0.99), the threshold is this quantile of the scores of
            held-out data: ``val_data`` passed to :meth:`fit`, else a ``val_fraction`` split of the data.
        val_fraction: fraction of the training data held out for ``threshold_quantile`` when no
            ``val_data`` is given, in (0, 1).
        k: importance samples per input for a VAE's score (1 = negative ELBO); ignored by autoencoders.
        **kwargs: the settings of :class:`~genlab.apps._base.AutoencoderApp` (``latent_dim``, ``epochs``,
            ``seed``, ``standardize``...).

    Attributes:
        threshold: the fitted threshold :math:`t` (scores above it are anomalies).
        train_scores: ``(N,)`` scores of the training data (the part the model trained on).
        threshold_scores: the scores the threshold was taken from (training or held-out).
    """

    def __init__(
        self,
        model: str = "ae",
        *,
        contamination: float = 0.1,
        threshold_quantile: float | None = None,
        val_fraction: float = 0.2,
        k: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(model, **kwargs)
        if (
            isinstance(contamination, bool)
            or not isinstance(contamination, int | float)
            or not 0 <= contamination <= 0.5
        ):
            raise ConfigError(f"contamination must be a fraction in [0, 0.5], got {contamination!r}")
        if threshold_quantile is not None and (
            isinstance(threshold_quantile, bool)
            or not isinstance(threshold_quantile, int | float)
            or not 0 < threshold_quantile <= 1
        ):
            raise ConfigError(
                f"threshold_quantile must lie in (0, 1] (e.g. 0.99) or be None, got {threshold_quantile!r}"
            )
        if isinstance(val_fraction, bool) or not isinstance(val_fraction, int | float) or not 0 < val_fraction < 1:
            raise ConfigError(f"val_fraction must lie in (0, 1), got {val_fraction!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"k must be an integer >= 1, got {k!r}")
        self.contamination = float(contamination)
        self.threshold_quantile = None if threshold_quantile is None else float(threshold_quantile)
        self.val_fraction = float(val_fraction)
        self.k = k
        self.threshold: float = math.nan
        self.train_scores: torch.Tensor | None = None
        self.threshold_scores: torch.Tensor | None = None

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "contamination": self.contamination,
            "threshold_quantile": self.threshold_quantile,
            "val_fraction": self.val_fraction,
            "k": self.k,
        }

    def fit(self, x: Any, val_data: Any = None) -> Detector:
        """Train on normal samples ``x`` ``(N, *sample_shape)`` and set the threshold.

        Args:
            x: training data, assumed (mostly) normal.
            val_data: held-out normal samples for ``threshold_quantile`` (also used for validation metrics).

        Raises:
            DataError: unusable data (NaN, infinite values, samples of different shapes).
            ConfigError: too few samples to hold ``val_fraction`` of them out for ``threshold_quantile``.
        """
        x = self._samples(x, "training data")
        val = None if val_data is None else same_shape(self._samples(val_data, "validation data"), x)
        if self.threshold_quantile is not None and val is None:
            n_val = round(len(x) * self.val_fraction)
            if n_val < 1 or n_val >= len(x):
                raise ConfigError(
                    f"cannot hold out val_fraction={self.val_fraction} of {len(x)} samples for threshold_quantile; "
                    "pass val_data, or more data"
                )
            perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.seed + 17))
            x, val = x[perm[n_val:]], x[perm[:n_val]]
        self._fit_model(x, val)
        self.train_scores = self.score(x)
        if self.threshold_quantile is None:
            self.threshold_scores = self.train_scores
            self.threshold = quantile(self.train_scores, 1.0 - self.contamination)
        else:
            self.threshold_scores = self.score(val)
            self.threshold = quantile(self.threshold_scores, self.threshold_quantile)
        return self

    def score(self, x: Any) -> torch.Tensor:
        """Anomaly scores ``(N,)`` float64: higher = more abnormal.

        The reconstruction loss (autoencoders) or the negative ELBO / IWAE bound (VAEs), in the scaled units.
        """
        params = inspect.signature(self._require_fitted().score).parameters
        z = self.scaler.transform(self._inputs(x))
        if "generator" in params:  # a Monte-Carlo score (VAE): draws from a generator seeded afresh for every call
            gen = torch.Generator().manual_seed(self.seed)
            kw = {"k": self.k} if "k" in params else {}
            return self._map(lambda m, b: m.score(b, generator=gen, **kw), z)
        return self._map(lambda m, b: m.score(b), z)

    def predict(self, x: Any) -> torch.Tensor:
        """Labels ``(N,)`` (int64): **1 = anomaly** (score above the threshold), 0 = normal."""
        self._require_fitted()
        return (self.score(x) > self.threshold).long()

    def state(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "train_scores": tensor_to_json(self.train_scores),
            "threshold_scores": tensor_to_json(self.threshold_scores),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.threshold = float(state["threshold"])
        self.train_scores = tensor_from_json(state["train_scores"])
        self.threshold_scores = tensor_from_json(state["threshold_scores"])


__all__ = ["Detector"]
