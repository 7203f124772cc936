"""Semi-supervised learning: pretrain an autoencoder on unlabelled data, then fine-tune a classifier on few labels.

The classifier is the pretrained encoder's blocks plus a new linear head. Three strategies are compared:

- ``"scratch"``: the same architecture, randomly initialised, all layers trained (the baseline);
- ``"frozen"``: the pretrained blocks stay fixed; only the head learns (a linear probe on the features);
- ``"gradual"``: gradual unfreezing (Howard & Ruder 2018): the head first, then one more block per
  ``unfreeze_every`` epochs from the top down, each block with its own learning rate
  ``lr * layer_lr_decay ** depth`` (lower layers, which hold more general features, move less).

All three train through the one :class:`~genlab.training.Trainer`; the unfreezing schedule is a
callback driven by the trainer's epoch count, so a resumed run unfreezes exactly as an uninterrupted one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..config import MAX_WIDTH, BaseConfig, param, shape_param
from ..data.dataset import Dataset, DatasetInfo, as_dataset
from ..errors import ConfigError, DataError, GenlabError
from ..models.base import Batch, GenerativeModel
from ..training.callbacks import Callback
from ..training.trainer import Trainer

Strategy = Literal["scratch", "frozen", "gradual"]


@dataclass(frozen=True)
class FineTuneConfig(BaseConfig):
    """Configuration of :class:`EncoderClassifier`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28))
    n_classes: int = param(10, ge=2, le=MAX_WIDTH)
    strategy: Literal["scratch", "frozen", "gradual"] = "gradual"
    lr: float = param(1e-3, gt=0, help="learning rate of the head (and of the top block)")
    layer_lr_decay: float = param(0.5, gt=0, le=1, help="each block below gets this factor times the lr above")
    unfreeze_every: int = param(2, ge=1, help="gradual: epochs between unfreezing one more block")
    weight_decay: float = param(0.0, ge=0)
    dropout: float = param(0.0, ge=0, lt=1, help="dropout before the head")


