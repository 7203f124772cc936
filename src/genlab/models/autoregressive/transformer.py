"""A decoder-only transformer over discrete sequences: binarized images as pixel sequences, or characters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...config import MAX_LAYERS, MAX_WIDTH, BaseConfig, param, shape_param
from ...data.dataset import DatasetInfo
from ...errors import ConfigError, DataError
from ...nn import adam
from ...nn.attention import KVCache, TransformerBlock
from ...registry import register_model
from ..base import Batch, GenerativeModel, evaluating


@dataclass(frozen=True)
class TransformerARConfig(BaseConfig):
    """Configuration of :class:`TransformerAR`."""

    data_shape: tuple[int, ...] = shape_param((1, 28, 28), "shape of one sequence (an image is read row by row)")
    vocab_size: int = param(2, ge=2, le=MAX_WIDTH, help="tokens: 2 for binary pixels, the alphabet's size for text")
    vocab: str = param("", help="text: the characters of the tokens 0..vocab_size-1 (set from the data)")
    d_model: int = param(64, ge=1, le=MAX_WIDTH, help="width of the token representations")
    n_heads: int = param(4, ge=1, le=MAX_WIDTH, help="attention heads per layer (must divide d_model)")
    n_layers: int = param(2, ge=1, le=MAX_LAYERS, help="transformer blocks")
    d_ff: int = param(0, ge=0, le=MAX_WIDTH, help="width of the blocks' MLP (0: 4 x d_model)")
    dropout: float = param(0.0, ge=0, lt=1)
    lr: float = param(1e-3, gt=0, help="Adam learning rate")
    weight_decay: float = param(0.0, ge=0)

    def validate(self) -> None:
        if self.d_model % self.n_heads:
            raise ConfigError(f"n_heads={self.n_heads} must divide d_model={self.d_model}")
        if self.vocab and len(self.vocab) != self.vocab_size:
            raise ConfigError(f"vocab has {len(self.vocab)} characters but vocab_size={self.vocab_size}")


@register_model(
    "transformer_ar",
    config=TransformerARConfig,
    description="autoregressive transformer (causal multi-head self-attention) over pixels or characters",
)
class TransformerAR(GenerativeModel):
    r"""Decoder-only transformer (Vaswani et al. 2017; Radford et al. 2018) over sequences
    :math:`x = (x_1, \dots, x_L)` of tokens in :math:`\{0, \dots, V-1\}`:

    .. math::
        \log p(x) = \sum_{i=1}^{L} \log \mathrm{softmax}\big(f_\theta(\mathrm{BOS}, x_1, \dots, x_{i-1})\big)_{x_i},

    with learned token and position embeddings and ``n_layers`` pre-norm blocks of causal multi-head
    self-attention (position :math:`i` attends to positions :math:`\le i` of the shifted input, so it never
    sees :math:`x_i` or later) and an MLP. An image is the sequence of its pixels in raster order. Training
    maximises the exact log-likelihood (teacher forcing); :meth:`sample` draws token by token with a
    key/value cache, a temperature and optional top-k truncation.

    References:
        Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS.
        Chen, M. et al. (2020). Generative Pretraining from Pixels. ICML.
    """

    likelihood_method = "exact"

    def __init__(self, config: TransformerARConfig) -> None:
        super().__init__(config)
        c = config
        self.length = math.prod(c.data_shape)
        self.tok = nn.Embedding(c.vocab_size + 1, c.d_model)  # the last token is BOS
        self.pos = nn.Parameter(torch.randn(self.length, c.d_model) * 0.02)
        d_ff = c.d_ff or 4 * c.d_model
        self.blocks = nn.ModuleList(
            TransformerBlock(c.d_model, c.n_heads, d_ff, c.dropout, i) for i in range(c.n_layers)
        )
        self.ln = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size)
        nn.init.normal_(self.tok.weight, std=0.02)

    @property
    def output_range(self) -> tuple[float, float]:  # type: ignore[override]
        return (0.0, float(self.config.vocab_size - 1))

    # --- the density ----------------------------------------------------------------------------------
    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` as a ``(B, L)`` long tensor of tokens, checked to be integers in ``0..vocab_size-1``."""
        t = torch.as_tensor(x, device=self.device).reshape(x.shape[0], -1)
        if t.shape[1] != self.length:
            raise DataError(f"this model reads sequences of {self.length} tokens, got {t.shape[1]}")
        if t.is_floating_point():
            if not torch.equal(t, t.round()):
                raise DataError("tokens must be whole numbers: binarize images (binarize='static') first")
            t = t.long()
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= self.config.vocab_size):
            raise DataError(f"tokens must lie in 0..{self.config.vocab_size - 1}, got {int(t.min())}..{int(t.max())}")
        return t

    def _inputs(self, tokens: torch.Tensor) -> torch.Tensor:
        bos = torch.full((tokens.shape[0], 1), self.config.vocab_size, dtype=torch.long, device=tokens.device)
        return torch.cat([bos, tokens[:, :-1]], 1)

    def _run(self, inputs: torch.Tensor, start: int = 0, cache: KVCache | None = None, need_weights: bool = False):
        h = self.tok(inputs) + self.pos[start : start + inputs.shape[1]]
        maps = []
        for block in self.blocks:
            h, w = block(h, need_weights, cache)
            maps.append(w)
        return self.head(self.ln(h)), maps

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of ``p(x_i | x_<i)`` for every position, ``(B, L, vocab_size)``."""
        return self._run(self._inputs(self.tokens(x)))[0]

    def _nll(self, x: torch.Tensor) -> torch.Tensor:
        t = self.tokens(x)
        logits = self._run(self._inputs(t))[0]
        return (
            F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1), reduction="none").view(t.shape).sum(1)
        )

    @evaluating
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(x)`` in nats per sequence ``(B,)``, in eval mode (no dropout) and without gradients
        (training differentiates ``-_nll(x)``, in the model's own mode)."""
        return -self._nll(x).double()

    @evaluating
    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The attention weights of every layer, ``[(B, n_heads, L, L)] * n_layers`` (row i: what the prediction
        of token i looks at; column 0 is the start token, column j the token j-1)."""
        return self._run(self._inputs(self.tokens(x)), need_weights=True)[1]

    @evaluating
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        prompt: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``n`` sequences ``(n, *data_shape)`` (tokens as floats), drawn token by token.

        Args:
            temperature: divides the logits (below 1: more likely tokens; above 1: more varied).
            top_k: sample among the ``top_k`` most likely tokens only.
            prompt: ``(n, P)`` or ``(P,)`` tokens the sequences start with (continued, not resampled).
        """
        if not temperature > 0:
            raise ConfigError(f"temperature must be > 0, got {temperature}")
        if top_k is not None and not 1 <= top_k <= self.config.vocab_size:
            raise ConfigError(f"top_k must be in 1..{self.config.vocab_size}, got {top_k}")
        gen = self.rng(generator)
        out = torch.zeros(n, self.length, dtype=torch.long, device=self.device)
        start = 0
        if prompt is not None:
            p = self.tokens_of_prompt(prompt, n)
            out[:, : p.shape[1]] = p
            start = p.shape[1]
        cache = KVCache()
        inputs = self._inputs(out)[:, : start + 1]  # BOS and the prompt
        logits, _ = self._run(inputs, 0, cache)
        for i in range(start, self.length):
            step = logits[:, -1] / temperature
            if top_k is not None and top_k < step.shape[1]:
                kth = step.topk(top_k, 1).values[:, -1:]
                step = step.masked_fill(step < kth, float("-inf"))
            probs = torch.softmax(step.double(), 1)
            out[:, i] = self.multinomial(probs, 1, generator=gen).squeeze(1)
            if i + 1 < self.length:
                logits, _ = self._run(out[:, i : i + 1], i + 1, cache)
        return out.float().reshape(n, *self.config.data_shape)

    def tokens_of_prompt(self, prompt: torch.Tensor | str, n: int) -> torch.Tensor:
        """A prompt (tokens ``(P,)`` or ``(n, P)``, or a string for text models) as ``(n, P)`` tokens."""
        if isinstance(prompt, str):
            unknown = sorted(set(prompt) - set(self.config.vocab))
            if not self.config.vocab or unknown:
                raise ConfigError(f"the prompt has characters outside the model's vocab: {unknown[:10]}")
            prompt = torch.tensor([self.config.vocab.index(ch) for ch in prompt], device=self.device)
        p = torch.as_tensor(prompt, device=self.device).long()
        p = p.expand(n, -1) if p.ndim == 1 else p
        if p.ndim != 2 or p.shape[0] != n or not 0 < p.shape[1] < self.length:
            raise ConfigError(f"a prompt is (P,) or (n, P) tokens with 0 < P < {self.length}, got {tuple(p.shape)}")
        if int(p.min()) < 0 or int(p.max()) >= self.config.vocab_size:
            raise ConfigError(f"prompt tokens must lie in 0..{self.config.vocab_size - 1}")
        return p

    def decode_text(self, x: torch.Tensor) -> list[str]:
        """Token sequences as strings through the model's ``vocab`` (text models)."""
        if not self.config.vocab:
            raise ConfigError("this model has no vocab (it was not trained on text)")
        return ["".join(self.config.vocab[int(t)] for t in row) for row in self.tokens(x)]

    @torch.no_grad()
    def pictures(self, generator: torch.Generator | None = None) -> dict[str, tuple[torch.Tensor, int]]:
        """``attention``: for images, what each head of each layer attends to when predicting a pixel in the
        middle of a sample (one map per head, a row per layer); for text, each head's attention matrix."""
        x = self.sample(1, generator)
        maps = torch.cat(self.attention_maps(x))  # (layers, heads, L, L); key column j holds token j - 1
        shape = self.config.data_shape
        if len(shape) == 3 and shape[0] == 1:
            h, w = shape[1:]
            q = (h // 2) * w + w // 2
            per_token = torch.zeros(*maps.shape[:2], self.length, device=maps.device)
            per_token[..., :-1] = maps[:, :, q, 1:]  # the start token's share is left out of the picture
            pics = per_token.reshape(-1, 1, h, w)
        else:
            pics = maps.reshape(-1, 1, self.length, self.length)
        pics = pics / pics.amax((2, 3), keepdim=True).clamp_min(1e-12)
        return {"attention": (pics, self.config.n_heads)}

    def diversity_advice(self) -> str:
        return (
            "an autoregressive model covers what it has learned: sample with temperature=1.0 and top_k=None "
            "(lower values favour the likeliest modes), train longer, or widen d_model / n_layers"
        )

    # --- training -------------------------------------------------------------------------------------
    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)]

    def training_step(self, batch: Batch, optimizers: list[torch.optim.Optimizer], step: int) -> dict[str, Any]:
        nll = self._nll(batch.x).mean()
        # per-token scale: the learning rate does not depend on L
        self.optimize(nll / self.length, optimizers[0])
        return {"loss": nll.detach()}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, Any]:
        return {"loss": self._nll(batch.x).mean()}

    def check_data(self, info: DatasetInfo) -> None:
        super().check_data(info)
        lo, hi = info.value_range
        if lo < 0 or hi > self.config.vocab_size - 1:
            raise DataError(
                f"the data's values span [{lo:g}, {hi:g}] but the tokens are 0..{self.config.vocab_size - 1}: "
                "binarize images (binarize='static' or --binarize dynamic) or set vocab_size"
            )

    def example_batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        g = self.rng(generator)
        return Batch(self.randint(0, self.config.vocab_size, (n, *self.data_shape), generator=g).float(), None)


__all__ = ["TransformerAR", "TransformerARConfig"]
