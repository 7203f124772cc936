"""Variational autoencoders: MLP or convolutional, unconditional or class-conditional, ELBO or IWAE."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F

from ...config import MAX_LAYERS, MAX_STEPS, MAX_WIDTH, BaseConfig, param, shape_param
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...losses import bernoulli_log_likelihood, gaussian_log_likelihood, kl_normal_std_normal
from ...nn import adam, mlp
from ...nn.coders import Decoder, Encoder
from ...registry import register_model
from ..base import Batch, GenerativeModel, checked_labels, evaluating, require_unit_range

_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class VAEConfig(BaseConfig):
    """Configuration of :class:`VAE`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one sample, e.g. (1, 28, 28)")
    architecture: Literal["mlp", "conv"] = param("mlp", help="mlp, or conv (images; hidden_dims are channels)")
    hidden_dims: tuple[int, ...] = param(
        (200, 200), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="encoder widths or channels (the decoder mirrors)"
    )
    latent_dim: int = param(50, ge=1, le=MAX_WIDTH, help="size of the latent code z")
    activation: Literal["relu", "leaky_relu", "elu", "tanh", "softplus", "gelu", "silu"] = "relu"
    likelihood: Literal["bernoulli", "gaussian"] = param(
        "bernoulli", help="p(x|z): bernoulli for data in [0, 1], gaussian for real values"
    )
    obs_std: float = param(0.1, gt=0, help="gaussian likelihood: initial / fixed standard deviation")
    learn_obs_std: bool = param(False, help="gaussian likelihood: learn one std per dimension")
    beta: float = param(1.0, ge=0, help="weight of the KL term (beta-VAE); 1 gives the ELBO")
    kl_warmup_steps: int = param(
        0, ge=0, help="KL warm-up: the KL weight rises linearly from 0 to beta over this many training steps"
    )
    objective: Literal["elbo", "iwae"] = param("elbo", help="train on the ELBO or the k-sample IWAE bound")
    k: int = param(1, ge=1, le=MAX_STEPS, help="importance samples per input for the IWAE objective")
    n_classes: int = param(0, ge=0, le=MAX_WIDTH, help="> 0: a conditional VAE on labels 0..n_classes-1 (cvae)")
    semi_supervised: bool = param(
        False, help="M2 (ssvae): also learn q(y|x); labels -1 mark unlabelled samples, whose y is summed out"
    )
    classifier_dims: tuple[int, ...] = param(
        (500,), ge=1, le=MAX_WIDTH, max_len=MAX_LAYERS, help="semi_supervised: hidden widths of q(y|x)"
    )
    classifier_weight: float = param(
        1.0, ge=0, help="semi_supervised: weight alpha of the cross-entropy of q(y|x) on labelled samples"
    )
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    weight_decay: float = param(0.0, ge=0)

    def validate(self) -> None:
        if not self.data_shape:
            raise ConfigError("VAEConfig.data_shape must have at least one dimension")
        if self.architecture == "conv" and len(self.data_shape) != 3:
            raise ConfigError(f"VAEConfig.architecture='conv' needs image data (C, H, W), got {self.data_shape}")
        if self.kl_warmup_steps and (self.objective != "elbo" or self.semi_supervised):
            raise ConfigError("the KL warm-up applies to the plain ELBO objective (objective='elbo', not M2)")
        if self.objective == "iwae" and self.beta != 1.0:
            raise ConfigError("the IWAE objective is a bound on log p(x) only with beta = 1")
        if self.semi_supervised and self.n_classes < 2:
            raise ConfigError("semi_supervised=True needs the number of classes: set n_classes (e.g. 10)")
        if self.semi_supervised and self.objective != "elbo":
            raise ConfigError("the semi-supervised VAE (M2) trains on the ELBO: set objective='elbo'")