class EncoderClassifier(GenerativeModel):
    r"""A classifier ``softmax(W h(x) + b)`` on top of (a copy of) an encoder's blocks, trained with
    cross-entropy :math:`-\log p(y|x)`. Not a generative model: it cannot sample."""

    def __init__(self, config: FineTuneConfig, blocks: nn.ModuleList, feature_dim: int) -> None:
        super().__init__(config)
        self.blocks = blocks
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(feature_dim, config.n_classes))
        self.registry_name = "encoder_classifier"
        self.flat_input = _flat_first(blocks)
        self.n_trainable_blocks = 0 if config.strategy != "scratch" else len(blocks)
        self.apply_freezing()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The top block's output ``(B, feature_dim)``."""
        h = x.reshape(x.shape[0], -1) if self.flat_input else x
        for block in self.blocks:
            h = block(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, n_classes)``."""
        return self.head(self.features(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        """Classes ``(N,)`` of ``x``, on ``x``'s device (the batches run on the model's)."""
        was = self.training
        self.eval()
        dev = self.device
        out = torch.cat(
            [self(x[i : i + batch_size].to(dev)).argmax(1).to(x.device) for i in range(0, len(x), batch_size)]
        )
        self.train(was)
        return out

    def apply_freezing(self) -> None:
        """Make the top ``n_trainable_blocks`` blocks trainable and freeze the rest."""
        n = len(self.blocks)
        for i, block in enumerate(self.blocks):
            for p in block.parameters():
                p.requires_grad_(i >= n - self.n_trainable_blocks)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise GenlabError("an EncoderClassifier is a classifier: it does not generate samples")

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        groups = [{"params": list(self.head.parameters()), "lr": c.lr}]
        n = len(self.blocks)
        for depth, i in enumerate(reversed(range(n))):  # the top block first
            params = list(self.blocks[i].parameters())
            if params:
                lr = c.lr if c.strategy == "scratch" else c.lr * c.layer_lr_decay**depth
                groups.append({"params": params, "lr": lr})
        return [torch.optim.Adam(groups, lr=c.lr, weight_decay=c.weight_decay)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        if batch.y is None:
            raise DataError("fine-tuning a classifier needs labels")
        logits = self(batch.x)
        loss = F.cross_entropy(logits, batch.y)
        self.optimize(loss, optimizers[0])
        return {"loss": loss.detach(), "acc": (logits.argmax(1) == batch.y).float().mean()}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        logits = self(batch.x)
        return {"loss": F.cross_entropy(logits, batch.y), "acc": (logits.argmax(1) == batch.y).float().mean()}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        if info.class_names is None:
            raise DataError(f"{info.name!r} has no labels; a classifier needs labelled data")


def _flat_first(blocks: nn.ModuleList) -> bool:
    """Whether the first block expects flat vectors (an MLP encoder) rather than images."""
    first = blocks[0]
    layer = first[0] if isinstance(first, nn.Sequential) else first
    return isinstance(layer, nn.Linear)


class GradualUnfreezing(Callback):
    """Unfreeze one more block (from the top) every ``every`` epochs, from the trainer's epoch count."""

    def __init__(self, every: int) -> None:
        self.every = every

    def _set(self, trainer: Trainer, model: EncoderClassifier) -> None:
        model.n_trainable_blocks = min(len(model.blocks), trainer.epoch // self.every)
        model.apply_freezing()

    def on_fit_start(self, trainer: Trainer, model: GenerativeModel) -> None:
        self._set(trainer, model)

    def on_epoch_end(self, trainer: Trainer, model: GenerativeModel, metrics: dict[str, float]) -> None:
        self._set(trainer, model)
        metrics["trainable_blocks"] = float(model.n_trainable_blocks)


def encoder_blocks(model: GenerativeModel) -> tuple[nn.ModuleList, int]:
    """A copy of the encoder of an autoencoder as blocks, and the width of its top feature layer.

    For a VAE the last block outputs the posterior mean and log-variance; the classifier keeps the trunk
    below it (the features the posterior is computed from). For a stacked autoencoder the blocks are its
    encoder layers with their activations.
    """
    if hasattr(model, "encoders"):  # stacked autoencoder
        blocks = []
        for i, layer in enumerate(model.encoders):
            layer = copy.deepcopy(layer)
            blocks.append(layer if i == len(model.encoders) - 1 else nn.Sequential(layer, copy.deepcopy(model.act)))
        return nn.ModuleList(blocks), model.encoders[-1].out_features
    if not hasattr(model, "encoder") or not hasattr(model.encoder, "blocks"):
        raise ConfigError(f"{type(model).__name__} has no encoder blocks to fine-tune")
    blocks = list(copy.deepcopy(model.encoder.blocks))
    if getattr(model.config, "n_classes", 0):
        raise ConfigError("fine-tune an unconditional autoencoder, not a conditional one")
    if hasattr(model, "posterior"):  # VAE: drop the (mean, logvar) output layer
        blocks = blocks[:-1]
    if not blocks:
        raise ConfigError("the encoder has no hidden layers to fine-tune; give it hidden_dims")
    probe = torch.zeros(1, *model.config.data_shape, device=model.device)
    with torch.no_grad():
        h = probe.reshape(1, -1) if _flat_first(nn.ModuleList(blocks)) else probe
        for b in blocks:
            h = b(h)
    return nn.ModuleList(blocks), h.shape[1]


def fine_tune(
    pretrained: GenerativeModel,
    labelled: Dataset | Any,
    *,
    strategy: Strategy = "gradual",
    epochs: int = 30,
    batch_size: int = 64,
    seed: int = 0,
    val_data: Dataset | None = None,
    callbacks: list[Callback] | None = None,
    **config: Any,
) -> EncoderClassifier:
    """Fine-tune a classifier built on ``pretrained``'s encoder with one of the three strategies.

    Args:
        pretrained: a trained autoencoder (``ae``, ``vae``, ``stacked_ae``...). For ``"scratch"`` only its
            architecture is used: the copied blocks are re-initialised.
        labelled: the few labelled samples (a Dataset with labels).
        strategy: ``"scratch"``, ``"frozen"`` or ``"gradual"``.
        epochs, batch_size, seed: trainer settings.
        **config: fields of :class:`FineTuneConfig` (lr, layer_lr_decay, unfreeze_every, dropout...).
    """
    labelled = as_dataset(labelled)
    if labelled.y is None:
        raise DataError("fine-tuning needs labelled data: pass a Dataset with labels y")
    n_classes = int(labelled.y.max()) + 1
    cfg = FineTuneConfig(
        data_shape=tuple(labelled.sample_shape), n_classes=max(n_classes, 2), strategy=strategy, **config
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        blocks, width = encoder_blocks(pretrained)
        if strategy == "scratch":
            for m in blocks.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        clf = EncoderClassifier(cfg, blocks, width)
    cbs = [GradualUnfreezing(cfg.unfreeze_every)] if strategy == "gradual" else []
    cbs += list(callbacks or [])  # after the schedule, so they see each epoch's unfreezing
    Trainer(epochs=epochs, batch_size=batch_size, seed=seed, callbacks=cbs).fit(clf, labelled, val_data=val_data)
    return clf


def compare_strategies(
    pretrained: GenerativeModel,
    labelled: Dataset,
    test: Dataset,
    strategies: tuple[Strategy, ...] = ("scratch", "frozen", "gradual"),
    **kwargs: Any,
) -> dict[str, float]:
    """Test error (fraction) of each strategy, trained on ``labelled`` and scored on ``test``."""
    out = {}
    for s in strategies:
        clf = fine_tune(pretrained, labelled, strategy=s, **kwargs)
        out[s] = float((clf.predict(test.x) != test.y).float().mean())
    return out
