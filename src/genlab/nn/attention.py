"""Multi-head self-attention and a pre-norm transformer block, with causal masking and a key/value cache."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError


class KVCache:
    """Keys and values of the positions seen so far, one ``(B, H, T, d_head)`` pair per attention layer."""

    def __init__(self) -> None:
        self.keys: dict[int, torch.Tensor] = {}
        self.values: dict[int, torch.Tensor] = {}

    def extend(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if layer in self.keys:
            k = torch.cat([self.keys[layer], k], 2)
            v = torch.cat([self.values[layer], v], 2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    def length(self, layer: int) -> int:
        """Positions cached for ``layer``."""
        return self.keys[layer].shape[2] if layer in self.keys else 0


class MultiHeadSelfAttention(nn.Module):
    r"""Multi-head self-attention (Vaswani et al. 2017): for each head :math:`h`,

    .. math::
        \mathrm{head}_h = \mathrm{softmax}\Big(\frac{Q_h K_h^\top}{\sqrt{d_k}} + M\Big) V_h,

    with :math:`Q_h, K_h, V_h` linear maps of the input to :math:`d_k = d_{model} / H` dimensions and
    :math:`M` the causal mask (:math:`-\infty` above the diagonal: a position attends to itself and the ones
    before it); the heads are concatenated and projected back to :math:`d_{model}`.

    Args:
        d_model: width of the input and output.
        n_heads: heads (must divide ``d_model``).
        dropout: dropout on the attention weights (training only).
        causal: mask future positions.
        index: the layer's index in its stack (its slot in a :class:`KVCache`).
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, causal: bool = True, index: int = 0):
        super().__init__()
        if d_model % n_heads:
            raise ConfigError(f"n_heads={n_heads} must divide d_model={d_model}")
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout, self.causal, self.index = dropout, causal, index

    def forward(
        self, x: torch.Tensor, need_weights: bool = False, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(output (B, L, d_model), attention weights (B, H, L, T) or None)``.

        With a ``cache`` the ``L`` new positions attend to the cached ones and to themselves (incremental
        decoding); their keys and values are appended to it.
        """
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        past = cache.length(self.index) if cache is not None else 0
        if cache is not None:
            k, v = cache.extend(self.index, k, v)
        p = self.dropout if self.training else 0.0
        if need_weights:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(self.d_head)
            if self.causal:
                t = k.shape[2]
                future = torch.ones(n, t, dtype=torch.bool, device=x.device).triu(1 + past)
                att = att.masked_fill(future, float("-inf"))
            weights = att.softmax(-1)
            out = F.dropout(weights, p, self.training) @ v
        else:
            weights = None
            causal = self.causal and (past == 0 and n > 1)
            if self.causal and past > 0 and n > 1:  # several new positions after a cached prefix
                mask = torch.ones(n, k.shape[2], dtype=torch.bool, device=x.device).tril(past)
                out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
            else:
                out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=causal)
        return self.proj(out.transpose(1, 2).reshape(b, n, d)), weights


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attention(LN(x))``, then ``x + MLP(LN(x))`` (GELU, width ``d_ff``)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0, index: int = 0) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = MultiHeadSelfAttention(d_model, n_heads, dropout, causal=True, index=index)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model), nn.Dropout(dropout))

    def forward(
        self, x: torch.Tensor, need_weights: bool = False, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        a, w = self.attn(self.ln1(x), need_weights, cache)
        x = x + a
        return x + self.mlp(self.ln2(x)), w


__all__ = ["KVCache", "MultiHeadSelfAttention", "TransformerBlock"]