@register_model(
    "vae",
    config=VAEConfig,
    description="variational autoencoder (MLP or conv; Bernoulli or Gaussian p(x|z); ELBO or IWAE)",
    presets={"cvae": {"n_classes": 10}, "ssvae": {"n_classes": 10, "semi_supervised": True}},
)
class VAE(GenerativeModel):
    r"""Variational autoencoder (Kingma & Welling 2014), its importance-weighted bound (Burda et al. 2016)
    and its class-conditional form (Sohn et al. 2015).

    An encoder gives a diagonal Gaussian posterior
    :math:`q_\phi(z|x) = N(\mu_\phi(x), \mathrm{diag}\,\sigma^2_\phi(x))`, a decoder a likelihood
    :math:`p_\theta(x|z)` (Bernoulli or Gaussian), and the prior is :math:`N(0, I)`. Training maximises

    .. math::
        \mathrm{ELBO}(x) = E_{q(z|x)}[\log p_\theta(x|z)] - \beta\,KL(q_\phi(z|x)\,\|\,p(z)) \le \log p(x)

    with :math:`z = \mu + \sigma \odot \epsilon`, or (``objective="iwae"``) the tighter

    .. math::
        \mathcal{L}_k(x) = E\Big[\log \frac{1}{k}\sum_{i=1}^k \frac{p(x, z_i)}{q(z_i|x)}\Big],
        \quad z_i \sim q(z|x),

    and :math:`\mathrm{ELBO} = \mathcal{L}_1 \le \mathcal{L}_k \le \mathcal{L}_{k+1} \le \log p(x)`.
    With ``kl_warmup_steps`` the KL weight rises from 0 to ``beta`` over the first steps (Bowman et al.
    2016; Sønderby et al. 2016), which keeps more latent units active.

    With ``n_classes > 0`` encoder and decoder also see a one-hot label ``y``: :math:`q(z|x, y)`,
    :math:`p(x|z, y)`, and ``sample(n, labels=...)`` draws digits of the requested classes.

    With ``semi_supervised=True`` (the ``ssvae`` preset) it is the M2 model of Kingma et al. (2014): a
    classifier :math:`q(y|x)` is learned too, and :math:`p(y)` is uniform over the ``K`` classes. A
    labelled sample contributes the bound on :math:`\log p(x, y)`,
    :math:`\mathcal{L}(x, y) = E_{q(z|x,y)}[\log p(x|y,z) + \log p(y) + \log p(z) - \log q(z|x,y)]`,
    and an unlabelled one the bound on :math:`\log p(x)` with ``y`` summed out,
    :math:`\mathcal{U}(x) = \sum_y q(y|x)\,\mathcal{L}(x, y) + H(q(y|x))`. Training minimises

    .. math::
        -\frac{1}{B}\Big[\sum_{\text{labelled}} \big(\mathcal{L}(x, y) + \alpha \log q(y|x)\big)
        + \sum_{\text{unlabelled}} \mathcal{U}(x)\Big],

    where the labels of unlabelled samples are ``-1`` and :math:`\alpha` is ``classifier_weight``.
    ``predict`` / ``predict_proba`` classify with :math:`q(y|x)`.

    References:
        Kingma, D. P. & Welling, M. (2014). Auto-Encoding Variational Bayes. ICLR.
        Burda, Y., Grosse, R. & Salakhutdinov, R. (2016). Importance Weighted Autoencoders. ICLR.
        Sohn, K., Lee, H. & Yan, X. (2015). Learning Structured Output Representation using Deep
        Conditional Generative Models. NeurIPS.
        Kingma, D. P., Mohamed, S., Rezende, D. J. & Welling, M. (2014). Semi-Supervised Learning with
        Deep Generative Models. NeurIPS.
        Bowman, S. R. et al. (2016). Generating Sentences from a Continuous Space. CoNLL.
        Sønderby, C. K. et al. (2016). Ladder Variational Autoencoders. NeurIPS.
    """

    likelihood_method = "iwae"

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        c = config
        self.encoder = Encoder(c.data_shape, c.architecture, c.hidden_dims, 2 * c.latent_dim, c.activation, c.n_classes)
        self.decoder = Decoder(c.latent_dim, c.architecture, c.hidden_dims, c.data_shape, c.activation, c.n_classes)
        if c.likelihood == "gaussian":
            log_std = torch.full((math.prod(c.data_shape),), math.log(c.obs_std))
            if c.learn_obs_std:
                self.log_obs_std = torch.nn.Parameter(log_std)
            else:
                self.register_buffer("log_obs_std", log_std)
        else:
            self.log_obs_std = None
        if c.semi_supervised:
            self.classifier = mlp(math.prod(c.data_shape), c.classifier_dims, c.n_classes, act=c.activation)

    @property
    def output_range(self) -> tuple[float, float] | None:  # type: ignore[override]
        return (0.0, 1.0) if self.config.likelihood == "bernoulli" else None

    # --- conditioning -----------------------------------------------------------------------------
    def _cond(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        y = checked_labels(y, n, self.config.n_classes, "VAE")
        return None if y is None else F.one_hot(y, self.config.n_classes).float()

    # --- the probabilistic model ------------------------------------------------------------------
    def posterior(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters ``(mean, logvar)`` of ``q(z|x[, y])``, each ``(B, latent_dim)``."""
        h = self.encoder(x, self._cond(y, x.shape[0]))
        mean, logvar = h.chunk(2, dim=1)
        return mean, logvar

    def _known_labels(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor | None:
        """For a semi-supervised VAE, fill missing labels (``None`` or ``-1``) with the classifier's guess."""
        if not self.config.semi_supervised:
            return y
        guess = self.class_logits(x).argmax(1)
        if y is None:
            return guess
        y = torch.as_tensor(y, device=guess.device)
        return torch.where(y < 0, guess, y)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The code of ``x``: the posterior mean, ``(B, latent_dim)``.

        A semi-supervised VAE encodes unlabelled samples (``y`` None or ``-1``) with its predicted class.
        """
        return self.posterior(x, self._known_labels(x, y))[0]

    @evaluating
    def active_units(self, x: torch.Tensor, threshold: float = 0.01, batch_size: int = 2048) -> torch.Tensor:
        """Which latent units are active on ``x``: ``Var_x(E_q[z_j | x]) > threshold`` (Burda et al. 2016), ``(L,)``.

        An inactive unit's posterior ignores the input (it stays at the prior), so the unit carries no
        information; counting them shows how much of ``latent_dim`` a trained VAE uses.
        """
        means = torch.cat([self.encode(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
        return means.var(0) > threshold

    def decoder_output(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Raw decoder output shaped like the data: logits (Bernoulli) or means (Gaussian)."""
        return self.decoder(z, self._cond(y, z.shape[0]))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Mean of ``p(x|z[, y])``: probabilities (Bernoulli) or means (Gaussian), ``(B, *data_shape)``."""
        out = self.decoder_output(z, y)
        return torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out

    def log_likelihood(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``log p(x|z)`` per sample ``(B,)`` from the decoder output for ``z``."""
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_likelihood(out, x)
        return gaussian_log_likelihood(out.reshape(out.shape[0], -1), x.reshape(x.shape[0], -1), self.log_obs_std)

    def reparameterize(
        self, mean: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        eps = self.randn(mean.shape, generator=generator, dtype=mean.dtype)
        return mean + eps * torch.exp(0.5 * logvar)

    def elbo_terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Single-sample estimates of ``(E_q[log p(x|z)], KL(q(z|x) || p(z)))`` per sample, each ``(B,)``.

        Differentiable, in the model's current mode: the training step builds its loss from these terms."""
        mean, logvar = self.posterior(x, y)
        z = self.reparameterize(mean, logvar, generator)
        rec = self.log_likelihood(self.decoder_output(z, y), x)
        return rec, kl_normal_std_normal(mean, logvar)

    @evaluating
    def elbo(
        self, x: torch.Tensor, generator: torch.Generator | None = None, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """A one-sample Monte-Carlo estimate of the ELBO in nats per sample, ``(B,)`` (beta not applied).

        For a semi-supervised VAE without labels it is the bound ``U(x)`` with the class summed out (which
        applies ``beta``, like training does; with the default ``beta = 1`` it is a true bound on ``log p(x)``).

        An evaluation: eval mode, no gradients. For a differentiable ELBO use :meth:`elbo_terms`
        (``rec - kl``), :meth:`unlabelled_bound` or :meth:`loss`.
        """
        if self.config.semi_supervised and y is None:
            return self.unlabelled_bound(x, generator)
        rec, kl = self.elbo_terms(x, generator, y)
        return rec - kl

    def log_weights(
        self, x: torch.Tensor, k: int, generator: torch.Generator | None = None, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``log p(x, z_i) - log q(z_i|x)`` for ``k`` draws ``z_i ~ q(z|x)``: shape ``(k, B)``."""
        b = x.shape[0]
        mean, logvar = self.posterior(x, y)
        std = torch.exp(0.5 * logvar)
        eps = self.randn((k, *mean.shape), generator=generator, dtype=mean.dtype)
        z = mean + eps * std  # (k, B, L)
        log_q = (-0.5 * eps.square() - 0.5 * logvar - 0.5 * _LOG_2PI).sum(-1)
        log_p_z = (-0.5 * z.square() - 0.5 * _LOG_2PI).sum(-1)
        ys = None if y is None else torch.as_tensor(y, device=x.device).repeat(k)
        out = self.decoder_output(z.reshape(k * b, -1), ys).reshape(k, b, -1)
        x3 = x.reshape(1, b, -1)  # broadcast over the k draws instead of copying x k times
        if self.config.likelihood == "bernoulli":  # log p(x|z) = x l - softplus(l), the BCE-with-logits identity
            log_px = (x3 * out - F.softplus(out)).sum(-1)
        else:
            z_std = (x3 - out) * torch.exp(-self.log_obs_std)
            log_px = (-0.5 * z_std.square() - self.log_obs_std - 0.5 * _LOG_2PI).sum(-1)
        return log_px + log_p_z - log_q

    def iwae_bound(
        self, x: torch.Tensor, k: int, generator: torch.Generator | None = None, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The importance-weighted bound ``L_k`` per sample, ``(B,)`` (``k = 1`` is the ELBO).

        Differentiable, in the model's current mode (the IWAE training objective); :meth:`log_prob` evaluates it.
        """
        return torch.logsumexp(self.log_weights(x, k, generator, y), 0) - math.log(k)

    @evaluating
    def log_prob(
        self,
        x: torch.Tensor,
        k: int = 5000,
        generator: torch.Generator | None = None,
        y: torch.Tensor | None = None,
        memory_floats: int = 2**24,
    ) -> torch.Tensor:
        """Importance-sampled estimate of ``log p(x)`` in nats, ``(B,)``: the IWAE bound ``L_k``.

        ``L_k`` approaches ``log p(x)`` from below as ``k`` grows (Burda et al. 2016 use k = 5000). The
        draws are processed in chunks with a running log-sum-exp, so memory stays near ``memory_floats``
        float32 values (64 MB by default) whatever ``k`` and the batch size. Eval mode, no gradients
        (:meth:`iwae_bound` is the differentiable bound).
        """
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k}")
        gen = self.rng(generator)
        d = math.prod(self.config.data_shape)
        results = []
        rows = max(1, min(x.shape[0], memory_floats // (d * min(k, 64))))
        for start in range(0, x.shape[0], rows):
            xb = x[start : start + rows]
            yb = None if y is None else torch.as_tensor(y, device=x.device)[start : start + rows]
            chunk = max(1, min(k, memory_floats // (d * xb.shape[0])))
            acc = torch.full((xb.shape[0],), -math.inf, device=xb.device)
            done = 0
            while done < k:
                m = min(chunk, k - done)
                acc = torch.logaddexp(acc, torch.logsumexp(self.log_weights(xb, m, gen, yb), 0))
                done += m
            results.append(acc - math.log(k))
        return torch.cat(results)

    @evaluating
    def score(
        self, x: torch.Tensor, k: int = 1, generator: torch.Generator | None = None, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-sample anomaly score ``-L_k(x)`` in nats (``k = 1``: the negative ELBO); higher = less typical."""
        return -self.log_prob(x, k=k, generator=generator, y=y)

    def loss(
        self, x: torch.Tensor, generator: torch.Generator | None = None, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The training objective on a batch: ``-mean(E_q[log p(x|z)] - beta KL)``, or ``-mean(L_k)`` for IWAE."""
        if self.config.objective == "iwae":
            return -self.iwae_bound(x, self.config.k, generator, y).mean()
        if self.config.semi_supervised and y is None:
            return -self.unlabelled_bound(x, generator).mean()
        rec, kl = self.elbo_terms(x, generator, y)
        return -(rec - self.config.beta * kl).mean()

    @evaluating
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """``decode(mean of q(z|x))``: a deterministic reconstruction shaped like ``x``."""
        y = self._known_labels(x, y)
        return self.decode(self.encode(x, y), y).reshape(x.shape)

    @evaluating
    def sample(
        self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``n`` draws ``z ~ N(0, I)`` decoded to the mean of ``p(x|z)``, ``(n, *data_shape)``.

        For a conditional VAE, ``labels`` (``(n,)``) chooses the classes; by default they cycle 0, 1, 2...
        """
        if self.config.n_classes and labels is None:
            labels = torch.arange(n, device=self.device) % self.config.n_classes
        z = self.randn((n, self.config.latent_dim), generator=generator)
        return self.decode(z, labels if self.config.n_classes else None)

    # --- semi-supervised (M2) ------------------------------------------------------------------------
    def class_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the classifier ``q(y|x)``, ``(B, n_classes)`` (semi-supervised models only)."""
        if not self.config.semi_supervised:
            raise ConfigError("only a semi-supervised VAE (semi_supervised=True, the ssvae preset) classifies")
        return self.classifier(x.reshape(x.shape[0], -1))

    @evaluating
    def predict_proba(self, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        """Class probabilities ``q(y|x)``, ``(B, n_classes)``."""
        return torch.cat([self.class_logits(x[i : i + batch_size]).softmax(1) for i in range(0, len(x), batch_size)])

    def predict(self, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        """The most probable class under ``q(y|x)``, ``(B,)``."""
        return self.predict_proba(x, batch_size).argmax(1)

    def labelled_bound(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """One-sample estimate of the bound on ``log p(x, y)`` (``beta`` applied), ``(B,)``."""
        rec, kl = self.elbo_terms(x, generator, y)
        return rec - self.config.beta * kl - math.log(self.config.n_classes)

    def unlabelled_bound(
        self, x: torch.Tensor, generator: torch.Generator | None = None, logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``U(x) = sum_y q(y|x) L(x, y) + H(q(y|x))``, the bound on ``log p(x)`` with y summed out, ``(B,)``."""
        b, k = x.shape[0], self.config.n_classes
        if logits is None:
            logits = self.class_logits(x)
        ys = torch.arange(k, device=x.device).repeat_interleave(b)  # every sample with every class, class-major
        bounds = self.labelled_bound(x.repeat(k, *([1] * (x.dim() - 1))), ys, generator).reshape(k, b).T
        log_q = logits.log_softmax(1)
        q = log_q.exp()
        return (q * (bounds - log_q)).sum(1)

    def _semi_supervised_step(self, batch: Batch, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        x, y = batch.x, batch.y
        if y is None:
            y = torch.full((x.shape[0],), -1, dtype=torch.long, device=x.device)
        lab = y >= 0
        logits = self.class_logits(x)
        total = x.new_zeros(())
        out: dict[str, Any] = {}
        if lab.any():
            ce = F.cross_entropy(logits[lab], y[lab], reduction="sum")
            total = total - self.labelled_bound(x[lab], y[lab]).sum() + self.config.classifier_weight * ce
            n_lab = int(lab.sum())
            out["ce"] = ce.detach() / n_lab
            out["acc"] = (logits[lab].argmax(1) == y[lab]).float().mean()
        if not lab.all():
            unl = ~lab
            total = total - self.unlabelled_bound(x[unl], logits=logits[unl]).sum()
        loss = total / x.shape[0]
        self.optimize(loss, optimizer)
        out["loss"] = loss.detach()
        return out

    def diversity_advice(self) -> str:
        c = self.config
        tips = [f"check model.active_units(x) for posterior collapse; raise latent_dim (now {c.latent_dim})"]
        if c.objective == "elbo" and not c.semi_supervised:
            if c.beta > 0.5:
                tips.append(f"lower beta (now {c.beta:g})")
            if not c.kl_warmup_steps:
                tips.append("set kl_warmup_steps (e.g. 5000)")
        if not c.semi_supervised and c.beta == 1.0 and c.objective == "elbo":
            tips.append("train on objective='iwae' with k > 1")
        return "a VAE whose samples miss classes (blurry or collapsed codes): " + ", ".join(tips)

    # --- training ---------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)]

    def _labels(self, batch: Batch) -> torch.Tensor | None:
        return batch.y if self.config.n_classes else None

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        if self.config.semi_supervised:
            return self._semi_supervised_step(batch, optimizers[0])
        y = self._labels(batch)
        if self.config.objective == "iwae":
            loss = -self.iwae_bound(batch.x, self.config.k, y=y).mean()
            self.optimize(loss, optimizers[0])
            return {"loss": loss.detach()}
        rec, kl = self.elbo_terms(batch.x, y=y)
        loss = -(rec - self.kl_weight(step) * kl).mean()
        self.optimize(loss, optimizers[0])
        return {"loss": loss.detach(), "recon": -rec.detach().mean(), "kl": kl.detach().mean()}

    def kl_weight(self, step: int) -> float:
        """The KL weight at training step ``step``: ``beta``, ramped up from 0 during the KL warm-up."""
        warm = self.config.kl_warmup_steps
        return self.config.beta * min(1.0, step / warm) if warm else self.config.beta

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        if self.config.semi_supervised:
            if batch.y is None or (batch.y < 0).any():
                return {"loss": -self.unlabelled_bound(batch.x).mean()}
            logits = self.class_logits(batch.x)
            return {
                "loss": -self.labelled_bound(batch.x, batch.y).mean(),
                "acc": (logits.argmax(1) == batch.y).float().mean(),
            }
        y = self._labels(batch)
        rec, kl = self.elbo_terms(batch.x, y=y)
        return {"loss": self.loss(batch.x, y=y), "elbo": (rec - kl).mean()}

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        g = self.rng(generator)
        y = self.randint(0, self.config.n_classes, (n,), generator=g) if self.config.n_classes else None
        if y is not None and self.config.semi_supervised:  # about half of them unlabelled
            y = torch.where(self.rand(n, generator=g) < 0.5, -1, y)
        return Batch(self.rand((n, *self.data_shape), generator=g), y)

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        if self.config.likelihood == "bernoulli":
            require_unit_range(info, "Bernoulli likelihood", "likelihood='gaussian'")
        if self.config.n_classes and not info.class_names:
            what = (
                "a semi-supervised VAE needs some labelled samples (label the others -1)"
                if self.config.semi_supervised
                else "a conditional VAE needs labelled data"
            )
            raise DataError(f"{what}; {info.name!r} has no labels")
        if self.config.n_classes and info.class_names and len(info.class_names) > self.config.n_classes:
            raise DataError(
                f"{info.name!r} has {len(info.class_names)} classes but the model was built for "
                f"n_classes={self.config.n_classes}; set n_classes={len(info.class_names)}"
            )
